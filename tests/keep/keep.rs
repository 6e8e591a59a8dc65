//! Keeping every error and every slow request at any sample rate: exported with
//! the spans the layer makes (or, with `keep_detail: full`, the whole trace),
//! exactly as a sampled request would have them, with `sampling.reason`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use axum::body::Body;
use axum::routing::{get, post};
use axum::{Extension, Router};
use opentelemetry::trace::{SpanId, SpanKind, Status, Tracer, TracerProvider as _};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;
use tower::ServiceExt;
use tower_otel_tracing::config::KeepDetail;
use tower_otel_tracing::{TraceInfo, TracingConfig};

fn keep_cfg(rate: f64) -> TracingConfig {
    TracingConfig {
        sample_rate: Some(rate),
        keep_errors: Some(true),
        keep_slower_than: Some(0.3),
        ..Default::default()
    }
}

/// Errors kept, slow requests not: a loaded test machine cannot make an
/// ordinary request count as kept.
fn errors_only(rate: f64) -> TracingConfig {
    TracingConfig {
        keep_slower_than: None,
        ..keep_cfg(rate)
    }
}

fn full_errors_only(rate: f64) -> TracingConfig {
    TracingConfig {
        keep_detail: Some(KeepDetail::Full),
        ..errors_only(rate)
    }
}

/// The four ways a request fails, and ordinary ones, behind `h`'s layer.
fn app(h: &Harness) -> Router {
    let tracer = h.layer.pipeline().tracer("handler");
    Router::new()
        .route("/ok", get(|| async { "fine" }))
        .route(
            "/500",
            get(|| async { (http::StatusCode::INTERNAL_SERVER_ERROR, "failed") }),
        )
        .route(
            "/grpc",
            get(|| async {
                http::Response::builder()
                    .header("content-type", "application/grpc")
                    .header("grpc-status", "13")
                    .header("grpc-message", "internal%20fault")
                    .body(Body::empty())
                    .unwrap()
            }),
        )
        .route(
            "/demo.Model/Run",
            post(|| async { grpc_internal_in_trailers() }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(400)).await;
                "late"
            }),
        )
        .route(
            "/work",
            get(move |Extension(info): Extension<TraceInfo>| {
                let tracer = tracer.clone();
                async move {
                    tracer.in_span("handler.work", |_| {});
                    (http::StatusCode::BAD_GATEWAY, info.trace_id.to_string())
                }
            }),
        )
        .layer(h.layer.clone())
}

/// A plain tower service behind the layer that fails or panics on demand.
async fn failing(h: &Harness, what: &str) {
    let svc = tower::ServiceBuilder::new()
        .layer(h.layer.clone())
        .service_fn(|req: http::Request<_>| async move {
            if req.uri().path() == "/panic" {
                panic!("handler blew up");
            }
            Err::<http::Response<String>, _>(std::io::Error::other("backend down"))
        });
    let req = get_req(what);
    let joined = tokio::spawn(svc.oneshot(req)).await;
    match what {
        "/panic" => assert!(joined.unwrap_err().is_panic()),
        _ => assert!(joined.unwrap().is_err()),
    }
}

/// A gRPC INTERNAL the way tonic sends it after a message: `grpc-status` in the
/// trailers, so the layer learns it only at the end of the body.
fn grpc_internal_in_trailers() -> http::Response<Body> {
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", "13".parse().unwrap());
    trailers.insert("grpc-message", "model%20crashed".parse().unwrap());
    let frames = vec![
        Ok::<_, std::convert::Infallible>(http_body::Frame::data(bytes::Bytes::from_static(
            b"\0\0\0\0\0",
        ))),
        Ok(http_body::Frame::trailers(trailers)),
    ];
    http::Response::builder()
        .header("content-type", "application/grpc")
        .body(Body::new(http_body_util::StreamBody::new(
            futures_util::stream::iter(frames),
        )))
        .unwrap()
}

fn named(kvs: impl IntoIterator<Item = KeyValue>) -> BTreeMap<String, Value> {
    kvs.into_iter()
        .filter(|kv| kv.key.as_str() != "sampling.reason")
        .map(|kv| (kv.key.to_string(), kv.value))
        .collect()
}

