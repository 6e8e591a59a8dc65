//! The attributes of our own namespace (`tower_otel_tracing.*`), which no
//! OpenTelemetry registry defines: what the stable conventions have no key
//! for, kept out of the namespaces the conventions own.

use opentelemetry::{Key, KeyValue};

use super::legacy::HTTP_CANCELLED;
use super::sink::AttributeSink;
use crate::config::Semconv;

/// Request body data frames, every one (the `http receive` spans stop at
/// `max_frame_spans`).
pub(crate) const REQUEST_FRAMES: Key = Key::from_static_str("tower_otel_tracing.request.frames");
/// Request body bytes.
pub(crate) const REQUEST_BYTES: Key = Key::from_static_str("tower_otel_tracing.request.bytes");
/// Response body data frames, every one.
pub(crate) const RESPONSE_FRAMES: Key = Key::from_static_str("tower_otel_tracing.response.frames");
/// Response body bytes.
pub(crate) const RESPONSE_BYTES: Key = Key::from_static_str("tower_otel_tracing.response.bytes");
/// The exchange was abandoned before its response was sent (the stable
/// conventions' spans; BentoML's write `http.cancelled`).
pub(crate) const CANCELLED: Key = Key::from_static_str("tower_otel_tracing.cancelled");

/// An abandoned exchange, under the key of the conventions in use. A caller
/// that cancels is not an error of the span's, so nothing else is written
/// (semantic conventions v1.41 on).
pub(crate) fn push_cancelled(semconv: Semconv, attrs: &mut impl AttributeSink) {
    if semconv.legacy() {
        attrs.push(KeyValue::new(HTTP_CANCELLED, true));
    }
    if semconv.stable() {
        attrs.push(KeyValue::new(CANCELLED, true));
    }
}
