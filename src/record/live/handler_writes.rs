//! [`HandlerWrites`]: what a handler wrote to its server span through its
//! context (`HandlerSpan`), kept in the record and applied at the end after
//! the layer's own facts; and the SDK's rule for merging statuses, which both
//! follow so that a record exports what an SDK span would have.

use std::borrow::Cow;

use opentelemetry::trace::{Event, Link, Status};
use opentelemetry::KeyValue;

/// Writes to a sampled request's server span by its handler.
#[derive(Default)]
pub(crate) struct HandlerWrites {
    pub(crate) name: Option<Cow<'static, str>>,
    pub(crate) attributes: Vec<KeyValue>,
    pub(crate) events: Vec<Event>,
    pub(crate) links: Vec<Link>,
    pub(crate) status: Option<Status>,
}

impl HandlerWrites {
    /// A status, merged with what was set before by the SDK's rule.
    pub(crate) fn set_status(&mut self, status: Status) {
        let current = self.status.take().unwrap_or(Status::Unset);
        self.status = Some(merge_status(current, status));
    }
}

/// The SDK's rule for a span's status: a status replaces the current one only
/// if it is greater in `Status`'s order (UNSET < ERROR < OK; two ERRORs by
/// description).
pub(crate) fn merge_status(current: Status, new: Status) -> Status {
    if new > current {
        new
    } else {
        current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// The SDK's own span, given the same statuses in the same order, ends
    /// with the status the writes hold.
    #[test]
    fn writes_end_with_the_sdk_spans_status() {
        use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
        use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
        use std::sync::{Arc, Mutex};

        #[derive(Debug, Clone, Default)]
        struct Ended(Arc<Mutex<Vec<SpanData>>>);
        impl SpanExporter for Ended {
            async fn export(
                &self,
                batch: Vec<SpanData>,
            ) -> opentelemetry_sdk::error::OTelSdkResult {
                self.0.lock().unwrap().extend(batch);
                Ok(())
            }
        }
        let orders = [
            vec![Status::error("a"), Status::Unset, Status::error("b")],
            vec![Status::Ok, Status::error("late")],
            vec![Status::error("z"), Status::error("a")],
            vec![Status::Unset],
        ];
        for statuses in orders {
            let exporter = Ended::default();
            let provider = SdkTracerProvider::builder()
                .with_simple_exporter(exporter.clone())
                .build();
            let mut span = provider.tracer("t").start("s");
            let mut writes = HandlerWrites::default();
            for status in &statuses {
                span.set_status(status.clone());
                writes.set_status(status.clone());
            }
            span.end();
            let sdk = exporter.0.lock().unwrap().remove(0).status;
            assert_eq!(writes.status.unwrap_or(Status::Unset), sdk, "{statuses:?}");
        }
    }
}
