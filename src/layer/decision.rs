//! The decision made when a request arrives: not traced, excluded, unsampled
//! (a trace id but nothing recorded) or sampled (its server span starts). The
//! layer decides with its own copy of the sampling policy before any SDK span
//! exists, so an unsampled request builds no attributes and no span.

use http::Request;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{Link, SpanContext, SpanKind, TraceContextExt, Tracer};
use opentelemetry::Context;
use opentelemetry_http::HeaderExtractor;
use opentelemetry_sdk::trace::IdGenerator;

use super::state::{LayerState, Trust};
use crate::clock::tick;
use crate::conventions::describe::server_attribute_capacity;
use crate::conventions::request_parts::{Keep, RequestParts};
use crate::conventions::url::exclusion_url;
use crate::metrics::Measure;
use crate::pipeline::sampler::HeldTrace;
use crate::propagation::{random_flag, RANDOM};
use crate::record::{Record, Recording, UserProvider};
use crate::request::{addresses, TraceInfo};

/// How a request is traced, decided when it arrives.
pub(crate) enum Tracked {
    /// Tracing is off: no span, no context.
    Untraced,
    /// An excluded URL: no span, and a context that suppresses every span made
    /// while it runs and carries a not-sampled trace to outgoing calls.
    Excluded(Context),
    /// Not recorded, but it has a trace id and a context that handlers and
    /// outgoing calls see (so downstream services do not sample it either),
    /// and it is measured when the layer measures requests.
    Unsampled(Context, Option<Measure>),
    /// Recorded: sampled, or kept if it ends as an error or slowly.
    Recorded(Recording),
}

/// Decides how `req` is traced and, when it is recorded, starts its record
/// (under a user's provider, with that provider's server span in its context).
/// Everything costly (the record, and under a user's provider the span name)
/// happens only once a request is known to be recorded.
pub(crate) fn start<B>(state: &LayerState, req: &mut Request<B>) -> Tracked {
    if state.disabled {
        return Tracked::Untraced;
    }
    #[cfg(feature = "viewer")]
    if let Some(base) = state.viewer_path.get() {
        if crate::viewer::is_viewer_path(req.uri().path(), base) {
            return excluded_context(state);
        }
    }
    if let Some(path) = state.metrics_path.get() {
        if req.uri().path() == &**path {
            return excluded_context(state);
        }
    }
    if let Some(excluded) = &state.excluded {
        let (local, _) = addresses(req.extensions(), state.recorder.conventions.local_addr);
        if excluded.is_excluded(&exclusion_url(req, local)) {
            return excluded_context(state);
        }
    }
    let (parent_cx, link) = extract_parent(state, req);
    let recorder = &state.recorder;
    let measure = state
        .metrics
        .enabled()
        .then(|| Measure::start(&state.metrics, req, tick()));

    if let Some(policy) = state.policy {
        let parent = parent_cx.span().span_context().clone();
        let trace_id = if parent.is_valid() {
            parent.trace_id()
        } else {
            recorder.ids.new_trace_id()
        };
        if !policy.sampled(&parent, trace_id) {
            return unsampled(state, req, &parent_cx, &parent, trace_id, link, measure);
        }
        // The layer's own pipeline: a record, its spans built at the end
        // (or, without an exporter, dropped).
        let record = Record::sampled(recorder.clone(), &parent_cx, trace_id, req, link, measure);
        insert_info(req, record.cx.span().span_context(), true, random(&parent));
        return Tracked::Recorded(Recording::Sampled(record));
    }

    // A user-supplied provider samples; ask it with a bare span first.
    let tracer = state.pipeline.core().layer_tracer();
    let conventions = &recorder.conventions;
    let parts = RequestParts::capture(req, conventions, Keep::Clones);
    let mut attributes = Vec::with_capacity(server_attribute_capacity(conventions.semconv));
    let name = conventions.describe(&parts, &mut attributes);
    let builder = tracer
        .span_builder(name.clone())
        .with_kind(SpanKind::Server)
        .with_links(links(link));
    let mut span = tracer.build_with_context(builder, &parent_cx);
    let parent = parent_cx.span().span_context().clone();
    let recording = opentelemetry::trace::Span::is_recording(&span);
    if recording {
        opentelemetry::trace::Span::set_attributes(&mut span, attributes);
    }
    let cx = parent_cx.with_span(span);
    insert_info(req, cx.span().span_context(), recording, random(&parent));
    if !recording {
        return Tracked::Unsampled(cx, measure.map(|m| m.unrecorded(req)));
    }
    let kind = UserProvider {
        name,
        grpc: parts.is_grpc(),
    };
    let record = Record::user_provider(recorder.clone(), cx, kind, &parent, measure);
    Tracked::Recorded(Recording::UserProvider(record))
}

