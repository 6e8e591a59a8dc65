//! What the server span says about a request: its name and its `http.*` / `net.*`
//! attributes, as the OpenTelemetry ASGI instrumentation under BentoML writes them.

use std::fmt::Write as _;
use std::net::SocketAddr;

use http::{header, Method, Request, Version};
use opentelemetry::{Key, KeyValue, Value};

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

/// Query parameters whose values are secrets (pre-signed URLs).
const SENSITIVE_QUERY_PARAMS: [&str; 4] =
    ["AWSAccessKeyId", "Signature", "sig", "X-Goog-Signature"];
const REDACTED: &str = "REDACTED";

/// The method as it appears in span names and `http.method`: upper-cased, and
/// `_OTHER` for anything outside the standard set (unbounded names would explode
/// cardinality in every backend).
pub(crate) fn sanitize_method(method: &Method) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE", "CONNECT",
    ];
    let m = method.as_str();
    KNOWN
        .iter()
        .find(|k| k.eq_ignore_ascii_case(m))
        .copied()
        .unwrap_or("_OTHER")
}

/// `"{METHOD} {path}"`; an unknown method is named `HTTP`.
pub(crate) fn span_name(method: &'static str, path: &str) -> String {
    let method = if method == "_OTHER" { "HTTP" } else { method };
    let mut name = String::with_capacity(method.len() + 1 + path.len());
    name.push_str(method);
    name.push(' ');
    name.push_str(path);
    name
}

pub(crate) fn scheme<B>(req: &Request<B>) -> &str {
    req.uri().scheme_str().unwrap_or("http")
}

/// The host the client addressed: the `Host` header, or the authority of an
/// absolute-form or HTTP/2 request target.
pub(crate) fn requested_host<B>(req: &Request<B>) -> Option<&str> {
    req.headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
}

/// `scheme://host/path` (no query), the string `excluded_urls` is matched against.
pub(crate) fn exclusion_url<B>(req: &Request<B>, local: Option<SocketAddr>) -> String {
    let scheme = scheme(req);
    let path = req.uri().path();
    let mut url = String::with_capacity(scheme.len() + 3 + 32 + path.len());
    url.push_str(scheme);
    url.push_str("://");
    match (requested_host(req), local) {
        (Some(host), _) => url.push_str(strip_userinfo(host)),
        (None, Some(addr)) => {
            let _ = write!(url, "{addr}");
        }
        (None, None) => {}
    }
    url.push_str(path);
    url
}

fn strip_userinfo(host: &str) -> &str {
    match host.bytes().rposition(|b| b == b'@') {
        Some(at) => &host[at + 1..],
        None => host,
    }
}

fn flavor(version: Version) -> Option<&'static str> {
    Some(match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_11 => "1.1",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => return None,
    })
}

/// The server's own address as `ip:port`, or just `ip` on port 80 (as ASGI reports it).
pub(crate) fn host_attribute(local: SocketAddr) -> String {
    address_text(local, local.port() != 80)
}

/// `ip` or `ip:port`. IPv4 (nearly every request) is written by hand: the `Display`
/// impls go through the formatting machinery and cost ten times as much.
pub(crate) fn address_text(addr: SocketAddr, with_port: bool) -> String {
    match addr {
        SocketAddr::V4(v4) => {
            let mut out = String::with_capacity(21);
            for (i, octet) in v4.ip().octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                push_decimal(&mut out, u16::from(octet));
            }
            if with_port {
                out.push(':');
                push_decimal(&mut out, v4.port());
            }
            out
        }
        SocketAddr::V6(_) if with_port => addr.to_string(),
        SocketAddr::V6(v6) => v6.ip().to_string(),
    }
}

fn push_decimal(out: &mut String, n: u16) {
    let mut buf = [0; 20];
    for &d in crate::decimal::digits(u64::from(n), &mut buf) {
        out.push(char::from(d));
    }
}

/// Attribute texts that nearly every request repeats, kept as shared strings so a
/// request clones a pointer instead of allocating and formatting: the server's own
/// address and the name clients address it by. Each keeps the first value seen;
/// others are made afresh, so a cache can only save work, never show a stale value.
#[derive(Default)]
pub(crate) struct TextCache {
    host: HostCache,
    server_name: FirstText,
}

