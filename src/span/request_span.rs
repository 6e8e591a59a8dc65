//! One request's server span and the child spans hung under it: recorded as it
//! goes when the request is sampled, or, when it was not sampled but might be
//! kept (`keep_errors`, `keep_slower_than`), described at its end and exported
//! only if it ended as an error or slowly.
//!
//! Shared (behind an `Arc`) by the response future, the request body and the
//! response body, which each see a different part of the exchange.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use opentelemetry::trace::{Event, SpanContext, SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{IdGenerator, SpanData, SpanEvents, SpanLinks};

use super::attributes::HTTP_CANCELLED;
use super::deferred::Deferred;
use super::failure::Failure;
use super::grpc;
use super::message::Message;
use super::naming::ChildNames;
use super::recorded_headers;
use super::recorder::Recorder;
use super::request_parts::RequestParts;
use super::stable;
use crate::config::Semconv;

pub(crate) struct RequestSpan {
    recorder: Arc<Recorder>,
    /// The context the inner service runs under: the server span's (sampled), or
    /// the unsampled trace's the handler and its calls see (deferred).
    pub(crate) cx: Context,
    children: ChildNames,
    /// Child spans go straight to the pipeline's processors (see `child`).
    direct: bool,
    /// A gRPC call: its status comes from `grpc-status`, not the HTTP status.
    grpc: bool,
    /// Set when the request was not sampled: what its spans will be made from.
    deferred: Option<Mutex<Deferred>>,
}

impl RequestSpan {
    /// A sampled request: the server span is an SDK span in `cx`.
    pub(crate) fn new(
        recorder: Arc<Recorder>,
        cx: Context,
        children: ChildNames,
        grpc: bool,
    ) -> Self {
        let direct = recorder.pipeline.processor().is_some() && cx.span().is_recording();
        RequestSpan {
            recorder,
            cx,
            children,
            direct,
            grpc,
            deferred: None,
        }
    }

    /// A request the sample rate did not pick, that is kept if it ends as an
    /// error or slowly. `cx` carries its (unsampled) span context.
    pub(crate) fn deferred(
        recorder: Arc<Recorder>,
        cx: Context,
        parts: RequestParts,
        parent: SpanContext,
        link: Option<SpanContext>,
    ) -> Self {
        let grpc = parts.is_grpc();
        RequestSpan {
            recorder,
            cx,
            children: ChildNames::none(),
            direct: false,
            grpc,
            deferred: Some(Mutex::new(Deferred::new(parts, parent, link))),
        }
    }

    fn with_deferred<T>(&self, f: impl FnOnce(&mut Deferred) -> T) -> Option<T> {
        let deferred = self.deferred.as_ref()?;
        Some(f(&mut deferred
            .lock()
            .unwrap_or_else(PoisonError::into_inner)))
    }

    fn set_attributes(&self, attributes: Vec<KeyValue>) {
        if self
            .with_deferred(|d| d.attributes.extend_from_slice(&attributes))
            .is_none()
        {
            self.cx.span().set_attributes(attributes);
        }
    }

    fn set_status(&self, status: Status) {
        if self.with_deferred(|d| d.status = status.clone()).is_none() {
            self.cx.span().set_status(status);
        }
    }

    /// Records `rpc.grpc.status_code` from these headers or trailers, ERROR for a
    /// server fault. No-op for non-gRPC exchanges or without `grpc-status`.
    pub(crate) fn grpc_status(&self, headers: &http::HeaderMap) {
        if !self.grpc {
            return;
        }
        if let Some(code) = grpc::status(headers) {
            self.set_attributes(vec![KeyValue::new(grpc::RPC_GRPC_STATUS_CODE, code)]);
            if grpc::is_server_fault(code) {
                // grpc-message is percent-encoded on the wire.
                let message = headers
                    .get("grpc-message")
                    .and_then(|v| v.to_str().ok())
                    .map(|m| {
                        percent_encoding::percent_decode_str(m)
                            .decode_utf8_lossy()
                            .into_owned()
                    })
                    .unwrap_or_default();
                self.set_status(Status::error(format!("gRPC status {code}: {message}")));
            }
        }
    }

    /// Records the response head: the status on the server span, ERROR for 5xx,
    /// and the `http.response.start` send span.
    pub(crate) fn response_started(
        &self,
        status: u16,
        headers: &http::HeaderMap,
        start: SystemTime,
    ) {
        let mut attrs = Vec::with_capacity(3);
        stable::push_status(self.recorder.semconv, status, status >= 500, &mut attrs);
        recorded_headers::push(&self.recorder.response_headers, headers, &mut attrs);
        self.set_attributes(attrs);
        if status >= 500 {
            self.set_status(Status::error(""));
        }
        self.child(Message::ResponseStart, start, Some(status));
    }

