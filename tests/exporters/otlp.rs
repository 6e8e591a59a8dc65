//! OTLP export, decoded with opentelemetry-proto: HTTP protobuf (headers, gzip,
//! custom CA, retries, failures, env overrides) and gRPC.

use std::path::PathBuf;

use crate::common::receiver::{dead_addr, Receiver, TestPki};
use crate::common::*;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::Span as PbSpan;
use prost::Message;
use tower_otel_tracing::config::{Compression, ExporterType};
use tower_otel_tracing::exporter::OtlpExporter;
use tower_otel_tracing::{ConnectionInfo, TracingConfig, TracingLayer};

fn otlp_config(endpoint: String) -> TracingConfig {
    let mut cfg = TracingConfig {
        exporter_type: Some(ExporterType::Otlp),
        sample_rate: Some(1.0),
        service_name: Some("Summarization".into()),
        timeout: Some(5.0),
        ..Default::default()
    };
    cfg.otlp.endpoint = Some(endpoint);
    cfg
}

fn request() -> http::Request<axum::body::Body> {
    let mut req = post_summarize("otlp receives this");
    req.extensions_mut().insert(ConnectionInfo {
        local_addr: "10.0.0.2:3000".parse().unwrap(),
        peer_addr: "10.0.0.9:59482".parse().unwrap(),
    });
    req
}

fn decode(body: &[u8]) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest::decode(body).expect("ExportTraceServiceRequest")
}

fn spans(req: &ExportTraceServiceRequest) -> Vec<PbSpan> {
    req.resource_spans
        .iter()
        .flat_map(|rs| rs.scope_spans.iter())
        .flat_map(|ss| ss.spans.iter().cloned())
        .collect()
}

fn attr<'a>(
    attrs: &'a [opentelemetry_proto::tonic::common::v1::KeyValue],
    key: &str,
) -> Option<&'a Any> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn assert_request_tree(req: &ExportTraceServiceRequest) {
    assert_eq!(req.resource_spans.len(), 1);
    let resource = req.resource_spans[0].resource.as_ref().unwrap();
    assert_eq!(
        attr(&resource.attributes, "service.name"),
        Some(&Any::StringValue("Summarization".into()))
    );
    assert_eq!(
        attr(&resource.attributes, "telemetry.sdk.language"),
        Some(&Any::StringValue("rust".into()))
    );
    let scopes: Vec<_> = req.resource_spans[0]
        .scope_spans
        .iter()
        .map(|s| s.scope.as_ref().unwrap().name.clone())
        .collect();
    assert!(
        scopes.contains(&"tower-otel-tracing".to_owned()),
        "{scopes:?}"
    );
    let spans = spans(req);
    assert_eq!(spans.len(), 5);
    let server = spans.iter().find(|s| s.name == "POST /summarize").unwrap();
    assert_eq!(server.kind, 2, "SPAN_KIND_SERVER");
    assert!(server.parent_span_id.is_empty());
    assert_eq!(
        attr(&server.attributes, "http.status_code"),
        Some(&Any::IntValue(200))
    );
    assert_eq!(
        attr(&server.attributes, "net.peer.ip"),
        Some(&Any::StringValue("10.0.0.9".into()))
    );
    assert_eq!(
        attr(&server.attributes, "http.flavor"),
        Some(&Any::StringValue("1.1".into()))
    );
    for child in spans.iter().filter(|s| s.span_id != server.span_id) {
        assert_eq!(child.parent_span_id, server.span_id);
        assert_eq!(child.trace_id, server.trace_id);
        assert_eq!(child.kind, 1, "SPAN_KIND_INTERNAL");
    }
    let start = spans
        .iter()
        .find(|s| {
            attr(&s.attributes, "type") == Some(&Any::StringValue("http.response.start".into()))
        })
        .unwrap();
    assert_eq!(start.name, "POST /summarize http send");
    assert_eq!(
        attr(&start.attributes, "http.status_code"),
        Some(&Any::IntValue(200))
    );
}

