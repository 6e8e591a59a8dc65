//! Header values are recorded only for the names a user opts in to, and values of
//! sensitive names are replaced by `[REDACTED]` even then.

use super::sink::AttributeSink;
use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::{Array, Key, KeyValue, StringValue, Value};

use crate::config::ConfigError;

/// Names never recorded in clear, whatever the opt-in says.
pub(crate) const ALWAYS_SANITIZED: [&str; 6] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "x-auth-token",
];

const REDACTED: &str = "[REDACTED]";

/// One opted-in header: its name and the attribute it goes to
/// (`http.request.header.<name>` / `http.response.header.<name>`).
#[derive(Debug, Clone)]
pub(crate) struct RecordedHeader {
    name: HeaderName,
    key: Key,
    sanitized: bool,
}

impl RecordedHeader {
    pub(crate) fn name(&self) -> &HeaderName {
        &self.name
    }
}

/// The opted-in request and response headers.
#[derive(Debug, Clone, Default)]
pub(crate) struct RecordedHeaders {
    pub(crate) request: Vec<RecordedHeader>,
    pub(crate) response: Vec<RecordedHeader>,
}

impl RecordedHeaders {
    /// Validates the names; `sanitize` adds to [`ALWAYS_SANITIZED`].
    pub(crate) fn new(
        request: &[String],
        response: &[String],
        sanitize: &[String],
    ) -> Result<Self, ConfigError> {
        let sanitized = |n: &HeaderName| {
            ALWAYS_SANITIZED.contains(&n.as_str())
                || sanitize.iter().any(|s| s.eq_ignore_ascii_case(n.as_str()))
        };
        let build = |names: &[String], prefix: &str, which: &str| {
            names
                .iter()
                .map(|n| {
                    let name = HeaderName::from_bytes(n.trim().as_bytes()).map_err(|_| {
                        ConfigError::new(which, format!("`{n}` is not a valid HTTP header name"))
                    })?;
                    Ok(RecordedHeader {
                        key: Key::new(format!("{prefix}{}", name.as_str())),
                        sanitized: sanitized(&name),
                        name,
                    })
                })
                .collect::<Result<Vec<_>, ConfigError>>()
        };
        Ok(RecordedHeaders {
            request: build(request, "http.request.header.", "request_headers")?,
            response: build(response, "http.response.header.", "response_headers")?,
        })
    }
}

/// Where recorded values are looked up: a live header map, or the values a
/// record kept (name and value pairs, a name's values in their order).
pub(crate) trait HeaderValues {
    fn values_of<'a>(&'a self, name: &'a HeaderName) -> impl Iterator<Item = &'a HeaderValue>;
}

impl HeaderValues for HeaderMap {
    fn values_of<'a>(&'a self, name: &'a HeaderName) -> impl Iterator<Item = &'a HeaderValue> {
        self.get_all(name).iter()
    }
}

impl HeaderValues for [(HeaderName, HeaderValue)] {
    fn values_of<'a>(&'a self, name: &'a HeaderName) -> impl Iterator<Item = &'a HeaderValue> {
        self.iter().filter(move |(n, _)| n == name).map(|(_, v)| v)
    }
}

/// Attributes for the opted-in headers present in `headers` (string arrays, one
/// element per value; non-UTF-8 values are skipped).
pub(crate) fn push<H: HeaderValues + ?Sized>(
    which: &[RecordedHeader],
    headers: &H,
    attrs: &mut impl AttributeSink,
) {
    for h in which {
        let values: Vec<StringValue> = headers
            .values_of(&h.name)
            .filter_map(|v| v.to_str().ok())
            .map(|v| {
                if h.sanitized {
                    StringValue::from(REDACTED)
                } else {
                    StringValue::from(v.to_owned())
                }
            })
            .collect();
        if !values.is_empty() {
            attrs.push(KeyValue::new(
                h.key.clone(),
                Value::Array(Array::String(values)),
            ));
        }
    }
}
