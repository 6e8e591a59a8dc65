//! What a CLIENT span says about an outgoing call, as BentoML's instrumented
//! client (opentelemetry-instrumentation-aiohttp-client) writes it: named after
//! the method, with `http.method`, `http.url` (credentials and signed-URL secrets
//! redacted), `net.peer.name`, `net.peer.port` and, at the response,
//! `http.status_code`.

use http::Uri;
use opentelemetry::{Key, KeyValue};

use super::legacy::{HTTP_METHOD, HTTP_URL};
use super::naming::sanitize_method;
use super::url::{redacted_url, strip_userinfo};
use crate::config::Semconv;

const NET_PEER_NAME: Key = Key::from_static_str("net.peer.name");
pub(crate) const NET_PEER_PORT: Key = Key::from_static_str("net.peer.port");

/// The span name: the method (`HTTP` for one outside the standard set).
pub(crate) fn client_span_name(method: &http::Method) -> &'static str {
    match sanitize_method(method) {
        "_OTHER" => "HTTP",
        known => known,
    }
}

/// Everything known about the call before it is sent, in the conventions in use.
pub(crate) fn client_attributes(
    semconv: Semconv,
    method: &http::Method,
    uri: &Uri,
) -> Vec<KeyValue> {
    let mut attrs = Vec::with_capacity(8);
    if semconv.legacy() {
        push_legacy(method, uri, &mut attrs);
    }
    if semconv.stable() {
        super::stable::push_client_attributes(method, uri, &mut attrs);
    }
    attrs
}

fn push_legacy(method: &http::Method, uri: &Uri, attrs: &mut Vec<KeyValue>) {
    attrs.push(KeyValue::new(HTTP_METHOD, sanitize_method(method)));
    let scheme = uri.scheme_str().unwrap_or("http");
    let target = uri.path_and_query().map_or("/", |pq| pq.as_str());
    if let Some(authority) = uri.authority() {
        attrs.push(KeyValue::new(
            HTTP_URL,
            redacted_url(scheme, authority.as_str(), target),
        ));
        let host = strip_userinfo(authority.as_str());
        let host = host.rsplit_once(':').map_or(host, |(h, p)| {
            if p.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                host
            }
        });
        attrs.push(KeyValue::new(
            NET_PEER_NAME,
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
        ));
        let port = authority.port_u16().or(match scheme {
            "https" => Some(443),
            "http" => Some(80),
            _ => None,
        });
        if let Some(port) = port {
            attrs.push(KeyValue::new(NET_PEER_PORT, i64::from(port)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(attrs: &[KeyValue], k: &str) -> Option<String> {
        attrs
            .iter()
            .find(|kv| kv.key.as_str() == k)
            .map(|kv| kv.value.to_string())
    }

    #[test]
    fn attributes_of_a_call() {
        let uri: Uri = "https://u:p@api.example:8443/v1/x?sig=abc&q=1"
            .parse()
            .unwrap();
        let attrs = client_attributes(Semconv::Legacy, &http::Method::POST, &uri);
        assert_eq!(get(&attrs, "http.method").as_deref(), Some("POST"));
        assert_eq!(
            get(&attrs, "http.url").as_deref(),
            Some("https://REDACTED:REDACTED@api.example:8443/v1/x?sig=REDACTED&q=1")
        );
        assert_eq!(get(&attrs, "net.peer.name").as_deref(), Some("api.example"));
        assert_eq!(get(&attrs, "net.peer.port").as_deref(), Some("8443"));
        let attrs = client_attributes(
            Semconv::Dup,
            &http::Method::GET,
            &"http://[::1]/".parse().unwrap(),
        );
        assert_eq!(get(&attrs, "server.address").as_deref(), Some("::1"));
        assert_eq!(get(&attrs, "url.full").as_deref(), Some("http://[::1]/"));
        assert_eq!(get(&attrs, "net.peer.name").as_deref(), Some("::1"));
        assert_eq!(get(&attrs, "net.peer.port").as_deref(), Some("80"));
        assert_eq!(
            client_span_name(&http::Method::from_bytes(b"BREW").unwrap()),
            "HTTP"
        );
    }
}
