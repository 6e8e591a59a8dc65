//! Spans as text, for the formats that carry every value as a string tag
//! (Zipkin, Jaeger) and for the viewer: a value's text and a kind's name.

use std::borrow::Cow;

use opentelemetry::trace::SpanKind;
use opentelemetry::{Array, Value};

use super::attributes::ValueRef;

impl<'a> ValueRef<'a> {
    /// The value as text, as the tag-based formats and the viewer write it.
    pub(crate) fn text(self) -> Cow<'a, str> {
        match self {
            ValueRef::Text(s) => Cow::Borrowed(s),
            ValueRef::Value(v) => value_text(v),
        }
    }
}

/// Strings as they are, other scalars in their usual text form, arrays as JSON
/// arrays (as the OpenTelemetry exporter specification asks of Zipkin and
/// Jaeger tags).
fn value_text(v: &Value) -> Cow<'_, str> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_as_text() {
        assert_eq!(value_text(&Value::from(true)), "true");
        assert_eq!(value_text(&Value::from(42i64)), "42");
        assert_eq!(value_text(&Value::from(1.5)), "1.5");
        let arr = Value::Array(Array::String(vec![
            opentelemetry::StringValue::from("a\"b"),
            opentelemetry::StringValue::from("c"),
        ]));
        assert_eq!(value_text(&arr), r#"["a\"b","c"]"#);
        assert_eq!(value_text(&Value::Array(Array::I64(vec![1, 2]))), "[1,2]");
    }
}