#[derive(Default)]
pub(crate) struct FirstText(std::sync::OnceLock<std::sync::Arc<str>>);

impl FirstText {
    pub(crate) fn value(&self, text: &str) -> Value {
        let first = self.0.get_or_init(|| text.into());
        if **first == *text {
            Value::String(first.clone().into())
        } else {
            Value::from(text.to_owned())
        }
    }
}

/// The `http.host` text of the server's own address, formatted once.
#[derive(Default)]
pub(crate) struct HostCache(std::sync::OnceLock<(SocketAddr, std::sync::Arc<str>)>);

impl HostCache {
    pub(crate) fn value(&self, local: SocketAddr) -> Value {
        let (addr, text) = self.0.get_or_init(|| (local, host_attribute(local).into()));
        if *addr == local {
            Value::String(text.clone().into())
        } else {
            Value::from(host_attribute(local))
        }
    }
}

/// All attributes known when the request arrives.
pub(crate) fn request_attributes<B>(
    req: &Request<B>,
    method: &'static str,
    local: Option<SocketAddr>,
    peer: Option<SocketAddr>,
    texts: &TextCache,
) -> Vec<KeyValue> {
    let mut attrs = Vec::with_capacity(13);
    let scheme = scheme(req);
    attrs.push(KeyValue::new(HTTP_SCHEME, static_scheme(scheme)));
    if let Some(local) = local {
        attrs.push(KeyValue::new(HTTP_HOST, texts.host.value(local)));
        attrs.push(KeyValue::new(NET_HOST_PORT, i64::from(local.port())));
    }
    if let Some(f) = flavor(req.version()) {
        attrs.push(KeyValue::new(HTTP_FLAVOR, f));
    }
    let target = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
    attrs.push(KeyValue::new(
        HTTP_TARGET,
        redacted_target(target).into_owned(),
    ));
    let requested = requested_host(req);
    match (requested, local) {
        (Some(host), _) => attrs.push(KeyValue::new(HTTP_URL, redacted_url(scheme, host, target))),
        (None, Some(local)) => {
            let host = address_text(local, true);
            attrs.push(KeyValue::new(HTTP_URL, redacted_url(scheme, &host, target)));
        }
        (None, None) => {}
    }
    attrs.push(KeyValue::new(HTTP_METHOD, method));
    if let Some(server_name) = requested {
        attrs.push(KeyValue::new(
            HTTP_SERVER_NAME,
            texts.server_name.value(strip_userinfo(server_name)),
        ));
    }
    if let Some(ua) = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|h| h.to_str().ok())
    {
        attrs.push(KeyValue::new(HTTP_USER_AGENT, ua.to_owned()));
    }
    if let Some(peer) = peer {
        attrs.push(KeyValue::new(NET_PEER_IP, address_text(peer, false)));
        attrs.push(KeyValue::new(NET_PEER_PORT, i64::from(peer.port())));
    }
    attrs
}

fn static_scheme(scheme: &str) -> Value {
    match scheme {
        "http" => Value::from("http"),
        "https" => Value::from("https"),
        other => Value::from(other.to_owned()),
    }
}

/// `scheme://host/target` with credentials and signed-URL secrets replaced.
pub(crate) fn redacted_url(scheme: &str, host: &str, target: &str) -> String {
    let mut url = String::with_capacity(scheme.len() + 3 + host.len() + target.len());
    url.push_str(scheme);
    url.push_str("://");
    let bare_host = strip_userinfo(host);
    if bare_host.len() != host.len() {
        url.push_str("REDACTED:REDACTED@");
    }
    url.push_str(bare_host);
    push_redacted_target(&mut url, target);
    url
}

/// A request target (`/path?query`) with the values of signed-URL parameters
/// replaced. Every attribute that carries a query string goes through here or
/// [`redacted_url`]. Targets without a query (nearly all) are borrowed as they are.
pub(crate) fn redacted_target(target: &str) -> std::borrow::Cow<'_, str> {
    if !has_sensitive_param(target) {
        return std::borrow::Cow::Borrowed(target);
    }
    let mut out = String::with_capacity(target.len());
    push_redacted_target(&mut out, target);
    std::borrow::Cow::Owned(out)
}

