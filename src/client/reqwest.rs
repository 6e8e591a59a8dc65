//! The client layer for `reqwest`, the client most Rust services call out with,
//! as a `reqwest-middleware` middleware (feature `reqwest`).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use http::Extensions;
use reqwest::{Request, Response, ResponseBuilderExt as _};
use reqwest_middleware::{Middleware, Next};

use super::body::ClientResponseBody;
use super::call::{start, Call, ClientSpan, ClientState};
use crate::conventions::failure::Failure;
use crate::metrics::ClientMeasure;

/// Traces calls made through a `reqwest_middleware::ClientWithMiddleware`: the
/// same injection and CLIENT span as [`TracingClientLayer`](super::TracingClientLayer),
/// which makes it ([`TracingClientLayer::reqwest`](super::TracingClientLayer::reqwest)).
///
/// ```
/// use tower_otel_tracing::{TracingConfig, TracingLayer};
///
/// let layer = TracingLayer::from_config(TracingConfig::default());
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(layer.client().reqwest())
///     .build();
/// ```
#[derive(Clone)]
pub struct ReqwestTracing {
    state: Arc<ClientState>,
}

impl ReqwestTracing {
    pub(crate) fn new(state: Arc<ClientState>) -> Self {
        ReqwestTracing { state }
    }
}

impl fmt::Debug for ReqwestTracing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReqwestTracing").finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl Middleware for ReqwestTracing {
    async fn handle(
        &self,
        mut req: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let (mut span, mut measure) = match req.url().as_str().parse::<http::Uri>() {
            Ok(uri) => {
                let method = req.method().clone();
                start(&self.state, &method, &uri, req.headers_mut())
            }
            Err(_) => (None, None),
        };
        let mut call = Call {
            span: &mut span,
            measure: &mut measure,
        };
        match next.run(req, extensions).await {
            Ok(resp) => {
                if call.span.is_none() && call.measure.is_none() {
                    return Ok(resp);
                }
                call.response(resp.status().as_u16(), resp.headers());
                Ok(until_body_ends(resp, span, measure))
            }
            Err(err) => {
                call.fail(Failure {
                    kind: Cow::Borrowed(std::any::type_name::<reqwest_middleware::Error>()),
                    message: Cow::Owned(err.to_string()),
                });
                call.end();
                Err(err)
            }
        }
    }
}

/// The same response, its body wrapped so the call ends with the body.
fn until_body_ends(
    resp: Response,
    span: Option<ClientSpan>,
    measure: Option<Box<ClientMeasure>>,
) -> Response {
    let url = resp.url().clone();
    let (mut parts, body) = http::Response::<reqwest::Body>::from(resp).into_parts();
    // The URL travels in an extension only reqwest's builder can set.
    if let Ok(with_url) = http::Response::builder().url(url).body(()) {
        parts.extensions.extend(with_url.into_parts().0.extensions);
    }
    let body = reqwest::Body::wrap(ClientResponseBody::new(body, span, measure));
    Response::from(http::Response::from_parts(parts, body))
}
