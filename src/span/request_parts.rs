//! What a recorded request retains to be described at its end (sampled, or
//! kept if it ends as an error or slowly): the parts `describe` reads, as cheap
//! clones (reference counts for the URI and header values of a parsed request),
//! not the attributes themselves.

use std::net::SocketAddr;

use http::{header, HeaderValue, Method, Request, Uri, Version};

use super::recorder::Recorder;
use super::url::{requested_host, scheme};

pub(crate) struct RequestParts {
    method: Method,
    uri: Uri,
    version: Version,
    host: Option<HeaderValue>,
    user_agent: Option<HeaderValue>,
    /// A gRPC call: all `describe` reads of `content-type`.
    grpc: bool,
    /// Values of the opted-in request headers (only when some are opted in).
    recorded: Vec<(http::HeaderName, HeaderValue)>,
    pub(crate) local: Option<SocketAddr>,
    pub(crate) peer: Option<SocketAddr>,
    #[cfg(feature = "axum")]
    route: Option<axum::extract::MatchedPath>,
}

impl RequestParts {
    #[inline(always)]
    pub(crate) fn capture<B>(req: &Request<B>, recorder: &Recorder) -> Self {
        let headers = req.headers();
        let (local, peer) = crate::request::addresses(req.extensions(), recorder.local_addr);
        let mut recorded = Vec::new();
        for (i, h) in recorder.request_headers.iter().enumerate() {
            // A name opted in twice is recorded once, as from the live request.
            if recorder.request_headers[..i]
                .iter()
                .any(|e| e.name() == h.name())
            {
                continue;
            }
            for v in headers.get_all(h.name()) {
                recorded.push((h.name().clone(), v.clone()));
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
                *slot = Some(value.clone());
            }
        }
        RequestParts {
            method: req.method().clone(),
            uri: req.uri().clone(),
            version: req.version(),
            host,
            user_agent,
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
            route: (recorder.route_names || recorder.semconv.stable())
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

    pub(crate) fn uri(&self) -> &Uri {
        &self.uri
    }

    pub(crate) fn version(&self) -> Version {
        self.version
    }

    /// The request's scheme (`http` unless its target says otherwise).
    pub(crate) fn scheme(&self) -> &str {
        scheme(&self.uri)
    }

    /// The host the client addressed (see [`requested_host`]).
    pub(crate) fn requested_host(&self) -> Option<&str> {
        requested_host(self.host.as_ref(), &self.uri)
    }

    /// The `User-Agent` header, if it is text.
    pub(crate) fn user_agent(&self) -> Option<&str> {
        self.user_agent.as_ref().and_then(|v| v.to_str().ok())
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
