//! [`Histogram`]: explicit-bucket counts, their sum, and an exemplar a
//! bucket, recorded with atomic adds by any thread and read by a scrape or
//! an export (no min or max: each would be one more atomic operation a
//! request, and OTLP makes them optional). Values are integers in the instrument's smallest unit
//! (nanoseconds, bytes), so the sum is an add, not a compare-and-swap loop.

use std::sync::atomic::{AtomicU64, Ordering};

use super::exemplar::{Exemplar, ExemplarCell, Stamp};
use super::instruments::{Bounds, MAX_BOUNDS};

/// The counts of one series of one histogram instrument.
#[derive(Debug)]
pub(crate) struct Histogram {
    bounds: Bounds,
    /// One count a bucket, the last for values above every bound.
    counts: [AtomicU64; MAX_BOUNDS + 1],
    sum: AtomicU64,
    exemplars: [ExemplarCell; MAX_BOUNDS + 1],
}

/// A histogram's counts as a scrape or an export reads them. Each count is
/// read once; under concurrent recording they may be a few measurements
/// apart, never inconsistent with themselves (`count` is their sum).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HistogramSnapshot {
    pub(crate) bounds: Bounds,
    /// Not cumulative: the count of each bucket alone.
    pub(crate) counts: Vec<u64>,
    pub(crate) count: u64,
    pub(crate) sum: u64,
    /// A bucket's last exemplar, by bucket.
    pub(crate) exemplars: Vec<Option<Exemplar>>,
}

impl Histogram {
    pub(crate) fn new(bounds: Bounds) -> Self {
        debug_assert!(bounds.len() <= MAX_BOUNDS);
        Histogram {
            bounds,
            counts: Default::default(),
            sum: AtomicU64::new(0),
            exemplars: Default::default(),
        }
    }

    /// The bucket of `value`: the first whose bound it does not exceed.
    #[inline]
    fn bucket(&self, value: u64) -> usize {
        self.bounds
            .iter()
            .position(|&bound| value <= bound)
            .unwrap_or(self.bounds.len())
    }

    /// Records `value`, and offers its bucket an exemplar: `exemplar`'s
    /// value (`value` in the instrument's unit) with its stamp.
    #[inline]
    pub(crate) fn record(&self, value: u64, exemplar: Option<(f64, &Stamp)>) {
        let bucket = self.bucket(value);
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(value, Ordering::Relaxed);
        if let Some((shown, stamp)) = exemplar {
            self.exemplars[bucket].offer(shown, stamp);
        }
    }

    pub(crate) fn snapshot(&self) -> HistogramSnapshot {
        let buckets = self.bounds.len() + 1;
        let counts: Vec<u64> = self.counts[..buckets]
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        HistogramSnapshot {
            bounds: self.bounds,
            count: counts.iter().sum(),
            sum: self.sum.load(Ordering::Relaxed),
            exemplars: self.exemplars[..buckets]
                .iter()
                .map(ExemplarCell::read)
                .collect(),
            counts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::instruments::{DURATION_BOUNDS, SIZE_BOUNDS};
    use opentelemetry::trace::{SpanId, TraceId};

    #[test]
    fn values_land_in_the_first_bucket_whose_bound_they_do_not_exceed() {
        let h = Histogram::new(DURATION_BOUNDS);
        // 5 ms exactly is the first bucket's (`le` is inclusive), 5 ms + 1 ns the second's.
        for v in [1, 5_000_000, 5_000_001, 10_000_000_000, 10_000_000_001] {
            h.record(v, None);
        }
        let s = h.snapshot();
        assert_eq!(s.counts.len(), 15);
        assert_eq!(
            (s.counts[0], s.counts[1], s.counts[13], s.counts[14]),
            (2, 1, 1, 1)
        );
        assert_eq!(s.count, 5);
        assert_eq!(
            s.sum,
            1 + 5_000_000 + 5_000_001 + 10_000_000_000 + 10_000_000_001
        );
        let sizes = Histogram::new(SIZE_BOUNDS);
        sizes.record(0, None);
        assert_eq!(sizes.snapshot().counts[0], 1, "0 bytes: the `le=0` bucket");
        assert_eq!(sizes.snapshot().counts.len(), 16);
    }

    #[test]
    fn each_bucket_keeps_its_last_exemplar() {
        let h = Histogram::new(DURATION_BOUNDS);
        let stamps: Vec<Stamp> = (0..4)
            .map(|span| Stamp::new(0, TraceId::from(7), SpanId::from(span)))
            .collect();
        let seconds = |nanos: u64| nanos as f64 / 1e9;
        h.record(1_000, Some((seconds(1_000), &stamps[1])));
        h.record(2_000, Some((seconds(2_000), &stamps[2])));
        h.record(20_000_000, Some((seconds(20_000_000), &stamps[3])));
        h.record(3_000, None);
        let s = h.snapshot();
        assert_eq!(s.exemplars[0].map(|e| e.span_id), Some(SpanId::from(2)));
        assert_eq!(s.exemplars[2].map(|e| e.span_id), Some(SpanId::from(3)));
        assert!(s.exemplars[1].is_none() && s.exemplars[14].is_none());
    }
}
