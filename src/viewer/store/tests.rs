//! The store's bounds, eviction, buckets, errors and concurrent writers, on
//! hand-made spans.

use super::*;
use crate::viewer::span::MAX_VALUE_CHARS;
use opentelemetry::trace::{SpanContext, TraceFlags, TraceState};
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::InstrumentationScope;
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use std::time::UNIX_EPOCH;

const T0: Duration = Duration::from_secs(1_800_000_000);

/// A span of trace `trace` ending `dur` after it starts at `at` (from T0).
fn span(trace: u128, id: u64, parent: u64, name: &str, at: Duration, dur: Duration) -> SpanData {
    SpanData {
        span_context: SpanContext::new(
            TraceId::from(trace),
            SpanId::from(id),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        parent_span_id: SpanId::from(parent),
        parent_span_is_remote: false,
        span_kind: if parent == 0 {
            SpanKind::Server
        } else {
            SpanKind::Internal
        },
        name: name.to_owned().into(),
        start_time: UNIX_EPOCH + T0 + at,
        end_time: UNIX_EPOCH + T0 + at + dur,
        attributes: vec![KeyValue::new("http.target", "/x")],
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: Status::Unset,
        instrumentation_scope: InstrumentationScope::builder("test").build(),
    }
}

fn root(trace: u128, name: &str, dur: Duration, error: bool) -> SpanData {
    let mut s = span(trace, trace as u64 | 1 << 63, 0, name, Duration::ZERO, dur);
    if error {
        s.status = Status::error("boom");
    }
    s
}

fn store(max: usize) -> TraceStore {
    let store = TraceStore::default();
    store.enable();
    store.set_max_traces(max);
    store
}

fn ids(traces: &[Arc<Trace>]) -> Vec<u128> {
    let mut v: Vec<u128> = traces
        .iter()
        .map(|t| u128::from_be_bytes(t.trace_id.to_bytes()))
        .collect();
    v.sort_unstable();
    v
}

#[test]
fn a_trace_completes_when_its_root_arrives_even_in_a_later_batch() {
    let s = store(10);
    let ms = Duration::from_millis(1);
    s.record_spans(&[
        span(7, 2, 70, "child", ms, ms),
        span(7, 3, 2, "grandchild", ms, ms),
    ]);
    assert!(s.traces(&Filter::default()).is_empty());
    assert_eq!(s.overview().pending_spans, 2);
    let mut r = root(7, "GET /a", 5 * ms, false);
    r.span_context = SpanContext::new(
        7.into(),
        70.into(),
        TraceFlags::SAMPLED,
        false,
        TraceState::default(),
    );
    s.record_spans(&[r]);
    let t = s.trace(TraceId::from(7)).expect("complete");
    assert_eq!(t.spans.len(), 3);
    assert_eq!(t.name(), "GET /a");
    let order: Vec<(usize, &str)> = t
        .tree()
        .iter()
        .map(|(d, s)| (*d, s.name.as_str()))
        .collect();
    assert_eq!(order, [(0, "GET /a"), (1, "child"), (2, "grandchild")]);
    assert_eq!(s.overview().pending_spans, 0);
}

#[test]
fn keeps_the_last_n_and_per_name_samples_and_evicts_the_rest() {
    let s = store(5);
    for t in 1..=12u128 {
        s.record_spans(&[root(t, "GET /a", Duration::from_millis(3), false)]);
    }
    // Equal durations: the slowest keep the first three (ties keep the older),
    // the bucket keeps the newest, the last five are recent.
    assert_eq!(
        ids(&s.traces(&Filter::default())),
        [1, 2, 3, 8, 9, 10, 11, 12]
    );
    assert_eq!(s.overview().held, 8);
    assert!(s.trace(TraceId::from(5)).is_none());
    let newest: Vec<u64> = s.traces(&Filter::default()).iter().map(|t| t.seq).collect();
    assert!(
        newest.windows(2).all(|w| w[0] > w[1]),
        "newest first: {newest:?}"
    );
    assert_eq!(s.overview().rows[0].count, 12);
}

#[test]
fn slowest_and_failed_survive_eviction_from_the_last_n() {
    let s = store(1);
    let ms = Duration::from_millis(1);
    s.record_spans(&[root(1, "GET /a", 900 * ms, false)]);
    s.record_spans(&[root(2, "GET /a", 2 * ms, true)]);
    for t in 3..=20 {
        s.record_spans(&[root(t, "GET /a", 2 * ms, false)]);
    }
    let held = ids(&s.traces(&Filter::default()));
    assert!(
        held.contains(&1) && held.contains(&2) && held.contains(&20),
        "{held:?}"
    );
    let failed = s.traces(&Filter {
        errors: true,
        ..Filter::default()
    });
    assert_eq!(ids(&failed), [2]);
    let slow = s.traces(&Filter {
        bucket: Some(bucket_of(900 * ms)),
        ..Filter::default()
    });
    assert_eq!(ids(&slow), [1]);
}

#[test]
fn latency_buckets_count_requests_and_errors_per_name() {
    let s = store(100);
    let cases = [
        (1, "GET /a", Duration::from_micros(5), false),
        (2, "GET /a", Duration::from_micros(50), true),
        (3, "GET /a", Duration::from_millis(5), false),
        (4, "GET /a", Duration::from_millis(5), true),
        (5, "GET /a", Duration::from_secs(2), false),
        (6, "GET /b", Duration::from_secs(200), true),
    ];
    for (t, name, d, e) in cases {
        s.record_spans(&[root(t, name, d, e)]);
    }
    let o = s.overview();
    let a = &o.rows[0];
    assert_eq!((a.name.as_str(), a.count, a.errors), ("GET /a", 5, 2));
    assert_eq!(
        a.buckets,
        [
            (1, 0),
            (1, 1),
            (0, 0),
            (2, 1),
            (0, 0),
            (0, 0),
            (1, 0),
            (0, 0),
            (0, 0)
        ]
    );
    let b = &o.rows[1];
    assert_eq!((b.count, b.errors, b.buckets[8]), (1, 1, (1, 1)));
    assert_eq!(bucket_of(Duration::from_micros(10)), 1);
    assert_eq!(bucket_of(Duration::from_nanos(9_999)), 0);
}

#[test]
fn p50_and_p99_are_nearest_rank_over_the_window() {
    let s = store(10);
    for t in 1..=100u128 {
        s.record_spans(&[root(t, "GET /a", Duration::from_millis(t as u64), false)]);
    }
    let row = &s.overview().rows[0];
    assert_eq!(row.p50, Duration::from_millis(50));
    assert_eq!(row.p99, Duration::from_millis(99));
    for t in 101..=(100 + LATENCY_WINDOW as u128) {
        s.record_spans(&[root(t, "GET /a", Duration::from_millis(1), false)]);
    }
    assert_eq!(
        s.overview().rows[0].p99,
        Duration::from_millis(1),
        "old durations left the window"
    );
}

#[test]
fn names_spans_and_pending_are_bounded_and_counted() {
    let s = store(10);
    for t in 0..(MAX_NAMES as u128 + 8) {
        s.record_spans(&[root(
            t + 1,
            &format!("GET /{t}"),
            Duration::from_millis(1),
            false,
        )]);
    }
    let o = s.overview();
    assert_eq!((o.rows.len(), o.dropped.names), (MAX_NAMES, 8));

    let ms = Duration::from_millis(1);
    let children: Vec<SpanData> = (0..200)
        .map(|i| span(999, 10 + i, 1, "send", ms, ms))
        .collect();
    s.record_spans(&children);
    let mut r = root(999, "GET /0", 3 * ms, false);
    r.span_context = SpanContext::new(
        999.into(),
        1.into(),
        TraceFlags::SAMPLED,
        false,
        TraceState::default(),
    );
    s.record_spans(&[r]);
    let t = s.trace(TraceId::from(999)).unwrap();
    assert_eq!(t.spans.len(), MAX_SPANS_PER_TRACE);
    assert_eq!(t.root().name, "GET /0", "the root is always kept");
    assert_eq!(t.spans_dropped, 200 + 1 - MAX_SPANS_PER_TRACE);

    // Spans whose root never comes: the oldest traces go first.
    for trace in 0..100u128 {
        let batch: Vec<SpanData> = (0..50)
            .map(|i| span(10_000 + trace, 5 + i, 4, "orphan", ms, ms))
            .collect();
        s.record_spans(&batch);
    }
    let o = s.overview();
    assert!(o.pending_spans <= MAX_PENDING_SPANS, "{}", o.pending_spans);
    assert_eq!(o.dropped.pending as usize + o.pending_spans, 5000);
}

#[test]
fn long_values_are_cut() {
    let s = store(10);
    let mut r = root(1, "GET /a", Duration::from_millis(1), false);
    r.attributes.push(KeyValue::new("big", "é".repeat(5000)));
    s.record_spans(&[r]);
    let t = s.trace(TraceId::from(1)).unwrap();
    let big = &t
        .root()
        .attributes
        .iter()
        .find(|(k, _)| k == "big")
        .unwrap()
        .1;
    assert_eq!(big.chars().count(), MAX_VALUE_CHARS + 1);
    assert!(big.ends_with('…'));
}

#[test]
fn nothing_is_recorded_until_enabled() {
    let s = TraceStore::default();
    assert!(!s.enabled());
    s.enable();
    assert!(s.enabled());
}

#[test]
fn concurrent_writers_lose_nothing() {
    let s = Arc::new(store(50));
    let threads: Vec<_> = (0..8u128)
        .map(|w| {
            let s = s.clone();
            std::thread::spawn(move || {
                for i in 0..200u128 {
                    let t = w * 1000 + i + 1;
                    let ms = Duration::from_millis(1);
                    let mut r = root(t, &format!("GET /{}", w % 4), ms, i % 10 == 0);
                    r.span_context = SpanContext::new(
                        t.into(),
                        1.into(),
                        TraceFlags::SAMPLED,
                        false,
                        TraceState::default(),
                    );
                    s.record_spans(&[span(t, 2, 1, "send", ms, ms)]);
                    s.record_spans(&[r]);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let o = s.overview();
    assert_eq!(o.rows.iter().map(|r| r.count).sum::<u64>(), 1600);
    assert_eq!(o.rows.iter().map(|r| r.errors).sum::<u64>(), 160);
    assert_eq!(o.pending_spans, 0);
    let recent = s.traces(&Filter::default());
    assert!(recent.len() >= 50 && recent.len() <= 50 + 4 * 15);
    assert!(
        recent.iter().all(|t| t.spans.len() == 2),
        "every child met its root"
    );
}
