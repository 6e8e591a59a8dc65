//! One sampled request: its server span and the child spans hung under it.
//!
//! Shared (behind an `Arc`) by the response future, the request body and the
//! response body, which each see a different part of the exchange.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::SystemTime;

use opentelemetry::trace::{SpanContext, SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{IdGenerator, SpanData, SpanEvents, SpanLinks};

use super::attributes::HTTP_CANCELLED;
use super::failure::Failure;
use super::grpc;
use super::message::Message;
use super::naming::ChildNames;
use super::recorded_headers;
use super::recorder::Recorder;
use super::stable;
use crate::config::Semconv;

pub(crate) struct RequestSpan {
    recorder: Arc<Recorder>,
    /// The parent context with the server span in it; attached while the inner
    /// service runs so handler spans nest under it.
    pub(crate) cx: Context,
    children: ChildNames,
    /// Child spans go straight to the pipeline's processors (see `child`).
    direct: bool,
    /// A gRPC call: its status comes from `grpc-status`, not the HTTP status.
    grpc: bool,
}

impl RequestSpan {
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
        }
    }

    /// Records `rpc.grpc.status_code` from these headers or trailers, ERROR for a
    /// server fault. No-op for non-gRPC exchanges or without `grpc-status`.
    pub(crate) fn grpc_status(&self, headers: &http::HeaderMap) {
        if !self.grpc {
            return;
        }
        if let Some(code) = grpc::status(headers) {
            let span = self.cx.span();
            span.set_attribute(KeyValue::new(grpc::RPC_GRPC_STATUS_CODE, code));
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
                span.set_status(Status::error(format!("gRPC status {code}: {message}")));
            }
        }
    }

    /// Records the response head: `http.status_code` on the server span, ERROR for 5xx,
    /// and the `http.response.start` send span.
    pub(crate) fn response_started(
        &self,
        status: u16,
        headers: &http::HeaderMap,
        start: SystemTime,
    ) {
        let span = self.cx.span();
        let mut attrs = Vec::with_capacity(3);
        stable::push_status(self.recorder.semconv, status, status >= 500, &mut attrs);
        recorded_headers::push(&self.recorder.response_headers, headers, &mut attrs);
        span.set_attributes(attrs);
        if status >= 500 {
            span.set_status(Status::error(""));
        }
        self.child(Message::ResponseStart, start, Some(status));
    }

    /// Records one ASGI-style message as an INTERNAL child span from `start` to now.
    /// `status` is the response status, for `http.status_code` on the start message.
    /// Of a 5xx response only the `http.response.start` span is ERROR, as in
    /// BentoML's own spans: body and trailer frames were sent successfully.
    pub(crate) fn child(&self, message: Message, start: SystemTime, status: Option<u16>) {
        let name = match message {
            Message::Request => &self.children.receive,
            _ => &self.children.send,
        };
        let Some(name) = name else {
            return;
        };
        let semconv = self.recorder.semconv;
        let mut attributes = Vec::with_capacity(if semconv == Semconv::Dup { 5 } else { 2 });
        let failed = matches!(message, Message::ResponseStart) && status.is_some_and(|s| s >= 500);
        if let (Message::ResponseStart, Some(code)) = (message, status) {
            stable::push_status(semconv, code, failed, &mut attributes);
        }
        stable::push_message_type(semconv, message.as_str(), &mut attributes);
        if let (true, Some(processor)) = (self.direct, self.recorder.pipeline.processor()) {
            self.recorder.pipeline.counters().span_started();
            processor.on_end(self.child_data(name, start, attributes, failed));
            return;
        }
        let tracer = self.recorder.pipeline.layer_tracer();
        let builder = tracer
            .span_builder(name.clone())
            .with_kind(SpanKind::Internal)
            .with_start_time(start)
            .with_attributes(attributes);
        let mut span = tracer.build_with_context(builder, &self.cx);
        if failed {
            opentelemetry::trace::Span::set_status(&mut span, Status::error(""));
        }
        opentelemetry::trace::Span::end(&mut span);
    }

    /// A finished child span under the server span, as the SDK would have ended it:
    /// a sampled server span samples its children, and these have no events or links.
    fn child_data(
        &self,
        name: &str,
        start: SystemTime,
        attributes: Vec<KeyValue>,
        failed: bool,
    ) -> SpanData {
        let server = self.cx.span();
        let parent = server.span_context();
        SpanData {
            span_context: SpanContext::new(
                parent.trace_id(),
                self.recorder.ids.new_span_id(),
                parent.trace_flags(),
                false,
                parent.trace_state().clone(),
            ),
            parent_span_id: parent.span_id(),
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: Cow::Owned(name.to_owned()),
            start_time: start,
            end_time: SystemTime::now(),
            attributes,
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: if failed {
                Status::error("")
            } else {
                Status::Unset
            },
            instrumentation_scope: self.recorder.pipeline.scope().clone(),
        }
    }

    /// Marks the server span failed with an `exception` event.
    pub(crate) fn fail(&self, failure: Failure<'_>) {
        let span = self.cx.span();
        if let Some(error_type) = stable::error_type(self.recorder.semconv, &failure.kind) {
            span.set_attribute(error_type);
        }
        span.add_event(
            "exception",
            vec![
                KeyValue::new("exception.type", failure.kind.into_owned()),
                KeyValue::new("exception.message", failure.message.clone().into_owned()),
            ],
        );
        span.set_status(Status::error(failure.message.into_owned()));
    }

    /// Ends the server span; the exchange is complete.
    pub(crate) fn end(&self) {
        self.cx.span().end();
    }

    /// Ends the server span of an exchange abandoned before its body was sent
    /// (the client went away, or the future was dropped).
    pub(crate) fn end_cancelled(&self) {
        let span = self.cx.span();
        if span.is_recording() {
            span.set_attribute(KeyValue::new(HTTP_CANCELLED, true));
            span.end();
        }
    }
}
