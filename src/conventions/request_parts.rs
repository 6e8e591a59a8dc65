//! What a recorded request retains to be described at its end (sampled, or
//! kept if it ends as an error or slowly): the parts `describe` reads, not the
//! attributes themselves.
//!
//! A sampled request's text is copied (`request_text.rs` says why clones of the
//! request's `Uri` and headers are not kept past it). A request the keep rules
//! may keep holds clones (reference counts): its record ends with the request
//! unless it is kept, which few are, and the copy would cost every unsampled
//! request (`benches/peers`: `callgrind.py ours_rate0_keep`).

use std::net::SocketAddr;

use http::{header, HeaderValue, Method, Request, Uri, Version};

use super::options::Conventions;
use super::request_text::{Piece, RequestText};
use super::url::{requested_host, scheme};

pub(crate) struct RequestParts {
    method: Method,
    version: Version,
    text: Text,
    /// A gRPC call: all `describe` reads of `content-type`.
    grpc: bool,
    /// Values of the opted-in request headers (only when some are opted in).
    recorded: Vec<(http::HeaderName, HeaderValue)>,
    pub(crate) local: Option<SocketAddr>,
    pub(crate) peer: Option<SocketAddr>,
    #[cfg(feature = "axum")]
    route: Option<axum::extract::MatchedPath>,
}

/// How the request's text is kept.
enum Text {
    /// Clones of the request's own (reference counts into its buffer).
    Shared {
        uri: Uri,
        host: Option<HeaderValue>,
        user_agent: Option<HeaderValue>,
    },
    Copied(CopiedText),
}

/// The text copied out, and where each piece is.
struct CopiedText {
    text: RequestText,
    /// The URI's scheme, when the request target has one (`http` if not).
    scheme: Option<Piece>,
    /// The URI's authority (absolute-form and HTTP/2 targets).
    authority: Option<Piece>,
    path: Piece,
    /// The path and query as sent, when the URI has them.
    target: Option<Piece>,
    /// `Host` and `User-Agent`, when they are text.
    host: Option<Piece>,
    user_agent: Option<Piece>,
}

impl CopiedText {
    /// `host` and `user_agent` only when they are text.
    #[inline(always)]
    fn new(uri: &Uri, host: Option<&str>, user_agent: Option<&str>) -> Self {
        let (scheme, authority) = (uri.scheme_str(), uri.authority().map(|a| a.as_str()));
        let (path, target) = (uri.path(), uri.path_and_query());
        let target_str = target.map(|t| t.as_str());
        // The path is the target's start but for odd targets (`*`, an empty one).
        let path_in_target = target_str.is_some_and(|t| t.starts_with(path));
        let len = [scheme, authority, target_str, host, user_agent]
            .iter()
            .flatten()
            .map(|s| s.len())
            .sum::<usize>()
            + if path_in_target { 0 } else { path.len() };
        let mut text = RequestText::with_capacity(len);
        let mut copy = |s: Option<&str>| s.map(|s| text.push(s));
        let (scheme, authority) = (copy(scheme), copy(authority));
        let target_piece = copy(target_str);
        let (host, user_agent) = (copy(host), copy(user_agent));
        let path = match target_piece {
            Some(t) if path_in_target => t.prefix(path.len()),
            _ => text.push(path),
        };
        CopiedText {
            text,
            scheme,
            authority,
            path,
            target: target_piece,
            host,
            user_agent,
        }
    }
}

/// Whether a record keeps copies of the request's text or clones of it.
#[derive(Clone, Copy)]
pub(crate) enum Keep {
    Copies,
    Clones,
}

impl RequestParts {
    #[inline(always)]
    pub(crate) fn capture<B>(req: &Request<B>, conventions: &Conventions, keep: Keep) -> Self {
        let headers = req.headers();
        let (local, peer) = crate::request::addresses(req.extensions(), conventions.local_addr);
        let mut recorded = Vec::new();
        for (i, h) in conventions.request_headers.iter().enumerate() {
            // A name opted in twice is recorded once, as from the live request.
            if conventions.request_headers[..i]
                .iter()
                .any(|e| e.name() == h.name())
            {
                continue;
            }
            for v in headers.get_all(h.name()) {
                let v = match keep {
                    Keep::Clones => v.clone(),
                    Keep::Copies => match HeaderValue::from_bytes(v.as_bytes()) {
                        Ok(v) => v,
                        Err(_) => continue,
                    },
                };
                recorded.push((h.name().clone(), v));
            }
        }
        // One pass over a request's few headers costs less than three hashed
        // lookups (the same reasoning as the propagation check).
        let (mut host, mut user_agent, mut content_type) = (None, None, None);
        for (name, value) in headers {
            let slot = if name == header::HOST {
                &mut host
            } else if name == header::USER_AGENT {
                &mut user_agent
            } else if name == header::CONTENT_TYPE {
                content_type.get_or_insert(value);
                continue;
            } else {
                continue;
            };
            if slot.is_none() {
                *slot = Some(value);
            }
        }
        let text = match keep {
            Keep::Clones => Text::Shared {
                uri: req.uri().clone(),
                host: host.cloned(),
                user_agent: user_agent.cloned(),
            },
            Keep::Copies => Text::Copied(CopiedText::new(
                req.uri(),
                host.and_then(|v| v.to_str().ok()),
                user_agent.and_then(|v| v.to_str().ok()),
            )),
        };
        RequestParts {
            method: req.method().clone(),
            version: req.version(),
            text,
            // As `grpc::is_grpc_headers` judges it, without a second lookup.
            grpc: content_type.is_some_and(|v| {
                v.as_bytes().starts_with(b"application/grpc") && v.to_str().is_ok()
            }),
            recorded,
            local,
            peer,
            #[cfg(feature = "axum")]
            // `describe` reads the route only for route names or the stable
            // conventions: otherwise neither the lookup nor the clone is needed.
            route: (conventions.route_names || conventions.semconv.stable())
                .then(|| req.extensions().get::<axum::extract::MatchedPath>().cloned())
                .flatten(),
        }
    }

