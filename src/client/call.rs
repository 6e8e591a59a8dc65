//! One outgoing call: the decision (record it or not), the CLIENT span when it
//! is recorded, and the context written into the request's headers. Shared by
//! the tower client layer and the reqwest middleware.

use std::borrow::Cow;
use std::sync::Arc;

use http::{HeaderMap, Method, Uri};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{Span as _, SpanContext, SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::IdGenerator;

use super::inject::AddMissing;
use crate::config::Semconv;
use crate::conventions::client::{client_attributes, client_span_name};
use crate::conventions::failure::Failure;
use crate::conventions::grpc::{self, GrpcStatus, Side};
use crate::conventions::ours::push_cancelled;
use crate::conventions::stable;
use crate::metrics::{ClientMeasure, HttpMetrics};
use crate::pipeline::sampler::{presampled, HeldTrace, SamplingPolicy};
use crate::pipeline::Pipeline;
use crate::propagation::{random_flag, Propagation};
use crate::record::Recorder;

/// What every call of a client layer reads: the server layer's pipeline,
/// sampling policy and propagators, shared.
pub(crate) struct ClientState {
    /// Keeps the pipeline alive while a client layer of it lives.
    pub(crate) pipeline: Pipeline,
    pub(crate) recorder: Arc<Recorder>,
    /// `None`: a user-supplied provider samples.
    pub(crate) policy: Option<SamplingPolicy>,
    pub(crate) propagation: Arc<Propagation>,
    /// `OTEL_SDK_DISABLED`: calls go out untouched.
    pub(crate) disabled: bool,
    /// Record a CLIENT span per sampled call (off: inject only).
    pub(crate) client_spans: bool,
    /// The server layer's metrics: each call is measured when they are on.
    pub(crate) metrics: Arc<HttpMetrics>,
}

/// A call's two halves where its future or body keeps them: its CLIENT span
/// when it is recorded, its measure when calls are measured. Borrowed, so that
/// an unrecorded, unmeasured call moves nothing more than it did before calls
/// were measured (`benches/peers`: `callgrind.py client_unsampled`).
pub(crate) struct Call<'a> {
    pub(crate) span: &'a mut Option<ClientSpan>,
    /// Boxed: a call that is not measured carries one word; a measured call
    /// allocates once, beside the network round trip it waits on.
    pub(crate) measure: &'a mut Option<Box<ClientMeasure>>,
}

impl Call<'_> {
    /// The response head came back.
    pub(crate) fn response(&mut self, status: u16, headers: &HeaderMap) {
        if let Some(span) = self.span {
            span.response(status, headers);
        }
        if let Some(measure) = self.measure {
            measure.responded(status);
        }
    }

    /// The call (or its body) failed.
    pub(crate) fn fail(&mut self, failure: Failure<'_>) {
        if let Some(measure) = self.measure {
            measure.end(Some(&failure.kind));
        }
        if let Some(span) = self.span {
            span.fail(failure);
        }
    }

    /// The exchange is complete.
    pub(crate) fn end(&mut self) {
        if let Some(measure) = self.measure.take() {
            measure.end(None);
        }
        if let Some(span) = self.span.take() {
            span.end();
        }
    }
}

