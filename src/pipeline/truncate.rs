//! `max_tag_value_length`: the SDK has no attribute *value* length limit, so string
//! values are cut here, on their way from span end to the exporter, which covers
//! attributes set by handlers too. This is the only place values are cut: every
//! exporter (and a user's) then writes the same values on the wire.

use std::borrow::Cow;
use std::time::Duration;

use opentelemetry::trace::Status;

use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use opentelemetry_sdk::Resource;

use crate::text::truncate_str;

/// Wraps a processor, truncating string attribute values (span, event and link
/// attributes, and string array elements) and the error status description to
/// `max_chars` characters.
#[derive(Debug)]
pub(crate) struct TruncatingProcessor<P> {
    inner: P,
    max_chars: usize,
}

impl<P> TruncatingProcessor<P> {
    pub(crate) fn new(inner: P, max_chars: usize) -> Self {
        TruncatingProcessor { inner, max_chars }
    }
}

fn truncate_string_value(v: &mut StringValue, max_chars: usize) {
    if let Some(cut) = truncate_str(v.as_str(), max_chars) {
        *v = StringValue::from(cut.to_owned());
    }
}

fn truncate_attributes(attributes: &mut [KeyValue], max_chars: usize) {
    for kv in attributes {
        match &mut kv.value {
            Value::String(s) => truncate_string_value(s, max_chars),
            Value::Array(Array::String(items)) => {
                for s in items {
                    truncate_string_value(s, max_chars);
                }
            }
            _ => {}
        }
    }
}

impl<P: SpanProcessor> SpanProcessor for TruncatingProcessor<P> {
    fn on_start(&self, span: &mut Span, cx: &opentelemetry::Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, mut span: SpanData) {
        truncate_attributes(&mut span.attributes, self.max_chars);
        if let Status::Error { description } = &mut span.status {
            if let Some(cut) = truncate_str(description, self.max_chars) {
                *description = Cow::Owned(cut.to_owned());
            }
        }
        for event in span.events.events.iter_mut() {
            truncate_attributes(&mut event.attributes, self.max_chars);
        }
        for link in span.links.links.iter_mut() {
            truncate_attributes(&mut link.attributes, self.max_chars);
        }
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
