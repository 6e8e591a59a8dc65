//! [`TraceViewer`]: the tower service that serves the pages and their JSON.

use std::convert::Infallible;
use std::fmt;
use std::future::{ready, Ready};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use opentelemetry::trace::TraceId;
use percent_encoding::percent_decode_str;
use tower_service::Service;

use super::json;
use super::metrics_history::MetricsHistory;
use super::metrics_section;
use super::pages::{self, Links};
use super::store::{Filter, TraceStore, BUCKETS};

/// Only the viewer's own stylesheet: no scripts, no inline styles, no frames,
/// nothing from elsewhere. Injected markup could neither run nor load anything.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; \
                   form-action 'self'; frame-ancestors 'none'";

/// The embedded trace viewer: a tower service serving an overview of requests by
/// name, lists of held traces, each trace's waterfall, and the JSON behind them,
/// read from the layer's bounded trace store. Made by
/// [`TracingLayer::viewer`](crate::TracingLayer::viewer); see [`crate::viewer`].
///
/// Paths (under the mount path): `/` overview, `/traces?name=&bucket=&errors=1`,
/// `/trace/{trace id}`, and the same under `/api/` as JSON.
///
/// ```
/// use tower::ServiceExt;
/// use tower_otel_tracing::{TracingConfig, TracingLayer};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let layer = TracingLayer::builder(TracingConfig::default())
///     .install_global(false)
///     .build()
///     .unwrap();
/// let viewer = layer.viewer().max_traces(100);
/// let req = http::Request::get("/_traces/api/overview").body(()).unwrap();
/// let resp = viewer.oneshot(req).await.unwrap();
/// assert_eq!(resp.status(), 200);
/// assert!(resp.body().contains("\"max_traces\":100"));
/// # }
/// ```
#[derive(Clone)]
pub struct TraceViewer {
    store: Arc<TraceStore>,
    /// The layer's metrics over the last 15 minutes, for the overview's charts.
    metrics: Arc<MetricsHistory>,
    base: Arc<str>,
}

impl TraceViewer {
    pub(crate) fn new(store: Arc<TraceStore>, metrics: Arc<MetricsHistory>, base: &str) -> Self {
        store.enable();
        metrics.start_sampler();
        TraceViewer {
            store,
            metrics,
            base: base.into(),
        }
    }

    /// Takes a reading of the layer's metrics for the overview's charts at
    /// `now`, as if the clock said so. From the first call on, the viewer's
    /// own sampler thread (a reading every 10 s on the system clock) stops
    /// and its readings are forgotten: each point then covers the time
    /// between two calls. For tests, which need no sleeping with it.
    #[doc(hidden)]
    pub fn sample_metrics_at(&self, now: SystemTime) {
        self.metrics.sample_at(now);
    }

    /// Keeps the last `n` complete traces (default 300; at least 1) besides the
    /// per-name samples. Applies to the layer's one store, for every clone.
    pub fn max_traces(self, n: usize) -> Self {
        self.store.set_max_traces(n);
        self
    }

    /// The path the viewer is mounted at, which the layer does not trace.
    ///
    /// ```
    /// use axum::Router;
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// let layer = TracingLayer::from_config(TracingConfig::default());
    /// let viewer = layer.viewer();
    /// assert_eq!(viewer.path(), "/_traces");
    /// // Mounted elsewhere, its requests would be traced and its links would break.
    /// let app: Router = Router::new()
    ///     .nest_service(viewer.path(), viewer.clone())
    ///     .layer(layer);
    /// ```
    pub fn path(&self) -> &str {
        &self.base
    }

    fn respond(&self, method: &Method, path: &str, query: Option<&str>) -> Response<String> {
        if method != Method::GET && method != Method::HEAD {
            let mut resp = text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD");
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return resp;
        }
        // Routers that nest services strip the mount path; others pass it on.
        let rel = if super::is_viewer_path(path, &self.base) {
            &path[self.base.len()..]
        } else {
            path
        };
        let links = Links(&self.base);
        let (api, rel) = match rel.strip_prefix("/api") {
            Some(rest) => (true, rest),
            None => (false, rel),
        };
        match (api, rel) {
            (false, "" | "/") | (true, "/overview") => {
                let o = self.store.overview();
                if api {
                    json_response(&json::overview(&o))
                } else {
                    // Metrics may have been turned on since the viewer was made.
                    self.metrics.start_sampler();
                    let held = self.store.held_ids();
                    let metrics = metrics_section::section(&links, &self.metrics.view(), &held);
                    html(StatusCode::OK, pages::overview(&links, &o, metrics))
                }
            }
            (_, "/traces") => {
                let filter = parse_filter(query.unwrap_or(""));
                let traces = self.store.traces(&filter);
                if api {
                    json_response(&json::list(&traces))
                } else {
                    html(StatusCode::OK, pages::list(&links, &filter, &traces))
                }
            }
            (false, "/assets/viewer.css") => {
                let mut resp = Response::new(pages::css().to_owned());
                resp.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/css; charset=utf-8"),
                );
                secure(resp)
            }
            _ => {
                let found = rel
                    .strip_prefix("/trace/")
                    .and_then(|id| TraceId::from_hex(id).ok())
                    .and_then(|id| self.store.trace(id));
                match found {
                    Some(t) if api => json_response(&json::trace(&t, &self.store.resource())),
                    Some(t) => html(
                        StatusCode::OK,
                        pages::trace(&links, &t, &self.store.resource()),
                    ),
                    None => text(
                        StatusCode::NOT_FOUND,
                        "not found: the viewer serves /, /traces and /trace/{id} (and /api/...); \
                         traces leave the store as newer ones arrive",
                    ),
                }
            }
        }
    }
}

impl fmt::Debug for TraceViewer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceViewer")
            .field("path", &self.base)
            .field("max_traces", &self.store.max_traces())
            .finish_non_exhaustive()
    }
}

impl<B> Service<Request<B>> for TraceViewer {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        ready(Ok(self.respond(
            req.method(),
            req.uri().path(),
            req.uri().query(),
        )))
    }
}

/// `name`, `bucket` (an index into the buckets) and `errors` from a query string;
/// anything else, or a value that does not parse, is ignored.
fn parse_filter(query: &str) -> Filter {
    let mut f = Filter::default();
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = value.replace('+', " ");
        let value = percent_decode_str(&value).decode_utf8_lossy();
        match key {
            "name" if !value.is_empty() => f.name = Some(value.into_owned()),
            "bucket" => f.bucket = value.parse().ok().filter(|b| *b < BUCKETS.len()),
            "errors" => f.errors = matches!(&*value, "1" | "true" | "on"),
            _ => {}
        }
    }
    f
}

fn html(status: StatusCode, markup: maud::Markup) -> Response<String> {
    let mut resp = Response::new(markup.into_string());
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure(resp)
}

fn json_response(value: &serde_json::Value) -> Response<String> {
    let mut resp = Response::new(value.to_string());
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    secure(resp)
}

fn text(status: StatusCode, body: &'static str) -> Response<String> {
    let mut resp = Response::new(body.to_owned());
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    secure(resp)
}

fn secure(mut resp: Response<String>) -> Response<String> {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // Traces hold request data: never cache them anywhere.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
