//! [`SpanDataBuilder`]: a record's description written as SDK `SpanData`,
//! for a consumer that takes only that (a user's `SpanExporter`, the
//! in-memory exporter): the server span's attributes in its own list, and a
//! `SpanData` a child, made as the child is given. The first child of a kind
//! takes the name and attributes written for the kind; later ones copy them
//! from it.

use std::borrow::Cow;
use std::time::SystemTime;

use opentelemetry::trace::{SpanContext, SpanKind, Status};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};

use super::span_store::{KindSize, SpanStore};
use crate::conventions::message::Message;

/// A record's spans as `SpanData`: children onto `out` as they are given,
/// then the server span ([`finish`](Self::finish)).
pub(crate) struct SpanDataBuilder<'a> {
    out: &'a mut Vec<SpanData>,
    server_attributes: Vec<KeyValue>,
    scope: &'a InstrumentationScope,
    /// The kind given last, for its first child to take.
    given: Option<Shared>,
    /// Where each kind's first child is in `out`.
    first: [Option<usize>; Message::KINDS],
}

/// What the children of a kind share.
struct Shared {
    name: String,
    attributes: Vec<KeyValue>,
    status: Status,
}

impl<'a> SpanDataBuilder<'a> {
    /// Room for the server span's `attributes`.
    pub(crate) fn new(
        out: &'a mut Vec<SpanData>,
        attributes: usize,
        scope: &'a InstrumentationScope,
    ) -> Self {
        SpanDataBuilder {
            out,
            server_attributes: Vec::with_capacity(attributes),
            scope,
            given: None,
            first: [None; Message::KINDS],
        }
    }

    /// Adds the server span the description gave back, with its attributes.
    pub(crate) fn finish(self, mut server: SpanData) {
        server.attributes = self.server_attributes;
        self.out.push(server);
    }
}

impl SpanStore for SpanDataBuilder<'_> {
    type Attributes = Vec<KeyValue>;

    fn server_attributes(&mut self) -> &mut Vec<KeyValue> {
        &mut self.server_attributes
    }

    fn knows(&self, kind: Message) -> bool {
        self.first[kind as usize].is_some()
    }

    fn kind(
        &mut self,
        _kind: Message,
        size: KindSize,
        name: impl FnOnce(&mut String),
        attributes: impl FnOnce(&mut Vec<KeyValue>) -> Status,
    ) {
        let mut text = String::with_capacity(size.name);
        name(&mut text);
        let mut list = Vec::with_capacity(size.attributes);
        let status = attributes(&mut list);
        self.given = Some(Shared {
            name: text,
            attributes: list,
            status,
        });
    }

    fn child(
        &mut self,
        kind: Message,
        context: SpanContext,
        parent: &SpanContext,
        start: SystemTime,
        end: SystemTime,
    ) {
        let shared = match self.given.take() {
            Some(shared) => {
                self.first[kind as usize] = Some(self.out.len());
                shared
            }
            None => {
                let first = self.first[kind as usize]
                    .map(|at| &self.out[at])
                    .expect("a child's kind is given before it");
                Shared {
                    name: first.name.to_string(),
                    attributes: first.attributes.clone(),
                    status: first.status.clone(),
                }
            }
        };
        self.out.push(SpanData {
            span_context: context,
            parent_span_id: parent.span_id(),
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: Cow::Owned(shared.name),
            start_time: start,
            end_time: end,
            attributes: shared.attributes,
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: shared.status,
            instrumentation_scope: self.scope.clone(),
        });
    }
}