/// Everything of a span that must match between a kept and a sampled run: all
/// but its ids, times and `sampling.reason`. Where it hangs in its tree is
/// checked by `trees`.
#[derive(Debug)]
#[allow(dead_code)] // read through Debug
struct Shape {
    name: String,
    kind: SpanKind,
    status: Status,
    sampled: bool,
    remote: bool,
    has_parent: bool,
    parent_is_remote: bool,
    attributes: BTreeMap<String, Value>,
    dropped_attributes: u32,
    /// Name, attributes (`exception.type`, `exception.message`), dropped count.
    events: Vec<(String, BTreeMap<String, Value>, u32)>,
    dropped_events: u32,
    /// Sampled, remote, attributes: the linked ids differ between runs.
    links: Vec<(bool, bool, BTreeMap<String, Value>)>,
    dropped_links: u32,
    scope: String,
}

fn shape(span: &SpanData) -> Shape {
    let sc = &span.span_context;
    Shape {
        name: span.name.to_string(),
        kind: span.span_kind.clone(),
        status: span.status.clone(),
        // The sampled flag only: a kept span also carries W3C Trace Context
        // level 2's random flag, which the SDK leaves off the spans it builds.
        sampled: sc.is_sampled(),
        remote: sc.is_remote(),
        has_parent: span.parent_span_id != SpanId::INVALID,
        parent_is_remote: span.parent_span_is_remote,
        attributes: named(span.attributes.iter().cloned()),
        dropped_attributes: span.dropped_attributes_count,
        events: span
            .events
            .iter()
            .map(|e| {
                (
                    e.name.to_string(),
                    named(e.attributes.iter().cloned()),
                    e.dropped_attributes_count,
                )
            })
            .collect(),
        dropped_events: span.events.dropped_count,
        links: span
            .links
            .iter()
            .map(|l| {
                (
                    l.span_context.is_sampled(),
                    l.span_context.is_remote(),
                    named(l.attributes.iter().cloned()),
                )
            })
            .collect(),
        dropped_links: span.links.dropped_count,
        scope: format!("{:?}", span.instrumentation_scope),
    }
}

/// Each server span with its children, as comparable text, sorted. Every span
/// must hang in one tree: a child of its server span, in its trace.
fn trees(spans: &[SpanData]) -> Vec<String> {
    let mut placed = 0;
    let mut out: Vec<String> = server_spans(spans)
        .into_iter()
        .map(|server| {
            let mut children: Vec<String> = children_of(spans, server)
                .into_iter()
                .map(|child| {
                    assert_eq!(
                        child.span_context.trace_id(),
                        server.span_context.trace_id()
                    );
                    assert!(!child.parent_span_is_remote);
                    format!("{:#?}", shape(child))
                })
                .collect();
            children.sort();
            placed += 1 + children.len();
            format!("{:#?}\n{}", shape(server), children.join("\n"))
        })
        .collect();
    assert_eq!(placed, spans.len(), "spans outside a tree: {spans:#?}");
    out.sort();
    out
}

/// The five failures: a 500, gRPC INTERNAL in the headers (trailers-only) and in
/// the trailers, an inner-service error and a panic.
async fn run_failures(h: &Harness) {
    send(app(h), get_req("/500")).await;
    let mut grpc = get_req("/grpc");
    grpc.headers_mut()
        .insert("content-type", "application/grpc".parse().unwrap());
    send(app(h), grpc).await;
    let grpc = http::Request::post("/demo.Model/Run")
        .header("host", "svc.local:3000")
        .header("content-type", "application/grpc")
        .body(Body::empty())
        .unwrap();
    let (status, _) = send(app(h), grpc).await;
    assert_eq!(status, 200, "gRPC errors travel in a 200");
    failing(h, "/inner").await;
    failing(h, "/panic").await;
}

#[tokio::test]
async fn at_rate_0_exactly_the_failures_are_exported_as_at_rate_1() {
    let kept = Harness::new(errors_only(0.0));
    for i in 0..195 {
        let (status, _) = send(app(&kept), get_req("/ok")).await;
        assert_eq!(status, 200);
        if i == 100 {
            // The failures among the ordinary requests, not after them.
            run_failures(&kept).await;
        }
    }
    let spans = kept.spans();
    let servers = server_spans(&spans);
    let mut names: Vec<&str> = servers.iter().map(|s| s.name.as_ref()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "GET /500",
            "GET /grpc",
            "GET /inner",
            "GET /panic",
            "POST /demo.Model/Run"
        ]
    );
    for server in &servers {
        assert_eq!(
            str_attr(server, "sampling.reason"),
            Some("error"),
            "{}",
            server.name
        );
        assert!(server.span_context.is_sampled());
        assert!(
            matches!(server.status, Status::Error { .. }),
            "{}",
            server.name
        );
    }
    let trailers = servers
        .iter()
        .find(|s| s.name == "POST /demo.Model/Run")
        .unwrap();
    assert_eq!(int_attr(trailers, "rpc.grpc.status_code"), Some(13));
    let stats = kept.layer.pipeline().stats();
    assert_eq!(stats.kept_errors, 5);
    assert_eq!(stats.kept(), 5);
    assert_eq!(stats.started, spans.len() as u64);
    assert_eq!(stats.exported, spans.len() as u64);

    // The same requests at rate 1.0: the same trees, field for field.
    let sampled = Harness::sampled();
    run_failures(&sampled).await;
    let sampled = sampled.spans();
    assert_eq!(spans.len(), sampled.len());
    assert_eq!(trees(&spans), trees(&sampled));
}

