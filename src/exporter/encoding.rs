//! What the text-and-microseconds wire formats (Zipkin JSON, Jaeger Thrift) share:
//! an attribute value as text, and epoch microseconds.

use std::borrow::Cow;
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::{Array, Value};

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
