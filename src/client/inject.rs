//! Writing the trace into an outgoing request's headers, without touching the
//! headers the caller set itself.

use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::Injector;

/// An injector that adds a header only when the request does not have it yet:
/// a caller that set its own `traceparent` (or `b3`, ...) keeps it.
pub(crate) struct AddMissing<'a>(pub(crate) &'a mut HeaderMap);

impl Injector for AddMissing<'_> {
    fn set(&mut self, key: &str, value: String) {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) else {
            return;
        };
        if !self.0.contains_key(&name) {
            self.0.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callers_headers_stay() {
        let mut headers = HeaderMap::new();
        headers.insert("traceparent", HeaderValue::from_static("mine"));
        let mut inj = AddMissing(&mut headers);
        inj.set("traceparent", "theirs".into());
        inj.set("tracestate", "a=b".into());
        assert_eq!(headers["traceparent"], "mine");
        assert_eq!(headers["tracestate"], "a=b");
    }
}