#[tokio::test]
async fn the_kept_trace_id_is_the_one_the_handler_saw() {
    let h = Harness::new(keep_cfg(0.0));
    let (status, body) = send(app(&h), get_req("/work")).await;
    assert_eq!(status, 502);
    let spans = h.spans();
    let server = one_server_span(&spans);
    assert_eq!(
        server.span_context.trace_id().to_string(),
        String::from_utf8_lossy(&body)
    );
    // Server detail: the handler's own span was not recorded while it ran.
    assert!(spans.iter().all(|s| s.name != "handler.work"));
}

#[tokio::test]
async fn slow_requests_are_kept_and_fast_ones_are_not() {
    let began = std::time::SystemTime::now();
    let h = Harness::new(TracingConfig {
        keep_slower_than: Some(0.3),
        ..Default::default()
    });
    send(app(&h), get_req("/ok")).await;
    send(app(&h), get_req("/slow")).await;
    // An error is not kept: only keep_slower_than is on.
    send(app(&h), get_req("/500")).await;
    let spans = h.spans();
    let server = one_server_span(&spans);
    assert_eq!(server.name, "GET /slow");
    assert_eq!(str_attr(server, "sampling.reason"), Some("slow"));
    assert_eq!(h.layer.pipeline().stats().kept_slow, 1);
    // Its times are read on the request path's clock and turned into wall-clock
    // time only at its end: the server span lasts at least the handler's sleep,
    // ends no later than now and began after the test did, and its children lie
    // inside it in the order they happened.
    let lasted = server.end_time.duration_since(server.start_time).unwrap();
    assert!(lasted >= Duration::from_millis(400), "{lasted:?}");
    assert!(server.end_time <= std::time::SystemTime::now());
    assert!(
        server.start_time >= began,
        "{:?} < {began:?}",
        server.start_time
    );
    let mut children: Vec<_> = spans
        .iter()
        .filter(|s| s.parent_span_id == server.span_context.span_id())
        .collect();
    assert_eq!(children.len(), 2, "http.response.start and the body");
    children.sort_by_key(|s| s.start_time);
    for child in &children {
        assert!(child.start_time >= server.start_time, "{}", child.name);
        assert!(child.end_time >= child.start_time, "{}", child.name);
        assert!(child.end_time <= server.end_time, "{}", child.name);
    }
    // The response head came after the 400 ms the handler slept.
    let head_at = children[0]
        .start_time
        .duration_since(server.start_time)
        .unwrap();
    assert!(head_at >= Duration::from_millis(400), "{head_at:?}");
}

#[tokio::test]
async fn full_detail_exports_the_handlers_spans_too() {
    let h = Harness::new(TracingConfig {
        keep_detail: Some(KeepDetail::Full),
        ..keep_cfg(0.0)
    });
    let (status, _) = send(app(&h), get_req("/work")).await;
    assert_eq!(status, 502);
    for _ in 0..5 {
        send(app(&h), get_req("/ok")).await;
    }
    let spans = h.spans();
    let server = one_server_span(&spans);
    let work = spans
        .iter()
        .find(|s| s.name == "handler.work")
        .expect("the handler's span");
    assert_eq!(work.parent_span_id, server.span_context.span_id());
    assert_eq!(work.span_context.trace_id(), server.span_context.trace_id());
    assert!(work.span_context.is_sampled());
    let stats = h.layer.pipeline().stats();
    assert_eq!(stats.kept_errors, 1);
    assert_eq!(
        stats.discarded, 0,
        "ordinary requests made no handler spans"
    );
    assert_eq!(stats.exported, spans.len() as u64);
}

