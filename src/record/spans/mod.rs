//! The finished spans every consumer reads, whatever made them: a request's
//! spans as its record describes them ([`RequestSpans`]), or an SDK span (a
//! handler's). Encoders, the viewer and the pipeline read both through one
//! borrowed view ([`SpanView`]), and their attributes through one
//! [`Attributes`] view.
//!
//! - `request_spans.rs`: [`RequestSpans`], a request's server span and its
//!   children, sharing one name and attribute list per kind of frame;
//! - `attributes.rs`: [`Attributes`] and a request's [`AttributeList`], whose
//!   texts share one buffer;
//! - `span_store.rs`: [`SpanStore`], what a record's description is written
//!   into: a [`RequestSpans`], or SDK `SpanData` (`span_data.rs`);
//! - `span_view.rs`: [`SpanView`], and its conversion to SDK `SpanData`;
//! - `as_text.rs`: values and kinds as text, for Zipkin, Jaeger and the viewer;
//! - `batch_item.rs`: what an export batch is made of ([`FinishedSpans`] for
//!   our exporters, `SpanData` for an SDK exporter), and a batch's views.

#[cfg(any(feature = "zipkin", feature = "jaeger", feature = "viewer"))]
mod as_text;
mod attributes;
mod batch_item;
mod request_spans;
mod span_data;
mod span_store;
mod span_view;

#[cfg(any(feature = "zipkin", feature = "jaeger", feature = "viewer"))]
pub(crate) use as_text::kind_name;
pub(crate) use attributes::{Attributes, ValueRef};
pub(crate) use batch_item::{batch_spans, batch_views, BatchItem, FinishedSpans};
#[cfg(test)]
pub(crate) use request_spans::ChildSpan;
pub(crate) use request_spans::{RequestSpans, RequestSpansBuilder};
pub(crate) use span_data::SpanDataBuilder;
pub(crate) use span_store::{KindSize, SpanStore};
pub(crate) use span_view::SpanView;