#[tokio::test]
async fn http_protobuf_with_headers() {
    let rx = Receiver::start();
    let mut cfg = otlp_config(rx.url("/v1/traces"));
    cfg.otlp.http.headers = Some([("x-api-key".to_owned(), "k-123".to_owned())].into());
    let layer = layer_with_env(cfg, &[]);
    let (status, _) = send(traced(&layer), request()).await;
    assert_eq!(status, 200);
    layer.pipeline().force_flush().unwrap();
    let posts = rx.wait_for(1);
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].uri.path(), "/v1/traces");
    assert_eq!(posts[0].headers["content-type"], "application/x-protobuf");
    assert_eq!(posts[0].headers["x-api-key"], "k-123");
    assert_request_tree(&decode(&posts[0].body));
}

#[tokio::test]
async fn gzip_body_decodes() {
    let rx = Receiver::start();
    let mut cfg = otlp_config(rx.url("/v1/traces"));
    cfg.otlp.compression = Some(Compression::Gzip);
    let layer = layer_with_env(cfg, &[]);
    send(traced(&layer), request()).await;
    layer.pipeline().force_flush().unwrap();
    let post = &rx.wait_for(1)[0];
    assert_eq!(post.headers["content-encoding"], "gzip");
    let mut plain = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&post.body[..]),
        &mut plain,
    )
    .unwrap();
    assert_request_tree(&decode(&plain));
}

fn write_pem(name: &str, pem: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("tot-otlp-{}-{name}.pem", std::process::id()));
    std::fs::write(&path, pem).unwrap();
    path
}

#[tokio::test]
async fn https_is_verified_against_the_configured_ca() {
    let pki = TestPki::new();
    let rx = Receiver::start_tls(pki.server.clone());
    let good_ca = write_pem("good", &pki.ca_pem);
    let mut cfg = otlp_config(format!("https://127.0.0.1:{}/v1/traces", rx.addr.port()));
    cfg.otlp.http.certificate_file = Some(good_ca.clone());
    let layer = layer_with_env(cfg.clone(), &[]);
    send(traced(&layer), request()).await;
    layer.pipeline().force_flush().unwrap();
    assert_request_tree(&decode(&rx.wait_for(1)[0].body));

    // Another CA: the server's certificate does not chain to it.
    let other = TestPki::new();
    let bad_ca = write_pem("bad", &other.ca_pem);
    cfg.otlp.http.certificate_file = Some(bad_ca.clone());
    let layer = layer_with_env(cfg, &[]);
    let (status, _) = send(traced(&layer), request()).await;
    assert_eq!(status, 200);
    let err = layer.pipeline().force_flush().unwrap_err().to_string();
    assert!(err.contains("https://127.0.0.1"), "{err}");
    assert!(
        err.to_lowercase().contains("certificate") || err.contains("UnknownIssuer"),
        "{err}"
    );
    assert_eq!(
        rx.requests().len(),
        1,
        "nothing reached the server over the bad chain"
    );
    let _ = std::fs::remove_file(good_ca);
    let _ = std::fs::remove_file(bad_ca);
}

#[test]
fn unreadable_or_invalid_ca_files_are_config_errors() {
    let mut cfg = otlp_config("https://127.0.0.1:4318/v1/traces".into());
    cfg.otlp.http.certificate_file = Some("/no/such/ca.pem".into());
    let err = TracingLayer::try_from_config(cfg.clone()).unwrap_err();
    assert_eq!(err.path(), "tracing.otlp.http.certificate_file");
    assert!(err.to_string().contains("/no/such/ca.pem"), "{err}");
    let junk = write_pem("junk", "this is not a certificate");
    cfg.otlp.http.certificate_file = Some(junk.clone());
    let err = OtlpExporter::from_config(&cfg).unwrap_err();
    assert_eq!(err.path(), "tracing.otlp.http.certificate_file");
    assert!(err.to_string().contains("no PEM certificate"), "{err}");
    let _ = std::fs::remove_file(junk);
}

