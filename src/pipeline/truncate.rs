//! `max_tag_value_length`: the SDK has no attribute *value* length limit, so string
//! values are cut here, on the batch processor's thread before each export, which covers
//! attributes set by handlers too. This is the only place values are cut: every
//! exporter (and a user's) then writes the same values on the wire.

use opentelemetry::trace::Status;
use std::borrow::Cow;

use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_sdk::trace::SpanData;

use crate::record::RequestSpans;
use crate::text::truncate_str;

fn truncate_string_value(v: &mut StringValue, max_chars: usize) {
    if let Some(cut) = truncate_str(v.as_str(), max_chars) {
        *v = StringValue::from(cut.to_owned());
    }
}

fn truncate_attributes(attributes: &mut [KeyValue], max_chars: usize) {
    for kv in attributes {
        truncate_value(&mut kv.value, max_chars);
    }
}

fn truncate_value(value: &mut Value, max_chars: usize) {
    match value {
        Value::String(s) => truncate_string_value(s, max_chars),
        Value::Array(Array::String(items)) => {
            for s in items {
                truncate_string_value(s, max_chars);
            }
        }
        _ => {}
    }
}

/// Cuts `span`'s string attribute values (span, event and link attributes, and
/// string array elements) and its error status description to `max_chars`
/// characters.
pub(crate) fn truncate_span(span: &mut SpanData, max_chars: usize) {
    truncate_attributes(&mut span.attributes, max_chars);
    if let Status::Error { description } = &mut span.status {
        if let Some(cut) = truncate_str(description, max_chars) {
            *description = Cow::Owned(cut.to_owned());
        }
    }
    for event in span.events.events.iter_mut() {
        truncate_attributes(&mut event.attributes, max_chars);
    }
    for link in span.links.links.iter_mut() {
        truncate_attributes(&mut link.attributes, max_chars);
    }
}

/// [`truncate_span`] for a request's spans: the server span, and the
/// attributes its children share.
pub(crate) fn truncate_request(request: &mut RequestSpans, max_chars: usize) {
    truncate_span(&mut request.server, max_chars);
    request.attributes.cut_values(
        |kv| truncate_value(&mut kv.value, max_chars),
        |text| truncate_str(text, max_chars).map(str::len),
    );
}
