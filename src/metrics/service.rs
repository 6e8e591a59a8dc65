//! [`MetricsService`]: the pull endpoint, a tower service to mount like the
//! viewer (the example mounts it at `/metrics`).

use std::convert::Infallible;
use std::fmt;
use std::future::{ready, Ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use tower_service::Service;

use super::exposition::{render, Format};
use super::HttpMetrics;

/// The layer's metrics over HTTP: the Prometheus text format 0.0.4 by
/// default, OpenMetrics 1.0 with exemplars when the scraper's `Accept` header
/// asks for `application/openmetrics-text` (Prometheus does, with exemplar
/// storage on). Get it with [`TracingLayer::metrics`](crate::TracingLayer::metrics);
/// its own requests are not traced.
///
/// ```
/// use http_body_util::BodyExt;
/// use tower::{Layer, ServiceExt};
/// use tower_otel_tracing::{TracingConfig, TracingLayer};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let layer = TracingLayer::from_config(TracingConfig::default());
/// let metrics = layer.metrics(); // requests are measured from here on
/// let app = layer.layer(tower::service_fn(|_req: http::Request<_>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::from("hi")))
/// }));
/// let resp = app.oneshot(http::Request::new(String::new())).await.unwrap();
/// resp.into_body().collect().await.unwrap(); // the request ends with its body
///
/// let scrape = metrics
///     .oneshot(http::Request::get("/metrics").body(()).unwrap())
///     .await
///     .unwrap();
/// assert_eq!(scrape.status(), 200);
/// assert!(scrape.body().contains("http_server_request_duration_seconds_count{"));
/// # }
/// ```
#[derive(Clone)]
pub struct MetricsService {
    metrics: Arc<HttpMetrics>,
}

impl MetricsService {
    /// Requests are measured from now on.
    pub(crate) fn new(metrics: Arc<HttpMetrics>) -> Self {
        metrics.enable();
        MetricsService { metrics }
    }

    fn respond(&self, method: &Method, accept: Option<&HeaderValue>) -> Response<String> {
        if method != Method::GET && method != Method::HEAD {
            return Response::builder()
                .status(StatusCode::METHOD_NOT_ALLOWED)
                .header(header::ALLOW, "GET, HEAD")
                .body(String::new())
                .expect("a valid response");
        }
        let format = match accept.and_then(|v| v.to_str().ok()) {
            Some(accept) if accept.contains("application/openmetrics-text") => Format::OpenMetrics,
            _ => Format::Prometheus,
        };
        let body = render(&self.metrics, format);
        Response::builder()
            .header(header::CONTENT_TYPE, format.content_type())
            .header(header::CACHE_CONTROL, "no-store")
            .body(if method == Method::HEAD {
                String::new()
            } else {
                body
            })
            .expect("a valid response")
    }
}

impl fmt::Debug for MetricsService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsService").finish_non_exhaustive()
    }
}

impl<B> Service<Request<B>> for MetricsService {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        ready(Ok(
            self.respond(req.method(), req.headers().get(header::ACCEPT))
        ))
    }
}
