//! What happened to the spans: started, exported, dropped because the queue was
//! full, failed to export. Counted at the processor and the exporter of a pipeline
//! the layer built, so an operator can see loss instead of guessing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::Resource;

use crate::exporter::Export;
use crate::record::{batch_spans, KeptFor};

/// A snapshot of the layer's span counters.
///
/// ```
/// use tower_otel_tracing::{TracingConfig, TracingLayer};
///
/// let layer = TracingLayer::from_config(TracingConfig::default());
/// let stats = layer.pipeline().stats();
/// assert_eq!(stats.started, 0);
/// assert_eq!(stats.dropped, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TracingStats {
    /// Spans recorded (sampled, or kept) and ended: a span still open is not
    /// counted yet, so this always equals the sum of the outcomes below.
    pub started: u64,
    /// Spans the exporter accepted.
    pub exported: u64,
    /// Spans dropped because the export queue was full.
    pub dropped: u64,
    /// Spans whose export failed (collector down, refused, timed out).
    pub failed: u64,
    /// Spans ended and waiting in the queue or in an export under way.
    pub queued: u64,
    /// Requests the sample rate did not pick, exported because they ended as an
    /// error (`keep_errors`).
    pub kept_errors: u64,
    /// Requests the sample rate did not pick, exported because they were slow
    /// (`keep_slower_than`).
    pub kept_slow: u64,
    /// Spans recorded for a request that might have been kept (`keep_detail:
    /// full`), dropped because it was not.
    pub discarded: u64,
    /// Spans of such a request lost because its buffer (or all buffers) was full.
    pub overflowed: u64,
}

impl TracingStats {
    /// Requests exported by the keep rules, whatever the reason.
    ///
    /// ```
    /// use tower_otel_tracing::pipeline::TracingStats;
    ///
    /// let stats = TracingStats {
    ///     kept_errors: 3,
    ///     kept_slow: 2,
    ///     ..Default::default()
    /// };
    /// assert_eq!(stats.kept(), 5);
    /// ```
    pub fn kept(&self) -> u64 {
        self.kept_errors + self.kept_slow
    }
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Every outcome below is counted after its span's start, so what is not
    /// yet one of them is queued: `queued` is derived, and a snapshot always
    /// adds up.
    started: AtomicU64,
    exported: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
    kept_errors: AtomicU64,
    kept_slow: AtomicU64,
    discarded: AtomicU64,
    overflowed: AtomicU64,
    /// Spans admitted to the queue and not yet exported or failed: the bound is
    /// checked and taken in one step (see `enqueue`).
    slots: AtomicU64,
    /// Batches handed to concurrent export workers and not yet ended.
    pub(crate) exports: super::in_flight::InFlight,
}

impl Counters {
    /// `n` spans started (recorded).
    pub(crate) fn spans_started(&self, n: u64) {
        self.started.fetch_add(n, Ordering::AcqRel);
    }

    /// `n` started spans ended: they take `n` of the `max` queue slots, all of
    /// them or, counted as dropped, none. The bound is checked and the slots
    /// taken in one step: threads ending spans at once could all read "one
    /// slot left" from a snapshot and all go in (`tests/delivery/queue_race.rs`).
    pub(crate) fn enqueue(&self, n: u64, max: u64) -> bool {
        let admitted = self
            .slots
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |q| {
                (q + n <= max).then_some(q + n)
            })
            .is_ok();
        if !admitted {
            self.dropped.fetch_add(n, Ordering::AcqRel);
        }
        admitted
    }

    /// `n` spans that took queue slots were refused after all (the processor
    /// had shut down): dropped.
    pub(crate) fn refused(&self, n: u64) {
        self.dropped.fetch_add(n, Ordering::AcqRel);
        self.slots.fetch_sub(n, Ordering::AcqRel);
    }

    pub(crate) fn kept(&self, reason: KeptFor) {
        let counter = match reason {
            KeptFor::Error => &self.kept_errors,
            KeptFor::Slow => &self.kept_slow,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn discarded(&self, spans: u64) {
        self.discarded.fetch_add(spans, Ordering::AcqRel);
    }

    pub(crate) fn overflowed(&self) {
        self.overflowed.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn snapshot(&self) -> TracingStats {
        // The outcomes first: a span's start is counted before its outcome,
        // so `started` read last is never behind them.
        let exported = self.exported.load(Ordering::Acquire);
        let failed = self.failed.load(Ordering::Acquire);
        let dropped = self.dropped.load(Ordering::Acquire);
        let discarded = self.discarded.load(Ordering::Acquire);
        let overflowed = self.overflowed.load(Ordering::Acquire);
        let started = self.started.load(Ordering::Acquire);
        TracingStats {
            started,
            exported,
            dropped,
            failed,
            queued: started.saturating_sub(exported + failed + dropped + discarded + overflowed),
            kept_errors: self.kept_errors.load(Ordering::Acquire),
            kept_slow: self.kept_slow.load(Ordering::Acquire),
            discarded,
            overflowed,
        }
    }

    /// `n` spans left the queue: exported, or failed to export.
    fn export_ended(&self, n: u64, exported: bool) {
        let counter = if exported {
            &self.exported
        } else {
            &self.failed
        };
        counter.fetch_add(n, Ordering::AcqRel);
        self.slots.fetch_sub(n, Ordering::AcqRel);
    }
}

/// Counts export outcomes and logs failures at most once per interval, so a dead
/// collector yields a line now and then, not one per batch.
#[derive(Debug)]
pub(crate) struct CountingExporter<E> {
    inner: E,
    counters: Arc<Counters>,
    log: Mutex<FailureLog>,
}

#[derive(Debug)]
struct FailureLog {
    last_logged: Option<Instant>,
    suppressed: u64,
}

const LOG_INTERVAL: Duration = Duration::from_secs(30);

impl<E> CountingExporter<E> {
    pub(crate) fn new(inner: E, counters: Arc<Counters>) -> Self {
        CountingExporter {
            inner,
            counters,
            log: Mutex::new(FailureLog {
                last_logged: None,
                suppressed: 0,
            }),
        }
    }

    fn record_failure(&self, spans: usize, error: &dyn std::fmt::Display) {
        let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        let due = log.last_logged.is_none_or(|t| t.elapsed() >= LOG_INTERVAL);
        if due {
            let also = match log.suppressed {
                0 => String::new(),
                n => format!(" ({n} more failed exports since the last report)"),
            };
            tracing::warn!("tower-otel-tracing: export of {spans} spans failed: {error}{also}");
            log.last_logged = Some(Instant::now());
            log.suppressed = 0;
        } else {
            log.suppressed += 1;
        }
    }
}

impl<E: Export> Export for CountingExporter<E> {
    type Item = E::Item;

    fn export(
        &self,
        batch: Vec<E::Item>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let n = batch_spans(&batch);
        async move {
            let result = self.inner.export(batch).await;
            match &result {
                Ok(()) => self.counters.export_ended(n as u64, true),
                Err(e) => {
                    self.counters.export_ended(n as u64, false);
                    self.record_failure(n, e);
                }
            }
            result
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
