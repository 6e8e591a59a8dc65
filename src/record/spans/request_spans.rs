//! [`RequestSpans`]: a request's spans as our encoders, the viewer and the
//! replay into a user's provider read them. Its server span, and its children
//! as frames sharing one name, one list of attributes and one status per kind
//! of frame; all their attributes and names in one [`AttributeList`]. Built
//! from a record's description by [`RequestSpansBuilder`], and read through
//! views (`span_view.rs`).

use std::ops::Range;
use std::sync::Arc;
use std::time::SystemTime;

use opentelemetry::trace::{SpanContext, SpanKind, Status};
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::trace::SpanData;

use super::attributes::AttributeList;
use super::span_store::{KindSize, SpanStore};
use super::span_view::SpanView;
use crate::conventions::message::Message;

/// A request's server span and its children (`http send`, `http receive`).
#[derive(Debug)]
pub(crate) struct RequestSpans {
    /// The server span; the children's parent and trace state. Its
    /// attributes are the first `server_attributes` of `attributes`.
    pub(crate) server: SpanData,
    pub(crate) server_attributes: usize,
    /// The server span's attributes, then the shapes'; the shapes' names are
    /// texts of its buffer. One list and one buffer for all, alive until the
    /// batch is written: a list and a buffer each showed on the export side
    /// (`benches/peers`: `callgrind.py --export`).
    pub(crate) attributes: AttributeList,
    /// The children, in the order their frames ended.
    pub(crate) children: Vec<ChildSpan>,
    /// What children of one kind share, by [`ChildSpan::shape`] (a kind of
    /// message: of the four, the ones no child has stay empty).
    pub(crate) shapes: [ChildShape; 4],
    /// The scope of all these spans (the server span's, shared): every
    /// request's spans read it at one address, so the encoders' grouping by
    /// scope compares addresses, not names and versions.
    pub(crate) scope: Arc<InstrumentationScope>,
}

/// One child span: its own context and times.
#[derive(Debug)]
pub(crate) struct ChildSpan {
    pub(crate) context: SpanContext,
    pub(crate) start: SystemTime,
    pub(crate) end: SystemTime,
    /// Its index in [`RequestSpans::shapes`].
    pub(crate) shape: usize,
}

/// What the children of one kind share: ranges of the request's
/// [`AttributeList`].
#[derive(Debug, Default)]
pub(crate) struct ChildShape {
    /// Its name, a text of the list's buffer (empty: no child has it).
    pub(crate) name: Range<usize>,
    /// Its attributes, entries of the list.
    pub(crate) attributes: Range<usize>,
    pub(crate) status: Status,
}

/// Every child is INTERNAL.
static INTERNAL: SpanKind = SpanKind::Internal;

impl RequestSpans {
    /// The spans: the children, then the server span (the order in which
    /// they ended).
    pub(crate) fn views<'a>(&'a self, out: &mut Vec<SpanView<'a>>) {
        self.for_each_view(|view| out.push(view));
    }

    /// Calls `f` with each span's view, in the order of [`views`](Self::views).
    pub(crate) fn for_each_view<'a>(&'a self, mut f: impl FnMut(SpanView<'a>)) {
        let server = &self.server;
        self.children.iter().for_each(|child| {
            let shape = &self.shapes[child.shape];
            f(SpanView {
                span_context: &child.context,
                parent_span_id: server.span_context.span_id(),
                parent_span_is_remote: false,
                span_kind: &INTERNAL,
                name: self.attributes.text(shape.name.clone()),
                start_time: child.start,
                end_time: child.end,
                attributes: self.attributes.get(shape.attributes.clone()),
                dropped_attributes_count: 0,
                events: &[],
                dropped_events_count: 0,
                links: &[],
                dropped_links_count: 0,
                status: &shape.status,
                instrumentation_scope: &self.scope,
            })
        });
        f(SpanView {
            instrumentation_scope: &self.scope,
            attributes: self.attributes.get(0..self.server_attributes),
            ..server.into()
        });
    }

    /// Spans it holds.
    pub(crate) fn len(&self) -> usize {
        1 + self.children.len()
    }
}

/// A [`RequestSpans`] as a record's description is written into it.
#[derive(Debug)]
pub(crate) struct RequestSpansBuilder {
    attributes: AttributeList,
    /// The server span's attributes are the first this many, once a child or
    /// the end says they are all written.
    server_attributes: Option<usize>,
    children: Vec<ChildSpan>,
    shapes: [ChildShape; Message::KINDS],
    /// The two child names (`... http send` is the head's, the body's and the
    /// trailers'; `... http receive`), each written once.
    names: [Option<Range<usize>>; 2],
}

impl RequestSpansBuilder {
    /// Room for `attributes` attributes, `text` bytes of their texts and
    /// names, and `children` children.
    pub(crate) fn with_capacity(attributes: usize, text: usize, children: usize) -> Self {
        RequestSpansBuilder {
            attributes: AttributeList::with_capacity(attributes, text),
            server_attributes: None,
            children: Vec::with_capacity(children),
            shapes: Default::default(),
            names: [None, None],
        }
    }

    /// The spans, with the server span the description gave back.
    pub(crate) fn finish(self, server: SpanData, scope: Arc<InstrumentationScope>) -> RequestSpans {
        RequestSpans {
            server,
            server_attributes: self.server_attributes.unwrap_or(self.attributes.len()),
            attributes: self.attributes,
            children: self.children,
            shapes: self.shapes,
            scope,
        }
    }
}

impl SpanStore for RequestSpansBuilder {
    type Attributes = AttributeList;

    fn server_attributes(&mut self) -> &mut AttributeList {
        &mut self.attributes
    }

    fn knows(&self, kind: Message) -> bool {
        !self.shapes[kind as usize].name.is_empty()
    }

    fn kind(
        &mut self,
        kind: Message,
        _size: KindSize,
        name: impl FnOnce(&mut String),
        attributes: impl FnOnce(&mut AttributeList) -> Status,
    ) {
        let list = &mut self.attributes;
        // Every server attribute is written before the first child.
        self.server_attributes.get_or_insert(list.len());
        let which = usize::from(matches!(kind, Message::Request));
        let name = self.names[which]
            .get_or_insert_with(|| list.write_text(name))
            .clone();
        let from = list.len();
        let status = attributes(list);
        self.shapes[kind as usize] = ChildShape {
            name,
            attributes: from..list.len(),
            status,
        };
    }

    fn child(
        &mut self,
        kind: Message,
        context: SpanContext,
        _parent: &SpanContext,
        start: SystemTime,
        end: SystemTime,
    ) {
        self.children.push(ChildSpan {
            context,
            start,
            end,
            shape: kind as usize,
        });
    }
}
