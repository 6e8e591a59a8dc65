//! Shared test scaffolding: a layer wired to an in-memory exporter, the summarize
//! app, and span lookups.
#![allow(dead_code)]

pub mod accounting;
pub mod agent;
pub mod fault_proxy;
pub mod receiver;
#[cfg(feature = "jaeger")]
pub mod thrift_decode;
pub mod wire;

use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::Query;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use http_body_util::BodyExt;
use opentelemetry::trace::{SpanKind, Tracer};
use opentelemetry::{Key, Value};
use opentelemetry_sdk::trace::{SdkTracer, SpanData};
use serde::Deserialize;
use tower::ServiceExt;
use tower_otel_tracing::exporter::InMemoryExporter;
use tower_otel_tracing::{TracingConfig, TracingLayer};

/// The arguments that run one test of this binary again, alone: `module` is
/// the test's `module_path!()`, `test_fn` its function's name. For a test that
/// must run in a process (or a namespace) of its own.
pub fn only_this_test(module: &str, test_fn: &str) -> Vec<String> {
    // The harness names a test by its path without the crate's name.
    let name = match module.split_once("::") {
        Some((_crate, path)) => format!("{path}::{test_fn}"),
        None => test_fn.to_owned(),
    };
    ["--exact", &name, "--nocapture", "--test-threads=1"]
        .map(str::to_owned)
        .to_vec()
}

pub struct Harness {
    pub layer: TracingLayer,
    pub exporter: InMemoryExporter,
}

impl Harness {
    /// A layer for `cfg` whose spans land in memory, not installed globally (tests
    /// in one binary run in parallel).
    pub fn new(cfg: TracingConfig) -> Self {
        Self::with(cfg, |b| b)
    }

    pub fn with(
        cfg: TracingConfig,
        f: impl FnOnce(
            tower_otel_tracing::TracingLayerBuilder,
        ) -> tower_otel_tracing::TracingLayerBuilder,
    ) -> Self {
        let exporter = InMemoryExporter::default();
        let builder = TracingLayer::builder(cfg)
            .exporter(exporter.clone())
            .install_global(false);
        let layer = f(builder).build().expect("valid config");
        Harness { layer, exporter }
    }

    pub fn sampled() -> Self {
        Self::new(sample_all())
    }

    /// Every span exported so far, after a flush.
    pub fn spans(&self) -> Vec<SpanData> {
        self.layer.pipeline().force_flush().expect("flush");
        self.exporter.finished_spans()
    }

