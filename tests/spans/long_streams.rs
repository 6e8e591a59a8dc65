//! Long streams: a server-sent-events response of 5,000 events gets at most
//! `max_frame_spans` body `http send` spans (a request body as many `http
//! receive` spans), sampled or kept, while the server span counts every frame
//! and byte in the `tower_otel_tracing.*` totals.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use crate::common::*;
use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use http_body_util::BodyExt;
use opentelemetry::trace::Status;
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;
use tower_otel_tracing::settings::{Settings, Source};
use tower_otel_tracing::TracingConfig;

const EVENTS: usize = 5_000;

fn event(i: usize) -> String {
    format!("data: token {i}\n\n")
}

/// The bytes of all `EVENTS` events.
fn event_bytes() -> i64 {
    (0..EVENTS).map(|i| event(i).len() as i64).sum()
}

fn sse(status: StatusCode) -> axum::response::Response {
    let events = (0..EVENTS).map(|i| Ok::<_, Infallible>(Bytes::from(event(i))));
    axum::response::Response::builder()
        .status(status)
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(futures_util::stream::iter(events)))
        .unwrap()
}

/// A layer for `cfg` whose queue holds every span of an uncapped stream.
fn harness(cfg: TracingConfig) -> Harness {
    Harness::with(cfg, |b| b.env_vars([("OTEL_BSP_MAX_QUEUE_SIZE", "16384")]))
}

fn app(h: &Harness) -> Router {
    Router::new()
        .route("/events", get(|| async { sse(StatusCode::OK) }))
        .route(
            "/events-failing",
            get(|| async { sse(StatusCode::SERVICE_UNAVAILABLE) }),
        )
        .route(
            "/upload",
            post(|body: Body| async move {
                let n = body
                    .collect()
                    .await
                    .map(|c| c.to_bytes().len())
                    .unwrap_or(0);
                n.to_string()
            }),
        )
        .layer(h.layer.clone())
}

/// Sends one request, reading the whole response, within a bounded time.
async fn call(app: Router, req: http::Request<Body>) -> (StatusCode, Bytes) {
    tokio::time::timeout(Duration::from_secs(60), send(app, req))
        .await
        .expect("the stream finished in time")
}

fn of_kind<'a>(spans: &'a [SpanData], ty: &str) -> Vec<&'a SpanData> {
    spans
        .iter()
        .filter(|s| str_attr(s, "type") == Some(ty))
        .collect()
}

/// The four totals attributes, in the order the server span carries them.
fn totals(server: &SpanData) -> Vec<(String, Value)> {
    server
        .attributes
        .iter()
        .filter(|kv| kv.key.as_str().starts_with("tower_otel_tracing."))
        .map(|kv| (kv.key.as_str().to_owned(), kv.value.clone()))
        .collect()
}

fn expected_totals(req: (i64, i64), resp: (i64, i64)) -> Vec<(String, Value)> {
    vec![
        (
            "tower_otel_tracing.request.frames".into(),
            Value::I64(req.0),
        ),
        ("tower_otel_tracing.request.bytes".into(), Value::I64(req.1)),
        (
            "tower_otel_tracing.response.frames".into(),
            Value::I64(resp.0),
        ),
        (
            "tower_otel_tracing.response.bytes".into(),
            Value::I64(resp.1),
        ),
    ]
}

/// Streams the events through a layer for `cfg`; returns every span exported.
async fn stream_events(cfg: TracingConfig, path: &str) -> Vec<SpanData> {
    let h = harness(cfg);
    let (_, body) = call(app(&h), get_req(path)).await;
    assert_eq!(body.len() as i64, event_bytes(), "the whole stream arrived");
    h.wait_for_server_spans(1).await
}