/// Decides how the call is traced, starts its CLIENT span when it is recorded,
/// and writes the context into `headers` (never over a header the caller set).
pub(crate) fn start(
    state: &ClientState,
    method: &Method,
    uri: &Uri,
    headers: &mut HeaderMap,
) -> (Option<ClientSpan>, Option<Box<ClientMeasure>>) {
    if state.disabled {
        return (None, None);
    }
    let cx = Context::current();
    let parent = cx.span().span_context().clone();
    let ids = &state.recorder.ids;
    // A suppressed context (an excluded request) never records, and tells the
    // callee so through the not-sampled flag its span context carries.
    let suppressed = cx.is_telemetry_suppressed();
    let trace_id = if parent.is_valid() {
        parent.trace_id()
    } else {
        ids.new_trace_id()
    };
    let sampled = !suppressed
        && match state.policy {
            Some(policy) => policy.sampled(&parent, trace_id),
            // A user's provider: its sampler decides when the span is built.
            None => true,
        };
    // A request that may still be kept with its whole trace records its calls too
    // (not sampled: the SDK's record-only decision, see `pipeline::sampler`).
    let held = !sampled && !suppressed && cx.get::<HeldTrace>().is_some();
    let mut span = None;
    let injected = if (sampled || held) && state.client_spans {
        let tracer = state.pipeline.core().layer_tracer();
        let builder = tracer
            .span_builder(client_span_name(method))
            .with_kind(SpanKind::Client)
            .with_attributes(client_attributes(
                state.recorder.conventions.semconv,
                method,
                uri,
            ));
        let built = if state.policy.is_some() && sampled {
            presampled(|| tracer.build_with_context(builder, &cx))
        } else {
            tracer.build_with_context(builder, &cx)
        };
        let sc = built.span_context().clone();
        if built.is_recording() {
            let mut client = ClientSpan {
                span: Some(built),
                grpc: grpc::is_grpc_headers(headers),
                semconv: state.recorder.conventions.semconv,
                rpc: state.recorder.conventions.rpc,
            };
            if client.grpc {
                let mut attributes = Vec::with_capacity(3);
                grpc::push_rpc_attributes(uri.path(), client.rpc, &mut attributes);
                client.add(attributes);
            }
            span = Some(client);
        }
        if sc.is_valid() {
            cx.with_remote_span_context(sc)
        } else {
            cx.clone()
        }
    } else if parent.is_valid() && sampled && parent.is_sampled() {
        // Injection only: the current span is the callee's parent, so the trace
        // stays connected (a fresh id would name a span nobody exports).
        cx.clone()
    } else {
        // Not recorded, or no usable context: a fresh span context carrying the
        // decision, so the callee follows it; each call its own parent id, as
        // W3C Trace Context asks.
        // Random as the caller said, or because it was made here.
        let flags = random_flag(&parent).with_sampled(sampled);
        let sc = SpanContext::new(
            trace_id,
            ids.new_span_id(),
            flags,
            false,
            parent.trace_state().clone(),
        );
        cx.with_remote_span_context(sc)
    };
    state
        .propagation
        .composite
        .inject_context(&injected, &mut AddMissing(headers));
    let measure = state.metrics.enabled().then(|| {
        let sc = injected.span();
        let sc = sc.span_context();
        let ids = sc.is_valid().then(|| (sc.trace_id(), sc.span_id()));
        // An exemplar names the call's span when its trace is exported.
        let exported = ids.filter(|_| span.is_some() && sampled);
        Box::new(ClientMeasure::start(
            &state.metrics,
            method,
            uri,
            exported,
            ids,
        ))
    });
    (span, measure)
}

/// A recorded call's CLIENT span. It ends with the response body (or with an
/// error); dropped before that, it ends marked cancelled.
pub(crate) struct ClientSpan {
    span: Option<opentelemetry_sdk::trace::Span>,
    grpc: bool,
    semconv: Semconv,
    /// The RPC conventions of a gRPC call.
    rpc: Semconv,
}

impl ClientSpan {
    fn add(&mut self, attributes: Vec<KeyValue>) {
        if let Some(span) = &mut self.span {
            span.set_attributes(attributes);
        }
    }

    /// The response head: `http.status_code`, and ERROR for a status >= 400 (a
    /// client's view) or a gRPC status other than OK in a trailers-only answer.
    pub(crate) fn response(&mut self, status: u16, headers: &HeaderMap) {
        let Some(span) = &mut self.span else { return };
        let mut attrs = Vec::with_capacity(3);
        stable::push_status(self.semconv, status, status >= 400, &mut attrs);
        span.set_attributes(attrs);
        if status >= 400 {
            span.set_status(Status::error(""));
        }
        self.grpc_status(headers);
    }

    /// `grpc-status` from headers or trailers: every code but OK is an error on
    /// the client side.
    pub(crate) fn grpc_status(&mut self, headers: &HeaderMap) {
        if !self.grpc {
            return;
        }
        let (Some(span), Some(code)) = (&mut self.span, grpc::status(headers)) else {
            return;
        };
        let status = GrpcStatus {
            code,
            message: None,
        };
        let mut attributes = Vec::with_capacity(3);
        let error = grpc::push_status(&status, Side::Client, self.rpc, &mut attributes);
        span.set_attributes(attributes);
        if let Some(error) = error {
            span.set_status(error);
        }
    }

    /// The call failed without a response (or its body failed): an `exception`
    /// event and ERROR.
    pub(crate) fn fail(&mut self, failure: Failure<'_>) {
        let Some(span) = &mut self.span else { return };
        if let Some(error_type) = stable::error_type(self.semconv, &failure.kind) {
            span.set_attribute(error_type);
        }
        span.add_event(
            "exception",
            vec![
                KeyValue::new("exception.type", failure.kind.into_owned()),
                KeyValue::new("exception.message", failure.message.clone().into_owned()),
            ],
        );
        span.set_status(Status::error(Cow::Owned(failure.message.into_owned())));
    }

    /// Ends the span: the exchange is complete.
    pub(crate) fn end(mut self) {
        if let Some(mut span) = self.span.take() {
            span.end();
        }
    }
}

impl Drop for ClientSpan {
    fn drop(&mut self) {
        if let Some(mut span) = self.span.take() {
            let mut attributes = Vec::with_capacity(2);
            push_cancelled(self.semconv, &mut attributes);
            span.set_attributes(attributes);
            span.end();
        }
    }
}
