//! [`TracingClientService`]: the client layer around one HTTP client service.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use super::body::ClientResponseBody;
use super::call::{start, ClientState};
use super::future::ClientResponseFuture;

/// The service [`TracingClientLayer`](super::TracingClientLayer) wraps around an
/// HTTP client (hyper-util's `Client`, a tonic `Channel`, any tower stack).
///
/// ```
/// use tower::ServiceExt;
/// use tower_otel_tracing::{TracingConfig, TracingLayer};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let layer = TracingLayer::from_config(TracingConfig::default());
/// let client = tower::ServiceBuilder::new()
///     .layer(layer.client())
///     .service_fn(|req: http::Request<String>| async move {
///         // The caller's trace went out with the request.
///         let sent = req.headers().contains_key("traceparent");
///         Ok::<_, std::convert::Infallible>(http::Response::new(sent.to_string()))
///     });
/// let resp = client.oneshot(http::Request::new(String::new())).await.unwrap();
/// let body = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap();
/// assert_eq!(&body.to_bytes()[..], b"true");
/// # }
/// ```
#[derive(Clone)]
pub struct TracingClientService<S> {
    inner: S,
    state: Arc<ClientState>,
}

impl<S> TracingClientService<S> {
    pub(crate) fn new(inner: S, state: Arc<ClientState>) -> Self {
        TracingClientService { inner, state }
    }

    /// The wrapped client.
    ///
    /// ```
    /// use tower::Layer;
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// struct UsersApi {
    ///     base_url: &'static str,
    /// }
    ///
    /// let layer = TracingLayer::from_config(TracingConfig::default());
    /// let client = layer.client().layer(UsersApi { base_url: "http://users.internal" });
    /// assert_eq!(client.get_ref().base_url, "http://users.internal");
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: fmt::Debug> fmt::Debug for TracingClientService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracingClientService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for TracingClientService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: fmt::Display,
    ResBody: http_body::Body,
{
    type Response = Response<ClientResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ClientResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let (mut parts, body) = req.into_parts();
        let span = start(&self.state, &parts.method, &parts.uri, &mut parts.headers);
        let req = Request::from_parts(parts, body);
        ClientResponseFuture::new(self.inner.call(req), span)
    }
}