#[tokio::test]
async fn full_detail_buffers_are_bounded_and_overflow_is_counted() {
    let h = Harness::new(TracingConfig {
        keep_detail: Some(KeepDetail::Full),
        ..keep_cfg(0.0)
    });
    let tracer = h.layer.pipeline().tracer("handler");
    let app = Router::new()
        .route(
            "/many",
            get(move || {
                let tracer = tracer.clone();
                async move {
                    for _ in 0..300 {
                        tracer.in_span("step", |_| {});
                    }
                    (http::StatusCode::INTERNAL_SERVER_ERROR, "after many steps")
                }
            }),
        )
        .route("/fine", get(|| async { "fine" }))
        .layer(h.layer.clone());
    send(app.clone(), get_req("/many")).await;
    let spans = h.spans();
    let steps = spans.iter().filter(|s| s.name == "step").count();
    assert_eq!(steps, 256, "the per-trace bound");
    let stats = h.layer.pipeline().stats();
    assert_eq!(stats.overflowed, 300 - 256);
    assert_eq!(stats.started, stats.exported + stats.overflowed);
}

#[tokio::test]
async fn full_detail_total_bound_across_traces_is_hit_and_counted() {
    // Each trace stays within its own bound (256), but 65 held at once pass the
    // total bound (16,384): 256 spans overflow, whichever trace they belong to.
    const TRACES: usize = 65;
    const PER_TRACE: usize = 256;
    const TOTAL: usize = 16_384;
    let h = Harness::new(full_errors_only(0.0));
    let tracer = h.layer.pipeline().tracer("handler");
    let fail_tracer = tracer.clone();
    let all_held = Arc::new(tokio::sync::Barrier::new(TRACES));
    let app = Router::new()
        .route(
            "/hold",
            get(move || {
                let tracer = tracer.clone();
                let all_held = all_held.clone();
                async move {
                    for _ in 0..PER_TRACE {
                        tracer.in_span("step", |_| {});
                    }
                    // No request ends (and releases its trace) before all are held.
                    all_held.wait().await;
                    "fine"
                }
            }),
        )
        .route(
            "/fail",
            get(move || {
                let tracer = fail_tracer.clone();
                async move {
                    for _ in 0..10 {
                        tracer.in_span("again", |_| {});
                    }
                    (http::StatusCode::INTERNAL_SERVER_ERROR, "failed")
                }
            }),
        )
        .layer(h.layer.clone());
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..TRACES {
        requests.spawn(send(app.clone(), get_req("/hold")));
    }
    while let Some(done) = requests.join_next().await {
        assert_eq!(done.unwrap().0, 200);
    }
    let stats = h.layer.pipeline().stats();
    assert_eq!(stats.overflowed, (TRACES * PER_TRACE - TOTAL) as u64);
    assert_eq!(stats.discarded, TOTAL as u64, "what was held, none kept");
    assert_eq!(stats.started, (TRACES * PER_TRACE) as u64);
    assert!(h.spans().is_empty());

    // The released traces gave their room back: a kept trace is held in full.
    send(app, get_req("/fail")).await;
    let spans = h.spans();
    assert_eq!(spans.iter().filter(|s| s.name == "again").count(), 10);
    let stats = h.layer.pipeline().stats();
    assert_eq!(stats.overflowed, (TRACES * PER_TRACE - TOTAL) as u64);
    assert_eq!(stats.exported, spans.len() as u64);
}

#[tracing::instrument]
async fn predict() -> http::StatusCode {
    features();
    http::StatusCode::INTERNAL_SERVER_ERROR
}

#[tracing::instrument]
fn features() {}

#[tracing::instrument]
async fn fine() -> &'static str {
    "fine"
}

