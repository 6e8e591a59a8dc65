//! Encode throughput on a realistic 3-span request batch (the server span of
//! `POST /summarize` with its attributes and its two `http send` spans), each of our
//! encoders beside the crate a user would otherwise use:
//! `cargo bench -p peers --bench encode`.
//!
//! Every routine takes the batch by value and drops it, as an export does; cloning
//! the batch happens outside the timed part.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use http_body_util::BodyExt;
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use tower::ServiceExt;
use tower_otel_tracing::exporter::InMemoryExporter;
use tower_otel_tracing::{ConnectionInfo, TracingConfig, TracingLayer};

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
    let app = peers::router().layer(layer.clone());
    let mut req = http::Request::post("/summarize")
        .header("host", "10.0.0.2:3000")
        .header(
            "user-agent",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36",
        )
        .body(axum::body::Body::from(peers::BODY))
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
    layer.pipeline().force_flush().unwrap();
    let spans = exporter.finished_spans();
    assert_eq!(spans.len(), 3);
    spans
}

fn resource() -> Resource {
    Resource::builder()
        .with_service_name("Summarization")
        .build()
}

// opentelemetry-zipkin is deprecated upstream, but it is still what a Zipkin user
// finds first, so it is the baseline.
#[allow(deprecated)]
fn encoders(c: &mut Criterion) {
    let batch = request_batch();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("encode_3_span_request");
    group.throughput(Throughput::Elements(batch.len() as u64));
    let owned = || batch.clone();

    let mut cfg = TracingConfig::default();
    cfg.zipkin.local_node_ipv4 = Some("192.168.0.1".parse().unwrap());
    cfg.zipkin.local_node_port = Some(31313);
    let mut zipkin = tower_otel_tracing::exporter::ZipkinExporter::from_config(&cfg).unwrap();
    zipkin.set_resource(&resource());
    group.bench_function("zipkin_json/tower-otel-tracing", |b| {
        b.iter_batched(owned, |batch| zipkin.encode(&batch), BatchSize::SmallInput)
    });
    let mut theirs = opentelemetry_zipkin::ZipkinExporter::builder()
        .with_http_client(peers::capture::CaptureClient)
        .with_collector_endpoint("http://127.0.0.1:9411/api/v2/spans")
        .with_service_address("192.168.0.1:31313".parse().unwrap())
        .build()
        .unwrap();
    theirs.set_resource(&resource());
    group.bench_function("zipkin_json/opentelemetry-zipkin", |b| {
        b.iter_batched(
            owned,
            |batch| rt.block_on(theirs.export(batch)).unwrap(),
            BatchSize::SmallInput,
        )
    });

    let mut jaeger = tower_otel_tracing::exporter::JaegerExporter::from_config(&cfg).unwrap();
    jaeger.set_resource(&resource());
    group.bench_function("jaeger_compact_thrift/tower-otel-tracing", |b| {
        b.iter_batched(
            owned,
            |batch| jaeger.encode_compact(&batch),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("jaeger_binary_thrift/tower-otel-tracing", |b| {
        b.iter_batched(
            owned,
            |batch| jaeger.encode_binary(&batch),
            BatchSize::SmallInput,
        )
    });

    let mut ours = tower_otel_tracing::exporter::OtlpExporter::from_config(&cfg).unwrap();
    ours.set_resource(&resource());
    group.bench_function("otlp_protobuf/tower-otel-tracing", |b| {
        b.iter_batched(owned, |batch| ours.encode(&batch), BatchSize::SmallInput)
    });
    let mut otlp = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(peers::capture::CaptureClient)
        .with_endpoint("http://127.0.0.1:4318/v1/traces")
        .build()
        .unwrap();
    otlp.set_resource(&resource());
    group.bench_function("otlp_protobuf/opentelemetry-otlp", |b| {
        b.iter_batched(
            owned,
            |batch| rt.block_on(otlp.export(black_box(batch))).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, encoders);
criterion_main!(benches);
