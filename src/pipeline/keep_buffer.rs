//! `keep_detail: full`: while a request the sample rate did not pick runs, every
//! span of its trace is recorded (the SDK's record-only decision) and held here,
//! bounded per trace and in total; when its last request ends it is exported
//! as sampled if a request of it is kept, and dropped otherwise. Overflow is
//! counted, never waited for. A span is counted `started` where its outcome
//! is known: here when it is discarded or overflows, at the batch processor
//! when it is released to it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use opentelemetry::trace::{SpanContext, TraceFlags, TraceId};
use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use opentelemetry_sdk::Resource;

use super::stats::Counters;

/// Spans held for one trace at most.
pub(crate) const MAX_SPANS_PER_TRACE: usize = 256;
/// Spans held for all traces at most.
pub(crate) const MAX_SPANS_HELD: usize = 16_384;

/// The traces being held and their spans so far.
#[derive(Debug)]
pub(crate) struct KeepBuffer {
    held: Mutex<Held>,
    counters: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Held {
    traces: HashMap<TraceId, Trace>,
    spans: usize,
}

/// A held trace. Its spans name their trace, not the request they were made
/// for, and several requests can run in one trace at once (a caller's trace id
/// kept despite the caller): the trace is released when its last request ends,
/// and exported if any of them was kept, so the first to end neither takes nor
/// drops spans the others are still making.
#[derive(Debug, Default)]
struct Trace {
    spans: Vec<SpanData>,
    /// Requests of the trace still running.
    live: usize,
    kept: bool,
}

impl KeepBuffer {
    pub(crate) fn new(counters: Arc<Counters>) -> Self {
        KeepBuffer {
            held: Mutex::new(Held::default()),
            counters,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts holding the record-only spans of `trace`.
    pub(crate) fn hold(&self, trace: TraceId) {
        self.lock().traces.entry(trace).or_default().live += 1;
    }

    /// Holds `span` if it is a record-only span of a held trace, drops other
    /// record-only spans, and gives sampled ones back.
    fn take(&self, span: SpanData) -> Option<SpanData> {
        if span.span_context.is_sampled() {
            return Some(span);
        }
        let mut held = self.lock();
        let total = held.spans;
        let Some(trace) = held.traces.get_mut(&span.span_context.trace_id()) else {
            // Only held requests record without sampling, so this span ended
            // after its trace was released (a task outliving its request). The
            // exporters would send it with the sampled flag off, not drop it.
            drop(held);
            self.counters.spans_started(1);
            self.counters.discarded(1);
            return None;
        };
        if trace.spans.len() >= MAX_SPANS_PER_TRACE || total >= MAX_SPANS_HELD {
            drop(held);
            self.counters.spans_started(1);
            self.counters.overflowed();
            return None;
        }
        trace.spans.push(span);
        held.spans += 1;
        None
    }

    /// A request of `trace` is over: when it was the trace's last, the trace's
    /// spans, sampled now, if any of its requests was kept.
    pub(crate) fn release(&self, trace: TraceId, keep: bool) -> Vec<SpanData> {
        let (spans, keep) = {
            let mut held = self.lock();
            let Some(entry) = held.traces.get_mut(&trace) else {
                return Vec::new();
            };
            entry.kept |= keep;
            entry.live = entry.live.saturating_sub(1);
            if entry.live > 0 {
                return Vec::new();
            }
            let entry = held.traces.remove(&trace).unwrap_or_default();
            held.spans -= entry.spans.len();
            (entry.spans, entry.kept)
        };
        if !keep {
            self.counters.spans_started(spans.len() as u64);
            self.counters.discarded(spans.len() as u64);
            return Vec::new();
        }
        spans
            .into_iter()
            .map(|mut span| {
                let sc = &span.span_context;
                span.span_context = SpanContext::new(
                    sc.trace_id(),
                    sc.span_id(),
                    sc.trace_flags() | TraceFlags::SAMPLED,
                    sc.is_remote(),
                    sc.trace_state().clone(),
                );
                span
            })
            .collect()
    }
}

/// The processor in front of the chain: record-only spans of held traces stop
/// here; everything else goes on.
#[derive(Debug)]
pub(crate) struct KeepProcessor {
    pub(crate) buffer: Arc<KeepBuffer>,
    pub(crate) inner: Arc<super::batch::BatchProcessor>,
}

impl SpanProcessor for KeepProcessor {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        if let Some(span) = self.buffer.take(span) {
            self.inner.on_end(span);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    // The exporter was given the resource before its thread started.
    fn set_resource(&mut self, _resource: &Resource) {}
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::time::UNIX_EPOCH;

    use opentelemetry::trace::{SpanId, SpanKind, Status, TraceState};
    use opentelemetry::InstrumentationScope;
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};

    use super::*;

    /// A record-only span (not sampled) of `trace`.
    fn span(trace: TraceId, id: u64) -> SpanData {
        SpanData {
            span_context: SpanContext::new(
                trace,
                SpanId::from(id),
                TraceFlags::default(),
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: Cow::Borrowed("handler"),
            start_time: UNIX_EPOCH,
            end_time: UNIX_EPOCH,
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::builder("test").build(),
        }
    }

    fn buffer() -> (KeepBuffer, Arc<Counters>) {
        let counters = Arc::new(Counters::default());
        (KeepBuffer::new(counters.clone()), counters)
    }

    /// Two requests of one trace: the first to end, not kept, neither takes nor
    /// drops what the other is still making; the trace goes out, sampled, when
    /// its last request ends and one of them was kept.
    #[test]
    fn a_trace_of_several_requests_is_released_by_its_last() {
        let (buffer, counters) = buffer();
        let trace = TraceId::from(7);
        buffer.hold(trace);
        buffer.hold(trace);
        assert!(buffer.take(span(trace, 1)).is_none());
        assert!(buffer.release(trace, false).is_empty());
        assert!(buffer.take(span(trace, 2)).is_none());
        let released = buffer.release(trace, true);
        let ids: Vec<_> = released.iter().map(|s| s.span_context.span_id()).collect();
        assert_eq!(ids, [SpanId::from(1), SpanId::from(2)]);
        assert!(released.iter().all(|s| s.span_context.is_sampled()));
        assert_eq!(
            counters.snapshot().started,
            0,
            "counted where they are exported"
        );
    }

    #[test]
    fn a_trace_none_of_whose_requests_is_kept_is_discarded_and_counted() {
        let (buffer, counters) = buffer();
        let trace = TraceId::from(8);
        buffer.hold(trace);
        buffer.hold(trace);
        assert!(buffer.take(span(trace, 1)).is_none());
        assert!(buffer.release(trace, false).is_empty());
        assert!(buffer.take(span(trace, 2)).is_none());
        assert!(buffer.release(trace, false).is_empty());
        let stats = counters.snapshot();
        assert_eq!((stats.started, stats.discarded), (2, 2), "{stats:?}");
    }

    /// A span that ends after its trace was released (a task outliving its
    /// request) is discarded and counted, not exported unsampled.
    #[test]
    fn a_span_that_ends_after_its_trace_was_released_is_counted() {
        let (buffer, counters) = buffer();
        let trace = TraceId::from(9);
        buffer.hold(trace);
        assert_eq!(buffer.release(trace, true).len(), 0);
        assert!(buffer.take(span(trace, 3)).is_none());
        let stats = counters.snapshot();
        assert_eq!((stats.started, stats.discarded), (1, 1), "{stats:?}");
        // A sampled span is never held.
        let mut sampled = span(trace, 4);
        sampled.span_context = SpanContext::new(
            trace,
            SpanId::from(4),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        );
        assert!(buffer.take(sampled).is_some());
    }

    #[test]
    fn a_trace_holds_at_most_its_share_and_the_overflow_is_counted() {
        let (buffer, counters) = buffer();
        let trace = TraceId::from(10);
        buffer.hold(trace);
        for id in 0..MAX_SPANS_PER_TRACE as u64 + 5 {
            assert!(buffer.take(span(trace, id + 1)).is_none());
        }
        assert_eq!(counters.snapshot().overflowed, 5);
        assert_eq!(buffer.release(trace, true).len(), MAX_SPANS_PER_TRACE);
    }
}
