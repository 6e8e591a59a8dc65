//! [`Finished`]: what our own exporters are handed, a batch of finished spans
//! where a request recorded by the layer stays one item ([`RequestSpans`]):
//! its server span, and its children as frames sharing one name, one list of
//! attributes and one status per kind of frame; all its attributes and names
//! in one [`AttributeList`]. The SDK path builds a `SpanData` for every child
//! instead (a name, a list, a scope each).

use std::ops::Range;
use std::sync::Arc;
use std::time::SystemTime;

use opentelemetry::trace::{SpanContext, SpanKind, Status};
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::trace::SpanData;

use super::attributes::AttributeList;
use super::span_view::SpanView;

/// One item of a batch for our exporters.
#[derive(Debug)]
pub(crate) enum Finished {
    /// An SDK span: a handler's, or a request's when it was split (boxed as
    /// it was queued).
    Span(Box<SpanData>),
    /// A request's spans, described on the export thread.
    Request(Box<RequestSpans>),
}

/// A request's server span and its children (`http send`, `http receive`).
#[derive(Debug)]
pub(crate) struct RequestSpans {
    /// The server span; the children's parent and trace state. Its
    /// attributes are the first `server_attributes` of `attributes`.
    pub(crate) server: SpanData,
    pub(crate) server_attributes: usize,
    /// The server span's attributes, then the shapes'; the shapes' names are
    /// texts of its buffer. One list and one buffer for all: a list and a
    /// buffer for the server span, a list for the shapes' attributes and a
    /// `String` for their names were two allocations a request more on the
    /// export thread, all alive until the batch was written (-57 to -121
    /// instructions a span on the export side, callgrind).
    pub(crate) attributes: AttributeList,
    /// The children, in the order their frames ended.
    pub(crate) children: Vec<ChildSpan>,
    /// What children of one kind share, by [`ChildSpan::shape`] (a kind of
    /// message: of the four, the ones no child has stay empty).
    pub(crate) shapes: [ChildShape; 4],
    /// The scope of all these spans (the server span's, shared): every
    /// request's spans read it at one address, so the encoders' grouping by
    /// scope compares addresses, not names and versions (OTLP -222
    /// instructions a span, Zipkin -120, callgrind).
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
    /// The spans: the children, then the server span (the order the SDK path
    /// hands them over in).
    pub(crate) fn views<'a>(&'a self, out: &mut Vec<SpanView<'a>>) {
        let server = &self.server;
        out.extend(self.children.iter().map(|child| {
            let shape = &self.shapes[child.shape];
            SpanView {
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
            }
        }));
        out.push(SpanView {
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

/// An item of an export batch: its spans, and their views.
pub(crate) trait BatchItem: Send + std::fmt::Debug + 'static {
    /// How many spans it holds.
    fn spans(&self) -> usize;
    /// Appends its spans' views to `out`.
    fn views<'a>(&'a self, out: &mut Vec<SpanView<'a>>);
}

impl BatchItem for SpanData {
    fn spans(&self) -> usize {
        1
    }

    fn views<'a>(&'a self, out: &mut Vec<SpanView<'a>>) {
        out.push(self.into());
    }
}

impl BatchItem for Finished {
    fn spans(&self) -> usize {
        match self {
            Finished::Span(_) => 1,
            Finished::Request(request) => request.len(),
        }
    }

    fn views<'a>(&'a self, out: &mut Vec<SpanView<'a>>) {
        match self {
            Finished::Span(span) => out.push((&**span).into()),
            Finished::Request(request) => request.views(out),
        }
    }
}

/// The views of a whole batch, in order.
pub(crate) fn batch_views<I: BatchItem>(batch: &[I]) -> Vec<SpanView<'_>> {
    let mut out = Vec::with_capacity(batch.iter().map(BatchItem::spans).sum());
    for item in batch {
        item.views(&mut out);
    }
    out
}

/// Spans in a batch.
pub(crate) fn batch_spans<I: BatchItem>(batch: &[I]) -> usize {
    batch.iter().map(BatchItem::spans).sum()
}
