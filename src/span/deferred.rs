//! A request the sample rate did not pick, recorded cheaply while it runs (its
//! request parts, response attributes, status, events and frame times) so that,
//! if it ends as an error or slowly, it can be exported exactly as a sampled
//! request would have been: same trace id and span id its handler, logs and
//! `TraceInfo` saw, flags sampled, and `sampling.reason` saying why.

use std::borrow::Cow;
use std::time::SystemTime;

use opentelemetry::trace::{
    Event, Link, SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags,
};
use opentelemetry::{Context, Key, KeyValue};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};

use super::message::Message;
use super::naming::ChildNames;
use super::recorder::Recorder;
use super::request_parts::RequestParts;
use super::request_span::{child_attributes, child_span_data};
use crate::pipeline::KeptFor;

/// Why a request the sample rate did not pick was exported.
const SAMPLING_REASON: Key = Key::from_static_str("sampling.reason");

struct Frame {
    message: Message,
    start: SystemTime,
    end: SystemTime,
    status: Option<u16>,
}

pub(crate) struct Deferred {
    parts: RequestParts,
    start: SystemTime,
    parent: SpanContext,
    link: Option<SpanContext>,
    /// Attributes set after the start (status, response headers, gRPC status).
    pub(crate) attributes: Vec<KeyValue>,
    pub(crate) status: Status,
    pub(crate) events: Vec<Event>,
    frames: Vec<Frame>,
    done: bool,
}

impl Deferred {
    pub(crate) fn new(parts: RequestParts, parent: SpanContext, link: Option<SpanContext>) -> Self {
        Deferred {
            parts,
            start: SystemTime::now(),
            parent,
            link,
            attributes: Vec::new(),
            status: Status::Unset,
            events: Vec::new(),
            frames: Vec::with_capacity(4),
            done: false,
        }
    }

    pub(crate) fn frame(&mut self, message: Message, start: SystemTime, status: Option<u16>) {
        self.frames.push(Frame {
            message,
            start,
            end: SystemTime::now(),
            status,
        });
    }

    pub(crate) fn finished(&self) -> bool {
        self.done
    }

    /// The request is over: keep it (build and hand over its spans) or forget it.
    pub(crate) fn finish(&mut self, recorder: &Recorder, cx: &Context) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let end = SystemTime::now();
        let keep = &recorder.keep;
        let lasted = end.duration_since(self.start).unwrap_or_default();
        let reason = if keep.errors && matches!(self.status, Status::Error { .. }) {
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
            TraceFlags::SAMPLED,
            false,
            sc.trace_state().clone(),
        );
        let req = self.parts.rebuild();
        let (name, mut attributes, _) =
            recorder.describe_with(&req, self.parts.local, self.parts.peer);
        attributes.append(&mut self.attributes);
        attributes.push(KeyValue::new(SAMPLING_REASON, reason.as_str()));
        let children = ChildNames::new(recorder.send_spans, recorder.receive_spans, &name);
        for frame in self.frames.drain(..) {
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
            links.links.push(Link::with_context(link));
        }
        let mut events = SpanEvents::default();
        events.events.append(&mut self.events);
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
            status: std::mem::replace(&mut self.status, Status::Unset),
            instrumentation_scope: pipeline.scope().clone(),
        };
        pipeline.counters().span_started();
        processor.on_end(data);
        pipeline.counters().kept(reason);
        pipeline.release_trace(sc.trace_id(), true);
    }
}
