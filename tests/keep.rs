//! Keeping every error and every slow request at any sample rate: exported with
//! the spans the layer makes (or, with `keep_detail: full`, the whole trace),
//! exactly as a sampled request would have them, with `sampling.reason`.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Body;
use axum::routing::get;
use axum::{Extension, Router};
use common::*;
use opentelemetry::trace::{SpanKind, Status, TraceFlags, Tracer, TracerProvider as _};
use opentelemetry::Value;
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

/// A span with everything that may differ between two runs taken out.
fn shape(
    span: &SpanData,
) -> (
    String,
    SpanKind,
    Status,
    BTreeMap<String, Value>,
    Vec<String>,
    bool,
) {
    let attrs = span
        .attributes
        .iter()
        .filter(|kv| kv.key.as_str() != "sampling.reason")
        .map(|kv| (kv.key.to_string(), kv.value.clone()))
        .collect();
    let events = span.events.iter().map(|e| e.name.to_string()).collect();
    (
        span.name.to_string(),
        span.span_kind.clone(),
        span.status.clone(),
        attrs,
        events,
        span.span_context.trace_flags() == TraceFlags::SAMPLED,
    )
}

fn shapes(spans: &[SpanData]) -> Vec<String> {
    let mut out: Vec<String> = spans.iter().map(|s| format!("{:?}", shape(s))).collect();
    out.sort();
    out
}

async fn run_failures(h: &Harness) {
    send(app(h), get_req("/500")).await;
    let mut grpc = get_req("/grpc");
    grpc.headers_mut()
        .insert("content-type", "application/grpc".parse().unwrap());
    send(app(h), grpc).await;
    failing(h, "/inner").await;
    failing(h, "/panic").await;
}

#[tokio::test]
async fn at_rate_0_exactly_the_failures_are_exported_as_at_rate_1() {
    let kept = Harness::new(keep_cfg(0.0));
    for _ in 0..196 {
        let (status, _) = send(app(&kept), get_req("/ok")).await;
        assert_eq!(status, 200);
    }
    run_failures(&kept).await;
    let spans = kept.spans();
    let servers = server_spans(&spans);
    assert_eq!(
        servers.len(),
        4,
        "{:#?}",
        servers.iter().map(|s| &s.name).collect::<Vec<_>>()
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
        for child in children_of(&spans, server) {
            assert_eq!(
                child.span_context.trace_id(),
                server.span_context.trace_id()
            );
            assert!(child.span_context.is_sampled());
        }
    }
    let stats = kept.layer.pipeline().stats();
    assert_eq!(stats.kept_errors, 4);
    assert_eq!(stats.kept(), 4);
    assert_eq!(stats.started, spans.len() as u64);
    assert_eq!(stats.exported, spans.len() as u64);

    // The same requests at rate 1.0: the same spans, field for field.
    let sampled = Harness::sampled();
    run_failures(&sampled).await;
    assert_eq!(shapes(&spans), shapes(&sampled.spans()));
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
async fn full_detail_discards_what_is_not_kept() {
    let h = Harness::new(TracingConfig {
        keep_detail: Some(KeepDetail::Full),
        ..keep_cfg(0.0)
    });
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