#[tokio::test]
async fn transient_failures_are_retried_and_delivered_once() {
    let rx = Receiver::start();
    rx.script(&[503, 429]);
    let layer = layer_with_env(otlp_config(rx.url("/v1/traces")), &[]);
    send(traced(&layer), request()).await;
    layer.pipeline().force_flush().unwrap();
    let posts = rx.wait_for(3);
    assert_eq!(
        posts.len(),
        3,
        "503, 429 (both with Retry-After: 1), then accepted"
    );
    // The same batch each time; only the last was accepted.
    let ids: Vec<Vec<Vec<u8>>> = posts
        .iter()
        .map(|p| {
            spans(&decode(&p.body))
                .into_iter()
                .map(|s| s.span_id)
                .collect()
        })
        .collect();
    assert_eq!(ids[0], ids[2]);
    // Both throttling answers said `Retry-After: 1`, and the exporter waited.
    for pair in posts.windows(2) {
        let gap = pair[1].received_at - pair[0].received_at;
        assert!(
            gap >= std::time::Duration::from_millis(900),
            "retried after {gap:?}"
        );
    }
    assert_eq!(ids[2].len(), 5);
}

#[tokio::test]
async fn gateway_errors_are_retried_with_backoff() {
    let rx = Receiver::start();
    rx.script(&[502, 504]);
    let layer = layer_with_env(otlp_config(rx.url("/v1/traces")), &[]);
    send(traced(&layer), request()).await;
    layer.pipeline().force_flush().unwrap();
    let posts = rx.wait_for(3);
    assert_eq!(posts.len(), 3, "502, 504, then accepted");
    assert_eq!(posts[0].body, posts[2].body, "the same batch each time");
    assert_eq!(layer.pipeline().stats().failed, 0);
    assert_eq!(layer.pipeline().stats().exported, 5);
}

#[tokio::test]
async fn bad_request_is_not_retried() {
    let rx = Receiver::start();
    rx.respond_with(400);
    let layer = layer_with_env(otlp_config(rx.url("/v1/traces")), &[]);
    send(traced(&layer), request()).await;
    let err = layer.pipeline().force_flush().unwrap_err().to_string();
    assert!(err.contains("400"), "{err}");
    assert_eq!(rx.requests().len(), 1);
}

#[tokio::test]
async fn receiver_down_is_an_export_error_and_requests_carry_on() {
    let endpoint = format!("http://{}/v1/traces", dead_addr());
    let mut cfg = otlp_config(endpoint.clone());
    cfg.timeout = Some(1.0);
    let layer = layer_with_env(cfg, &[]);
    let (status, body) = send(traced(&layer), request()).await;
    assert_eq!(status, 200);
    assert_eq!(&body[..], b"otlp receives this");
    let err = layer.pipeline().force_flush().unwrap_err().to_string();
    assert!(err.contains(&endpoint), "{err}");
    assert!(
        err.to_lowercase().contains("connect") || err.to_lowercase().contains("refused"),
        "{err}"
    );
}

#[tokio::test]
async fn env_endpoints_win() {
    let rx = Receiver::start();
    let base = rx.url("");
    let layer = layer_with_env(
        otlp_config("http://127.0.0.1:1/v1/traces".into()),
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &base)],
    );
    send(traced(&layer), get_req("/readyz")).await;
    layer.pipeline().force_flush().unwrap();
    assert_eq!(rx.wait_for(1)[0].uri.path(), "/v1/traces");

    let custom = rx.url("/custom/path");
    let layer = layer_with_env(
        otlp_config("http://127.0.0.1:1/v1/traces".into()),
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &custom),
        ],
    );
    send(traced(&layer), get_req("/readyz")).await;
    layer.pipeline().force_flush().unwrap();
    let posts = rx.wait_for(2);
    assert_eq!(posts[1].uri.path(), "/custom/path");
}