#[tokio::test]
async fn full_detail_exports_tracing_bridge_spans_of_a_kept_request() {
    use tracing_subscriber::layer::SubscriberExt;
    let h = Harness::new(full_errors_only(0.0));
    let subscriber = tracing_subscriber::registry().with(
        tracing_opentelemetry::layer()
            .with_tracer(h.layer.pipeline().tracer_provider().tracer("bridge")),
    );
    // Scoped to this test's thread (current-thread runtime): no global subscriber.
    let _default = tracing::subscriber::set_default(subscriber);
    let app = Router::new()
        .route("/predict", get(predict))
        .route("/fine", get(fine))
        .layer(h.layer.clone());
    let (status, _) = send(app.clone(), get_req("/predict")).await;
    assert_eq!(status, 500);
    send(app, get_req("/fine")).await;
    let spans = h.spans();
    let server = one_server_span(&spans);
    assert_eq!(server.name, "GET /predict");
    let handler = spans
        .iter()
        .find(|s| s.name == "predict")
        .expect("the bridged handler span");
    let inner = spans
        .iter()
        .find(|s| s.name == "features")
        .expect("the bridged inner span");
    assert_eq!(handler.parent_span_id, server.span_context.span_id());
    assert_eq!(inner.parent_span_id, handler.span_context.span_id());
    for span in [handler, inner] {
        assert_eq!(span.span_context.trace_id(), server.span_context.trace_id());
        assert!(span.span_context.is_sampled());
    }
    assert!(spans.iter().all(|s| s.name != "fine"));
    let stats = h.layer.pipeline().stats();
    assert_eq!(stats.discarded, 1, "the ordinary request's bridged span");
    assert_eq!(stats.started, stats.exported + stats.discarded);
}

/// Two requests of one trace running at once (a caller's unsampled trace id,
/// kept despite the caller): the one that ends first must neither take nor drop
/// the spans the other holds. Spans are held per trace, so the trace is exported
/// whole when any of its requests is kept.
#[tokio::test]
async fn concurrent_requests_of_one_trace_share_its_buffer_safely() {
    for kept_ends_first in [true, false] {
        let h = Harness::new(TracingConfig {
            keep_despite_caller: Some(true),
            ..full_errors_only(1.0)
        });
        let (early_status, late_status) = if kept_ends_first {
            (
                http::StatusCode::INTERNAL_SERVER_ERROR,
                http::StatusCode::OK,
            )
        } else {
            (
                http::StatusCode::OK,
                http::StatusCode::INTERNAL_SERVER_ERROR,
            )
        };
        let late_started = Arc::new(tokio::sync::Notify::new());
        let early_done = Arc::new(tokio::sync::Notify::new());
        let tracer = h.layer.pipeline().tracer("handler");
        let early_tracer = tracer.clone();
        let (started, done) = (late_started.clone(), early_done.clone());
        let app = Router::new()
            .route(
                "/early",
                get(move || {
                    let tracer = early_tracer.clone();
                    async move {
                        tracer.in_span("early.work", |_| {});
                        early_status
                    }
                }),
            )
            .route(
                "/late",
                get(move || {
                    let (tracer, started, done) = (tracer.clone(), started.clone(), done.clone());
                    async move {
                        tracer.in_span("late.before", |_| {});
                        started.notify_one();
                        done.notified().await;
                        tracer.in_span("late.after", |_| {});
                        late_status
                    }
                }),
            )
            .layer(h.layer.clone());
        let late = tokio::spawn(send(app.clone(), with_unsampled_parent("/late")));
        late_started.notified().await;
        let (status, _) = send(app, with_unsampled_parent("/early")).await;
        assert_eq!(status, early_status);
        early_done.notify_one();
        assert_eq!(late.await.unwrap().0, late_status);

        let spans = h.spans();
        let server = one_server_span(&spans);
        let (kept_path, kept_spans) = if kept_ends_first {
            ("GET /early", &["early.work"][..])
        } else {
            ("GET /late", &["late.before", "late.after"][..])
        };
        assert_eq!(server.name, kept_path);
        for name in kept_spans {
            let span = spans
                .iter()
                .find(|s| s.name == *name)
                .unwrap_or_else(|| panic!("{kept_path}: {name} missing from {spans:#?}"));
            assert_eq!(span.parent_span_id, server.span_context.span_id(), "{name}");
            assert!(span.span_context.is_sampled(), "{name}");
        }
        let mut handler: Vec<&str> = spans
            .iter()
            .filter(|s| s.span_kind == SpanKind::Internal && s.name.contains('.'))
            .map(|s| s.name.as_ref())
            .collect();
        handler.sort();
        assert_eq!(
            handler,
            ["early.work", "late.after", "late.before"],
            "{kept_path}: the whole trace, once"
        );
        for span in &spans {
            assert!(span.span_context.is_sampled(), "{kept_path}: {span:#?}");
        }
        let stats = h.layer.pipeline().stats();
        assert_eq!(
            stats.started,
            stats.exported + stats.discarded + stats.overflowed,
            "{kept_path}: a span was lost: {stats:?}"
        );
    }
}

