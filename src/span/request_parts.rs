//! What a request that might be kept must retain to be described at its end:
//! the parts `describe` reads, as cheap clones (reference counts for the URI and
//! header values of a parsed request), not the attributes themselves.

use std::net::SocketAddr;

use http::{header, HeaderMap, HeaderValue, Method, Request, Uri, Version};

use super::recorder::Recorder;

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
        for h in &recorder.request_headers {
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

    /// A body-less request with the same parts, for `describe`.
    pub(crate) fn rebuild(&self) -> Request<()> {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            (header::HOST, &self.host),
            (header::USER_AGENT, &self.user_agent),
        ] {
            if let Some(value) = value {
                headers.insert(name, value.clone());
            }
        }
        if self.grpc {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/grpc"),
            );
        }
        for (name, value) in &self.recorded {
            headers.append(name.clone(), value.clone());
        }
        let mut req = Request::new(());
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.uri.clone();
        *req.version_mut() = self.version;
        *req.headers_mut() = headers;
        #[cfg(feature = "axum")]
        if let Some(route) = &self.route {
            req.extensions_mut().insert(route.clone());
        }
        req
    }
}
