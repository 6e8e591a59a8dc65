//! Pushing the metrics (`metrics.exporter: otlp` or `console`): a thread of
//! its own reads the instruments every `metrics.interval` and hands what it
//! read to one [`PushExporter`]; the layer's pipeline holds the
//! [`MetricsPush`] handle, so that flushing the pipeline pushes too, and
//! shutting it down (a guard's `shutdown` or drop, the last handle's drop)
//! pushes a last time and stops the thread: nothing measured before a clean
//! shutdown is lost.
//!
//! - `collect.rs`: the instruments read into a `Collection`, the model the
//!   exporters encode; `delta.rs`: delta temporality, from what the last
//!   push that arrived read;
//! - `otlp.rs` (feature `otlp`): `ExportMetricsServiceRequest` over the
//!   traces' OTLP/HTTP exporter, or `grpc.rs` (feature `otlp-grpc`);
//! - `console.rs`: a text block on stdout.

pub(crate) mod collect;
mod console;
mod delta;
#[cfg(feature = "otlp-grpc")]
mod grpc;
#[cfg(feature = "otlp")]
mod otlp;

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};

use self::collect::{Collection, Collector};
use crate::config::{ConfigError, ConfigErrorKind, MetricsExporter, Temporality};
use crate::metrics::HttpMetrics;
use crate::settings::fields::metrics::METRICS_EXPORTER;
use crate::settings::MetricsSettings;

/// Where the push thread sends what it read: the contract of a push exporter.
///
/// - **Who calls, from where**: only the push thread (`tower-otel-metrics`),
///   one call at a time; never a request's thread, nor an async task.
/// - **How often**: once every `metrics.interval` (the first one interval
///   after the layer is built), once for each
///   [`Pipeline::force_flush`](crate::pipeline::Pipeline::force_flush), and a
///   last time when the pipeline shuts down. Never with an empty collection
///   (nothing measured yet).
/// - **What may block**: [`export`](Self::export), for up to the export
///   timeout (`metrics.otlp.timeout`), retries included, and no longer; a
///   flush and a shutdown wait for it.
/// - **What an error means**: the collection is not known to have arrived.
///   The thread counts it, logs the first failure of each
///   [`kind`](PushError::kind), and goes on; under delta temporality the next
///   push reports the failed one's measurements again (from its start), so
///   none is lost while the receiver is away, and one may arrive twice when
///   only its answer was lost, as with the spans.
pub(crate) trait PushExporter: Send + fmt::Debug {
    /// How the histograms are to be reported (the up-down counter is always
    /// cumulative).
    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }

    /// Sends one collection.
    fn export(&mut self, collection: &Collection) -> Result<(), PushError>;

    /// Where pushes go, for logs: no header, no credentials.
    fn target(&self) -> String;
}

/// Why a push failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PushError {
    /// What failed, coarsely (`HTTP 503`, `no answer`, `gRPC Unavailable`):
    /// a failure is logged the first time its kind is seen.
    pub(crate) kind: String,
    /// What the last attempt got.
    pub(crate) message: String,
}

/// How the metrics pushes went.
///
/// ```
/// use tower_otel_tracing::config::MetricsExporter;
/// use tower_otel_tracing::{TracingConfig, TracingLayer};
///
/// let mut cfg = TracingConfig::default();
/// cfg.metrics.exporter = Some(MetricsExporter::Console);
/// let layer = TracingLayer::from_config(cfg);
/// // Nothing measured, so nothing pushed yet.
/// let stats = layer.pipeline().metrics_push_stats().expect("a push exporter");
/// assert_eq!((stats.pushed, stats.failed), (0, 0));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetricsPushStats {
    /// Pushes the exporter accepted.
    pub pushed: u64,
    /// Pushes that failed (receiver down, refused, timed out).
    pub failed: u64,
}

#[derive(Debug, Default)]
struct Counters {
    pushed: AtomicU64,
    failed: AtomicU64,
}

/// What the push thread is asked to do before its next interval.
enum Command {
    /// Push now, and say how it went.
    Flush(mpsc::Sender<Result<(), String>>),
    /// Push a last time, and end.
    Stop,
}

/// The push thread, as the pipeline holds it: [`flush`](Self::flush) pushes
/// now, [`shutdown`](Self::shutdown) (or dropping it) pushes a last time and
/// waits for the thread to end.
pub(crate) struct MetricsPush {
    commands: Mutex<Option<mpsc::Sender<Command>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    counters: Arc<Counters>,
    target: String,
    /// The longest a push may take: what a flush waits for at most.
    timeout: Duration,
}

