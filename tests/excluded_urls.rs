//! `excluded_urls`: no span for matching routes, as a string or a list.

mod common;

use common::*;
use tower_otel_tracing::{ConfigFormat, TracingConfig};

async fn traced_paths(cfg: TracingConfig, paths: &[&str]) -> Vec<String> {
    let h = Harness::new(TracingConfig {
        sample_rate: Some(1.0),
        ..cfg
    });
    for p in paths {
        send(h.app(), get_req(p)).await;
    }
    let mut names: Vec<String> = server_spans(&h.spans())
        .into_iter()
        .map(|s| s.name.to_string())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn comma_separated_string() {
    let cfg = TracingConfig::parse(
        r#"{"excluded_urls": " readyz , ,stream "}"#,
        ConfigFormat::Json,
    )
    .unwrap();
    let traced = traced_paths(cfg, &["/readyz", "/stream?n=1", "/missing"]).await;
    assert_eq!(traced, ["GET /missing"]);
}

#[tokio::test]
async fn list_of_regexes_matched_anywhere_in_the_url() {
    let cfg = TracingConfig::parse(
        "excluded_urls:\n  - ^http://svc\\.local:3000/fail$\n  - ready",
        ConfigFormat::Yaml,
    )
    .unwrap();
    let traced = traced_paths(cfg, &["/readyz", "/fail", "/missing", "/fail/x"]).await;
    // `/fail/x` does not match the anchored regex; the host is part of the URL.
    assert_eq!(traced, ["GET /fail/x", "GET /missing"]);
}

#[tokio::test]
async fn query_string_is_not_matched() {
    let cfg = TracingConfig::parse(r#"excluded_urls = ["secret=1"]"#, ConfigFormat::Toml).unwrap();
    let traced = traced_paths(cfg, &["/missing?secret=1"]).await;
    assert_eq!(traced, ["GET /missing"]);
}

#[tokio::test]
async fn host_and_scheme_take_part() {
    let cfg = TracingConfig::parse(
        r#"{"excluded_urls": "^http://svc\\.local"}"#,
        ConfigFormat::Json,
    )
    .unwrap();
    let traced = traced_paths(cfg, &["/missing", "/readyz"]).await;
    assert!(traced.is_empty(), "{traced:?}");
}

#[tokio::test]
async fn excluded_requests_get_no_context() {
    let h = Harness::new(TracingConfig {
        sample_rate: Some(1.0),
        excluded_urls: Some(tower_otel_tracing::ExcludedUrls::new(["plain"]).unwrap()),
        ..Default::default()
    });
    let app = axum::Router::new()
        .route(
            "/plain",
            axum::routing::get(|req: http::Request<axum::body::Body>| async move {
                use opentelemetry::trace::TraceContextExt;
                let has_info = req
                    .extensions()
                    .get::<tower_otel_tracing::TraceInfo>()
                    .is_some();
                let cx_valid = opentelemetry::Context::current()
                    .span()
                    .span_context()
                    .is_valid();
                format!("{has_info} {cx_valid}")
            }),
        )
        .layer(h.layer.clone());
    let (_, body) = send(app, get_req("/plain")).await;
    assert_eq!(&body[..], b"false false");
    assert!(h.spans().is_empty());
}
