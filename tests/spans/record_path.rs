//! There is one way from a record to spans, its description, written into the
//! layout each consumer reads: our network exporters' (a request's children
//! share one name and attribute list per kind), a user's exporter's SDK
//! `SpanData`, and a user's tracer provider, which gets the spans replayed
//! through its tracer. All must carry the same spans: the same requests go
//! through a layer exporting OTLP to a loopback receiver, one exporting to
//! memory and one under a user's provider, and all are decoded with
//! opentelemetry-proto and compared field by field, ids and times aside (they
//! are random and clock-made).

use std::collections::HashMap;

use crate::common::receiver::Receiver;
use crate::common::*;
use axum::body::Body;
use axum::routing::{get, post};
use axum::Router;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::trace::{Span as _, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::KeyValue;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span as PbSpan;
use prost::Message;
use tower_otel_tracing::config::ExporterType;
use tower_otel_tracing::config::Semconv;
use tower_otel_tracing::exporter::OtlpExporter;
use tower_otel_tracing::{ConnectionInfo, TracingConfig, TracingLayer};

/// The batch size of the OTLP layer: the 20-frame stream's 21 spans are more
/// than one export takes, and the others straddle batches.
const BATCH: usize = 8;

fn app(layer: &TracingLayer) -> Router {
    let tracer = layer.pipeline().tracer_provider().tracer("test.handler");
    Router::new()
        .route(
            "/summarize",
            post(move |body: String| {
                let tracer = tracer.clone();
                async move {
                    let mut span = tracer.start("summarize.model");
                    span.set_attribute(KeyValue::new("words", body.len() as i64));
                    span.end();
                    body
                }
            }),
        )
        .route(
            "/fail",
            get(|| async { (http::StatusCode::BAD_GATEWAY, "upstream down") }),
        )
        .route(
            "/stream",
            get(|| async {
                let chunks = (0..20).map(|i| Ok::<_, std::convert::Infallible>(format!("{i}\n")));
                Body::from_stream(futures_util::stream::iter(chunks))
            }),
        )
        .route(
            "/write",
            get(|| async {
                // The handler's writes to the server span, through its context.
                let cx = opentelemetry::Context::current();
                let span = cx.span();
                span.set_attribute(KeyValue::new("handler.note", "a note longer than twelve"));
                span.add_event(
                    "checkpoint",
                    vec![KeyValue::new("detail", "detail longer than twelve")],
                );
                span.update_name("GET /write (renamed)");
                span.set_status(Status::error("handler gave up on this one"));
                "written"
            }),
        )
        .layer(layer.clone())
}

fn requests() -> Vec<http::Request<Body>> {
    let info = ConnectionInfo {
        local_addr: "10.0.0.2:3000".parse().unwrap(),
        peer_addr: "10.0.0.9:59482".parse().unwrap(),
    };
    let mut out = vec![
        http::Request::post("/summarize?q=1&token=secret")
            .header("host", "api.example")
            .header("user-agent", "curl/8.5.0 with a long user agent")
            .body(Body::from("three words here"))
            .unwrap(),
        get_req("/fail"),
        get_req("/stream"),
        get_req("/write"),
    ];
    for req in &mut out {
        req.extensions_mut().insert(info);
    }
    out
}

/// The same config, to memory (the SDK path) and to OTLP over HTTP.
fn config(base: &TracingConfig, otlp: Option<String>) -> TracingConfig {
    let mut cfg = base.clone();
    if let Some(endpoint) = otlp {
        cfg.exporter_type = Some(ExporterType::Otlp);
        cfg.otlp.endpoint = Some(endpoint);
    }
    cfg
}

fn decode(body: &[u8]) -> Vec<PbSpan> {
    ExportTraceServiceRequest::decode(body)
        .expect("ExportTraceServiceRequest")
        .resource_spans
        .into_iter()
        .flat_map(|r| r.scope_spans)
        .flat_map(|s| s.spans)
        .collect()
}

/// Each span without its ids and times: its parent by name instead, and the
/// times checked for order. Sorted, so the two paths' orders need not agree.
fn normalized(spans: Vec<PbSpan>) -> Vec<String> {
    let names: HashMap<Vec<u8>, String> = spans
        .iter()
        .map(|s| (s.span_id.clone(), s.name.clone()))
        .collect();
    let mut ids: Vec<&[u8]> = spans.iter().map(|s| s.span_id.as_slice()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), spans.len(), "every span has its own id");
    let mut out: Vec<String> = spans
        .iter()
        .cloned()
        .map(|mut s| {
            assert!(s.end_time_unix_nano >= s.start_time_unix_nano, "{}", s.name);
            assert_eq!(s.trace_id.len(), 16);
            let parent = names.get(&s.parent_span_id).cloned();
            assert_eq!(
                parent.is_some(),
                !s.parent_span_id.is_empty() && s.kind != 2
            );
            for e in &mut s.events {
                e.time_unix_nano = 0;
            }
            (s.trace_id, s.span_id, s.parent_span_id) = (vec![], vec![], vec![]);
            (s.start_time_unix_nano, s.end_time_unix_nano) = (0, 0);
            format!("parent {parent:?}: {s:?}")
        })
        .collect();
    out.sort();
    out
}

