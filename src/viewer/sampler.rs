//! The sampler thread: every interval it takes a reading of the layer's
//! metrics, on the system clock, through the reader it is given (the
//! metrics history's, which holds the history weakly).
//!
//! One small named thread a layer, started only once a viewer exists and
//! metrics are measured (`MetricsHistory::start_sampler`). It holds the
//! history weakly, and the history holds the metrics weakly, so it never
//! keeps the layer or its viewers alive: it ends at its next reading once
//! the metrics are gone (the layer, its clients and its pull endpoint
//! dropped), and at once when the history is dropped (the layer and every
//! viewer gone), whose [`Stop`] wakes it; a caller that takes over the clock
//! (`sample_at`) stops it the same way.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

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
/// with), then one every `interval` until `stop`, or until `read` says there
/// is nothing left to read (it returns `false`).
pub(crate) fn spawn(
    mut read: impl FnMut(SystemTime) -> bool + Send + 'static,
    stop: Arc<Stop>,
    interval: Duration,
) -> Option<JoinHandle<()>> {
    let spawned = std::thread::Builder::new()
        .name(THREAD_NAME.to_owned())
        .spawn(move || loop {
            if !read(SystemTime::now()) {
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
pub(crate) mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A reading at once, then none after `read` says it is done.
    #[test]
    fn the_thread_reads_at_once_and_ends_when_the_reader_is_done() {
        let reads = Arc::new(AtomicUsize::new(0));
        let counted = reads.clone();
        let thread = spawn(
            move |_| counted.fetch_add(1, Ordering::Relaxed) < 2,
            Arc::new(Stop::default()),
            Duration::from_millis(1),
        )
        .expect("a thread");
        assert_eq!(thread.thread().name(), Some(THREAD_NAME));
        ended_soon(thread);
        assert_eq!(reads.load(Ordering::Relaxed), 3);
    }

    /// Stopped, the thread ends at once, not an interval later.
    #[test]
    fn a_stop_ends_the_thread_at_once() {
        let stop = Arc::new(Stop::default());
        let thread = spawn(|_| true, stop.clone(), Duration::from_secs(3600)).expect("a thread");
        stop.stop();
        ended_soon(thread);
    }

    pub(crate) fn ended_soon(thread: JoinHandle<()>) {
        let (ended, wait) = std::sync::mpsc::channel();
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