fn has_sensitive_param(target: &str) -> bool {
    target.split_once('?').is_some_and(|(_, query)| {
        query.split('&').any(|pair| {
            pair.split_once('=')
                .is_some_and(|(k, _)| SENSITIVE_QUERY_PARAMS.contains(&k))
        })
    })
}

fn push_redacted_target(out: &mut String, target: &str) {
    let Some((path, query)) = target.split_once('?') else {
        out.push_str(target);
        return;
    };
    out.push_str(path);
    out.push('?');
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((k, _)) if SENSITIVE_QUERY_PARAMS.contains(&k) => {
                out.push_str(k);
                out.push('=');
                out.push_str(REDACTED);
            }
            _ => out.push_str(pair),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_sanitized() {
        assert_eq!(sanitize_method(&Method::POST), "POST");
        assert_eq!(sanitize_method(&Method::from_bytes(b"get").unwrap()), "GET");
        assert_eq!(
            sanitize_method(&Method::from_bytes(b"BREW").unwrap()),
            "_OTHER"
        );
        assert_eq!(span_name("_OTHER", "/pot"), "HTTP /pot");
        assert_eq!(span_name("POST", "/summarize"), "POST /summarize");
    }

    #[test]
    fn url_secrets_are_redacted() {
        assert_eq!(
            redacted_url("http", "u:p@example.com", "/a?Signature=s3cr3t&x=1&sig=2&AWSAccessKeyId=k"),
            "http://REDACTED:REDACTED@example.com/a?Signature=REDACTED&x=1&sig=REDACTED&AWSAccessKeyId=REDACTED"
        );
        assert_eq!(
            redacted_url("https", "h:1", "/p?X-Goog-Signature=abc"),
            "https://h:1/p?X-Goog-Signature=REDACTED"
        );
        assert_eq!(redacted_url("http", "h", "/p"), "http://h/p");
        assert_eq!(redacted_target("/p?a=1"), "/p?a=1");
        assert_eq!(
            redacted_target("/o?X-Goog-Signature=abc&x=sig&sig=1"),
            "/o?X-Goog-Signature=REDACTED&x=sig&sig=REDACTED"
        );
        assert!(matches!(
            redacted_target("/p?sig"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn addresses_format_like_display() {
        for addr in [
            "0.0.0.0:0",
            "127.0.0.1:3000",
            "255.255.255.255:65535",
            "10.0.0.9:80",
            "[::1]:8080",
            "[2001:db8::1]:80",
        ] {
            let addr: SocketAddr = addr.parse().unwrap();
            assert_eq!(address_text(addr, true), addr.to_string());
            assert_eq!(address_text(addr, false), addr.ip().to_string());
        }
        assert_eq!(host_attribute("10.0.0.9:80".parse().unwrap()), "10.0.0.9");
        let cache = HostCache::default();
        let a: SocketAddr = "127.0.0.1:3000".parse().unwrap();
        let b: SocketAddr = "127.0.0.2:3001".parse().unwrap();
        assert_eq!(cache.value(a).as_str(), "127.0.0.1:3000");
        assert_eq!(cache.value(b).as_str(), "127.0.0.2:3001");
        assert_eq!(cache.value(a).as_str(), "127.0.0.1:3000");
        let names = FirstText::default();
        assert_eq!(names.value("svc:3000").as_str(), "svc:3000");
        assert_eq!(names.value("other").as_str(), "other");
        assert_eq!(names.value("svc:3000").as_str(), "svc:3000");
    }

    #[test]
    fn exclusion_url_has_no_query() {
        let req = Request::get("/readyz?probe=1")
            .header("host", "svc:3000")
            .body(())
            .unwrap();
        assert_eq!(exclusion_url(&req, None), "http://svc:3000/readyz");
        let req = Request::get("/readyz").body(()).unwrap();
        let local = "127.0.0.1:8080".parse().ok();
        assert_eq!(exclusion_url(&req, local), "http://127.0.0.1:8080/readyz");
    }
}