    /// Records one ASGI-style message as an INTERNAL child span from `start` to now.
    pub(crate) fn child(&self, message: Message, start: SystemTime, status: Option<u16>) {
        if self
            .with_deferred(|d| d.frame(message, start, status))
            .is_some()
        {
            return;
        }
        let Some(name) = self.children.of(message) else {
            return;
        };
        let (attributes, failed) = child_attributes(self.recorder.semconv, message, status);
        if let (true, Some(processor)) = (self.direct, self.recorder.pipeline.processor()) {
            self.recorder.pipeline.counters().span_started();
            let server = self.cx.span();
            let end = SystemTime::now();
            let data = child_span_data(
                &self.recorder,
                server.span_context(),
                name,
                start,
                end,
                attributes,
                failed,
            );
            processor.on_end(data);
            return;
        }
        let tracer = self.recorder.pipeline.layer_tracer();
        let builder = tracer
            .span_builder(name.to_owned())
            .with_kind(SpanKind::Internal)
            .with_start_time(start)
            .with_attributes(attributes);
        let mut span = tracer.build_with_context(builder, &self.cx);
        if failed {
            opentelemetry::trace::Span::set_status(&mut span, Status::error(""));
        }
        opentelemetry::trace::Span::end(&mut span);
    }

    /// Marks the server span failed with an `exception` event.
    pub(crate) fn fail(&self, failure: Failure<'_>) {
        let mut attrs = Vec::with_capacity(1);
        if let Some(error_type) = stable::error_type(self.recorder.semconv, &failure.kind) {
            attrs.push(error_type);
        }
        let event = vec![
            KeyValue::new("exception.type", failure.kind.into_owned()),
            KeyValue::new("exception.message", failure.message.clone().into_owned()),
        ];
        let status = Status::error(failure.message.into_owned());
        let deferred = self.with_deferred(|d| {
            d.attributes.extend_from_slice(&attrs);
            d.events
                .push(Event::new("exception", SystemTime::now(), event.clone(), 0));
            d.status = status.clone();
        });
        if deferred.is_none() {
            let span = self.cx.span();
            span.set_attributes(attrs);
            span.add_event("exception", event);
            span.set_status(status);
        }
    }

    /// Ends the server span; the exchange is complete.
    pub(crate) fn end(&self) {
        if self
            .with_deferred(|d| d.finish(&self.recorder, &self.cx))
            .is_none()
        {
            self.cx.span().end();
        }
    }

    /// Ends the server span of an exchange abandoned before its body was sent
    /// (the client went away, or the future was dropped).
    pub(crate) fn end_cancelled(&self) {
        let cancelled = KeyValue::new(HTTP_CANCELLED, true);
        let deferred = self.with_deferred(|d| {
            if !d.finished() {
                d.attributes.push(cancelled.clone());
                d.finish(&self.recorder, &self.cx);
            }
        });
        if deferred.is_none() {
            let span = self.cx.span();
            if span.is_recording() {
                span.set_attribute(cancelled);
                span.end();
            }
        }
    }
}

/// A child span's attributes, and whether it is ERROR: of a 5xx response only
/// the `http.response.start` span is, as in BentoML's own spans (body and trailer
/// frames were sent successfully).
pub(crate) fn child_attributes(
    semconv: Semconv,
    message: Message,
    status: Option<u16>,
) -> (Vec<KeyValue>, bool) {
    let mut attributes = Vec::with_capacity(if semconv == Semconv::Dup { 5 } else { 2 });
    let failed = matches!(message, Message::ResponseStart) && status.is_some_and(|s| s >= 500);
    if let (Message::ResponseStart, Some(code)) = (message, status) {
        stable::push_status(semconv, code, failed, &mut attributes);
    }
    stable::push_message_type(semconv, message.as_str(), &mut attributes);
    (attributes, failed)
}

/// A finished child span under the server span `parent`, as the SDK would have
/// ended it: a sampled server span samples its children, and these have no
/// events or links.
pub(crate) fn child_span_data(
    recorder: &Recorder,
    parent: &SpanContext,
    name: &str,
    start: SystemTime,
    end: SystemTime,
    attributes: Vec<KeyValue>,
    failed: bool,
) -> SpanData {
    SpanData {
        span_context: SpanContext::new(
            parent.trace_id(),
            recorder.ids.new_span_id(),
            parent.trace_flags(),
            false,
            parent.trace_state().clone(),
        ),
        parent_span_id: parent.span_id(),
        parent_span_is_remote: false,
        span_kind: SpanKind::Internal,
        name: Cow::Owned(name.to_owned()),
        start_time: start,
        end_time: end,
        attributes,
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: if failed {
            Status::error("")
        } else {
            Status::Unset
        },
        instrumentation_scope: recorder.pipeline.scope().clone(),
    }
}
