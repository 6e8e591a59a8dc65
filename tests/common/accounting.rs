//! The accounting invariant every fault test checks, and what the receiver got
//! measured against it.
//!
//! Every span the layer records is counted `started` once: by the counting
//! processor's `on_start` for SDK spans, or by `Counters::span_started` for the
//! spans the layer hands over already finished. Each of them then ends in exactly
//! one place:
//! - the counting processor's `on_end`, which counts it `dropped` (queue full) or
//!   passes it to the batch processor, where it is `queued` until the exporter
//!   says `exported` or `failed`;
//! - with `keep_detail: full`, the keep buffer in front of that processor, which
//!   holds the record-only spans of a request that may still be kept and, when it
//!   is not, counts them `discarded`, or counts a span `overflowed` when its
//!   buffer is full (a kept request's held spans go on to `on_end`).
//!
//! So, once no request is running and no held trace is waiting for its request
//! to end:
//!
//! `started == exported + dropped + failed + queued + discarded + overflowed`
//!
//! `discarded` and `overflowed` are zero unless `keep_detail: full` is on, where
//! the plain `started == exported + dropped + failed + queued` does not hold:
//! those spans were started but never reach the export queue. `kept_errors` and
//! `kept_slow` count requests, not spans, and are not part of the sum.
#![allow(dead_code)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tower_otel_tracing::pipeline::{Pipeline, TracingStats};

/// Asserts the invariant on one snapshot.
#[track_caller]
pub fn assert_invariant(stats: &TracingStats, what: &str) {
    let accounted = stats.exported
        + stats.dropped
        + stats.failed
        + stats.queued
        + stats.discarded
        + stats.overflowed;
    assert_eq!(
        stats.started, accounted,
        "{what}: started must equal exported + dropped + failed + queued + discarded + \
         overflowed: {stats:?}"
    );
}

/// Flushes until the queue is empty (every span exported, failed or dropped) and
/// the invariant holds, bounded by 30 s; the stats then. Blocking: call it from a
/// blocking thread in async tests (`settle_async`).
#[track_caller]
pub fn settle(pipeline: &Pipeline, what: &str) -> TracingStats {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // A flush can end early (its own 5 s bound, or a failed export): the
        // stats say whether the queue really is empty.
        let _ = pipeline.force_flush();
        let stats = pipeline.stats();
        let accounted =
            stats.exported + stats.dropped + stats.failed + stats.discarded + stats.overflowed;
        if stats.queued == 0 && stats.started == accounted {
            assert_invariant(&stats, what);
            return stats;
        }
        if Instant::now() > deadline {
            assert_invariant(&stats, what);
            panic!("{what}: spans still queued after 30 s of flushing: {stats:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `settle` from an async test, on a blocking thread.
pub async fn settle_async(pipeline: &Pipeline, what: &str) -> TracingStats {
    let pipeline = pipeline.clone();
    let what = what.to_owned();
    tokio::task::spawn_blocking(move || settle(&pipeline, &what))
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

/// The span ids a receiver decoded from the wire, with how often each came.
#[derive(Debug, Default, Clone)]
pub struct Delivery {
    pub copies: HashMap<String, usize>,
}

impl Delivery {
    pub fn of<I: IntoIterator<Item = String>>(ids: I) -> Self {
        let mut copies = HashMap::new();
        for id in ids {
            *copies.entry(id).or_insert(0) += 1;
        }
        Delivery { copies }
    }

    /// Distinct spans received.
    pub fn unique(&self) -> u64 {
        self.copies.len() as u64
    }

    /// Copies received beyond the first of each span.
    pub fn duplicates(&self) -> u64 {
        self.copies.values().map(|n| (n - 1) as u64).sum()
    }
}

/// What a transport promises about the spans it reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guarantee {
    /// One attempt per batch (Zipkin, Jaeger collector): every span counted
    /// exported was received, once; a failed batch may still have been received
    /// (answer lost), once.
    ExactlyOnce,
    /// Retried batches (OTLP): as above, but a batch whose answer was lost after
    /// the collector processed it is sent again, so spans may come more than once.
    AtLeastOnce,
    /// UDP datagrams (Jaeger agent): `exported` means sent; the network may lose
    /// them, never duplicate them.
    Datagram,
}

/// Checks what the receiver got against settled stats. Returns the duplicates.
#[track_caller]
pub fn assert_delivery(
    stats: &TracingStats,
    got: &Delivery,
    guarantee: Guarantee,
    what: &str,
) -> u64 {
    assert_invariant(stats, what);
    assert_eq!(stats.queued, 0, "{what}: settle first: {stats:?}");
    let unique = got.unique();
    match guarantee {
        Guarantee::ExactlyOnce | Guarantee::AtLeastOnce => {
            assert!(
                unique >= stats.exported,
                "{what}: every span counted exported was received: {unique} received, {stats:?}"
            );
            assert!(
                unique <= stats.exported + stats.failed,
                "{what}: nothing received that was not sent: {unique} received, {stats:?}"
            );
        }
        Guarantee::Datagram => assert!(
            unique <= stats.exported,
            "{what}: nothing received that was not sent: {unique} received, {stats:?}"
        ),
    }
    if guarantee != Guarantee::AtLeastOnce {
        assert_eq!(got.duplicates(), 0, "{what}: a span came twice: {got:?}");
    }
    got.duplicates()
}

/// A run with no fault: everything exported, received exactly once, nothing lost.
#[track_caller]
pub fn assert_exactly_once(stats: &TracingStats, got: &Delivery, what: &str) {
    assert_invariant(stats, what);
    assert_eq!(
        (stats.queued, stats.dropped, stats.failed),
        (0, 0, 0),
        "{what}: {stats:?}"
    );
    assert_eq!(got.duplicates(), 0, "{what}: a span came twice");
    assert_eq!(got.unique(), stats.exported, "{what}: {stats:?}");
}