#[tokio::test]
async fn the_default_cap_keeps_1000_of_5000_event_spans_and_counts_them_all() {
    let spans = stream_events(sample_all(), "/events").await;
    let server = one_server_span(&spans);
    assert_eq!(of_kind(&spans, "http.response.body").len(), 1000);
    let start = of_kind(&spans, "http.response.start");
    assert_eq!(start.len(), 1);
    assert_eq!(spans.len(), 1 + 1 + 1000, "server, start, 1000 bodies");
    assert_eq!(
        totals(server),
        expected_totals((0, 0), (EVENTS as i64, event_bytes()))
    );
    // The totals come last: BentoML's attributes keep their order.
    let keys: Vec<&str> = server.attributes.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(keys[keys.len() - 5], "http.status_code", "{keys:?}");
    // The stream's last frame still ends the server span.
    let last_body = of_kind(&spans, "http.response.body")
        .into_iter()
        .map(|s| s.end_time)
        .max()
        .unwrap();
    assert!(server.end_time >= last_body);
}

#[tokio::test]
async fn max_frame_spans_0_gives_every_event_a_span_as_bentoml_does() {
    let cfg = TracingConfig {
        max_frame_spans: Some(0),
        ..sample_all()
    };
    let spans = stream_events(cfg, "/events").await;
    let server = one_server_span(&spans);
    assert_eq!(of_kind(&spans, "http.response.body").len(), EVENTS);
    assert_eq!(spans.len(), EVENTS + 2);
    assert_eq!(
        totals(server),
        expected_totals((0, 0), (EVENTS as i64, event_bytes()))
    );
}

#[tokio::test]
async fn a_small_cap_bounds_the_request_body_side_too() {
    let h = harness(TracingConfig {
        max_frame_spans: Some(3),
        ..sample_all()
    });
    let chunks: Vec<Result<Bytes, Infallible>> = (0..10)
        .map(|i| Ok(Bytes::from(format!("part {i};"))))
        .collect();
    let sent: i64 = chunks
        .iter()
        .map(|c| c.as_ref().unwrap().len() as i64)
        .sum();
    let req = http::Request::post("/upload")
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .unwrap();
    let (status, body) = call(app(&h), req).await;
    assert_eq!(status, 200);
    assert_eq!(body, sent.to_string());
    let spans = h.wait_for_server_spans(1).await;
    let server = one_server_span(&spans);
    assert_eq!(of_kind(&spans, "http.request").len(), 3);
    assert_eq!(of_kind(&spans, "http.response.body").len(), 1);
    assert_eq!(
        totals(server),
        expected_totals((10, sent), (1, body.len() as i64))
    );

    // And on the response side, 3 of 5,000.
    let spans = stream_events(
        TracingConfig {
            max_frame_spans: Some(3),
            ..sample_all()
        },
        "/events",
    )
    .await;
    assert_eq!(of_kind(&spans, "http.response.body").len(), 3);
    assert_eq!(
        totals(one_server_span(&spans)),
        expected_totals((0, 0), (EVENTS as i64, event_bytes()))
    );
}

#[tokio::test]
async fn a_kept_stream_honours_the_cap() {
    // Not sampled, failing: recorded cheaply while it streams, kept at its end.
    let kept_errors = TracingConfig {
        sample_rate: Some(0.0),
        keep_errors: Some(true),
        max_frame_spans: Some(7),
        ..Default::default()
    };
    let spans = stream_events(kept_errors.clone(), "/events-failing").await;
    let server = one_server_span(&spans);
    assert_eq!(server.status, Status::error(""));
    assert_eq!(str_attr(server, "sampling.reason"), Some("error"));
    assert_eq!(of_kind(&spans, "http.response.body").len(), 7);
    assert_eq!(of_kind(&spans, "http.response.start").len(), 1);
    assert_eq!(spans.len(), 1 + 1 + 7);
    assert_eq!(
        totals(server),
        expected_totals((0, 0), (EVENTS as i64, event_bytes()))
    );
    let keys: Vec<&str> = server.attributes.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(keys.last(), Some(&"sampling.reason"), "{keys:?}");

    // The default cap, a request kept because it was slow (any stream is slower
    // than a nanosecond).
    let kept_slow = TracingConfig {
        sample_rate: Some(0.0),
        keep_slower_than: Some(1e-9),
        ..Default::default()
    };
    let spans = stream_events(kept_slow, "/events").await;
    let server = one_server_span(&spans);
    assert_eq!(str_attr(server, "sampling.reason"), Some("slow"));
    assert_eq!(of_kind(&spans, "http.response.body").len(), 1000);
    assert_eq!(
        totals(server),
        expected_totals((0, 0), (EVENTS as i64, event_bytes()))
    );

    // A success is not kept by keep_errors, however long its stream.
    let h = harness(kept_errors);
    call(app(&h), get_req("/events")).await;
    assert!(h.spans().is_empty());
}

