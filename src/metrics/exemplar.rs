//! [`ExemplarCell`]: the last exemplar of a histogram bucket (a measurement
//! with the trace and span it was made in), written by request threads and
//! read by a scrape or an export, without a lock.
//!
//! A sequence counter guards the fields: a writer makes it odd, writes, and
//! makes it even again; a reader keeps what it read only when the counter was
//! even and unchanged around its reads. A writer that finds another writing
//! gives up: one exemplar of a bucket is as good as another, and the request
//! never waits.

use std::sync::atomic::{fence, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanId, TraceId};

/// One exemplar, as a scrape or an export reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Exemplar {
    /// The measurement, in the instrument's unit.
    pub(crate) value: f64,
    pub(crate) time: SystemTime,
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
}

/// The trace, span and time an exemplar names, encoded once for every
/// histogram a request records into (`benches/peers`: `callgrind.py
/// ours_rate1_metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    nanos: u64,
    trace_high: u64,
    trace_low: u64,
    span: u64,
}

impl Stamp {
    /// At `unix_nanos` (nanoseconds since the epoch), in `trace_id`'s
    /// `span_id`.
    pub(crate) fn new(unix_nanos: u64, trace_id: TraceId, span_id: SpanId) -> Self {
        let trace = u128::from_be_bytes(trace_id.to_bytes());
        Stamp {
            nanos: unix_nanos,
            trace_high: (trace >> 64) as u64,
            trace_low: trace as u64,
            span: u64::from_be_bytes(span_id.to_bytes()),
        }
    }
}

/// A bucket's last exemplar.
#[derive(Debug, Default)]
pub(crate) struct ExemplarCell {
    /// Even: the fields are whole (0: never written); odd: a write is under way.
    sequence: AtomicU64,
    value: AtomicU64,
    nanos: AtomicU64,
    trace_high: AtomicU64,
    trace_low: AtomicU64,
    span: AtomicU64,
}

impl ExemplarCell {
    /// Keeps `value` with `stamp`, unless another thread is writing this
    /// cell now.
    pub(crate) fn offer(&self, value: f64, stamp: &Stamp) {
        let seen = self.sequence.load(Ordering::Relaxed);
        if seen & 1 == 1
            || self
                .sequence
                .compare_exchange(seen, seen + 1, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        // A reader that sees any field written below also sees the odd count
        // on its second look (this fence pairs with the reader's).
        fence(Ordering::Release);
        self.value.store(value.to_bits(), Ordering::Relaxed);
        self.nanos.store(stamp.nanos, Ordering::Relaxed);
        self.trace_high.store(stamp.trace_high, Ordering::Relaxed);
        self.trace_low.store(stamp.trace_low, Ordering::Relaxed);
        self.span.store(stamp.span, Ordering::Relaxed);
        self.sequence.store(seen + 2, Ordering::Release);
    }

    /// The last exemplar kept, if any; `None` too while one is being written
    /// after a few tries (the next read sees it).
    pub(crate) fn read(&self) -> Option<Exemplar> {
        for _ in 0..8 {
            let before = self.sequence.load(Ordering::Acquire);
            if before == 0 {
                return None;
            }
            if before & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let value = f64::from_bits(self.value.load(Ordering::Relaxed));
            let nanos = self.nanos.load(Ordering::Relaxed);
            let high = self.trace_high.load(Ordering::Relaxed);
            let low = self.trace_low.load(Ordering::Relaxed);
            let span = self.span.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            if self.sequence.load(Ordering::Relaxed) == before {
                return Some(Exemplar {
                    value,
                    time: UNIX_EPOCH + Duration::from_nanos(nanos),
                    trace_id: TraceId::from(u128::from(high) << 64 | u128::from(low)),
                    span_id: SpanId::from(span),
                });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn exemplar(n: u64) -> Exemplar {
        Exemplar {
            value: n as f64,
            time: UNIX_EPOCH + Duration::from_secs(n),
            trace_id: TraceId::from(u128::from(n) << 64 | u128::from(n)),
            span_id: SpanId::from(n),
        }
    }

    fn offer(cell: &ExemplarCell, n: u64) {
        let e = exemplar(n);
        let nanos = e.time.duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
        cell.offer(e.value, &Stamp::new(nanos, e.trace_id, e.span_id));
    }

    #[test]
    fn the_last_offer_is_read_back_whole() {
        let cell = ExemplarCell::default();
        assert_eq!(cell.read(), None);
        offer(&cell, 3);
        offer(&cell, 7);
        assert_eq!(cell.read(), Some(exemplar(7)));
    }

    /// Writers and readers at once: a reader never sees a mix of two
    /// exemplars (each is made of one number throughout).
    #[test]
    fn concurrent_writes_are_never_read_torn() {
        let cell = Arc::new(ExemplarCell::default());
        let writers: Vec<_> = (1..=4u64)
            .map(|w| {
                let cell = cell.clone();
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        offer(&cell, w * 1_000_000 + i);
                    }
                })
            })
            .collect();
        while writers.iter().any(|w| !w.is_finished()) {
            if let Some(e) = cell.read() {
                let n = e.span_id;
                assert_eq!(e, exemplar(u64::from_be_bytes(n.to_bytes())));
            }
        }
        for w in writers {
            w.join().unwrap();
        }
        // The reader may lose every race to the writers on a loaded machine;
        // what it read, and what is there at the end, is whole.
        let last = cell.read().expect("written");
        assert_eq!(last, exemplar(u64::from_be_bytes(last.span_id.to_bytes())));
    }
}