    /// Whether it is a gRPC call (`content-type: application/grpc...`).
    pub(crate) fn is_grpc(&self) -> bool {
        self.grpc
    }

    pub(crate) fn method(&self) -> &Method {
        &self.method
    }

    /// The URI's path (as `Uri::path` gives it).
    pub(crate) fn path(&self) -> &str {
        match &self.text {
            Text::Shared { uri, .. } => uri.path(),
            Text::Copied(c) => c.text.get(c.path),
        }
    }

    /// The path and query as sent (`Uri::path_and_query`), if the URI has them.
    pub(crate) fn target(&self) -> Option<&str> {
        match &self.text {
            Text::Shared { uri, .. } => uri.path_and_query().map(|t| t.as_str()),
            Text::Copied(c) => c.target.map(|t| c.text.get(t)),
        }
    }

    /// Whether the target has a query (even an empty one).
    pub(crate) fn has_query(&self) -> bool {
        match &self.text {
            Text::Shared { uri, .. } => uri.path_and_query().is_some_and(|t| t.query().is_some()),
            // A parsed target has a query exactly when it has a `?`.
            Text::Copied(c) => c.target.is_some_and(|t| c.text.get(t).contains('?')),
        }
    }

    pub(crate) fn version(&self) -> Version {
        self.version
    }

    /// The request's scheme (`http` unless its target says otherwise).
    pub(crate) fn scheme(&self) -> &str {
        match &self.text {
            Text::Shared { uri, .. } => scheme(uri),
            Text::Copied(c) => c.scheme.map_or("http", |s| c.text.get(s)),
        }
    }

    /// The host the client addressed: the `Host` header, or the authority of
    /// an absolute-form or HTTP/2 request target.
    pub(crate) fn requested_host(&self) -> Option<&str> {
        match &self.text {
            Text::Shared { uri, host, .. } => requested_host(host.as_ref(), uri),
            Text::Copied(c) => c.host.or(c.authority).map(|h| c.text.get(h)),
        }
    }

    /// The `User-Agent` header, if it is text.
    pub(crate) fn user_agent(&self) -> Option<&str> {
        match &self.text {
            Text::Shared { user_agent, .. } => user_agent.as_ref().and_then(|v| v.to_str().ok()),
            Text::Copied(c) => c.user_agent.map(|ua| c.text.get(ua)),
        }
    }

    /// The opted-in request headers' values, in the order they were opted in.
    pub(crate) fn recorded(&self) -> &[(http::HeaderName, HeaderValue)] {
        &self.recorded
    }

    /// The route template the router matched (`/users/{id}`), where the stack
    /// knows one and `describe` reads it.
    pub(crate) fn route(&self) -> Option<&str> {
        #[cfg(feature = "axum")]
        if let Some(route) = &self.route {
            return Some(route.as_str());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conventions::url;

    /// The parts read back exactly what the live request's `Uri` and headers
    /// give, for the odd request targets too, inline and on the heap.
    #[test]
    fn parts_read_as_the_live_request_does() {
        let conventions = Conventions::legacy();
        let long = format!("/{}?q={}", "p".repeat(200), "v".repeat(300));
        let targets = [
            "/",
            "/summarize",
            "/a?b=1&c",
            "/a?",
            "/a#frag?x",
            "/a?b#c",
            "*",
            "http://example.com",
            "https://user:pw@example.com:8443/x?y=z",
            "example.com:443",
            long.as_str(),
        ];
        let hosts = [None, Some("svc.local:3000"), Some("h\u{e9}st")];
        for target in targets {
            for host in hosts {
                let mut req = http::Request::new(());
                *req.uri_mut() = target.parse().unwrap();
                if let Some(host) = host {
                    let value = HeaderValue::from_bytes(host.as_bytes()).unwrap();
                    req.headers_mut().insert(header::HOST, value);
                }
                req.headers_mut()
                    .insert(header::USER_AGENT, HeaderValue::from_static("bench/1.0"));
                for keep in [Keep::Copies, Keep::Clones] {
                    let parts = RequestParts::capture(&req, &conventions, keep);
                    let uri = req.uri();
                    assert_eq!(parts.path(), uri.path(), "{target}");
                    assert_eq!(parts.target(), uri.path_and_query().map(|t| t.as_str()));
                    assert_eq!(
                        parts.has_query(),
                        uri.path_and_query().is_some_and(|t| t.query().is_some())
                    );
                    assert_eq!(parts.scheme(), url::scheme(uri));
                    assert_eq!(
                        parts.requested_host(),
                        url::requested_host(req.headers().get(header::HOST), uri),
                        "{target} {host:?}"
                    );
                    assert_eq!(parts.user_agent(), Some("bench/1.0"));
                }
            }
        }
    }
}