    /// Waits (bounded) until at least `n` spans were exported.
    pub async fn wait_for_spans(&self, n: usize) -> Vec<SpanData> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let spans = self.spans();
            if spans.len() >= n || Instant::now() > deadline {
                return spans;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits (bounded) until `n` server spans were exported (they end last).
    pub async fn wait_for_server_spans(&self, n: usize) -> Vec<SpanData> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let spans = self.spans();
            if server_spans(&spans).len() >= n || Instant::now() > deadline {
                return spans;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The summarize app behind this layer. Handler spans use a tracer of the
    /// layer's own provider.
    pub fn app(&self) -> Router {
        use opentelemetry::trace::TracerProvider as _;
        app(self
            .layer
            .pipeline()
            .tracer_provider()
            .tracer("test.handler"))
        .layer(self.layer.clone())
    }
}

/// A layer for `cfg` with exactly these `OTEL_*` variables, not installed globally.
pub fn layer_with_env(cfg: TracingConfig, vars: &[(&str, &str)]) -> TracingLayer {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    TracingLayer::builder(cfg)
        .install_global(false)
        .env_vars(vars)
        .build()
        .unwrap()
}

/// The summarize app behind `layer`, handler spans from the layer's provider.
pub fn traced(layer: &TracingLayer) -> Router {
    use opentelemetry::trace::TracerProvider as _;
    app(layer.pipeline().tracer_provider().tracer("test.handler")).layer(layer.clone())
}

pub fn sample_all() -> TracingConfig {
    TracingConfig {
        sample_rate: Some(1.0),
        ..Default::default()
    }
}

#[derive(Deserialize)]
struct StreamParams {
    n: Option<u32>,
}

/// The routes of the summarize example, plus a few failure modes.
pub fn app(tracer: SdkTracer) -> Router {
    let model_tracer = tracer.clone();
    Router::new()
        .route(
            "/summarize",
            post(move |body: String| {
                let tracer = model_tracer.clone();
                async move {
                    // A handler span made with the OpenTelemetry API and the current context.
                    let summary = tracer.in_span("summarize.model", |_| {
                        body.split_whitespace()
                            .take(3)
                            .collect::<Vec<_>>()
                            .join(" ")
                    });
                    summary
                }
            }),
        )
        .route("/readyz", get(|| async { "ok" }))
        .route(
            "/fail",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "failed") }),
        )
        .route(
            "/missing",
            get(|| async { (StatusCode::NOT_FOUND, "no such thing") }),
        )
        .route(
            "/stream",
            get(|Query(p): Query<StreamParams>| async move {
                let chunks =
                    (0..p.n.unwrap_or(3)).map(|i| Ok::<_, Infallible>(format!("chunk {i}\n")));
                Body::from_stream(futures_util::stream::iter(chunks))
            }),
        )
        .route(
            "/hang",
            get(|| async {
                // One chunk, then nothing: only the client going away ends it.
                let first =
                    futures_util::stream::iter([Ok::<_, Infallible>(Bytes::from("first\n"))]);
                let rest = futures_util::stream::pending::<Result<Bytes, Infallible>>();
                Body::from_stream(futures_util::StreamExt::chain(first, rest))
            }),
        )
}

/// Serves `app` on a loopback port with `ConnectionInfo`, as a real server would.
#[cfg(feature = "axum")]
pub async fn serve_loopback(app: Router) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<tower_otel_tracing::ConnectionInfo>(),
        )
        .await
        .unwrap();
    });
    (addr, task)
}

/// Sends one request through `app` in-process and reads the whole response.
pub async fn send(app: Router, req: http::Request<Body>) -> (StatusCode, Bytes) {
    let resp = app.oneshot(req).await.expect("infallible");
    let status = resp.status();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, body)
}

pub fn post_summarize(text: &str) -> http::Request<Body> {
    http::Request::post("/summarize")
        .header("host", "svc.local:3000")
        .header("content-type", "text/plain")
        .body(Body::from(text.to_owned()))
        .unwrap()
}

pub fn get_req(uri: &str) -> http::Request<Body> {
    http::Request::get(uri)
        .header("host", "svc.local:3000")
        .body(Body::empty())
        .unwrap()
}

pub fn attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key == Key::new(key.to_owned()))
        .map(|kv| &kv.value)
}

pub fn str_attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a str> {
    match attr(span, key)? {
        Value::String(s) => Some(s.as_str()),
        other => panic!("{key} is not a string: {other:?}"),
    }
}

pub fn int_attr(span: &SpanData, key: &str) -> Option<i64> {
    match attr(span, key)? {
        Value::I64(v) => Some(*v),
        other => panic!("{key} is not an int: {other:?}"),
    }
}

pub fn server_spans(spans: &[SpanData]) -> Vec<&SpanData> {
    spans
        .iter()
        .filter(|s| s.span_kind == SpanKind::Server)
        .collect()
}

pub fn one_server_span(spans: &[SpanData]) -> &SpanData {
    let servers = server_spans(spans);
    assert_eq!(servers.len(), 1, "expected one server span in {spans:#?}");
    servers[0]
}

pub fn children_of<'a>(spans: &'a [SpanData], parent: &SpanData) -> Vec<&'a SpanData> {
    spans
        .iter()
        .filter(|s| s.parent_span_id == parent.span_context.span_id())
        .collect()
}

pub fn of_type<'a>(spans: &[&'a SpanData], ty: &str) -> Vec<&'a SpanData> {
    spans
        .iter()
        .copied()
        .filter(|s| str_attr(s, "type") == Some(ty))
        .collect()
}