/// The push the settings ask for, its thread started; none when they ask for
/// none (`prometheus`, `none`).
pub(crate) fn start(
    settings: &MetricsSettings,
    metrics: Arc<HttpMetrics>,
) -> Result<Option<MetricsPush>, ConfigError> {
    let exporter: Box<dyn PushExporter> = match settings.exporter {
        #[cfg(feature = "otlp")]
        MetricsExporter::Otlp => Box::new(otlp::OtlpPush::new(settings, &metrics.resource)?),
        // Refused when the settings were resolved; refused here too.
        #[cfg(not(feature = "otlp"))]
        MetricsExporter::Otlp => return Err(METRICS_EXPORTER.not_compiled_in("otlp")),
        MetricsExporter::Console => Box::new(console::ConsolePush::stdout(&metrics.resource)),
        MetricsExporter::Prometheus | MetricsExporter::None => return Ok(None),
    };
    MetricsPush::spawn(exporter, metrics, settings.interval, settings.otlp.timeout).map(Some)
}

impl MetricsPush {
    fn spawn(
        exporter: Box<dyn PushExporter>,
        metrics: Arc<HttpMetrics>,
        interval: Duration,
        timeout: Duration,
    ) -> Result<Self, ConfigError> {
        let (commands, received) = mpsc::channel();
        let counters = Arc::new(Counters::default());
        let target = exporter.target();
        let thread = std::thread::Builder::new()
            .name("tower-otel-metrics".into())
            .spawn({
                let counters = counters.clone();
                move || run(&metrics, exporter, interval, &received, &counters)
            })
            .map_err(|e| {
                ConfigError::of_kind(
                    ConfigErrorKind::Unsupported,
                    METRICS_EXPORTER.error_path(),
                    format!("cannot start the metrics push thread: {e}"),
                )
            })?;
        Ok(MetricsPush {
            commands: Mutex::new(Some(commands)),
            thread: Mutex::new(Some(thread)),
            counters,
            target,
            timeout,
        })
    }

    /// Pushes what was measured so far, and waits until it was sent (or the
    /// push failed, or took longer than a push may).
    pub(crate) fn flush(&self) -> OTelSdkResult {
        let (done, result) = mpsc::channel();
        let sent = self
            .commands
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_some_and(|c| c.send(Command::Flush(done)).is_ok());
        if !sent {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        // A push under way first, then ours: each within the timeout.
        let wait = self.timeout * 2 + Duration::from_secs(1);
        match result.recv_timeout(wait) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(OTelSdkError::InternalFailure(format!(
                "metrics push to {} failed: {e}",
                self.target
            ))),
            Err(_) => Err(OTelSdkError::Timeout(wait)),
        }
    }

    /// Pushes a last time and ends the thread, waiting for both. Later calls
    /// do nothing.
    pub(crate) fn shutdown(&self) {
        let commands = self
            .commands
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(commands) = commands {
            let _ = commands.send(Command::Stop);
        }
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }

    pub(crate) fn stats(&self) -> MetricsPushStats {
        MetricsPushStats {
            pushed: self.counters.pushed.load(Ordering::Relaxed),
            failed: self.counters.failed.load(Ordering::Relaxed),
        }
    }
}

impl Drop for MetricsPush {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl fmt::Debug for MetricsPush {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsPush")
            .field("target", &self.target)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// The push thread: a push every interval, or when asked, until told to stop
/// (or the handle is gone), then a last one.
fn run(
    metrics: &HttpMetrics,
    mut exporter: Box<dyn PushExporter>,
    interval: Duration,
    commands: &mpsc::Receiver<Command>,
    counters: &Counters,
) {
    let mut pusher = Pusher {
        collector: Collector::new(exporter.temporality(), metrics.started),
        warned: HashSet::new(),
        counters,
    };
    let mut next = Instant::now() + interval;
    loop {
        let command = commands.recv_timeout(next.saturating_duration_since(Instant::now()));
        let result = pusher.push(metrics, exporter.as_mut());
        match command {
            Ok(Command::Flush(done)) => {
                let _ = done.send(result);
            }
            Err(RecvTimeoutError::Timeout) => {
                // A push that overran its interval skips the ticks it missed.
                next += interval;
                let now = Instant::now();
                if next <= now {
                    next = now + interval;
                }
            }
            Ok(Command::Stop) | Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// One push at a time, on the push thread.
struct Pusher<'a> {
    collector: Collector,
    /// The failure kinds logged already.
    warned: HashSet<String>,
    counters: &'a Counters,
}

impl Pusher<'_> {
    fn push(
        &mut self,
        metrics: &HttpMetrics,
        exporter: &mut dyn PushExporter,
    ) -> Result<(), String> {
        let collected = self.collector.collect(metrics);
        if collected.collection.is_empty() {
            return Ok(());
        }
        match exporter.export(&collected.collection) {
            Ok(()) => {
                self.counters.pushed.fetch_add(1, Ordering::Relaxed);
                self.collector.arrived(collected);
                Ok(())
            }
            Err(e) => {
                self.counters.failed.fetch_add(1, Ordering::Relaxed);
                if self.warned.insert(e.kind.clone()) {
                    tracing::warn!(
                        "tower-otel-tracing: metrics push to {} failed: {}; further failures \
                         of this kind ({}) are counted, not logged",
                        exporter.target(),
                        e.message,
                        e.kind
                    );
                }
                Err(e.message)
            }
        }
    }
}
