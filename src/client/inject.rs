//! Writing the trace into an outgoing request's headers, without touching the
//! headers the caller set itself.

use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::Injector;

/// An injector that adds a header only when the request does not have it yet:
/// a caller that set its own `traceparent` (or `b3`, ...) keeps it.
pub(crate) struct AddMissing<'a>(pub(crate) &'a mut HeaderMap);

impl Injector for AddMissing<'_> {
    fn set(&mut self, key: &str, value: String) {
        let Some(name) = header_name(key) else { return };
        if self.0.contains_key(&name) {
            return;
        }
        // From the `String` itself: no copy of the value.
        if let Ok(value) = HeaderValue::try_from(value) {
            self.0.insert(name, value);
        }
    }
}

/// The propagators' header names as static names: parsing a name that is not a
/// standard header allocates, once per header per call.
fn header_name(key: &str) -> Option<HeaderName> {
    const KNOWN: [&str; 9] = [
        "traceparent",
        "tracestate",
        "baggage",
        "b3",
        "x-b3-traceid",
        "x-b3-spanid",
        "x-b3-sampled",
        "x-b3-flags",
        "uber-trace-id",
    ];
    match KNOWN.iter().find(|k| **k == key) {
        Some(known) => Some(HeaderName::from_static(known)),
        None => HeaderName::from_bytes(key.as_bytes()).ok(),
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

    #[test]
    fn known_and_other_names() {
        let mut headers = HeaderMap::new();
        let mut inj = AddMissing(&mut headers);
        inj.set("uber-trace-id", "1:2:0:1".into());
        inj.set("x-custom-context", "v".into());
        inj.set("bad name", "v".into());
        inj.set("b3", "bad\nvalue".into());
        assert_eq!(headers["uber-trace-id"], "1:2:0:1");
        assert_eq!(headers["x-custom-context"], "v");
        assert_eq!(headers.len(), 2);
    }
}
