//! The mapping the tag-based formats (Zipkin JSON, Jaeger Thrift) share, per the
//! OpenTelemetry exporter specifications
//! (<https://opentelemetry.io/docs/specs/otel/trace/sdk_exporters/zipkin/>, and the
//! Jaeger mapping before it was retired): a value as text, epoch microseconds, the
//! span kind's name, the status code tag, the scope tags, and the resource split
//! into `service.name` and the rest.

use std::borrow::Cow;
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::{Array, InstrumentationScope, Value};
use opentelemetry_sdk::Resource;

/// The span kind in lower case (`server`, ..., `internal`).
pub(crate) fn kind_name(kind: &SpanKind) -> &'static str {
    match kind {
        SpanKind::Server => "server",
        SpanKind::Client => "client",
        SpanKind::Producer => "producer",
        SpanKind::Consumer => "consumer",
        SpanKind::Internal => "internal",
    }
}

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

/// Strings as they are, other scalars in their usual text form, arrays as JSON
/// arrays (as the OpenTelemetry exporter specification asks for Zipkin and Jaeger).
pub(crate) fn value_text(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s.as_str()),
        Value::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        Value::I64(i) => Cow::Owned(i.to_string()),
        Value::F64(f) => Cow::Owned(f.to_string()),
        Value::Array(a) => Cow::Owned(array_json(a)),
        other => Cow::Owned(other.to_string()),
    }
}

fn array_json(a: &Array) -> String {
    let json = match a {
        Array::Bool(v) => serde_json::to_string(v),
        Array::I64(v) => serde_json::to_string(v),
        Array::F64(v) => serde_json::to_string(v),
        Array::String(v) => {
            serde_json::to_string(&v.iter().map(|s| s.as_str()).collect::<Vec<_>>())
        }
        other => Ok(format!("{other:?}")),
    };
    json.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::StringValue;

    #[test]
    fn values_as_text() {
        assert_eq!(value_text(&Value::from(true)), "true");
        assert_eq!(value_text(&Value::from(42i64)), "42");
        assert_eq!(value_text(&Value::from(1.5)), "1.5");
        let arr = Value::Array(Array::String(vec![
            StringValue::from("a\"b"),
            StringValue::from("c"),
        ]));
        assert_eq!(value_text(&arr), r#"["a\"b","c"]"#);
        assert_eq!(value_text(&Value::Array(Array::I64(vec![1, 2]))), "[1,2]");
    }
}
