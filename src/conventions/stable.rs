//! The stable HTTP semantic conventions (v1.23 on,
//! <https://opentelemetry.io/docs/specs/semconv/http/http-spans/>): the attributes
//! spans carry when `semconv` is `stable` or `dup`. Legacy keys are in
//! `attributes.rs`; which set a span gets is decided by the caller, from the one
//! [`Semconv`] setting.

use http::{Method, Uri};
use opentelemetry::{Key, KeyValue};

use super::address::push_address;
use super::legacy::{HTTP_STATUS_CODE, TYPE};
use super::naming::sanitize_method;
use super::request_parts::RequestParts;
use super::sink::AttributeSink;
use super::url::{redacted_target, redacted_url, strip_userinfo};
use crate::config::Semconv;

pub(crate) const HTTP_REQUEST_METHOD: Key = Key::from_static_str("http.request.method");
pub(crate) const HTTP_REQUEST_METHOD_ORIGINAL: Key =
    Key::from_static_str("http.request.method_original");
pub(crate) const URL_SCHEME: Key = Key::from_static_str("url.scheme");
pub(crate) const URL_PATH: Key = Key::from_static_str("url.path");
pub(crate) const URL_QUERY: Key = Key::from_static_str("url.query");
pub(crate) const URL_FULL: Key = Key::from_static_str("url.full");
pub(crate) const SERVER_ADDRESS: Key = Key::from_static_str("server.address");
pub(crate) const SERVER_PORT: Key = Key::from_static_str("server.port");
pub(crate) const CLIENT_ADDRESS: Key = Key::from_static_str("client.address");
pub(crate) const NETWORK_PEER_ADDRESS: Key = Key::from_static_str("network.peer.address");
pub(crate) const NETWORK_PEER_PORT: Key = Key::from_static_str("network.peer.port");
pub(crate) const NETWORK_PROTOCOL_VERSION: Key = Key::from_static_str("network.protocol.version");
pub(crate) const USER_AGENT_ORIGINAL: Key = Key::from_static_str("user_agent.original");
pub(crate) const HTTP_RESPONSE_STATUS_CODE: Key = Key::from_static_str("http.response.status_code");
pub(crate) const ERROR_TYPE: Key = Key::from_static_str("error.type");
/// The ASGI message type of a child span, under the key newer OpenTelemetry ASGI
/// instrumentation writes (the bare `type` is in no registry).
pub(crate) const ASGI_EVENT_TYPE: Key = Key::from_static_str("asgi.event.type");

/// `http.request.method` (`_OTHER` for a method outside the standard set, with
/// the original in `http.request.method_original`).
fn push_method(method: &Method, attrs: &mut impl AttributeSink) {
    let known = sanitize_method(method);
    attrs.push(KeyValue::new(HTTP_REQUEST_METHOD, known));
    if known == "_OTHER" {
        attrs.push_str(HTTP_REQUEST_METHOD_ORIGINAL, method.as_str());
    }
}

/// `host` and `port` of an authority (`[::1]:8080`, `svc:3000`, `svc`), the
/// port defaulting to the scheme's.
fn host_and_port<'a>(authority: &'a str, scheme: &str) -> (&'a str, Option<u16>) {
    let authority = strip_userinfo(authority);
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p))
            if !h.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && !h.ends_with(':') =>
        {
            (h, p.parse().ok())
        }
        _ => (authority, None),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = port.or(match scheme {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    });
    (host, port)
}

