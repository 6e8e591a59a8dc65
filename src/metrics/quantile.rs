//! Quantiles and rates from a histogram's bucket counts, as the viewer's
//! charts and the console push need them: the counts of one interval (the
//! difference of two cumulative readings, as a delta push reports too) give
//! that interval's requests/s and its p50 and p99.
//!
//! The estimate is Prometheus' `histogram_quantile`: the rank falls in one
//! bucket, and the value is interpolated linearly between that bucket's
//! bounds (the first bucket starts at 0). It is only as fine as the buckets
//! (`metrics/instruments.rs`: 5 ms to 10 s), which is why the page says
//! "estimated"; the overview's own p50/p99 are exact over held durations.

/// The `q` quantile (`0.0..=1.0`) of the values counted in `counts`, in the
/// bounds' unit. `counts` has one count a bucket, not cumulative, the last
/// for values above every bound (`bounds.len() + 1` in all).
///
/// A rank in the last bucket, which has no upper bound, gives the highest
/// bound: the estimate says "at least" there, as Prometheus' does. `None`
/// when nothing was counted.
pub(crate) fn quantile(bounds: &[u64], counts: &[u64], q: f64) -> Option<f64> {
    debug_assert_eq!(counts.len(), bounds.len() + 1);
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = q.clamp(0.0, 1.0) * total as f64;
    let mut below = 0u64;
    for (i, &count) in counts.iter().enumerate() {
        // An empty bucket holds no rank, not even rank 0 (which would divide by zero).
        if count == 0 {
            continue;
        }
        if (below + count) as f64 >= rank {
            let Some(&upper) = bounds.get(i) else {
                return bounds.last().map(|&b| b as f64);
            };
            let lower = if i == 0 { 0 } else { bounds[i - 1] };
            let within = (rank - below as f64) / count as f64;
            return Some(lower as f64 + (upper - lower) as f64 * within);
        }
        below += count;
    }
    // Rounding could leave the rank a hair above the total: the last value.
    bounds.last().map(|&b| b as f64)
}

/// The counts of one interval: `now` minus `before`, bucket by bucket.
/// Cumulative counts never go down; should a reading race a recording, a
/// bucket a little behind counts as 0, never as a wrapped huge number.
pub(crate) fn deltas(now: &[u64], before: &[u64]) -> Vec<u64> {
    now.iter()
        .zip(before.iter().chain(std::iter::repeat(&0)))
        .map(|(n, b)| n.saturating_sub(*b))
        .collect()
}

/// Events a second: `count` events over `interval`.
#[cfg(feature = "viewer")]
pub(crate) fn rate(count: u64, interval: std::time::Duration) -> f64 {
    let secs = interval.as_secs_f64();
    if secs > 0.0 {
        count as f64 / secs
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    /// Bounds 10, 20, 30 and counts 2, 0, 8, 0 (ten values): the median's
    /// rank 5 is the third of the 8 values in (20, 30], so 20 + 10 × 3/8; the
    /// p99's rank 9.9 is the 7.9th there, 20 + 10 × 7.9/8.
    #[test]
    fn quantiles_interpolate_inside_the_bucket_the_rank_falls_in() {
        let bounds = [10, 20, 30];
        let counts = [2, 0, 8, 0];
        assert!(close(quantile(&bounds, &counts, 0.5), 23.75));
        assert!(close(quantile(&bounds, &counts, 0.99), 29.875));
        // Rank 2 is the last of the first bucket, which starts at 0.
        assert!(close(quantile(&bounds, &counts, 0.2), 10.0));
        assert!(close(quantile(&bounds, &counts, 0.1), 5.0));
        // Rank 0 is the lower bound of the first bucket that holds anything.
        assert!(close(quantile(&bounds, &[0, 0, 4, 0], 0.0), 20.0));
        assert!(close(quantile(&bounds, &counts, 1.0), 30.0));
    }

    #[test]
    fn a_rank_above_every_bound_is_the_highest_bound() {
        assert!(close(quantile(&[10, 20], &[1, 0, 3], 0.5), 20.0));
        assert!(close(quantile(&[10, 20], &[1, 0, 3], 0.99), 20.0));
        assert_eq!(quantile(&[10, 20], &[0, 0, 0], 0.5), None);
    }

    /// The duration buckets in nanoseconds: one request of 300 ms alone in
    /// (250 ms, 500 ms] has p50 375 ms and p99 497.5 ms.
    #[test]
    fn one_value_in_a_duration_bucket() {
        let bounds = crate::metrics::DURATION_BOUNDS;
        let mut counts = vec![0; bounds.len() + 1];
        counts[7] = 1;
        assert_eq!(bounds[6..8], [250_000_000, 500_000_000]);
        assert!(close(quantile(bounds, &counts, 0.5), 375_000_000.0));
        assert!(close(quantile(bounds, &counts, 0.99), 497_500_000.0));
    }

    #[test]
    fn deltas_never_wrap() {
        assert_eq!(deltas(&[5, 7, 9], &[1, 7, 10]), [4, 0, 0]);
        assert_eq!(deltas(&[5, 7], &[]), [5, 7]);
    }

    #[cfg(feature = "viewer")]
    #[test]
    fn rates() {
        use std::time::Duration;
        assert_eq!(rate(3, Duration::from_secs(10)), 0.3);
        assert_eq!(rate(3, Duration::ZERO), 0.0);
    }
}
