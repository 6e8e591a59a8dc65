//! [`Baselines`]: delta temporality without touching the request path. The
//! histograms only ever grow (a request adds to them with atomic adds, and a
//! reset would race those adds and lose some), so a delta is the difference
//! between what the push thread reads now and what it read for the last
//! push that arrived, kept here, per series.

use std::collections::HashMap;
use std::time::SystemTime;

use std::fmt::Write as _;

use opentelemetry::{KeyValue, Value};

use crate::metrics::histogram::HistogramSnapshot;
use crate::metrics::quantile::deltas;

/// A series of one histogram: its instrument (an index into
/// [`Collection::histograms`](super::collect::Collection::histograms)) and
/// its attributes' [`identity`].
pub(crate) type SeriesKey = (usize, String);

/// Attributes as a text that tells apart any two different lists (a value's
/// type included: the status code 200 is not the text "200"), to key a
/// series by: `KeyValue` is neither `Eq` nor `Hash` (a value may be a
/// float).
pub(crate) fn identity(attributes: &[KeyValue]) -> String {
    let mut id = String::new();
    for kv in attributes {
        let kind = match &kv.value {
            Value::Bool(_) => 'b',
            Value::I64(_) => 'i',
            Value::F64(_) => 'f',
            Value::String(_) => 's',
            _ => 'a',
        };
        // NUL separates: no key or value of the conventions holds one.
        let _ = write!(id, "{}\0{kind}{}\0", kv.key, kv.value);
    }
    id
}

/// What the last push that arrived read of each series.
#[derive(Debug)]
pub(crate) struct Baselines {
    /// When that push read them (when measuring began, before any push).
    since: SystemTime,
    last: HashMap<SeriesKey, Counts>,
}

#[derive(Debug)]
struct Counts {
    buckets: Vec<u64>,
    sum: u64,
}

impl Baselines {
    pub(crate) fn new(started: SystemTime) -> Self {
        Baselines {
            since: started,
            last: HashMap::new(),
        }
    }

    /// The start of the next delta.
    pub(crate) fn since(&self) -> SystemTime {
        self.since
    }

    /// What `key` measured since its baseline: the counts' differences (a
    /// new series: all of them), with the exemplars recorded since then, in
    /// buckets that changed.
    pub(crate) fn change(&self, key: &SeriesKey, now: &HistogramSnapshot) -> HistogramSnapshot {
        let Some(last) = self.last.get(key) else {
            return self.recent_exemplars(now.clone());
        };
        let buckets = deltas(&now.counts, &last.buckets);
        self.recent_exemplars(HistogramSnapshot {
            bounds: now.bounds,
            count: buckets.iter().sum(),
            sum: now.sum.saturating_sub(last.sum),
            exemplars: now.exemplars.clone(),
            counts: buckets,
        })
    }

    /// Keeps the exemplars of this delta's own measurements: a bucket keeps
    /// its last exemplar for good, which an earlier push has reported.
    fn recent_exemplars(&self, mut delta: HistogramSnapshot) -> HistogramSnapshot {
        for (exemplar, count) in delta.exemplars.iter_mut().zip(&delta.counts) {
            if *count == 0 || exemplar.is_some_and(|e| e.time < self.since) {
                *exemplar = None;
            }
        }
        delta
    }

    /// A push that read `read` at `time` arrived: later deltas count from it.
    pub(crate) fn advance(&mut self, time: SystemTime, read: Vec<(SeriesKey, HistogramSnapshot)>) {
        self.since = time;
        for (key, snapshot) in read {
            self.last.insert(
                key,
                Counts {
                    buckets: snapshot.counts,
                    sum: snapshot.sum,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::exemplar::Exemplar;
    use crate::metrics::instruments::SIZE_BOUNDS;
    use opentelemetry::trace::{SpanId, TraceId};
    use std::time::{Duration, UNIX_EPOCH};

    fn snapshot(counts: &[u64], sum: u64, exemplar_at: Option<u64>) -> HistogramSnapshot {
        let mut all = vec![0; SIZE_BOUNDS.len() + 1];
        all[..counts.len()].copy_from_slice(counts);
        let mut exemplars = vec![None; all.len()];
        exemplars[0] = exemplar_at.map(|secs| Exemplar {
            value: 0.0,
            time: UNIX_EPOCH + Duration::from_secs(secs),
            trace_id: TraceId::from(1),
            span_id: SpanId::from(1),
        });
        HistogramSnapshot {
            bounds: SIZE_BOUNDS,
            count: all.iter().sum(),
            sum,
            exemplars,
            counts: all,
        }
    }

    #[test]
    fn identities_tell_types_apart() {
        let status = |v: Value| identity(&[KeyValue::new("http.response.status_code", v)]);
        assert_ne!(status(Value::I64(200)), status(Value::from("200")));
        assert_eq!(status(Value::I64(200)), status(Value::I64(200)));
    }

    #[test]
    fn a_delta_is_what_changed_since_the_last_push_that_arrived() {
        let key: SeriesKey = (0, String::new());
        let mut b = Baselines::new(UNIX_EPOCH + Duration::from_secs(10));
        let first = snapshot(&[2, 1], 30, Some(15));
        // A new series: all of it, with its exemplar (recorded since).
        assert_eq!(b.change(&key, &first), first);
        b.advance(
            UNIX_EPOCH + Duration::from_secs(20),
            vec![(key.clone(), first)],
        );

        let second = snapshot(&[2, 4], 90, Some(15));
        let delta = b.change(&key, &second);
        assert_eq!(delta.counts[..2], [0, 3]);
        assert_eq!((delta.count, delta.sum), (3, 60));
        // Bucket 0 did not change, and its exemplar was reported already.
        assert!(delta.exemplars.iter().all(Option::is_none));

        // That push did not arrive: the next one still counts from the first.
        let third = snapshot(&[3, 4], 100, Some(25));
        let delta = b.change(&key, &third);
        assert_eq!(delta.counts[..2], [1, 3]);
        assert_eq!((delta.count, delta.sum), (4, 70));
        assert!(delta.exemplars[0].is_some(), "recorded since the last push");
        assert_eq!(b.since(), UNIX_EPOCH + Duration::from_secs(20));
    }
}