async fn both_paths(base: TracingConfig) -> (Vec<String>, Vec<String>) {
    let receiver = Receiver::start();
    let batch = BATCH.to_string();
    let otlp = TracingLayer::builder(config(&base, Some(receiver.url("/v1/traces"))))
        .install_global(false)
        .env_vars(vec![(
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE".to_string(),
            batch.clone(),
        )])
        .build()
        .unwrap();
    let memory = Harness::new(config(&base, None));
    for layer in [&otlp, &memory.layer] {
        for req in requests() {
            send(app(layer), req).await;
        }
    }
    otlp.pipeline().force_flush().unwrap();
    let posts = receiver.requests();
    let mut wire = Vec::new();
    for post in &posts {
        let spans = decode(&post.body);
        assert!(spans.len() <= BATCH, "an export of {} spans", spans.len());
        wire.extend(spans);
    }
    // The SDK path's spans, through the same encoder (a user could do this).
    let mut sdk = OtlpExporter::from_config(&TracingConfig::default()).unwrap();
    opentelemetry_sdk::trace::SpanExporter::set_resource(
        &mut sdk,
        &opentelemetry_sdk::Resource::builder().build(),
    );
    let memory_spans = decode(&sdk.encode(&memory.spans()));
    assert_eq!(otlp.pipeline().stats().dropped, 0);
    (normalized(wire), normalized(memory_spans))
}

#[tokio::test]
async fn sampled_requests_read_from_records_match_the_sdk_spans() {
    let base = TracingConfig {
        sample_rate: Some(1.0),
        // Cuts the children's shared `type` values too.
        max_tag_value_length: Some(12),
        semconv: Some(Semconv::Dup),
        ..Default::default()
    };
    let (wire, memory) = both_paths(base).await;
    // /summarize: the server span, `http receive`, two `http send` and the
    // handler's span; /fail and /write: 3 each; /stream: 22.
    assert_eq!(wire.len(), 33, "{wire:#?}");
    assert_eq!(wire, memory);
    assert!(wire.iter().any(|s| s.contains("http.respon")));
    assert!(wire.iter().any(|s| s.contains("GET /write (renamed)")));
}

#[tokio::test]
async fn kept_errors_read_from_records_match_the_sdk_spans() {
    let base = TracingConfig {
        sample_rate: Some(0.0),
        keep_errors: Some(true),
        ..Default::default()
    };
    let (wire, memory) = both_paths(base).await;
    // Only /fail is kept: its server span and two `http send` children.
    assert_eq!(wire.len(), 3, "{wire:#?}");
    assert_eq!(wire, memory);
    assert!(wire.iter().any(|s| s.contains("sampling.reason")));
}

/// A tracer provider the user supplied gets the same spans, replayed through
/// its tracer at each request's end: the OTLP wire, our pipeline's `SpanData`
/// and the user's provider all agree. (No `max_tag_value_length` here: the
/// user's provider has its own processors, which the layer's truncation does
/// not reach.)
#[tokio::test]
async fn a_users_provider_gets_the_same_spans_replayed() {
    let base = TracingConfig {
        sample_rate: Some(1.0),
        semconv: Some(Semconv::Dup),
        ..Default::default()
    };
    let (wire, memory) = both_paths(base.clone()).await;
    let exporter = tower_otel_tracing::exporter::InMemoryExporter::default();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let layer = TracingLayer::builder(base)
        .tracer_provider(provider.clone())
        .install_global(false)
        .build()
        .unwrap();
    for req in requests() {
        send(app(&layer), req).await;
    }
    provider.force_flush().unwrap();
    let mut sdk = OtlpExporter::from_config(&TracingConfig::default()).unwrap();
    opentelemetry_sdk::trace::SpanExporter::set_resource(
        &mut sdk,
        &opentelemetry_sdk::Resource::builder().build(),
    );
    let replayed = normalized(decode(&sdk.encode(&exporter.finished_spans())));
    assert_eq!(wire.len(), 33, "{wire:#?}");
    assert_eq!(wire, memory);
    assert_eq!(replayed, memory);
}