#[cfg(feature = "otlp-grpc")]
mod grpc {
    use super::*;
    use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
        TraceService, TraceServiceServer,
    };
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Collector {
        got: Arc<Mutex<Vec<(tonic::metadata::MetadataMap, ExportTraceServiceRequest)>>>,
    }

    #[tonic::async_trait]
    impl TraceService for Collector {
        async fn export(
            &self,
            request: tonic::Request<ExportTraceServiceRequest>,
        ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
            let metadata = request.metadata().clone();
            self.got
                .lock()
                .unwrap()
                .push((metadata, request.into_inner()));
            Ok(tonic::Response::new(ExportTraceServiceResponse {
                partial_success: None,
            }))
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn grpc_export_decodes() {
        let collector = Collector::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(TraceServiceServer::new(collector.clone()))
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
        );
        let mut cfg = otlp_config(format!("http://{addr}"));
        cfg.otlp.protocol = Some(tower_otel_tracing::config::OtlpProtocol::Grpc);
        cfg.otlp.grpc.headers = Some([("x-tenant".to_owned(), "ml".to_owned())].into());
        let layer = layer_with_env(cfg, &[]);
        send(traced(&layer), request()).await;
        let flushed = tokio::task::spawn_blocking({
            let layer = layer.clone();
            move || layer.pipeline().force_flush()
        })
        .await
        .unwrap();
        flushed.unwrap();
        server.abort();
        let got = collector.got.lock().unwrap().clone();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0.get("x-tenant").unwrap(), "ml");
        assert_request_tree(&got[0].1);
    }
}

/// Spans using every part of the model: two scopes (one with version, schema URL
/// and attributes), a remote parent with trace state, a local child, events with
/// and without attributes, a link, every value type including each array kind,
/// empty strings, and each status.
fn varied_batch() -> Vec<opentelemetry_sdk::trace::SpanData> {
    use opentelemetry::trace::{
        Link, Span as _, SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags,
        TraceId, TraceState, Tracer as _, TracerProvider as _,
    };
    use opentelemetry::{Array, InstrumentationScope, KeyValue, StringValue, Value};

    let exporter = tower_otel_tracing::exporter::InMemoryExporter::default();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let plain = provider.tracer("plain");
    let scoped = provider.tracer_with_scope(
        InstrumentationScope::builder("scoped")
            .with_version("1.2.3")
            .with_schema_url("https://opentelemetry.io/schemas/1.21.0")
            .with_attributes([KeyValue::new("scope.attr", 7)])
            .build(),
    );
    let remote = SpanContext::new(
        TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap(),
        SpanId::from_hex("b7ad6b7169203331").unwrap(),
        TraceFlags::SAMPLED,
        true,
        TraceState::from_key_value([("vendor", "v1"), ("other", "x")]).unwrap(),
    );
    let parent_cx = opentelemetry::Context::new().with_remote_span_context(remote.clone());
    let mut server = scoped
        .span_builder("POST /summarize")
        .with_kind(SpanKind::Server)
        .with_attributes([
            KeyValue::new("s", "text"),
            KeyValue::new("empty", ""),
            KeyValue::new("i", -42i64),
            KeyValue::new("big", i64::MAX),
            KeyValue::new("f", 0.25),
            KeyValue::new("b", true),
            KeyValue::new("bools", Value::Array(Array::Bool(vec![true, false]))),
            KeyValue::new("ints", Value::Array(Array::I64(vec![1, -2, 300]))),
            KeyValue::new("floats", Value::Array(Array::F64(vec![1.5, -0.0]))),
            KeyValue::new(
                "strings",
                Value::Array(Array::String(vec![StringValue::from("a"), "".into()])),
            ),
            KeyValue::new("none", Value::Array(Array::I64(vec![]))),
        ])
        .with_links(vec![Link::new(
            remote.clone(),
            vec![KeyValue::new("link.attr", "l")],
            0,
        )])
        .start_with_context(&scoped, &parent_cx);
    server.add_event("plain event", vec![]);
    server.add_event(
        "exception",
        vec![
            KeyValue::new("exception.type", "panic"),
            KeyValue::new("exception.message", "boom"),
        ],
    );
    server.set_status(Status::error("it failed"));
    let server_cx = parent_cx.with_span(server);
    let mut child = plain
        .span_builder("POST /summarize http send")
        .with_kind(SpanKind::Internal)
        .with_attributes([KeyValue::new("type", "http.response.start")])
        .start_with_context(&plain, &server_cx);
    child.set_status(Status::Ok);
    child.end();
    let mut client = plain
        .span_builder("")
        .with_kind(SpanKind::Client)
        .start_with_context(&plain, &server_cx);
    client.set_status(Status::error(""));
    client.end();
    for kind in [SpanKind::Producer, SpanKind::Consumer] {
        plain
            .span_builder("queue")
            .with_kind(kind)
            .start(&plain)
            .end();
    }
    server_cx.span().end();
    provider.force_flush().unwrap();
    exporter.finished_spans()
}

