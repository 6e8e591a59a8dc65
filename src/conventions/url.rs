//! The request's URL as spans and `excluded_urls` see it: the host the client
//! addressed, the exclusion URL (`scheme://host/path`), and the redaction of
//! credentials and signed-URL secrets that every attribute carrying a query
//! string goes through.

use std::borrow::Cow;
use std::net::SocketAddr;

use http::{header, HeaderValue, Request, Uri};

use super::address::address_text;

/// Query parameters whose values are secrets (pre-signed URLs).
const SENSITIVE_QUERY_PARAMS: [&str; 4] =
    ["AWSAccessKeyId", "Signature", "sig", "X-Goog-Signature"];
const REDACTED: &str = "REDACTED";

pub(crate) fn scheme(uri: &Uri) -> &str {
    uri.scheme_str().unwrap_or("http")
}

/// The host the client addressed: the `Host` header (`host`), or the authority
/// of an absolute-form or HTTP/2 request target.
pub(crate) fn requested_host<'a>(host: Option<&'a HeaderValue>, uri: &'a Uri) -> Option<&'a str> {
    host.and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
}

/// `scheme://host/path` (no query), the string `excluded_urls` is matched against.
pub(crate) fn exclusion_url<B>(req: &Request<B>, local: Option<SocketAddr>) -> String {
    let scheme = scheme(req.uri());
    let path = req.uri().path();
    let mut url = String::with_capacity(scheme.len() + 3 + 32 + path.len());
    url.push_str(scheme);
    url.push_str("://");
    match (
        requested_host(req.headers().get(header::HOST), req.uri()),
        local,
    ) {
        (Some(host), _) => url.push_str(strip_userinfo(host)),
        (None, Some(addr)) => url.push_str(&address_text(addr, true)),
        (None, None) => {}
    }
    url.push_str(path);
    url
}

pub(crate) fn strip_userinfo(host: &str) -> &str {
    match host.bytes().rposition(|b| b == b'@') {
        Some(at) => &host[at + 1..],
        None => host,
    }
}

/// `scheme://host/target` with credentials and signed-URL secrets replaced.
pub(crate) fn redacted_url(scheme: &str, host: &str, target: &str) -> String {
    let mut url = String::with_capacity(scheme.len() + 3 + host.len() + target.len());
    push_redacted_url(&mut url, scheme, host, target);
    url
}

/// [`redacted_url`], appended to `url`.
pub(crate) fn push_redacted_url(url: &mut String, scheme: &str, host: &str, target: &str) {
    url.push_str(scheme);
    url.push_str("://");
    let bare_host = strip_userinfo(host);
    if bare_host.len() != host.len() {
        url.push_str("REDACTED:REDACTED@");
    }
    url.push_str(bare_host);
    push_redacted_target(url, target);
}

/// A request target (`/path?query`) with the values of signed-URL parameters
/// replaced. Every attribute that carries a query string goes through here or
/// [`redacted_url`]. Targets without a query (nearly all) are borrowed as they are.
pub(crate) fn redacted_target(target: &str) -> Cow<'_, str> {
    if !has_sensitive_param(target) {
        return Cow::Borrowed(target);
    }
    let mut out = String::with_capacity(target.len());
    push_redacted_target(&mut out, target);
    Cow::Owned(out)
}

/// `(path, query)` of a request target. A byte scan: targets are short, and
/// `str::split_once`'s searcher costs more than the scan on every call a
/// sampled request makes (`benches/peers`: `callgrind.py ours_rate1`).
pub(crate) fn split_query(target: &str) -> Option<(&str, &str)> {
    let at = target.bytes().position(|b| b == b'?')?;
    Some((&target[..at], &target[at + 1..]))
}

fn has_sensitive_param(target: &str) -> bool {
    split_query(target).is_some_and(|(_, query)| {
        query.split('&').any(|pair| {
            pair.split_once('=')
                .is_some_and(|(k, _)| SENSITIVE_QUERY_PARAMS.contains(&k))
        })
    })
}

fn push_redacted_target(out: &mut String, target: &str) {
    let Some((path, query)) = split_query(target) else {
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
