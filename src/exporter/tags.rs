//! The mapping the tag-based formats (Zipkin JSON, Jaeger Thrift) share, per the
//! OpenTelemetry exporter specifications
//! (<https://opentelemetry.io/docs/specs/otel/trace/sdk_exporters/zipkin/>, and the
//! Jaeger mapping before it was retired): epoch microseconds, the status code
//! tag, the scope tags, and the resource split into `service.name` and the rest.
//! A value's text and a kind's name are the span model's
//! (`record/spans/`), which the viewer reads too.

use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::Status;
use opentelemetry::{InstrumentationScope, Value};
use opentelemetry_sdk::Resource;

/// `otel.status_code`: `OK` or `ERROR`, nothing for an unset status.
pub(crate) fn status_code(status: &Status) -> Option<&'static str> {
    match status {
        Status::Unset => None,
        Status::Ok => Some("OK"),
        Status::Error { .. } => Some("ERROR"),
    }
}

/// `otel.library.name`, `otel.scope.name`, `otel.library.version`,
/// `otel.scope.version`: the old and the new names, as both are still read.
pub(crate) fn scope_tags(
    scope: &InstrumentationScope,
) -> impl Iterator<Item = (&'static str, &str)> {
    let name = Some(scope.name()).filter(|n| !n.is_empty());
    let version = scope.version();
    [
        ("otel.library.name", name),
        ("otel.scope.name", name),
        ("otel.library.version", version),
        ("otel.scope.version", version),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
}

/// The resource as these formats carry it: `service.name` apart (Zipkin's local
/// endpoint, Jaeger's process), every other attribute as a tag, sorted by key.
pub(crate) fn split_resource(resource: &Resource) -> (Option<String>, Vec<(String, Value)>) {
    let mut service_name = None;
    let mut rest = Vec::new();
    for (k, v) in resource.iter() {
        if k.as_str() == "service.name" {
            service_name = Some(v.to_string());
        } else {
            rest.push((k.as_str().to_owned(), v.clone()));
        }
    }
    rest.sort_by(|a, b| a.0.cmp(&b.0));
    (service_name, rest)
}

/// Microseconds since the Unix epoch (0 before it).
pub(crate) fn epoch_micros(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}