#[test]
fn encoder_matches_opentelemetry_proto_for_every_field() {
    use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
    use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
    use opentelemetry_sdk::trace::SpanExporter as _;

    let batch = varied_batch();
    let names: Vec<_> = batch
        .iter()
        .map(|s| (s.name.to_string(), s.span_kind.clone()))
        .collect();
    assert_eq!(batch.len(), 5, "{names:?}");
    let resource = opentelemetry_sdk::Resource::builder_empty()
        .with_schema_url(
            [
                opentelemetry::KeyValue::new("service.name", "Summarization"),
                opentelemetry::KeyValue::new("deployment", "prod"),
                opentelemetry::KeyValue::new("replicas", 3),
            ],
            "https://opentelemetry.io/schemas/1.20.0",
        )
        .build();
    let mut exporter = OtlpExporter::from_config(&TracingConfig::default()).unwrap();
    exporter.set_resource(&resource);
    let ours = decode(&exporter.encode(&batch));
    let reference = ExportTraceServiceRequest {
        resource_spans: group_spans_by_resource_and_scope(
            batch.clone(),
            &ResourceAttributesWithSchema::from(&resource),
        ),
    };
    assert_eq!(ours.resource_spans.len(), 1);
    assert_eq!(ours.resource_spans[0].scope_spans.len(), 2);
    assert_eq!(ours, reference);
    // And byte for byte: both write fields in number order.
    assert_eq!(exporter.encode(&batch), reference.encode_to_vec());

    // The same holds for an empty batch and for a resource without a schema URL.
    exporter.set_resource(&opentelemetry_sdk::Resource::builder_empty().build());
    let empty = ExportTraceServiceRequest {
        resource_spans: group_spans_by_resource_and_scope(
            Vec::new(),
            &ResourceAttributesWithSchema::from(
                &opentelemetry_sdk::Resource::builder_empty().build(),
            ),
        ),
    };
    assert_eq!(decode(&exporter.encode(&[])), empty);
}

/// Every message's length, on both sides of where a varint takes another
/// byte: the encoder leaves room for a length's usual size before writing a
/// message and moves it when it was wrong, which must write exactly what
/// opentelemetry-proto writes.
#[test]
fn encoder_matches_opentelemetry_proto_for_every_message_size() {
    use opentelemetry::trace::{Span as _, SpanKind, Status, Tracer as _, TracerProvider as _};
    use opentelemetry::KeyValue;
    use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
    use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
    use opentelemetry_sdk::trace::SpanExporter as _;

    let memory = tower_otel_tracing::exporter::InMemoryExporter::default();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(memory.clone())
        .build();
    let tracer = provider.tracer("sizes");
    // A span of under 128 bytes (a one-byte length), then spans whose attribute,
    // event, link or status takes each size of length up to three bytes.
    tracer.span_builder("").start(&tracer).end();
    for size in [100, 127, 128, 200, 16_300, 16_384, 20_000] {
        let text = "x".repeat(size);
        let mut span = tracer
            .span_builder(format!("span {size}"))
            .with_kind(SpanKind::Server)
            .with_attributes([KeyValue::new("text", text.clone())])
            .start(&tracer);
        span.add_event("event", vec![KeyValue::new("text", text.clone())]);
        span.add_link(
            span.span_context().clone(),
            vec![KeyValue::new("text", text.clone())],
        );
        span.set_status(Status::error(text));
        span.end();
    }
    provider.force_flush().unwrap();
    let spans = memory.finished_spans();
    assert_eq!(spans.len(), 8);
    let resource = opentelemetry_sdk::Resource::builder_empty()
        .with_attributes([KeyValue::new("service.name", "sizes")])
        .build();
    let mut exporter = OtlpExporter::from_config(&TracingConfig::default()).unwrap();
    exporter.set_resource(&resource);
    // Batches of one span (a one-byte outer length), of all of them (three
    // bytes), and of 120 copies of the largest (~10 MB: four bytes).
    let largest = spans.last().unwrap().clone();
    let batches = [
        spans[..1].to_vec(),
        spans[1..2].to_vec(),
        spans.clone(),
        vec![largest; 120],
    ];
    for batch in batches {
        let reference = ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(
                batch.clone(),
                &ResourceAttributesWithSchema::from(&resource),
            ),
        };
        let ours = exporter.encode(&batch);
        assert_eq!(ours.len(), reference.encoded_len(), "{} spans", batch.len());
        assert!(ours == reference.encode_to_vec(), "{} spans", batch.len());
    }
}

