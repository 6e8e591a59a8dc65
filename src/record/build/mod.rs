//! The export side of the record: a record whose request ended, described as
//! its spans. There is one description ([`Record::describe`]), which makes
//! every decision, written into a store of the layout its consumer reads
//! (`record/spans/span_store.rs`): [`RequestSpans`] for our encoders, the
//! viewer and the replay into a user's provider; SDK `SpanData` for a user's
//! exporter. It runs where the record's sink builds it: on the batch
//! processor's export thread, or on the request's thread for the replay.
//!
//! The facts go in the order an SDK server span records them: the request's
//! attributes, the handler's writes (made while it ran), then the response's,
//! a gRPC status, a failure, the totals; every status merged by the SDK's rule.
//! Children of one kind share a name, attributes and a status, described once
//! a kind, not once a frame.

use std::borrow::Cow;
use std::sync::atomic::Ordering;

use opentelemetry::trace::{Event, Link, SpanContext, SpanKind, Status, TraceContextExt};
use opentelemetry::{Context, Key, KeyValue};
use opentelemetry_sdk::trace::{IdGenerator, SpanData, SpanEvents, SpanLinks};

use super::handoff::EndedRecord;
use super::live::handler_writes::merge_status;
use super::live::{Ending, Record, RecordKind};
use super::spans::{KindSize, RequestSpans, RequestSpansBuilder, SpanDataBuilder, SpanStore};
use crate::clock::Anchor;
use crate::config::Semconv;
use crate::conventions::describe::server_attribute_capacity;
use crate::conventions::facts::{child_status, failure_facts, push_child_attributes};
use crate::conventions::failure::Failure;
use crate::conventions::grpc::{self, Side};
use crate::conventions::naming::push_child_name;
use crate::conventions::ours::push_cancelled;
use crate::conventions::sink::AttributeSink;

/// Why a request the sample rate did not pick was exported.
const SAMPLING_REASON: Key = Key::from_static_str("sampling.reason");

/// Bytes of texts a request's list starts with: the target, URL, user agent
/// and peer address of a usual request, and two child names, fit, so the
/// buffer is one allocation (it grows for longer ones).
const TEXT_CAPACITY: usize = 256;

impl<K: RecordKind> EndedRecord for Record<K> {
    fn build(&self, spans: usize) -> RequestSpans {
        let semconv = self.recorder.conventions.semconv;
        let mut store = RequestSpansBuilder::with_capacity(
            server_attribute_capacity(semconv) + child_attribute_capacity(semconv),
            TEXT_CAPACITY,
            spans - 1,
        );
        let server = self.describe(spans - 1, &mut store);
        store.finish(server, self.recorder.scope.clone())
    }

    fn build_span_data(&self, spans: usize, out: &mut Vec<SpanData>) {
        let recorder = &*self.recorder;
        let mut store = SpanDataBuilder::new(
            out,
            server_attribute_capacity(recorder.conventions.semconv),
            &recorder.scope,
        );
        let server = self.describe(spans - 1, &mut store);
        store.finish(server);
    }

    fn context(&self) -> &Context {
        &self.cx
    }
}

impl<K: RecordKind> Record<K> {
    /// The description: the server span's attributes and its first
    /// `children` frames' spans, written into `store`, and the server span
    /// (its attributes left in the store).
    pub(super) fn describe<S: SpanStore>(&self, children: usize, store: &mut S) -> SpanData {
        let ending: &Ending = self
            .ending
            .get()
            .expect("a record is handed over only once it has ended");
        let recorder = &*self.recorder;
        let semconv = recorder.conventions.semconv;
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
        let attributes = store.server_attributes();
        let name = self.kind.describe(&recorder.conventions, attributes);
        let rare = self.take_rare();
        let handler = rare.handler;
        // Most handlers write nothing: nothing to move then.
        if !handler.attributes.is_empty() {
            attributes.extend_from(handler.attributes);
        }
        let mut status = handler.status.unwrap_or(Status::Unset);
        let mut events = SpanEvents::default();
        events.events = handler.events;
        let code = self.status_code.load(Ordering::Relaxed);
        if code != 0 {
            let headers = &rare.response_headers[..];
            if let Some(error) = recorder
                .conventions
                .response_facts(code, headers, attributes)
            {
                status = merge_status(status, error);
            }
        }
        if let Some(grpc) = rare.grpc {
            let rpc = recorder.conventions.rpc;
            if let Some(error) = grpc::push_status(&grpc, Side::Server, rpc, attributes) {
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
            push_cancelled(semconv, attributes);
        }
        self.totals.push_attributes(attributes);
        if let Some(reason) = ending.kept {
            attributes.push(KeyValue::new(SAMPLING_REASON, reason.as_str()));
        }
        let status_code = (code != 0).then_some(code);
        // Only the frames whose spans are on were logged.
        self.frames.for_each(children, |frame| {
            if !store.knows(frame.message) {
                let size = KindSize {
                    name: name.len() + " http receive".len(),
                    attributes: if semconv == Semconv::Dup { 5 } else { 2 },
                };
                store.kind(
                    frame.message,
                    size,
                    |text| push_child_name(text, &name, frame.message),
                    |attributes| {
                        child_status(push_child_attributes(
                            semconv,
                            frame.message,
                            status_code,
                            attributes,
                        ))
                    },
                );
            }
            let context = SpanContext::new(
                server.trace_id(),
                recorder.ids.new_span_id(),
                server.trace_flags(),
                false,
                server.trace_state().clone(),
            );
            store.child(
                frame.message,
                context,
                &server,
                anchor.at(frame.start),
                anchor.at(frame.end),
            );
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
        SpanData {
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
