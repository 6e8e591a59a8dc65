//! What an export batch is made of, and the views of a whole batch: our own
//! exporters take [`FinishedSpans`] (a request's spans stay one item), an SDK
//! `SpanExporter` takes `SpanData`; both are read through the same views.

use opentelemetry_sdk::trace::SpanData;

use super::request_spans::RequestSpans;
use super::span_view::SpanView;

/// One item of a batch for our exporters.
#[derive(Debug)]
pub(crate) enum FinishedSpans {
    /// An SDK span: a handler's, or one of a request's spans when its request
    /// was more than one export takes.
    One(Box<SpanData>),
    /// A request's spans, described on the export thread.
    Request(Box<RequestSpans>),
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

impl BatchItem for FinishedSpans {
    fn spans(&self) -> usize {
        match self {
            FinishedSpans::One(_) => 1,
            FinishedSpans::Request(request) => request.len(),
        }
    }

    fn views<'a>(&'a self, out: &mut Vec<SpanView<'a>>) {
        match self {
            FinishedSpans::One(span) => out.push((&**span).into()),
            FinishedSpans::Request(request) => request.views(out),
        }
    }
}

/// The views of a whole batch, in order.
pub(crate) fn batch_views<I: BatchItem>(batch: &[I]) -> Vec<SpanView<'_>> {
    let mut out = Vec::with_capacity(batch_spans(batch));
    for item in batch {
        item.views(&mut out);
    }
    out
}

/// Spans in a batch.
pub(crate) fn batch_spans<I: BatchItem>(batch: &[I]) -> usize {
    batch.iter().map(BatchItem::spans).sum()
}
