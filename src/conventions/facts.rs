//! What a request's spans record from the exchange's facts: the response head,
//! a gRPC status, a failure, a request or response frame. One place, so that
//! every way a request is recorded carries the same attributes, statuses and
//! events.

use opentelemetry::trace::Status;
use opentelemetry::KeyValue;

use super::failure::Failure;
use super::message::Message;
use super::options::Conventions;
use super::recorded_headers;
use super::sink::AttributeSink;
use super::stable;
use crate::config::Semconv;

/// What a failure gives the server span.
pub(crate) struct FailureFacts {
    /// `error.type` (stable conventions).
    pub(crate) error_type: Option<KeyValue>,
    /// The `exception` event's attributes.
    pub(crate) event: Vec<KeyValue>,
    /// ERROR, with the failure's message.
    pub(crate) status: Status,
}

impl Conventions {
    /// The response head's attributes (status, opted-in headers), pushed onto
    /// `attrs`, and ERROR for 5xx.
    pub(crate) fn response_facts(
        &self,
        status: u16,
        headers: &(impl recorded_headers::HeaderValues + ?Sized),
        attrs: &mut impl AttributeSink,
    ) -> Option<Status> {
        stable::push_status(self.semconv, status, status >= 500, attrs);
        recorded_headers::push(&self.response_headers, headers, attrs);
        (status >= 500).then(|| Status::error(""))
    }
}

/// `error.type` (stable conventions), the `exception` event's attributes, and
/// the ERROR status a failure gives the server span.
pub(crate) fn failure_facts(semconv: Semconv, failure: Failure<'_>) -> FailureFacts {
    FailureFacts {
        error_type: stable::error_type(semconv, &failure.kind),
        event: vec![
            KeyValue::new("exception.type", failure.kind.into_owned()),
            KeyValue::new("exception.message", failure.message.clone().into_owned()),
        ],
        status: Status::error(failure.message.into_owned()),
    }
}

/// A child span's attributes, pushed onto `attrs`; whether the child is ERROR:
/// of a 5xx response only the `http.response.start` span is, as in BentoML's
/// own spans (body and trailer frames were sent successfully).
pub(crate) fn push_child_attributes(
    semconv: Semconv,
    message: Message,
    status: Option<u16>,
    attrs: &mut impl AttributeSink,
) -> bool {
    let failed = matches!(message, Message::ResponseStart) && status.is_some_and(|s| s >= 500);
    if let (Message::ResponseStart, Some(code)) = (message, status) {
        stable::push_status(semconv, code, failed, attrs);
    }
    stable::push_message_type(semconv, message.as_str(), attrs);
    failed
}

/// A child's status: ERROR (with no description) or unset.
pub(crate) fn child_status(failed: bool) -> Status {
    if failed {
        Status::error("")
    } else {
        Status::Unset
    }
}