#[tokio::test]
async fn server_error_marks_server_and_start_span_only() {
    let rx = Receiver::start();
    let layer = layer_with_env(otlp_config(rx.url("/v1/traces")), &[]);
    let (status, _) = send(traced(&layer), get_req("/fail")).await;
    assert_eq!(status, 500);
    layer.pipeline().force_flush().unwrap();
    let spans: Vec<PbSpan> = rx
        .wait_for(1)
        .iter()
        .flat_map(|p| spans(&decode(&p.body)))
        .collect();
    assert_eq!(spans.len(), 3, "{spans:#?}");
    let code = |s: &PbSpan| s.status.as_ref().map_or(0, |st| st.code);
    for s in &spans {
        let ty = match attr(&s.attributes, "type") {
            Some(Any::StringValue(t)) => t.as_str(),
            _ => "server",
        };
        let expected = match ty {
            "server" | "http.response.start" => 2, // STATUS_CODE_ERROR
            "http.response.body" => 0,             // STATUS_CODE_UNSET
            other => panic!("unexpected span type {other}"),
        };
        assert_eq!(code(s), expected, "{ty}: {s:#?}");
    }
}

/// The spans of one request in `mode`, as the OTLP receiver got them.
async fn on_the_wire(mode: tower_otel_tracing::config::Semconv) -> Vec<PbSpan> {
    let rx = Receiver::start();
    let mut cfg = otlp_config(rx.url("/v1/traces"));
    cfg.semconv = Some(mode);
    let layer = layer_with_env(cfg, &[]);
    send(traced(&layer), request()).await;
    layer.pipeline().force_flush().unwrap();
    rx.wait_for(1)
        .iter()
        .flat_map(|p| spans(&decode(&p.body)))
        .collect()
}

fn str_value(s: &str) -> Any {
    Any::StringValue(s.to_owned())
}

/// Every attribute of a span as `key -> value`.
fn all_attrs(span: &PbSpan) -> std::collections::BTreeMap<String, Any> {
    span.attributes
        .iter()
        .map(|kv| {
            let value = kv.value.as_ref().and_then(|v| v.value.clone()).unwrap();
            (kv.key.clone(), value)
        })
        .collect()
}