#[cfg(feature = "axum")]
#[tokio::test]
async fn a_capped_stream_over_loopback_arrives_whole() {
    let h = harness(sample_all());
    let (addr, server) = serve_loopback(app(&h)).await;
    let read = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        stream
            .write_all(b"GET /events HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = Vec::new();
        stream.read_to_end(&mut out).await.unwrap();
        out
    };
    let out = tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .expect("the stream finished in time");
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.starts_with("HTTP/1.1 200"),
        "{}",
        &text[..80.min(text.len())]
    );
    assert!(text.contains(&event(EVENTS - 1)));
    let spans = h.wait_for_server_spans(1).await;
    server.abort();
    let server_span = one_server_span(&spans);
    assert_eq!(of_kind(&spans, "http.response.body").len(), 1000);
    assert_eq!(
        totals(server_span),
        expected_totals((0, 0), (EVENTS as i64, event_bytes()))
    );
}

#[test]
fn max_frame_spans_is_a_setting_with_an_env_twin() {
    let resolve = |cfg: &TracingConfig, vars: &[(&str, &str)]| {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::resolve_with(cfg, vars).unwrap()
    };
    let none = TracingConfig::default();
    let s = resolve(&none, &[]);
    assert_eq!(s.max_frame_spans, 1000);
    assert_eq!(s.source("max_frame_spans"), Source::Default);

    let cfg = TracingConfig {
        max_frame_spans: Some(0),
        ..Default::default()
    };
    let s = resolve(&cfg, &[]);
    assert_eq!(s.max_frame_spans, 0);
    assert_eq!(s.source("max_frame_spans"), Source::Config);
    let printed = s.to_string();
    let line = printed
        .lines()
        .find(|l| l.starts_with("max_frame_spans "))
        .unwrap_or_else(|| panic!("{printed}"));
    assert!(line.contains("= unlimited  (config)"), "{line}");

    let s = resolve(&cfg, &[("OTEL_RUST_MAX_FRAME_SPANS", "50")]);
    assert_eq!(s.max_frame_spans, 50);
    assert_eq!(
        s.source("max_frame_spans"),
        Source::Env("OTEL_RUST_MAX_FRAME_SPANS")
    );
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);

    // A bad variable is a warning naming it and its value; the config stands.
    for bad in ["-1", "lots", "1.5"] {
        let s = resolve(&cfg, &[("OTEL_RUST_MAX_FRAME_SPANS", bad)]);
        assert_eq!(s.max_frame_spans, 0);
        let named = format!("OTEL_RUST_MAX_FRAME_SPANS={bad:?}");
        assert!(
            s.warnings.len() == 1 && s.warnings[0].contains(&named),
            "{named}: {:?}",
            s.warnings
        );
    }
}

#[test]
fn a_bad_max_frame_spans_names_the_field() {
    use tower_otel_tracing::config::ConfigFormat;
    for (text, value) in [
        ("max_frame_spans: -5", "-5"),
        ("max_frame_spans: lots", "lots"),
        ("max_frame_spans: 2.5", "2.5"),
    ] {
        let err = TracingConfig::parse(text, ConfigFormat::Yaml).unwrap_err();
        assert_eq!(err.path(), "tracing.max_frame_spans", "{err}");
        assert!(err.to_string().contains(value), "{err}");
    }
    let cfg = TracingConfig::parse("tracing:\n  max_frame_spans: 25", ConfigFormat::Yaml).unwrap();
    assert_eq!(cfg.max_frame_spans, Some(25));
    cfg.validate().unwrap();
    let json = TracingConfig::parse(r#"{"max_frame_spans": 0}"#, ConfigFormat::Json).unwrap();
    assert_eq!(json.max_frame_spans, Some(0));
}
