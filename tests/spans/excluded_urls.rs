//! `excluded_urls`: no span for matching routes, as a string or a list.

use crate::common::*;
use tower_otel_tracing::config::ConfigFormat;
use tower_otel_tracing::TracingConfig;

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
async fn excluded_requests_get_no_trace_info_and_an_unsampled_context() {
    let h = Harness::new(TracingConfig {
        sample_rate: Some(1.0),
        excluded_urls: Some(tower_otel_tracing::config::ExcludedUrls::new(["plain"]).unwrap()),
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
                let cx = opentelemetry::Context::current();
                let sc = cx.span().span_context().clone();
                format!(
                    "{has_info} {} {} {}",
                    sc.is_valid(),
                    sc.is_sampled(),
                    cx.is_telemetry_suppressed()
                )
            }),
        )
        .layer(h.layer.clone());
    let (_, body) = send(app, get_req("/plain")).await;
    assert_eq!(&body[..], b"false true false true");
    assert!(h.spans().is_empty());
}

/// A handler that makes spans three ways (the layer's tracer, the global-style API
/// with the current context, and the tracing bridge) and reports the
/// `traceparent` an outgoing call would carry.
fn probe_app(h: &Harness) -> axum::Router {
    use opentelemetry::trace::{Tracer, TracerProvider as _};
    let tracer = h.layer.pipeline().tracer_provider().tracer("probe.handler");
    axum::Router::new()
        .route(
            "/readyz",
            axum::routing::get(move || {
                let tracer = tracer.clone();
                async move {
                    tracer.in_span("readyz.check", |_| {});
                    let span = tracer.start("readyz.manual");
                    drop(span);
                    probe_instrumented();
                    let mut headers = std::collections::HashMap::new();
                    opentelemetry::propagation::TextMapPropagator::inject_context(
                        &opentelemetry_sdk::propagation::TraceContextPropagator::new(),
                        &opentelemetry::Context::current(),
                        &mut headers,
                    );
                    headers.remove("traceparent").unwrap_or_default()
                }
            }),
        )
        .layer(h.layer.clone())
}

#[tracing::instrument]
fn probe_instrumented() {
    tracing::info!("inside an excluded request");
}

fn excluded_readyz(vars: &[(&str, &str)]) -> Harness {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Harness::with(
        TracingConfig {
            sample_rate: Some(1.0),
            excluded_urls: Some(tower_otel_tracing::config::ExcludedUrls::new(["readyz"]).unwrap()),
            ..Default::default()
        },
        |b| b.env_vars(vars),
    )
}

#[tokio::test]
async fn spans_made_inside_an_excluded_request_are_not_recorded() {
    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::layer::SubscriberExt;
    // `always_on` ignores the parent's flag: only suppression keeps these out.
    for vars in [&[][..], &[("OTEL_TRACES_SAMPLER", "always_on")][..]] {
        let h = excluded_readyz(vars);
        let subscriber = tracing_subscriber::registry().with(
            tracing_opentelemetry::layer()
                .with_tracer(h.layer.pipeline().tracer_provider().tracer("bridge")),
        );
        let _default = tracing::subscriber::set_default(subscriber);
        for _ in 0..3 {
            let (status, body) = send(probe_app(&h), get_req("/readyz")).await;
            assert_eq!(status, 200);
            let traceparent = String::from_utf8(body.to_vec()).unwrap();
            // 00-{32 hex}-{16 hex}-00: a trace the callee must not record either.
            assert_eq!(traceparent.len(), 55, "{traceparent:?}");
            assert!(traceparent.ends_with("-00"), "{traceparent}");
        }
        let spans = h.spans();
        assert!(
            spans.is_empty(),
            "{vars:?}: {:?}",
            spans.iter().map(|s| s.name.clone()).collect::<Vec<_>>()
        );
        assert_eq!(h.layer.pipeline().stats().started, 0);
    }
}

#[tokio::test]
async fn the_same_handler_is_recorded_when_not_excluded() {
    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::layer::SubscriberExt;
    let h = Harness::sampled();
    let subscriber = tracing_subscriber::registry().with(
        tracing_opentelemetry::layer()
            .with_tracer(h.layer.pipeline().tracer_provider().tracer("bridge")),
    );
    let _default = tracing::subscriber::set_default(subscriber);
    let (_, body) = send(probe_app(&h), get_req("/readyz")).await;
    assert!(String::from_utf8(body.to_vec()).unwrap().ends_with("-01"));
    let mut names: Vec<String> = h.spans().iter().map(|s| s.name.to_string()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "GET /readyz",
            "GET /readyz http send",
            "GET /readyz http send",
            "probe_instrumented",
            "readyz.check",
            "readyz.manual"
        ]
    );
}
