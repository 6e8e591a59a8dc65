//! One sampled request's server span and the child spans hung under it, under
//! a tracer provider the user supplied: SDK spans recorded as the exchange
//! goes, since only the SDK reaches that provider's processors. On the layer's
//! own pipeline a sampled request is a record instead (`deferred.rs`).
//!
//! Shared (behind an `Arc`) by the response future, the request body and the
//! response body, which each see a different part of the exchange.

use std::sync::Arc;

use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};

use super::attributes::HTTP_CANCELLED;
use std::time::SystemTime;

use super::clock::{wall_start, Tick};
use super::facts::{child_attributes, failure_facts, grpc_facts, response_facts};
use super::failure::Failure;
use super::grpc;
use super::message::Message;
use super::naming::ChildNames;
use super::recorder::Recorder;
use super::totals::Totals;

pub(crate) struct RequestSpan {
    recorder: Arc<Recorder>,
    /// The context the inner service runs under: the server span's (sampled), or
    /// the unsampled trace's the handler and its calls see (deferred).
    pub(crate) cx: Context,
    children: ChildNames,
    /// A gRPC call: its status comes from `grpc-status`, not the HTTP status.
    grpc: bool,
    /// What the bodies carried, spans or not.
    totals: Totals,
}

impl RequestSpan {
    /// A sampled request: the server span is an SDK span in `cx`.
    pub(crate) fn new(
        recorder: Arc<Recorder>,
        cx: Context,
        children: ChildNames,
        grpc: bool,
    ) -> Self {
        RequestSpan {
            recorder,
            cx,
            children,
            grpc,
            totals: Totals::default(),
        }
    }

    /// Records `rpc.grpc.status_code` from these headers or trailers, ERROR for a
    /// server fault. No-op for non-gRPC exchanges or without `grpc-status`.
    pub(crate) fn grpc_status(&self, headers: &http::HeaderMap) {
        if !self.grpc {
            return;
        }
        let Some((code, message)) = grpc::status_and_message(headers) else {
            return;
        };
        let (attr, error) = grpc_facts(code, message);
        let span = self.cx.span();
        span.set_attribute(attr);
        if let Some(error) = error {
            span.set_status(error);
        }
    }

    /// Records the response head: the status on the server span, ERROR for 5xx,
    /// and the `http.response.start` send span.
    pub(crate) fn response_started(
        &self,
        status: u16,
        headers: &http::HeaderMap,
        start: Option<Tick>,
    ) {
        let mut attrs = Vec::with_capacity(3);
        let error = response_facts(&self.recorder, status, headers, &mut attrs);
        let span = self.cx.span();
        span.set_attributes(attrs);
        if let Some(error) = error {
            span.set_status(error);
        }
        self.child(Message::ResponseStart, start, Some(status));
    }

    /// Counts a request body data frame of `bytes`, with an `http receive` span
    /// while under the cap.
    pub(crate) fn received(&self, start: Option<Tick>, bytes: usize) {
        if self
            .totals
            .received
            .count_under(bytes, self.recorder.frame_span_cap)
        {
            self.child(Message::Request, start, None);
        }
    }

    /// Counts a response body data frame of `bytes`, with an `http send` span
    /// while under the cap.
    pub(crate) fn sent(&self, start: Option<Tick>, status: u16, bytes: usize) {
        if self
            .totals
            .sent
            .count_under(bytes, self.recorder.frame_span_cap)
        {
            self.child(Message::ResponseBody, start, Some(status));
        }
    }

    /// Records one ASGI-style message as an INTERNAL child span from `start` to now.
    /// Body data frames come through `received` and `sent`, which count and cap them.
    pub(crate) fn child(&self, message: Message, start: Option<Tick>, status: Option<u16>) {
        let Some(name) = self.children.of(message) else {
            return;
        };
        let (attributes, failed) = child_attributes(self.recorder.semconv, message, status);
        let end = SystemTime::now();
        let start = wall_start(start, end);
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
        opentelemetry::trace::Span::end_with_timestamp(&mut span, end);
    }

    /// Marks the server span failed with an `exception` event.
    pub(crate) fn fail(&self, failure: Failure<'_>) {
        let (error_type, event, status) = failure_facts(self.recorder.semconv, failure);
        let span = self.cx.span();
        span.set_attributes(error_type);
        span.add_event("exception", event);
        span.set_status(status);
    }

    /// Ends the server span; the exchange is complete.
    pub(crate) fn end(&self) {
        let span = self.cx.span();
        if span.is_recording() {
            span.set_attributes(self.totals.attributes());
        }
        span.end();
    }

    /// Ends the server span of an exchange abandoned before its body was sent
    /// (the client went away, or the future was dropped).
    pub(crate) fn end_cancelled(&self) {
        let span = self.cx.span();
        if span.is_recording() {
            span.set_attribute(KeyValue::new(HTTP_CANCELLED, true));
            span.set_attributes(self.totals.attributes());
            span.end();
        }
    }
}
