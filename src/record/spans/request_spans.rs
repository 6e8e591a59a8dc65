//! [`RequestSpans`]: a request's spans as its record describes them, the one
//! description every consumer reads. Its server span, and its children as
//! frames sharing one name, one list of attributes and one status per kind of
//! frame; all their attributes and names in one [`AttributeList`].
//!
//! Our encoders read it through views (`span_view.rs`); a consumer that takes
//! SDK `SpanData` (a user's `SpanExporter`, the console and in-memory
//! exporters, opentelemetry-otlp's gRPC client) gets the same spans converted
//! one view at a time ([`RequestSpans::to_span_data`]).

use std::ops::Range;
use std::sync::Arc;
use std::time::SystemTime;

use opentelemetry::trace::{SpanContext, SpanKind, Status};
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::trace::SpanData;

use super::attributes::AttributeList;
use super::span_view::SpanView;

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

/// The growable parts of a [`RequestSpans`], to describe the next request
/// into: a consumer that converts each request at once (to `SpanData`) keeps
/// one set, so describing allocates nothing once it has grown.
#[derive(Debug, Default)]
pub(crate) struct SpanBuffers {
    pub(crate) attributes: AttributeList,
    pub(crate) children: Vec<ChildSpan>,
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

    /// The same spans as SDK `SpanData`, in the same order, onto `out`.
    pub(crate) fn to_span_data(&self, out: &mut Vec<SpanData>) {
        out.reserve(self.len());
        self.for_each_view(|view| out.push(view.to_span_data()));
    }

    /// Spans it holds.
    pub(crate) fn len(&self) -> usize {
        1 + self.children.len()
    }

    /// Its growable parts, emptied, for the next request.
    pub(crate) fn into_buffers(self) -> SpanBuffers {
        let (mut attributes, mut children) = (self.attributes, self.children);
        attributes.clear();
        children.clear();
        SpanBuffers {
            attributes,
            children,
        }
    }
}
