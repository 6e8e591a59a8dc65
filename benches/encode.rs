//! Exporter encode throughput on a realistic 3-span request batch (the server span
//! of `POST /summarize` with its attributes, and its two `http send` spans).
//! Run: `cargo bench --all-features --bench encode`.

use std::hint::black_box;

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use http_body_util::BodyExt;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use tower::ServiceExt;
use tower_otel_tracing::{ConnectionInfo, InMemoryExporter, TracingConfig, TracingLayer};

/// Records one real request through the layer and returns its three spans.
fn request_batch() -> Vec<SpanData> {
    let exporter = InMemoryExporter::default();
    let layer = TracingLayer::builder(TracingConfig {
        sample_rate: Some(1.0),
        service_name: Some("Summarization".into()),
        ..Default::default()
    })
    .exporter(exporter.clone())
    .receive_spans(false)
    .install_global(false)
    .build()
    .unwrap();
    let app = Router::new()
        .route("/summarize", post(|b: String| async move { b }))
        .layer(layer.clone());
    let mut req = http::Request::post("/summarize")
        .header("host", "10.0.0.2:3000")
        .header(
            "user-agent",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36",
        )
        .body(Body::from(
            r#"{"text": "The quick brown fox jumps over the dog."}"#,
        ))
        .unwrap();
    req.extensions_mut().insert(ConnectionInfo {
        local_addr: "10.0.0.2:3000".parse().unwrap(),
        peer_addr: "10.0.0.9:59482".parse().unwrap(),
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let resp = app.oneshot(req).await.unwrap();
        resp.into_body().collect().await.unwrap();
    });
    layer.force_flush().unwrap();
    let spans = exporter.finished_spans();
    assert_eq!(spans.len(), 3);
    spans
}

fn encoders(c: &mut Criterion) {
    let batch = request_batch();
    let mut group = c.benchmark_group("encode_3_span_request");
    group.throughput(Throughput::Elements(batch.len() as u64));

    let mut cfg = TracingConfig::default();
    cfg.zipkin.local_node_ipv4 = Some("192.168.0.1".parse().unwrap());
    cfg.zipkin.local_node_port = Some(31313);
    let mut zipkin = tower_otel_tracing::ZipkinExporter::from_config(&cfg).unwrap();
    zipkin.set_resource(
        &opentelemetry_sdk::Resource::builder()
            .with_service_name("Summarization")
            .build(),
    );
    group.bench_function("zipkin_json", |b| {
        b.iter(|| black_box(zipkin.encode(black_box(&batch))))
    });

    let mut jaeger = tower_otel_tracing::JaegerExporter::from_config(&cfg).unwrap();
    jaeger.set_resource(
        &opentelemetry_sdk::Resource::builder()
            .with_service_name("Summarization")
            .build(),
    );
    group.bench_function("jaeger_compact_thrift", |b| {
        b.iter(|| black_box(jaeger.encode_compact(black_box(&batch))))
    });
    group.bench_function("jaeger_binary_thrift", |b| {
        b.iter(|| black_box(jaeger.encode_binary(black_box(&batch))))
    });

    // What opentelemetry-otlp does per export: group by resource and scope, then
    // protobuf-encode the ExportTraceServiceRequest.
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name("Summarization")
        .build();
    let resource =
        opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema::from(
            &resource,
        );
    group.bench_function("otlp_protobuf", |b| {
        b.iter(|| {
            use prost::Message;
            let resource_spans =
                opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope(
                    black_box(batch.clone()),
                    &resource,
                );
            let req = opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest {
                resource_spans,
            };
            black_box(req.encode_to_vec())
        })
    });
    group.finish();
}

criterion_group!(benches, encoders);
criterion_main!(benches);