#[tokio::test]
async fn full_detail_discards_what_is_not_kept() {
    let h = Harness::new(full_errors_only(0.0));
    let tracer = h.layer.pipeline().tracer("handler");
    let app = Router::new()
        .route(
            "/fine",
            get(move || {
                let tracer = tracer.clone();
                async move {
                    tracer.in_span("step", |_| {});
                    "fine"
                }
            }),
        )
        .layer(h.layer.clone());
    send(app, get_req("/fine")).await;
    assert!(h.spans().is_empty());
    let stats = h.layer.pipeline().stats();
    assert_eq!(stats.discarded, 1);
    assert_eq!(stats.started, 1);
}

fn with_unsampled_parent(path: &str) -> http::Request<Body> {
    let mut req = get_req(path);
    req.headers_mut().insert(
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
            .parse()
            .unwrap(),
    );
    req
}

#[tokio::test]
async fn a_callers_not_sampled_is_respected_unless_overridden() {
    let h = Harness::new(keep_cfg(1.0));
    send(app(&h), with_unsampled_parent("/500")).await;
    assert!(h.spans().is_empty(), "respected by default");

    let h = Harness::new(TracingConfig {
        keep_despite_caller: Some(true),
        ..keep_cfg(1.0)
    });
    send(app(&h), with_unsampled_parent("/500")).await;
    let spans = h.spans();
    let server = one_server_span(&spans);
    assert_eq!(
        server.span_context.trace_id().to_string(),
        "0af7651916cd43dd8448eb211c80319c"
    );
    assert_eq!(server.parent_span_id.to_string(), "b7ad6b7169203331");
    assert!(server.parent_span_is_remote);
}

#[test]
fn config_and_environment() {
    use tower_otel_tracing::config::ConfigFormat;
    use tower_otel_tracing::settings::{Settings, Source};
    let cfg = TracingConfig::parse(
        "keep_errors: true\nkeep_slower_than: 0.5\nkeep_detail: full",
        ConfigFormat::Yaml,
    )
    .unwrap();
    let s = Settings::resolve_with(&cfg, Default::default()).unwrap();
    assert!(s.keep.errors);
    assert_eq!(s.keep.slower_than, Some(Duration::from_millis(500)));
    assert_eq!(s.keep.detail, KeepDetail::Full);
    let env = [
        ("OTEL_RUST_KEEP_ERRORS".to_owned(), "false".to_owned()),
        ("OTEL_RUST_KEEP_SLOWER_THAN".to_owned(), "2".to_owned()),
    ]
    .into();
    let s = Settings::resolve_with(&cfg, env).unwrap();
    assert!(!s.keep.errors);
    assert_eq!(s.keep.slower_than, Some(Duration::from_secs(2)));
    assert_eq!(
        s.source("keep_errors"),
        Source::Env("OTEL_RUST_KEEP_ERRORS")
    );
    let env = [("OTEL_RUST_KEEP_SLOWER_THAN".to_owned(), "-1".to_owned())].into();
    let s = Settings::resolve_with(&cfg, env).unwrap();
    assert_eq!(s.keep.slower_than, Some(Duration::from_millis(500)));
    assert_eq!(s.warnings.len(), 1);
    assert!(s.warnings[0].contains("OTEL_RUST_KEEP_SLOWER_THAN") && s.warnings[0].contains("-1"));
    let bad = TracingConfig {
        keep_slower_than: Some(0.0),
        ..Default::default()
    };
    let err = bad.validate().unwrap_err();
    assert_eq!(err.path(), "tracing.keep_slower_than");
    let err = TracingConfig::parse("keep_detail: everything", ConfigFormat::Yaml).unwrap_err();
    assert_eq!(err.path(), "tracing.keep_detail");
}

#[tokio::test]
async fn a_kept_request_answers_and_logs_like_any_other() {
    // Handler context and TraceInfo of a deferred request say "not sampled".
    let h = Harness::new(keep_cfg(0.0));
    let app = Router::new()
        .route(
            "/seen",
            get(|Extension(info): Extension<TraceInfo>| async move {
                use opentelemetry::trace::TraceContextExt;
                let cx = opentelemetry::Context::current();
                format!("{} {}", info.sampled, cx.span().span_context().is_sampled())
            }),
        )
        .layer(h.layer.clone());
    let (_, body) = send(app, get_req("/seen")).await;
    assert_eq!(&body[..], b"false false");
    let _ = h
        .layer
        .pipeline()
        .tracer_provider()
        .tracer("x")
        .start("unused");
}
