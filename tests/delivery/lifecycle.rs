//! Nothing finished before shutdown is lost: explicit shutdown, guard drop, layer drop.

use crate::common::*;
use std::collections::HashSet;
use tower_otel_tracing::config::ExporterType;
use tower_otel_tracing::{TracingConfig, TracingLayer};

const REQUESTS: usize = 300;
/// Server, receive, start, body and the handler's span.
const SPANS_PER_REQUEST: usize = 5;

fn assert_complete(spans: &[opentelemetry_sdk::trace::SpanData]) {
    assert_eq!(spans.len(), REQUESTS * SPANS_PER_REQUEST);
    let ids: HashSet<_> = spans.iter().map(|s| s.span_context.span_id()).collect();
    assert_eq!(ids.len(), spans.len(), "a span was exported twice");
    assert_eq!(server_spans(spans).len(), REQUESTS);
}

#[tokio::test]
async fn explicit_shutdown_flushes_everything() {
    let h = Harness::sampled();
    let guard = h.layer.guard();
    for i in 0..REQUESTS {
        send(h.app(), post_summarize(&format!("request number {i} here"))).await;
    }
    guard.shutdown().unwrap();
    // No force_flush: shutdown alone must have delivered every span.
    assert_complete(&h.exporter.finished_spans());
}

#[tokio::test]
async fn dropping_the_guard_flushes_everything() {
    let h = Harness::sampled();
    let guard = h.layer.guard();
    for _ in 0..REQUESTS {
        send(h.app(), post_summarize("a b c d")).await;
    }
    drop(guard);
    assert_complete(&h.exporter.finished_spans());
}

#[tokio::test]
async fn dropping_the_last_layer_flushes_everything() {
    let Harness { layer, exporter } = Harness::sampled();
    {
        use opentelemetry::trace::TracerProvider as _;
        let app = app(layer.pipeline().tracer_provider().tracer("test.handler")).layer(layer);
        for _ in 0..REQUESTS {
            send(app.clone(), post_summarize("a b c d")).await;
        }
    }
    assert_complete(&exporter.finished_spans());
}

#[tokio::test]
async fn spans_after_shutdown_are_dropped_not_crashing() {
    let h = Harness::sampled();
    h.layer.guard().shutdown().unwrap();
    let (status, _) = send(h.app(), post_summarize("still served")).await;
    assert_eq!(status, 200);
    assert!(h.exporter.finished_spans().is_empty());
}

#[tokio::test]
async fn in_memory_exporter_from_config() {
    let layer = TracingLayer::builder(TracingConfig {
        exporter_type: Some(ExporterType::InMemory),
        sample_rate: Some(1.0),
        ..Default::default()
    })
    .install_global(false)
    .build()
    .unwrap();
    let exporter = layer
        .pipeline()
        .in_memory_exporter()
        .expect("in_memory exporter");
    let tracer = {
        use opentelemetry::trace::TracerProvider as _;
        layer.pipeline().tracer_provider().tracer("test.handler")
    };
    let app = app(tracer).layer(layer.clone());
    send(app, get_req("/readyz")).await;
    layer.pipeline().force_flush().unwrap();
    assert_eq!(server_spans(&exporter.finished_spans()).len(), 1);
    let resource = exporter.resource().unwrap();
    let name = resource
        .get(&opentelemetry::Key::new("service.name"))
        .unwrap();
    // Default service name: the running binary's name (this test binary's crate
    // name, then cargo's hash).
    assert!(
        name.to_string().starts_with(env!("CARGO_CRATE_NAME")),
        "{name}"
    );
    assert_eq!(
        resource
            .get(&opentelemetry::Key::new("telemetry.sdk.language"))
            .unwrap()
            .to_string(),
        "rust"
    );
}
