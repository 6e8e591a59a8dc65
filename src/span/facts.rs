//! What a request's spans record from the exchange's facts: the response head,
//! a gRPC status, a failure, a body or request frame. One place for both ways a
//! request is recorded, so a sampled request and one kept at its end (see
//! `deferred.rs`) carry the same attributes, statuses and events.

use std::borrow::Cow;
use std::time::SystemTime;

use opentelemetry::trace::{SpanContext, SpanKind, Status};
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::{IdGenerator, SpanData, SpanEvents, SpanLinks};

use super::failure::Failure;
use super::grpc;
use super::message::Message;
use super::recorded_headers;
use super::recorder::Recorder;
use super::stable;
use crate::config::Semconv;
use crate::exporter::attributes::AttributeSink;

/// The response head's attributes (status, opted-in headers), pushed onto
/// `attrs` (a record's own list: no list of their own to allocate), and
/// ERROR for 5xx.
pub(crate) fn response_facts(
    recorder: &Recorder,
    status: u16,
    headers: &(impl recorded_headers::HeaderValues + ?Sized),
    attrs: &mut impl AttributeSink,
) -> Option<Status> {
    stable::push_status(recorder.semconv, status, status >= 500, attrs);
    recorded_headers::push(&recorder.response_headers, headers, attrs);
    (status >= 500).then(|| Status::error(""))
}

/// `rpc.grpc.status_code`, and ERROR (with `grpc-message`) for a server fault.
pub(crate) fn grpc_facts(code: i64, message: Option<String>) -> (KeyValue, Option<Status>) {
    let error = message.map(|m| Status::error(format!("gRPC status {code}: {m}")));
    (KeyValue::new(grpc::RPC_GRPC_STATUS_CODE, code), error)
}

/// `error.type` (stable conventions), the `exception` event's attributes, and
/// the ERROR status a failure gives the server span.
pub(crate) fn failure_facts(
    semconv: Semconv,
    failure: Failure<'_>,
) -> (Option<KeyValue>, Vec<KeyValue>, Status) {
    let error_type = stable::error_type(semconv, &failure.kind);
    let event = vec![
        KeyValue::new("exception.type", failure.kind.into_owned()),
        KeyValue::new("exception.message", failure.message.clone().into_owned()),
    ];
    (
        error_type,
        event,
        Status::error(failure.message.into_owned()),
    )
}

/// A child span's attributes, and whether it is ERROR: of a 5xx response only
/// the `http.response.start` span is, as in BentoML's own spans (body and trailer
/// frames were sent successfully).
pub(crate) fn child_attributes(
    semconv: Semconv,
    message: Message,
    status: Option<u16>,
) -> (Vec<KeyValue>, bool) {
    let mut attributes = Vec::with_capacity(if semconv == Semconv::Dup { 5 } else { 2 });
    let failed = push_child_attributes(semconv, message, status, &mut attributes);
    (attributes, failed)
}

/// [`child_attributes`], pushed onto `attrs`; whether the child is ERROR.
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

/// A new child's context under the server span `parent`: a sampled server
/// span samples its children.
pub(crate) fn child_context(recorder: &Recorder, parent: &SpanContext) -> SpanContext {
    SpanContext::new(
        parent.trace_id(),
        recorder.ids.new_span_id(),
        parent.trace_flags(),
        false,
        parent.trace_state().clone(),
    )
}

/// A finished child span under the server span `parent`, as the SDK would have
/// ended it: a sampled server span samples its children, and these have no
/// events or links.
pub(crate) fn child_span_data(
    recorder: &Recorder,
    parent: &SpanContext,
    name: String,
    start: SystemTime,
    end: SystemTime,
    attributes: Vec<KeyValue>,
    failed: bool,
) -> SpanData {
    SpanData {
        span_context: child_context(recorder, parent),
        parent_span_id: parent.span_id(),
        parent_span_is_remote: false,
        span_kind: SpanKind::Internal,
        name: Cow::Owned(name),
        start_time: start,
        end_time: end,
        attributes,
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: child_status(failed),
        instrumentation_scope: recorder.pipeline.scope().clone(),
    }
}
