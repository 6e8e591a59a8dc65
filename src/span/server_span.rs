//! [`ServerSpan`]: a sampled request's server span as its handler sees it.
//!
//! A request recorded as facts (`deferred.rs`) has no SDK span, but handlers
//! may still write to the span in their context (`Context::current().span()`,
//! or a bridge doing it for them): an attribute, an event, a status, a new name.
//! This handle takes those writes into the record, so they are exported as an
//! SDK span would have exported them. It holds the record weakly: the record
//! owns the context the handle lives in.

use std::borrow::Cow;
use std::sync::Weak;
use std::time::SystemTime;

use opentelemetry::trace::{Event, Link, SpanContext, Status};
use opentelemetry::KeyValue;

use super::deferred::{SampledRecord, UserWrites};

/// The server span in a sampled request's context. Writes after the exchange
/// ended are ignored, as an ended SDK span ignores them; ending it is left to
/// the exchange (the layer ends the server span when the response is over).
pub(crate) struct ServerSpan {
    record: Weak<SampledRecord>,
    span_context: SpanContext,
}

impl ServerSpan {
    pub(super) fn new(record: Weak<SampledRecord>, span_context: SpanContext) -> Self {
        ServerSpan {
            record,
            span_context,
        }
    }

    fn write(&self, f: impl FnOnce(&mut UserWrites)) {
        if let Some(record) = self.record.upgrade() {
            record.user_write(f);
        }
    }
}

/// The SDK's rule for a span's status, kept so that a record exports what an
/// SDK span would have: a status replaces the current one only if it is
/// greater in `Status`'s order (UNSET < ERROR < OK; two ERRORs by description).
pub(super) fn merge_status(current: Status, new: Status) -> Status {
    if new > current {
        new
    } else {
        current
    }
}

impl opentelemetry::trace::Span for ServerSpan {
    fn add_event_with_timestamp<T>(
        &mut self,
        name: T,
        timestamp: SystemTime,
        attributes: Vec<KeyValue>,
    ) where
        T: Into<Cow<'static, str>>,
    {
        let event = Event::new(name, timestamp, attributes, 0);
        self.write(|user| user.events.push(event));
    }

    fn span_context(&self) -> &SpanContext {
        &self.span_context
    }

    fn is_recording(&self) -> bool {
        self.record.upgrade().is_some_and(|r| r.is_open())
    }

    fn set_attribute(&mut self, attribute: KeyValue) {
        self.write(|user| user.attributes.push(attribute));
    }

    fn set_status(&mut self, status: Status) {
        self.write(|user| {
            let current = user.status.take().unwrap_or(Status::Unset);
            user.status = Some(merge_status(current, status));
        });
    }

    fn update_name<T>(&mut self, new_name: T)
    where
        T: Into<Cow<'static, str>>,
    {
        let name = new_name.into();
        self.write(|user| user.name = Some(name));
    }

    fn add_link(&mut self, span_context: SpanContext, attributes: Vec<KeyValue>) {
        if span_context.is_valid() {
            let link = Link::new(span_context, attributes, 0);
            self.write(|user| user.links.push(link));
        }
    }

    fn end_with_timestamp(&mut self, _timestamp: SystemTime) {}
}

#[cfg(test)]
mod tests {
    use super::merge_status;
    use opentelemetry::trace::Status;

    #[test]
    fn status_merges_as_the_sdk_does() {
        let error = || Status::error("boom");
        assert_eq!(merge_status(Status::Unset, error()), error());
        assert_eq!(merge_status(error(), Status::Unset), error());
        assert_eq!(merge_status(error(), Status::Ok), Status::Ok);
        assert_eq!(merge_status(Status::Ok, error()), Status::Ok);
        assert_eq!(
            merge_status(Status::error("a"), Status::error("b")),
            Status::error("b")
        );
        assert_eq!(
            merge_status(Status::error("b"), Status::error("a")),
            Status::error("b")
        );
    }
}
