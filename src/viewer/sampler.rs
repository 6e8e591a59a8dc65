//! The sampler thread: every interval it takes a reading of the layer's
//! metrics into its [`MetricsHistory`], on the system clock.
//!
//! One small named thread a layer, started only once a viewer exists and
//! metrics are measured (`MetricsHistory::start_sampler`). It holds the
//! history weakly, and the history holds the metrics weakly, so it never
//! keeps the layer or its viewers alive: it ends at its next reading once
//! the metrics are gone (the layer, its clients and its pull endpoint
//! dropped), and at once when the history is dropped (the layer and every
//! viewer gone), whose [`Stop`] wakes it; a caller that takes over the clock
//! (`sample_at`) stops it the same way.

use std::sync::{Arc, Condvar, Mutex, PoisonError, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use super::metrics_history::{By, MetricsHistory};

/// The thread's name, as `top -H` and debuggers show it.
pub(crate) const THREAD_NAME: &str = "viewer-metrics";

/// A stop signal the thread waits on between readings.
#[derive(Debug, Default)]
pub(crate) struct Stop {
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl Stop {
    /// Ends the thread now (or as soon as its reading in progress is done).
    pub(crate) fn stop(&self) {
        *self.stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.wake.notify_all();
    }

    /// Waits `timeout` unless stopped meanwhile; whether it was stopped.
    fn wait(&self, timeout: Duration) -> bool {
        let stopped = self.stopped.lock().unwrap_or_else(PoisonError::into_inner);
        let (stopped, _) = self
            .wake
            .wait_timeout_while(stopped, timeout, |stopped| !*stopped)
            .unwrap_or_else(PoisonError::into_inner);
        *stopped
    }
}

/// Starts the thread: a reading now (the base the next one is compared
/// with), then one every `interval` until `stop` or the history is gone.
pub(crate) fn spawn(
    history: Weak<MetricsHistory>,
    stop: Arc<Stop>,
    interval: Duration,
) -> Option<JoinHandle<()>> {
    let spawned = std::thread::Builder::new()
        .name(THREAD_NAME.to_owned())
        .spawn(move || loop {
            // The strong reference is dropped before waiting: the history can
            // go while the thread sleeps.
            let metrics_live = history
                .upgrade()
                .is_some_and(|history| history.sample(SystemTime::now(), By::Thread));
            if !metrics_live {
                return;
            }
            if stop.wait(interval) {
                return;
            }
        });
    // Without it the page says it is collecting and stays empty; requests
    // are unaffected.
    spawned
        .map_err(|e| {
            tracing::warn!("tower-otel-tracing: the viewer's metrics sampler did not start: {e}")
        })
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conventions::Conventions;
    use crate::metrics::{HttpMetrics, CARDINALITY_LIMIT};
    use crate::viewer::metrics_totals::Naming;
    use std::sync::mpsc;
    use std::time::Instant;

    /// Started once, only when metrics are measured; the thread takes its
    /// base reading at once, and ends as soon as the history is dropped,
    /// not an interval (10 s) later.
    #[test]
    fn the_thread_reads_at_once_and_ends_with_the_history() {
        let metrics = Arc::new(HttpMetrics::new(
            Default::default(),
            false,
            CARDINALITY_LIMIT,
            opentelemetry_sdk::Resource::builder_empty().build(),
        ));
        let history = Arc::new(MetricsHistory::new(
            &metrics,
            Naming::of(&Conventions::legacy()),
        ));
        assert!(
            history.start_sampler().is_none(),
            "metrics are not measured"
        );
        metrics.enable();
        let thread = history.start_sampler().expect("a thread");
        assert!(history.start_sampler().is_none(), "one thread");
        assert_eq!(thread.thread().name(), Some(THREAD_NAME));
        let deadline = Instant::now() + Duration::from_secs(10);
        while history.view().last_at.is_none() {
            assert!(Instant::now() < deadline, "no base reading");
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(history);
        ended_soon(thread);
    }

    /// Without the layer's metrics there is nothing to read: the thread
    /// ends at its next reading, even while a viewer keeps the history.
    #[test]
    fn the_thread_ends_when_the_metrics_are_gone() {
        let metrics = Arc::new(HttpMetrics::new(
            Default::default(),
            false,
            CARDINALITY_LIMIT,
            opentelemetry_sdk::Resource::builder_empty().build(),
        ));
        metrics.enable();
        let history = Arc::new(MetricsHistory::new(
            &metrics,
            Naming::of(&Conventions::legacy()),
        ));
        drop(metrics);
        // Started by hand: `start_sampler` would not start it without metrics.
        let thread = spawn(
            Arc::downgrade(&history),
            Arc::new(Stop::default()),
            Duration::from_secs(3600),
        )
        .expect("a thread");
        ended_soon(thread);
        assert!(history.view().last_at.is_none());
    }

    fn ended_soon(thread: JoinHandle<()>) {
        let (ended, wait) = mpsc::channel();
        std::thread::spawn(move || ended.send(thread.join().is_ok()));
        assert_eq!(wait.recv_timeout(Duration::from_secs(5)), Ok(true));
    }

    #[test]
    fn wait_times_out_unless_stopped() {
        let stop = Stop::default();
        assert!(!stop.wait(Duration::from_millis(1)));
        stop.stop();
        assert!(stop.wait(Duration::from_secs(3600)));
    }
}
