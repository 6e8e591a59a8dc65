//! The export side of the record: a record whose request ended, described as
//! its spans ([`RequestSpans`]), the one description every consumer reads. It
//! runs where the record's sink builds it: on the batch processor's export
//! thread, or on the request's thread for the replay into a user's provider.
//!
//! The facts go in the order an SDK server span records them: the request's
//! attributes, the handler's writes (made while it ran), then the response's,
//! a gRPC status, a failure, the totals; every status merged by the SDK's rule.
//! Children of one kind share a name, attributes and a status, made once a
//! kind, not once a frame.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::atomic::Ordering;

use opentelemetry::trace::{Event, Link, SpanContext, SpanKind, Status, TraceContextExt};
use opentelemetry::{Context, Key, KeyValue};
use opentelemetry_sdk::trace::{IdGenerator, SpanData, SpanEvents, SpanLinks};

use super::handoff::EndedRecord;
use super::live::clock::Anchor;
use super::live::handler_writes::merge_status;
use super::live::{Ending, Record, RecordKind};
use super::spans::{ChildShape, ChildSpan, RequestSpans, SpanBuffers};
use crate::config::Semconv;
use crate::conventions::describe::server_attribute_capacity;
use crate::conventions::facts::{child_status, failure_facts, grpc_facts, push_child_attributes};
use crate::conventions::failure::Failure;
use crate::conventions::legacy::HTTP_CANCELLED;
use crate::conventions::message::Message;
use crate::conventions::naming::push_child_name;
use crate::conventions::sink::AttributeSink;

/// Why a request the sample rate did not pick was exported.
const SAMPLING_REASON: Key = Key::from_static_str("sampling.reason");

/// Bytes of texts a request's list starts with: the target, URL, user agent
/// and peer address of a usual request, and two child names, fit, so the
/// buffer is one allocation (it grows for longer ones).
const TEXT_CAPACITY: usize = 256;

impl<K: RecordKind> EndedRecord for Record<K> {
    fn build(&self, spans: usize, buffers: SpanBuffers) -> RequestSpans {
        let ending = self
            .ending
            .get()
            .expect("a record is handed over only once it has ended");
        self.describe(ending, spans - 1, buffers)
    }

    fn context(&self) -> &Context {
        &self.cx
    }
}

impl<K: RecordKind> Record<K> {
    /// The server span and its first `children` frames' spans.
    fn describe(&self, ending: &Ending, children: usize, buffers: SpanBuffers) -> RequestSpans {
        let recorder = &*self.recorder;
        let semconv = recorder.conventions.semconv;
        let SpanBuffers {
            mut attributes,
            children: mut child_spans,
        } = buffers;
        attributes.reserve(
            server_attribute_capacity(semconv) + child_attribute_capacity(semconv),
            TEXT_CAPACITY,
        );
        child_spans.reserve(children);
        let span = self.cx.span();
        let sc = span.span_context();
        let anchor = Anchor::now();
        let server = SpanContext::new(
            sc.trace_id(),
            sc.span_id(),
            sc.trace_flags().with_sampled(true),
            false,
            sc.trace_state().clone(),
        );
        let name = self.kind.describe(&recorder.conventions, &mut attributes);
        let rare = self.take_rare();
        let handler = rare.handler;
        attributes.extend_from(handler.attributes);
        let mut status = handler.status.unwrap_or(Status::Unset);
        let mut events = SpanEvents::default();
        events.events.extend(handler.events);
        let code = self.status_code.load(Ordering::Relaxed);
        if code != 0 {
            let headers = &rare.response_headers[..];
            if let Some(error) = recorder
                .conventions
                .response_facts(code, headers, &mut attributes)
            {
                status = merge_status(status, error);
            }
        }
        if let Some(grpc) = rare.grpc {
            let facts = grpc_facts(grpc);
            attributes.push(facts.attribute);
            if let Some(error) = facts.error {
                status = merge_status(status, error);
            }
        }
        if let Some(failed) = rare.failure {
            let facts = failure_facts(
                semconv,
                Failure {
                    kind: Cow::Owned(failed.kind),
                    message: Cow::Owned(failed.message),
                },
            );
            attributes.extend_from(facts.error_type);
            events
                .events
                .push(Event::new("exception", failed.at, facts.event, 0));
            status = merge_status(status, facts.status);
        }
        if ending.cancelled {
            attributes.push(KeyValue::new(HTTP_CANCELLED, true));
        }
        attributes.extend_from(self.totals.attributes());
        if let Some(reason) = ending.kept {
            attributes.push(KeyValue::new(SAMPLING_REASON, reason.as_str()));
        }
        let server_attributes = attributes.len();
        // A kind's shape is made with its first child (its name is never empty).
        let mut shapes = <[ChildShape; Message::KINDS]>::default();
        // Two names at most (`http send` is the head's and the body's), each
        // written once.
        let mut named: [Option<Range<usize>>; 2] = [None, None];
        let status_code = (code != 0).then_some(code);
        // Only the frames whose spans are on were logged.
        self.frames.for_each(children, |frame| {
            let shape = frame.message as usize;
            if shapes[shape].name.is_empty() {
                let which = usize::from(matches!(frame.message, Message::Request));
                let name = named[which].get_or_insert_with(|| {
                    attributes.write_text(|text| push_child_name(text, &name, frame.message))
                });
                let from = attributes.len();
                let failed =
                    push_child_attributes(semconv, frame.message, status_code, &mut attributes);
                shapes[shape] = ChildShape {
                    name: name.clone(),
                    attributes: from..attributes.len(),
                    status: child_status(failed),
                };
            }
            child_spans.push(ChildSpan {
                context: SpanContext::new(
                    server.trace_id(),
                    recorder.ids.new_span_id(),
                    server.trace_flags(),
                    false,
                    server.trace_state().clone(),
                ),
                start: anchor.at(frame.start),
                end: anchor.at(frame.end),
                shape,
            });
        });
        let mut links = SpanLinks::default();
        if let Some(link) = &self.link {
            links.links.push(Link::with_context((**link).clone()));
        }
        links.links.extend(handler.links);
        let name = match handler.name {
            Some(renamed) => renamed,
            None => Cow::Owned(name),
        };
        RequestSpans {
            server: SpanData {
                span_context: server,
                parent_span_id: self.parent.span_id,
                parent_span_is_remote: self.parent.remote,
                span_kind: SpanKind::Server,
                name,
                start_time: anchor.at(self.start),
                end_time: anchor.at(ending.end),
                attributes: Vec::new(),
                dropped_attributes_count: 0,
                events,
                links,
                status,
                instrumentation_scope: (*recorder.scope).clone(),
            },
            server_attributes,
            attributes,
            children: child_spans,
            shapes,
            scope: recorder.scope.clone(),
        }
    }
}

/// Room for the usual request's children's attributes: two kinds of them.
fn child_attribute_capacity(semconv: Semconv) -> usize {
    match semconv {
        Semconv::Legacy => 4,
        Semconv::Stable => 5,
        Semconv::Dup => 9,
    }
}
