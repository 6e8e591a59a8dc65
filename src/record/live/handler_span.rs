//! [`HandlerSpan`]: a sampled request's server span as its handler sees it.
//!
//! A record has no SDK span, but handlers may still write to the span in their
//! context (`Context::current().span()`, or a bridge doing it for them): an
//! attribute, an event, a status, a new name. This handle takes those writes
//! into the record ([`HandlerWrites`]), so they are exported as an SDK span
//! would have exported them. It holds the record weakly: the record owns the
//! context the handle lives in.

use std::borrow::Cow;
use std::sync::Weak;
use std::time::SystemTime;

use opentelemetry::trace::{Event, Link, SpanContext, Status};
use opentelemetry::KeyValue;

use super::handler_writes::HandlerWrites;

/// What a [`HandlerSpan`] writes into: a record.
pub(crate) trait HandlerWritesTarget: Send + Sync + 'static {
    /// Applies `f` to the handler's writes, unless the spans are built already.
    fn write(&self, f: impl FnOnce(&mut HandlerWrites));
    /// Whether the exchange is still going (its spans not yet built).
    fn is_open(&self) -> bool;
}

/// The server span in a sampled request's context. Writes after the exchange
/// ended are ignored, as an ended SDK span ignores them; ending it is left to
/// the exchange (the layer ends the server span when the response is over).
pub(crate) struct HandlerSpan<T> {
    record: Weak<T>,
    span_context: SpanContext,
}

impl<T: HandlerWritesTarget> HandlerSpan<T> {
    pub(crate) fn new(record: Weak<T>, span_context: SpanContext) -> Self {
        HandlerSpan {
            record,
            span_context,
        }
    }

    fn write(&self, f: impl FnOnce(&mut HandlerWrites)) {
        if let Some(record) = self.record.upgrade() {
            record.write(f);
        }
    }
}

impl<T: HandlerWritesTarget> opentelemetry::trace::Span for HandlerSpan<T> {
    fn add_event_with_timestamp<N>(
        &mut self,
        name: N,
        timestamp: SystemTime,
        attributes: Vec<KeyValue>,
    ) where
        N: Into<Cow<'static, str>>,
    {
        let event = Event::new(name, timestamp, attributes, 0);
        self.write(|writes| writes.events.push(event));
    }

    fn span_context(&self) -> &SpanContext {
        &self.span_context
    }

    fn is_recording(&self) -> bool {
        self.record.upgrade().is_some_and(|r| r.is_open())
    }

    fn set_attribute(&mut self, attribute: KeyValue) {
        self.write(|writes| writes.attributes.push(attribute));
    }

    fn set_status(&mut self, status: Status) {
        self.write(|writes| writes.set_status(status));
    }

    fn update_name<N>(&mut self, new_name: N)
    where
        N: Into<Cow<'static, str>>,
    {
        let name = new_name.into();
        self.write(|writes| writes.name = Some(name));
    }

    fn add_link(&mut self, span_context: SpanContext, attributes: Vec<KeyValue>) {
        if span_context.is_valid() {
            let link = Link::new(span_context, attributes, 0);
            self.write(|writes| writes.links.push(link));
        }
    }

    fn end_with_timestamp(&mut self, _timestamp: SystemTime) {}
}