/// The stable attributes of a server span known when the request arrives.
pub(crate) fn push_server_attributes(
    req: &RequestParts,
    route: Option<&str>,
    attrs: &mut impl AttributeSink,
) {
    let peer = req.peer;
    push_method(req.method(), attrs);
    let scheme = req.scheme();
    attrs.push_str(URL_SCHEME, scheme);
    attrs.push_str(URL_PATH, req.path());
    if let Some(target) = req.target().filter(|_| req.has_query()) {
        // Signed-URL secrets go through the same redaction as every attribute.
        let target = redacted_target(target);
        if let Some((_, query)) = super::url::split_query(&target) {
            attrs.push_str(URL_QUERY, query);
        }
    }
    if let Some(authority) = req.requested_host() {
        let (host, port) = host_and_port(authority, scheme);
        attrs.push_str(SERVER_ADDRESS, host);
        if let Some(port) = port {
            attrs.push(KeyValue::new(SERVER_PORT, i64::from(port)));
        }
    }
    if let Some(peer) = peer {
        attrs.push_written(CLIENT_ADDRESS, 15, |out| push_address(out, peer, false));
        attrs.repeat_last(NETWORK_PEER_ADDRESS);
        attrs.push(KeyValue::new(NETWORK_PEER_PORT, i64::from(peer.port())));
    }
    if let Some(version) = super::legacy::protocol_version(req.version()) {
        attrs.push(KeyValue::new(NETWORK_PROTOCOL_VERSION, version));
    }
    if let Some(ua) = req.user_agent() {
        attrs.push_str(USER_AGENT_ORIGINAL, ua);
    }
    if let Some(route) = route {
        attrs.push_str(super::legacy::HTTP_ROUTE, route);
    }
}

/// The stable attributes of a CLIENT span known before the call is sent.
pub(crate) fn push_client_attributes(method: &Method, uri: &Uri, attrs: &mut Vec<KeyValue>) {
    push_method(method, attrs);
    let scheme = uri.scheme_str().unwrap_or("http");
    if let Some(authority) = uri.authority() {
        let (host, port) = host_and_port(authority.as_str(), scheme);
        attrs.push(KeyValue::new(SERVER_ADDRESS, host.to_owned()));
        if let Some(port) = port {
            attrs.push(KeyValue::new(SERVER_PORT, i64::from(port)));
        }
        let target = uri.path_and_query().map_or("/", |pq| pq.as_str());
        attrs.push(KeyValue::new(
            URL_FULL,
            redacted_url(scheme, authority.as_str(), target),
        ));
    }
}

/// A response status under the key(s) the conventions in use name it, and
/// `error.type` (the code as text) when it is an error for this side.
pub(crate) fn push_status(
    semconv: Semconv,
    status: u16,
    error: bool,
    attrs: &mut impl AttributeSink,
) {
    if semconv.legacy() {
        attrs.push(KeyValue::new(HTTP_STATUS_CODE, i64::from(status)));
    }
    if semconv.stable() {
        attrs.push(KeyValue::new(HTTP_RESPONSE_STATUS_CODE, i64::from(status)));
        if error {
            attrs.push_str(ERROR_TYPE, itoa::Buffer::new().format(status));
        }
    }
}

/// A child span's ASGI message type: `type` (legacy), `asgi.event.type` (stable).
pub(crate) fn push_message_type(
    semconv: Semconv,
    message: &'static str,
    attrs: &mut impl AttributeSink,
) {
    if semconv.legacy() {
        attrs.push(KeyValue::new(TYPE, message));
    }
    if semconv.stable() {
        attrs.push(KeyValue::new(ASGI_EVENT_TYPE, message));
    }
}

/// `error.type` for an error without a status (an inner-service error, a
/// panic, a failed call): its type. Only the stable conventions have the key.
pub(crate) fn error_type(semconv: Semconv, kind: &str) -> Option<KeyValue> {
    semconv
        .stable()
        .then(|| KeyValue::new(ERROR_TYPE, kind.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities() {
        assert_eq!(host_and_port("svc:3000", "http"), ("svc", Some(3000)));
        assert_eq!(host_and_port("svc", "https"), ("svc", Some(443)));
        assert_eq!(host_and_port("u:p@svc", "http"), ("svc", Some(80)));
        assert_eq!(host_and_port("[::1]:8080", "http"), ("::1", Some(8080)));
        assert_eq!(host_and_port("[::1]", "http"), ("::1", Some(80)));
    }
}
