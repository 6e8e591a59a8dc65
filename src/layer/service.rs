//! [`TracingService`]: the layer around one service. `call` decides how the
//! request is traced, wraps its body, and returns the future that follows it.

use std::fmt;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use http::{Request, Response};
use tower_service::Service;

use super::decision::{start, Tracked};
use super::future::ResponseFuture;
use super::request_body::RequestBody;
use super::response_body::ResponseBody;
use super::state::LayerState;

/// The service [`TracingLayer`](crate::TracingLayer) wraps around yours.
///
/// The inner service sees the request body wrapped in [`RequestBody`] (so each frame
/// it reads can be recorded) and returns its response, whose body is wrapped in
/// [`ResponseBody`] (so the server span lasts until the last frame is sent).
///
/// ```
/// use tower::ServiceExt;
/// use tower_otel_tracing::layer::RequestBody;
/// use tower_otel_tracing::{TracingConfig, TracingLayer};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let svc = tower::ServiceBuilder::new()
///     .layer(TracingLayer::from_config(TracingConfig::default()))
///     .service_fn(|_req: http::Request<RequestBody<String>>| async {
///         Ok::<_, std::convert::Infallible>(http::Response::new(String::from("ok")))
///     });
/// let resp = svc.oneshot(http::Request::new(String::new())).await.unwrap();
/// assert_eq!(resp.status(), 200);
/// # }
/// ```
#[derive(Clone)]
pub struct TracingService<S> {
    inner: S,
    state: Arc<LayerState>,
}

impl<S> TracingService<S> {
    pub(crate) fn new(inner: S, state: Arc<LayerState>) -> Self {
        TracingService { inner, state }
    }

    /// The wrapped service.
    ///
    /// ```
    /// use tower::Layer;
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// struct Users {
    ///     table: &'static str,
    /// }
    ///
    /// let layer = TracingLayer::from_config(TracingConfig::default());
    /// let svc = layer.layer(Users { table: "users" });
    /// assert_eq!(svc.get_ref().table, "users");
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: fmt::Debug> fmt::Debug for TracingService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracingService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for TracingService<S>
where
    S: Service<Request<RequestBody<ReqBody>>, Response = Response<ResBody>>,
    S::Error: fmt::Display,
    ResBody: http_body::Body,
    ResBody::Error: fmt::Display,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let tracked = start(&self.state, &mut req);
        let body_span = match &tracked {
            Tracked::Recorded(rs) => Some(rs.clone()),
            _ => None,
        };
        let req = req.map(|b| RequestBody::new(b, body_span));
        let headers = match tracked {
            Tracked::Untraced | Tracked::Excluded(_) => None,
            _ => self.state.trace_headers.clone(),
        };
        ResponseFuture::new(self.inner.call(req), tracked, headers)
    }
}
