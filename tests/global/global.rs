//! The default: the layer installs its provider and propagator globally, so
//! handler code using `opentelemetry::global` joins the request's trace.
//! (Its own test binary: the global is process-wide.)

use std::collections::HashMap;

use crate::common::*;
use axum::routing::get;
use axum::Router;
use opentelemetry::trace::{Tracer, TracerProvider as _};
use tower_otel_tracing::config::ExporterType;
use tower_otel_tracing::{TracingConfig, TracingLayer};

#[tokio::test]
async fn global_tracer_and_propagator_follow_the_request() {
    let layer = TracingLayer::from_config(TracingConfig {
        exporter_type: Some(ExporterType::InMemory),
        sample_rate: Some(1.0),
        ..Default::default()
    });
    let exporter = layer.pipeline().in_memory_exporter().unwrap();
    let app = Router::new()
        .route(
            "/outbound",
            get(|| async {
                let tracer = opentelemetry::global::tracer_provider().tracer("handler");
                tracer.in_span("call-backend", |cx| {
                    // What an HTTP client would send downstream.
                    let mut headers = HashMap::new();
                    opentelemetry::global::get_text_map_propagator(|p| {
                        p.inject_context(&cx, &mut headers)
                    });
                    headers.remove("traceparent").unwrap_or_default()
                })
            }),
        )
        .layer(layer.clone());
    let (_, body) = send(app, get_req("/outbound")).await;
    layer.pipeline().force_flush().unwrap();
    let spans = exporter.finished_spans();
    let server = one_server_span(&spans);
    let call = spans.iter().find(|s| s.name == "call-backend").unwrap();
    assert_eq!(call.parent_span_id, server.span_context.span_id());
    assert_eq!(
        std::str::from_utf8(&body).unwrap(),
        // Sampled, and random (02): the trace started in this process, and the
        // global propagator is the layer's W3C Level 2 one.
        format!(
            "00-{}-{}-03",
            server.span_context.trace_id(),
            call.span_context.span_id()
        )
    );
}