#[tokio::test]
async fn stable_conventions_on_the_wire() {
    let spans = on_the_wire(tower_otel_tracing::config::Semconv::Stable).await;
    assert_eq!(spans.len(), 5, "{spans:#?}");
    let server = spans.iter().find(|s| s.kind == 2).unwrap();
    assert_eq!(server.name, "POST /summarize", "method and route template");
    assert!(server.parent_span_id.is_empty());
    let want: std::collections::BTreeMap<String, Any> = [
        ("http.request.method", str_value("POST")),
        ("url.scheme", str_value("http")),
        ("url.path", str_value("/summarize")),
        ("server.address", str_value("svc.local")),
        ("server.port", Any::IntValue(3000)),
        ("client.address", str_value("10.0.0.9")),
        ("network.peer.address", str_value("10.0.0.9")),
        ("network.peer.port", Any::IntValue(59482)),
        ("network.protocol.version", str_value("1.1")),
        ("http.route", str_value("/summarize")),
        ("http.response.status_code", Any::IntValue(200)),
        ("tower_otel_tracing.request.frames", Any::IntValue(1)),
        ("tower_otel_tracing.request.bytes", Any::IntValue(18)),
        ("tower_otel_tracing.response.frames", Any::IntValue(1)),
        ("tower_otel_tracing.response.bytes", Any::IntValue(18)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(
        all_attrs(server),
        want,
        "every key, no legacy one; our totals"
    );
    let mut types = Vec::new();
    for child in spans.iter().filter(|s| s.kind != 2) {
        assert_eq!(child.parent_span_id, server.span_id);
        assert_eq!(child.trace_id, server.trace_id);
        assert_eq!(child.kind, 1, "SPAN_KIND_INTERNAL");
        if child.name == "summarize.model" {
            continue; // the handler's own span
        }
        let a = all_attrs(child);
        let Some(Any::StringValue(ty)) = a.get("asgi.event.type") else {
            panic!("no asgi.event.type: {child:#?}");
        };
        let (name, keys): (_, &[&str]) = match ty.as_str() {
            "http.request" => ("POST /summarize http receive", &["asgi.event.type"]),
            "http.response.start" => (
                "POST /summarize http send",
                &["asgi.event.type", "http.response.status_code"],
            ),
            "http.response.body" => ("POST /summarize http send", &["asgi.event.type"]),
            other => panic!("unexpected child {other}"),
        };
        assert_eq!(child.name, name);
        assert_eq!(
            a.keys().collect::<Vec<_>>(),
            keys,
            "{ty}: the bare `type` is gone"
        );
        types.push(ty.clone());
    }
    types.sort();
    assert_eq!(
        types,
        ["http.request", "http.response.body", "http.response.start"]
    );
}

#[tokio::test]
async fn dup_conventions_on_the_wire() {
    let spans = on_the_wire(tower_otel_tracing::config::Semconv::Dup).await;
    let server = spans.iter().find(|s| s.kind == 2).unwrap();
    assert_eq!(server.name, "POST /summarize", "dup keeps BentoML's names");
    for (k, v) in [
        ("http.request.method", str_value("POST")),
        ("http.method", str_value("POST")),
        ("url.path", str_value("/summarize")),
        ("http.target", str_value("/summarize")),
        ("server.port", Any::IntValue(3000)),
        ("net.host.port", Any::IntValue(3000)),
        ("http.response.status_code", Any::IntValue(200)),
        ("http.status_code", Any::IntValue(200)),
    ] {
        assert_eq!(attr(&server.attributes, k), Some(&v), "{k}");
    }
    let start = spans
        .iter()
        .find(|s| attr(&s.attributes, "asgi.event.type") == Some(&str_value("http.response.start")))
        .unwrap();
    assert_eq!(
        attr(&start.attributes, "type"),
        Some(&str_value("http.response.start"))
    );
}

#[tokio::test]
async fn a_kept_error_trace_on_the_wire() {
    let rx = Receiver::start();
    let mut cfg = otlp_config(rx.url("/v1/traces"));
    cfg.sample_rate = Some(0.0);
    cfg.keep_errors = Some(true);
    let layer = layer_with_env(cfg, &[]);
    send(traced(&layer), get_req("/readyz")).await;
    send(traced(&layer), get_req("/fail")).await;
    layer.pipeline().force_flush().unwrap();
    let spans: Vec<PbSpan> = rx
        .wait_for(1)
        .iter()
        .flat_map(|p| spans(&decode(&p.body)))
        .collect();
    assert_eq!(spans.len(), 3);
    let server = spans.iter().find(|s| s.name == "GET /fail").unwrap();
    assert_eq!(
        attr(&server.attributes, "sampling.reason"),
        Some(&Any::StringValue("error".into()))
    );
    assert_eq!(server.status.as_ref().unwrap().code, 2);
    // Sampled, and random (02): the trace id was made here (W3C Level 2).
    assert_eq!(server.flags & 0xff, 3, "W3C sampled and random flags");
    for child in spans.iter().filter(|s| s.span_id != server.span_id) {
        assert_eq!(child.parent_span_id, server.span_id);
    }
}
