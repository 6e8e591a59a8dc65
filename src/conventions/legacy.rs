//! What the server span says about a request: its `http.*` / `net.*`
//! attributes, as the OpenTelemetry ASGI instrumentation under BentoML writes
//! them (the HTTP semantic conventions before v1.21:
//! <https://opentelemetry.io/docs/specs/semconv/http/>).

use http::Version;
use opentelemetry::{Key, KeyValue, Value};

use super::address::{address_text, push_address, TextCache};
use super::request_parts::RequestParts;
use super::sink::AttributeSink;
use super::url::{push_redacted_url, redacted_target, strip_userinfo};

pub(crate) const HTTP_SCHEME: Key = Key::from_static_str("http.scheme");
pub(crate) const HTTP_HOST: Key = Key::from_static_str("http.host");
pub(crate) const NET_HOST_PORT: Key = Key::from_static_str("net.host.port");
pub(crate) const HTTP_FLAVOR: Key = Key::from_static_str("http.flavor");
pub(crate) const HTTP_TARGET: Key = Key::from_static_str("http.target");
pub(crate) const HTTP_URL: Key = Key::from_static_str("http.url");
pub(crate) const HTTP_METHOD: Key = Key::from_static_str("http.method");
pub(crate) const HTTP_SERVER_NAME: Key = Key::from_static_str("http.server_name");
pub(crate) const HTTP_USER_AGENT: Key = Key::from_static_str("http.user_agent");
pub(crate) const NET_PEER_IP: Key = Key::from_static_str("net.peer.ip");
pub(crate) const NET_PEER_PORT: Key = Key::from_static_str("net.peer.port");
pub(crate) const HTTP_STATUS_CODE: Key = Key::from_static_str("http.status_code");
pub(crate) const TYPE: Key = Key::from_static_str("type");
pub(crate) const HTTP_ROUTE: Key = Key::from_static_str("http.route");
pub(crate) const HTTP_CANCELLED: Key = Key::from_static_str("http.cancelled");

/// The HTTP version as `http.flavor` and `network.protocol.version` write it.
pub(crate) fn protocol_version(version: Version) -> Option<&'static str> {
    Some(match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_11 => "1.1",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => return None,
    })
}

/// All legacy attributes known when the request arrives.
pub(crate) fn push_request_attributes(
    req: &RequestParts,
    method: &'static str,
    texts: &TextCache,
    attrs: &mut impl AttributeSink,
) {
    let (local, peer) = (req.local, req.peer);
    let scheme = req.scheme();
    attrs.push(KeyValue::new(HTTP_SCHEME, static_scheme(scheme)));
    if let Some(local) = local {
        attrs.push(KeyValue::new(HTTP_HOST, texts.host.value(local)));
        attrs.push(KeyValue::new(NET_HOST_PORT, i64::from(local.port())));
    }
    if let Some(f) = protocol_version(req.version()) {
        attrs.push(KeyValue::new(HTTP_FLAVOR, f));
    }
    let target = req.target().unwrap_or("/");
    attrs.push_cow(HTTP_TARGET, redacted_target(target));
    let requested = req.requested_host();
    let url = |attrs: &mut _, host: &str| {
        let capacity = scheme.len() + 3 + host.len() + target.len();
        AttributeSink::push_written(attrs, HTTP_URL, capacity, |out| {
            push_redacted_url(out, scheme, host, target)
        });
    };
    match (requested, local) {
        (Some(host), _) => url(attrs, host),
        (None, Some(local)) => url(attrs, &address_text(local, true)),
        (None, None) => {}
    }
    attrs.push(KeyValue::new(HTTP_METHOD, method));
    if let Some(server_name) = requested {
        attrs.push(KeyValue::new(
            HTTP_SERVER_NAME,
            texts.server_name.value(strip_userinfo(server_name)),
        ));
    }
    if let Some(ua) = req.user_agent() {
        attrs.push_str(HTTP_USER_AGENT, ua);
    }
    if let Some(peer) = peer {
        attrs.push_written(NET_PEER_IP, 15, |out| push_address(out, peer, false));
        attrs.push(KeyValue::new(NET_PEER_PORT, i64::from(peer.port())));
    }
}

fn static_scheme(scheme: &str) -> Value {
    match scheme {
        "http" => Value::from("http"),
        "https" => Value::from("https"),
        other => Value::from(other.to_owned()),
    }
}