/// What an excluded request runs under. Suppression stops the SDK from recording
/// any span the handler makes (directly or through the tracing bridge), whatever
/// the sampler says; the not-sampled span context makes outgoing calls tell the
/// callee not to record either. It costs what an unsampled request costs.
fn excluded_context(state: &LayerState) -> Tracked {
    let sc = SpanContext::new(
        state.recorder.ids.new_trace_id(),
        state.recorder.ids.new_span_id(),
        RANDOM,
        false,
        opentelemetry::trace::TraceState::default(),
    );
    Tracked::Excluded(
        Context::current()
            .with_telemetry_suppressed()
            .with_remote_span_context(sc),
    )
}

/// The remote parent and baggage, and the caller's context to link to instead
/// when the caller is not trusted to parent the span. Most requests carry no
/// context header; skipping the propagators for them keeps the common unsampled
/// path short.
fn extract_parent<B>(state: &LayerState, req: &Request<B>) -> (Context, Option<SpanContext>) {
    let headers = req.headers();
    if !state.propagation.any_field_in(headers) {
        return (Context::current(), None);
    }
    let extracted = state
        .propagation
        .composite
        .extract(&HeaderExtractor(headers));
    if state.trust != Trust::Everyone {
        let (_, peer) = addresses(req.extensions(), state.recorder.conventions.local_addr);
        if !state.trust.trusts(peer) {
            // A new root: no remote parent, no baggage; the caller's span linked.
            let remote = extracted.span().span_context().clone();
            return (Context::current(), remote.is_valid().then_some(remote));
        }
    }
    (extracted, None)
}

fn links(link: Option<SpanContext>) -> Vec<Link> {
    link.map(|sc| vec![Link::with_context(sc)])
        .unwrap_or_default()
}

fn unsampled<B>(
    state: &LayerState,
    req: &mut Request<B>,
    parent_cx: &Context,
    parent: &SpanContext,
    trace_id: opentelemetry::trace::TraceId,
    link: Option<SpanContext>,
    measure: Option<Measure>,
) -> Tracked {
    let recorder = &state.recorder;
    // Not sampled here; random as the caller said, or because it was made here.
    let sc = SpanContext::new(
        trace_id,
        recorder.ids.new_span_id(),
        random_flag(parent),
        false,
        parent.trace_state().clone(),
    );
    insert_info(req, &sc, false, random(parent));
    let cx = parent_cx.with_remote_span_context(sc);
    // A caller's "not sampled" is respected unless told otherwise; the keep rules
    // need the layer's own pipeline, where spans can be handed over whole.
    let keep = &recorder.keep;
    let pipeline = state.pipeline.core();
    let may_keep = keep.any()
        && pipeline.batch().is_some()
        && (!parent.is_valid() || parent.is_sampled() || keep.despite_caller);
    if !may_keep {
        return Tracked::Unsampled(cx, measure.map(|m| m.unrecorded(req)));
    }
    let cx = if pipeline.holds_traces() {
        pipeline.hold_trace(trace_id);
        cx.with_value(HeldTrace)
    } else {
        cx
    };
    Tracked::Recorded(Recording::Keepable(Record::keepable(
        recorder.clone(),
        cx,
        req,
        parent,
        link,
        measure,
    )))
}

/// Whether the request's trace id is random: made here, or the caller said so.
fn random(parent: &SpanContext) -> bool {
    random_flag(parent) == RANDOM
}

fn insert_info<B>(req: &mut Request<B>, sc: &SpanContext, sampled: bool, random: bool) {
    req.extensions_mut().insert(TraceInfo {
        trace_id: sc.trace_id(),
        span_id: sc.span_id(),
        sampled,
        random,
    });
}
