//! One request's server span and the child spans hung under it: recorded as it
//! goes when the request is sampled, or, when it was not sampled but might be
//! kept (`keep_errors`, `keep_slower_than`), described at its end and exported
//! only if it ended as an error or slowly.
//!
//! Shared (behind an `Arc`) by the response future, the request body and the
//! response body, which each see a different part of the exchange.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use opentelemetry::trace::{SpanContext, SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};

use super::attributes::HTTP_CANCELLED;
use super::deferred::Deferred;
use super::facts::{child_attributes, child_span_data, failure_facts, grpc_facts, response_facts};
use super::failure::Failure;
use super::grpc;
use super::message::Message;
use super::naming::ChildNames;
use super::recorder::Recorder;
use super::request_parts::RequestParts;
use super::totals::Totals;

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
    /// Boxed: a sampled request's span stays small, and a deferred one is
    /// moved into place once instead of with the whole span.
    deferred: Option<Box<Mutex<Deferred>>>,
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
        let direct = recorder.pipeline.processor().is_some() && cx.span().is_recording();
        RequestSpan {
            recorder,
            cx,
            children,
            direct,
            grpc,
            deferred: None,
            totals: Totals::default(),
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
            deferred: Some(Box::new(Mutex::new(Deferred::new(parts, parent, link)))),
            totals: Totals::default(),
        }
    }

    fn with_deferred<T>(&self, f: impl FnOnce(&mut Deferred) -> T) -> Option<T> {
        let deferred = self.deferred.as_ref()?;
        Some(f(&mut deferred
            .lock()
            .unwrap_or_else(PoisonError::into_inner)))
    }

    /// Records `rpc.grpc.status_code` from these headers or trailers, ERROR for a
    /// server fault. No-op for non-gRPC exchanges or without `grpc-status`.
    pub(crate) fn grpc_status(&self, headers: &http::HeaderMap) {
        if !self.grpc {
            return;
        }
        let Some(code) = grpc::status(headers) else {
            return;
        };
        // grpc-message is percent-encoded on the wire.
        let message = grpc::is_server_fault(code).then(|| {
            headers
                .get("grpc-message")
                .and_then(|v| v.to_str().ok())
                .map(|m| {
                    percent_encoding::percent_decode_str(m)
                        .decode_utf8_lossy()
                        .into_owned()
                })
                .unwrap_or_default()
        });
        if self
            .with_deferred(|d| d.grpc = Some((code, message.clone())))
            .is_some()
        {
            return;
        }
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
        start: SystemTime,
    ) {
        let deferred = self.with_deferred(|d| {
            d.status_code = Some(status);
            for h in &self.recorder.response_headers {
                for v in headers.get_all(h.name()) {
                    d.response_headers.push((h.name().clone(), v.clone()));
                }
            }
        });
        if deferred.is_none() {
            let (attrs, error) = response_facts(&self.recorder, status, headers);
            let span = self.cx.span();
            span.set_attributes(attrs);
            if let Some(error) = error {
                span.set_status(error);
            }
        }
        self.child(Message::ResponseStart, start, Some(status));
    }

    /// Counts a request body data frame of `bytes`, with an `http receive` span
    /// while under the cap.
    pub(crate) fn received(&self, start: SystemTime, bytes: usize) {
        if self.totals.received.count(bytes) < self.recorder.frame_span_cap {
            self.child(Message::Request, start, None);
        }
    }

    /// Counts a response body data frame of `bytes`, with an `http send` span
    /// while under the cap.
    pub(crate) fn sent(&self, start: SystemTime, status: u16, bytes: usize) {
        if self.totals.sent.count(bytes) < self.recorder.frame_span_cap {
            self.child(Message::ResponseBody, start, Some(status));
        }
    }

    /// Records one ASGI-style message as an INTERNAL child span from `start` to now.
    /// Body data frames come through `received` and `sent`, which count and cap them.
    pub(crate) fn child(&self, message: Message, start: SystemTime, status: Option<u16>) {
        if self.deferred.is_some() {
            // A frame whose span is switched off would be dropped at the end anyway.
            let wanted = match message {
                Message::Request => self.recorder.receive_spans,
                _ => self.recorder.send_spans,
            };
            if wanted {
                self.with_deferred(|d| d.frame(message, start, status));
            }
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
        let deferred = self.with_deferred(|d| {
            d.failure = Some(Box::new((
                failure.kind.to_string(),
                failure.message.to_string(),
                SystemTime::now(),
            )));
        });
        if deferred.is_some() {
            return;
        }
        let (error_type, event, status) = failure_facts(self.recorder.semconv, failure);
        let span = self.cx.span();
        span.set_attributes(error_type);
        span.add_event("exception", event);
        span.set_status(status);
    }

    /// Ends the server span; the exchange is complete.
    pub(crate) fn end(&self) {
        if self
            .with_deferred(|d| d.finish(&self.recorder, &self.cx, &self.totals))
            .is_none()
        {
            let span = self.cx.span();
            if span.is_recording() {
                span.set_attributes(self.totals.attributes());
            }
            span.end();
        }
    }

    /// Ends the server span of an exchange abandoned before its body was sent
    /// (the client went away, or the future was dropped).
    pub(crate) fn end_cancelled(&self) {
        let deferred = self.with_deferred(|d| {
            if !d.finished() {
                d.cancelled = true;
                d.finish(&self.recorder, &self.cx, &self.totals);
            }
        });
        if deferred.is_none() {
            let span = self.cx.span();
            if span.is_recording() {
                span.set_attribute(KeyValue::new(HTTP_CANCELLED, true));
                span.set_attributes(self.totals.attributes());
                span.end();
            }
        }
    }
}
