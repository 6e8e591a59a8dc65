//! [`SpanView`]: a finished span as every consumer reads it, borrowed either
//! from an SDK [`SpanData`] (a handler's span) or from a request's spans as its
//! record describes them (`request_spans.rs`). Every encoder and the viewer read
//! only this, so both kinds go through one mapping per wire format; a consumer
//! that takes `SpanData` gets a view converted ([`SpanView::to_span_data`]).

use std::time::SystemTime;

use opentelemetry::trace::{Event, Link, SpanContext, SpanId, SpanKind, Status};
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::trace::SpanData;

use super::attributes::Attributes;

/// One finished span, every field borrowed; the fields are `SpanData`'s.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SpanView<'a> {
    pub(crate) span_context: &'a SpanContext,
    pub(crate) parent_span_id: SpanId,
    pub(crate) parent_span_is_remote: bool,
    pub(crate) span_kind: &'a SpanKind,
    pub(crate) name: &'a str,
    pub(crate) start_time: SystemTime,
    pub(crate) end_time: SystemTime,
    pub(crate) attributes: Attributes<'a>,
    pub(crate) dropped_attributes_count: u32,
    pub(crate) events: &'a [Event],
    pub(crate) dropped_events_count: u32,
    pub(crate) links: &'a [Link],
    pub(crate) dropped_links_count: u32,
    pub(crate) status: &'a Status,
    pub(crate) instrumentation_scope: &'a InstrumentationScope,
}

impl<'a> From<&'a SpanData> for SpanView<'a> {
    fn from(s: &'a SpanData) -> Self {
        SpanView {
            span_context: &s.span_context,
            parent_span_id: s.parent_span_id,
            parent_span_is_remote: s.parent_span_is_remote,
            span_kind: &s.span_kind,
            name: &s.name,
            start_time: s.start_time,
            end_time: s.end_time,
            attributes: Attributes::List(&s.attributes),
            dropped_attributes_count: s.dropped_attributes_count,
            events: &s.events.events,
            dropped_events_count: s.events.dropped_count,
            links: &s.links.links,
            dropped_links_count: s.links.dropped_count,
            status: &s.status,
            instrumentation_scope: &s.instrumentation_scope,
        }
    }
}

impl SpanView<'_> {
    /// The SDK's `SpanData` with the same fields, for a consumer that takes
    /// only that and is given views: the in-memory exporter, opentelemetry-otlp's
    /// gRPC client.
    pub(crate) fn to_span_data(self) -> SpanData {
        let mut events = opentelemetry_sdk::trace::SpanEvents::default();
        events.events = self.events.to_vec();
        events.dropped_count = self.dropped_events_count;
        let mut links = opentelemetry_sdk::trace::SpanLinks::default();
        links.links = self.links.to_vec();
        links.dropped_count = self.dropped_links_count;
        SpanData {
            span_context: self.span_context.clone(),
            parent_span_id: self.parent_span_id,
            parent_span_is_remote: self.parent_span_is_remote,
            span_kind: self.span_kind.clone(),
            name: self.name.to_owned().into(),
            start_time: self.start_time,
            end_time: self.end_time,
            attributes: self.attributes.to_vec(),
            dropped_attributes_count: self.dropped_attributes_count,
            events,
            links,
            status: self.status.clone(),
            instrumentation_scope: self.instrumentation_scope.clone(),
        }
    }
}
