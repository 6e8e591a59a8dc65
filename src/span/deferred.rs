//! A request the sample rate did not pick, recorded cheaply while it runs (its
//! request parts, the response status, a failure, the frame times: facts, not
//! attributes) so that, if it ends as an error or slowly, it can be exported
//! exactly as a sampled request would have been: same trace id and span id its
//! handler, logs and `TraceInfo` saw, flags sampled, `sampling.reason` saying
//! why. Attributes are made only for the requests that are kept.

use std::borrow::Cow;
use std::time::SystemTime;

use opentelemetry::trace::{Event, Link, SpanContext, SpanId, SpanKind, Status, TraceContextExt};
use opentelemetry::{Context, Key, KeyValue};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};

use super::attributes::HTTP_CANCELLED;
use super::facts::{child_attributes, child_span_data, failure_facts, grpc_facts, response_facts};
use super::failure::Failure;
use super::grpc;
use super::message::Message;
use super::naming::ChildNames;
use super::recorder::Recorder;
use super::request_parts::RequestParts;
use super::totals::Totals;
use crate::pipeline::KeptFor;

/// Why a request the sample rate did not pick was exported.
const SAMPLING_REASON: Key = Key::from_static_str("sampling.reason");

#[derive(Clone, Copy)]
struct Frame {
    message: Message,
    start: SystemTime,
    end: SystemTime,
    status: Option<u16>,
}

/// Frames kept inline: a plain request has 2 to 4 (receive, start, body). A
/// long stream spills into `more_frames`, bounded because `RequestSpan` records
/// at most `max_frame_spans` data frames a direction (see `totals.rs`).
const INLINE_FRAMES: usize = 4;

pub(crate) struct Deferred {
    parts: RequestParts,
    start: SystemTime,
    parent: SpanContext,
    /// The caller's context when it was not trusted to parent (rare: boxed).
    link: Option<Box<SpanContext>>,
    /// The response status, once the head is sent.
    pub(crate) status_code: Option<u16>,
    /// Opted-in response header values, when any are opted in.
    pub(crate) response_headers: Vec<(http::HeaderName, http::HeaderValue)>,
    /// `grpc-status`, and `grpc-message` for a server fault.
    pub(crate) grpc: Option<(i64, Option<String>)>,
    /// What failed, and when.
    pub(crate) failure: Option<Box<(String, String, SystemTime)>>,
    pub(crate) cancelled: bool,
    frames: [Option<Frame>; INLINE_FRAMES],
    more_frames: Vec<Frame>,
    done: bool,
}

impl Deferred {
    pub(crate) fn new(parts: RequestParts, parent: SpanContext, link: Option<SpanContext>) -> Self {
        Deferred {
            parts,
            start: SystemTime::now(),
            parent,
            link: link.map(Box::new),
            status_code: None,
            response_headers: Vec::new(),
            grpc: None,
            failure: None,
            cancelled: false,
            frames: [None; INLINE_FRAMES],
            more_frames: Vec::new(),
            done: false,
        }
    }

    pub(crate) fn frame(&mut self, message: Message, start: SystemTime, status: Option<u16>) {
        let frame = Frame {
            message,
            start,
            end: SystemTime::now(),
            status,
        };
        match self.frames.iter_mut().find(|f| f.is_none()) {
            Some(slot) => *slot = Some(frame),
            None => self.more_frames.push(frame),
        }
    }

    pub(crate) fn finished(&self) -> bool {
        self.done
    }

    /// Whether it ended as an error: the status rules of a sampled request.
    fn failed(&self) -> bool {
        self.status_code.is_some_and(|s| s >= 500)
            || self.failure.is_some()
            || self
                .grpc
                .as_ref()
                .is_some_and(|(code, _)| grpc::is_server_fault(*code))
    }

    /// The request is over: keep it (build and hand over its spans) or forget it.
    pub(crate) fn finish(&mut self, recorder: &Recorder, cx: &Context, totals: &Totals) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let end = SystemTime::now();
        let keep = &recorder.keep;
        let lasted = end.duration_since(self.start).unwrap_or_default();
        let reason = if keep.errors && self.failed() {
            Some(KeptFor::Error)
        } else if keep.slower_than.is_some_and(|limit| lasted > limit) {
            Some(KeptFor::Slow)
        } else {
            None
        };
        let span = cx.span();
        let sc = span.span_context();
        let pipeline = &recorder.pipeline;
        let (Some(reason), Some(processor)) = (reason, pipeline.processor()) else {
            pipeline.release_trace(sc.trace_id(), false);
            return;
        };
        let server = SpanContext::new(
            sc.trace_id(),
            sc.span_id(),
            sc.trace_flags().with_sampled(true),
            false,
            sc.trace_state().clone(),
        );
        let req = self.parts.rebuild();
        let (name, mut attributes, _) =
            recorder.describe_with(&req, self.parts.local, self.parts.peer);
        // The same facts, in the same order, as a sampled request records them.
        let mut status = Status::Unset;
        let mut events = SpanEvents::default();
        if let Some(code) = self.status_code {
            let headers: http::HeaderMap = self.response_headers.drain(..).collect();
            let (attrs, error) = response_facts(recorder, code, &headers);
            attributes.extend(attrs);
            status = error.unwrap_or(status);
        }
        if let Some((code, message)) = self.grpc.take() {
            let (attr, error) = grpc_facts(code, message);
            attributes.push(attr);
            status = error.unwrap_or(status);
        }
        if let Some((kind, message, at)) = self.failure.take().map(|f| *f) {
            let (error_type, event, error) = failure_facts(
                recorder.semconv,
                Failure {
                    kind: Cow::Owned(kind),
                    message: Cow::Owned(message),
                },
            );
            attributes.extend(error_type);
            events.events.push(Event::new("exception", at, event, 0));
            status = error;
        }
        if self.cancelled {
            attributes.push(KeyValue::new(HTTP_CANCELLED, true));
        }
        attributes.extend(totals.attributes());
        attributes.push(KeyValue::new(SAMPLING_REASON, reason.as_str()));
        let children = ChildNames::new(recorder.send_spans, recorder.receive_spans, &name);
        let frames = self.frames.iter().flatten().chain(&self.more_frames);
        for frame in frames {
            let Some(child) = children.of(frame.message) else {
                continue;
            };
            let (attrs, failed) = child_attributes(recorder.semconv, frame.message, frame.status);
            let data = child_span_data(
                recorder,
                &server,
                child,
                frame.start,
                frame.end,
                attrs,
                failed,
            );
            pipeline.counters().span_started();
            processor.on_end(data);
        }
        let mut links = SpanLinks::default();
        if let Some(link) = self.link.take() {
            links.links.push(Link::with_context(*link));
        }
        let parent_valid = self.parent.is_valid();
        let data = SpanData {
            span_context: server,
            parent_span_id: if parent_valid {
                self.parent.span_id()
            } else {
                SpanId::INVALID
            },
            parent_span_is_remote: parent_valid && self.parent.is_remote(),
            span_kind: SpanKind::Server,
            name: Cow::Owned(name),
            start_time: self.start,
            end_time: end,
            attributes,
            dropped_attributes_count: 0,
            events,
            links,
            status,
            instrumentation_scope: pipeline.scope().clone(),
        };
        pipeline.counters().span_started();
        processor.on_end(data);
        pipeline.counters().kept(reason);
        pipeline.release_trace(sc.trace_id(), true);
    }
}
