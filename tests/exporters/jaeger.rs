//! Jaeger Thrift export, decoded with the `thrift` crate's own protocol readers:
//! agent datagrams (compact, split to fit 65000 bytes) and collector POSTs (binary).

use std::collections::HashSet;
use std::time::Duration;

use crate::common::agent::Agent;
use crate::common::receiver::{dead_addr, Receiver};
use crate::common::thrift_decode::{decode_binary_batch, decode_emit_batch, Batch, JSpan, TagV};
use crate::common::*;
use opentelemetry::trace::{Span as _, SpanId, TraceId, Tracer as _, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter as _};
use tower_otel_tracing::config::ExporterType;
use tower_otel_tracing::exporter::{InMemoryExporter, JaegerExporter};
use tower_otel_tracing::{ConnectionInfo, TracingConfig};

const LIMIT: usize = 65_000;

fn agent_config(port: u16) -> TracingConfig {
    let mut cfg = TracingConfig {
        exporter_type: Some(ExporterType::Jaeger),
        sample_rate: Some(1.0),
        service_name: Some("Summarization".into()),
        ..Default::default()
    };
    cfg.jaeger.thrift.agent_host_name = Some("127.0.0.1".into());
    cfg.jaeger.thrift.agent_port = Some(port);
    cfg
}

fn request() -> http::Request<axum::body::Body> {
    let mut req = post_summarize("jaeger receives this");
    req.headers_mut().insert(
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
            .parse()
            .unwrap(),
    );
    req.extensions_mut().insert(ConnectionInfo {
        local_addr: "10.0.0.2:3000".parse().unwrap(),
        peer_addr: "10.0.0.9:59482".parse().unwrap(),
    });
    req
}

fn assert_request_tree(batch: &Batch) {
    assert_eq!(batch.service_name, "Summarization");
    assert_eq!(
        batch.process_tags.get("telemetry.sdk.language"),
        Some(&TagV::Str("rust".into()))
    );
    assert!(!batch.process_tags.contains_key("service.name"));
    let spans = &batch.spans;
    assert_eq!(spans.len(), 5, "{spans:#?}");
    let server: Vec<&JSpan> = spans
        .iter()
        .filter(|s| s.operation_name == "POST /summarize")
        .collect();
    assert_eq!(server.len(), 1);
    let server = server[0];
    let trace = 0x0af7651916cd43dd8448eb211c80319c_u128;
    assert_eq!(server.trace_id_low as u64, trace as u64);
    assert_eq!(server.trace_id_high as u64, (trace >> 64) as u64);
    // The remote parent: parentSpanId and a CHILD_OF reference.
    let remote = 0xb7ad6b7169203331_u64 as i64;
    assert_eq!(server.parent_span_id, remote);
    assert_eq!(
        server.references,
        vec![(0, server.trace_id_low, server.trace_id_high, remote)]
    );
    assert_eq!(server.flags, 1);
    assert!(server.start_time > 1_600_000_000_000_000, "microseconds");
    assert_eq!(server.tag("span.kind"), Some(&TagV::Str("server".into())));
    assert_eq!(server.tag("http.status_code"), Some(&TagV::Long(200)));
    assert_eq!(server.tag("net.host.port"), Some(&TagV::Long(3000)));
    assert_eq!(server.tag("net.peer.port"), Some(&TagV::Long(59482)));
    assert_eq!(server.str_tag("http.method"), Some("POST"));
    assert_eq!(
        server.str_tag("http.url"),
        Some("http://svc.local:3000/summarize")
    );
    assert_eq!(
        server.str_tag("otel.library.name"),
        Some("tower-otel-tracing")
    );
    assert_eq!(
        server.str_tag("otel.library.version"),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(server.tag("error"), None);
    for child in spans.iter().filter(|s| s.span_id != server.span_id) {
        assert_eq!(child.parent_span_id, server.span_id, "{child:#?}");
        assert_eq!(
            child.references,
            vec![(0, server.trace_id_low, server.trace_id_high, server.span_id)]
        );
        assert_eq!(
            (child.trace_id_low, child.trace_id_high),
            (server.trace_id_low, server.trace_id_high)
        );
        assert_eq!(
            child.tag("span.kind"),
            Some(&TagV::Str("internal".into())),
            "BentoML's exporter writes span.kind for INTERNAL too"
        );
        assert_eq!(child.flags, 1);
    }
    let sends: Vec<_> = spans
        .iter()
        .filter(|s| s.operation_name == "POST /summarize http send")
        .collect();
    assert_eq!(sends.len(), 2);
    let start = sends
        .iter()
        .find(|s| s.str_tag("type") == Some("http.response.start"))
        .unwrap();
    assert_eq!(start.tag("http.status_code"), Some(&TagV::Long(200)));
    assert!(spans
        .iter()
        .any(|s| s.operation_name == "POST /summarize http receive"));
    assert!(spans.iter().any(|s| s.operation_name == "summarize.model"));
}

#[tokio::test]
async fn agent_receives_the_request_tree_as_compact_emit_batch() {
    let agent = Agent::start();
    let layer = layer_with_env(agent_config(agent.port()), &[]);
    let (status, _) = send(traced(&layer), request()).await;
    assert_eq!(status, 200);
    layer.pipeline().force_flush().unwrap();
    let datagrams = agent.drain(Duration::from_millis(300));
    assert_eq!(datagrams.len(), 1);
    assert!(datagrams[0].len() <= LIMIT);
    assert_request_tree(&decode_emit_batch(&datagrams[0]));
}

#[tokio::test]
async fn errors_events_and_truncation() {
    let agent = Agent::start();
    let mut cfg = agent_config(agent.port());
    cfg.max_tag_value_length = Some(4);
    let layer = layer_with_env(cfg, &[]);
    let svc = tower::ServiceBuilder::new()
        .layer(layer.clone())
        .service_fn(|_req: http::Request<_>| async {
            Err::<http::Response<String>, _>(std::io::Error::other("backend down"))
        });
    let _ = tower::ServiceExt::oneshot(svc, get_req("/boom")).await;
    layer.pipeline().force_flush().unwrap();
    let batch = decode_emit_batch(&agent.drain(Duration::from_millis(300))[0]);
    let span = &batch.spans[0];
    assert_eq!(span.operation_name, "GET /boom");
    assert_eq!(span.tag("error"), Some(&TagV::Bool(true)));
    assert_eq!(span.str_tag("otel.status_code"), Some("ERROR"));
    assert_eq!(span.str_tag("otel.status_description"), Some("back"));
    assert_eq!(
        span.str_tag("http.url"),
        Some("http"),
        "string tags truncated to 4"
    );
    assert_eq!(span.parent_span_id, 0);
    assert!(span.references.is_empty(), "a root has no reference");
    assert_eq!(span.logs.len(), 1);
    let (ts, fields) = &span.logs[0];
    assert!(*ts >= span.start_time);
    assert_eq!(fields.get("event"), Some(&TagV::Str("exception".into())));
    assert_eq!(
        fields.get("exception.message"),
        Some(&TagV::Str("back".into()))
    );
}

/// 2,000 spans with long attributes, recorded by a real SDK provider.
fn big_batch(n: usize, attr_len: usize) -> Vec<SpanData> {
    let memory = InMemoryExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(memory.clone())
        .build();
    let tracer = provider.tracer("bulk");
    for i in 0..n {
        let mut span = tracer.start(format!("work {i}"));
        span.set_attribute(KeyValue::new("payload", "x".repeat(attr_len)));
        span.set_attribute(KeyValue::new("index", i as i64));
        span.end();
    }
    let spans = memory.finished_spans();
    assert_eq!(spans.len(), n);
    spans
}

fn span_ids(spans: &[SpanData]) -> HashSet<i64> {
    spans
        .iter()
        .map(|s| i64::from_be_bytes(s.span_context.span_id().to_bytes()))
        .collect()
}

#[tokio::test]
async fn oversized_batches_are_split_to_fit_every_span_exactly_once() {
    let agent = Agent::start();
    let mut cfg = agent_config(agent.port());
    cfg.jaeger.thrift.udp_split_oversized_batches = Some(true);
    let exporter = JaegerExporter::from_config(&cfg).unwrap();
    let batch = big_batch(2000, 300);
    let expected = span_ids(&batch);
    let unsplit = exporter.encode_compact(&batch).len();
    assert!(
        unsplit > 10 * LIMIT,
        "the batch really is oversized: {unsplit}"
    );
    exporter.export(batch).await.unwrap();

    let datagrams = agent.drain(Duration::from_millis(300));
    assert!(
        datagrams.len() >= unsplit.div_ceil(LIMIT),
        "{} datagrams",
        datagrams.len()
    );
    let mut seen = Vec::new();
    for d in &datagrams {
        assert!(d.len() <= LIMIT, "datagram of {} bytes", d.len());
        for s in decode_emit_batch(d).spans {
            assert_eq!(s.str_tag("payload").map(str::len), Some(300));
            seen.push(s.span_id);
        }
    }
    assert_eq!(seen.len(), 2000, "every span once");
    assert_eq!(seen.iter().copied().collect::<HashSet<_>>(), expected);
}

#[tokio::test]
async fn oversized_batch_without_splitting_is_dropped_and_nothing_sent() {
    let agent = Agent::start();
    let exporter = JaegerExporter::from_config(&agent_config(agent.port())).unwrap();
    let err = exporter
        .export(big_batch(2000, 300))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("dropped 2000 of 2000 spans"), "{err}");
    assert!(err.contains("65000"), "{err}");
    assert!(agent.drain(Duration::from_millis(300)).is_empty());
}

#[tokio::test]
async fn single_span_over_the_limit_is_dropped_even_when_splitting() {
    let agent = Agent::start();
    let mut cfg = agent_config(agent.port());
    cfg.jaeger.thrift.udp_split_oversized_batches = Some(true);
    let exporter = JaegerExporter::from_config(&cfg).unwrap();
    let mut batch = big_batch(1, 70_000);
    batch.extend(big_batch(3, 10));
    let err = exporter.export(batch).await.unwrap_err().to_string();
    assert!(err.contains("dropped 1 of 4 spans"), "{err}");
    let datagrams = agent.drain(Duration::from_millis(300));
    let sent: usize = datagrams
        .iter()
        .map(|d| decode_emit_batch(d).spans.len())
        .sum();
    assert_eq!(sent, 3, "the small spans still go");
    assert!(datagrams.iter().all(|d| d.len() <= LIMIT));
}

#[tokio::test]
async fn collector_gets_binary_thrift_with_basic_auth_and_the_agent_nothing() {
    let collector = Receiver::start();
    let agent = Agent::start();
    let mut cfg = agent_config(agent.port());
    cfg.jaeger.collector_endpoint = Some(collector.url("/api/traces?format=jaeger.thrift"));
    let layer = layer_with_env(
        cfg,
        &[
            ("OTEL_EXPORTER_JAEGER_USER", "alice"),
            ("OTEL_EXPORTER_JAEGER_PASSWORD", "s3cret"),
        ],
    );
    send(traced(&layer), request()).await;
    layer.pipeline().force_flush().unwrap();
    let posts = collector.wait_for(1);
    assert_eq!(posts.len(), 1);
    let post = &posts[0];
    assert_eq!(post.uri.path(), "/api/traces");
    assert_eq!(post.uri.query(), Some("format=jaeger.thrift"));
    assert_eq!(post.headers["content-type"], "application/x-thrift");
    assert_eq!(post.headers["authorization"], "Basic YWxpY2U6czNjcmV0");
    assert_request_tree(&decode_binary_batch(&post.body));
    assert!(
        agent.drain(Duration::from_millis(200)).is_empty(),
        "collector set: agent unused"
    );
}

#[tokio::test]
async fn collector_failures_are_export_errors_and_requests_carry_on() {
    let collector = Receiver::start();
    collector.respond_with(500);
    let mut cfg = agent_config(1);
    cfg.jaeger.collector_endpoint = Some(collector.url("/api/traces"));
    let layer = layer_with_env(cfg, &[]);
    let (status, _) = send(traced(&layer), request()).await;
    assert_eq!(status, 200);
    let err = layer.pipeline().force_flush().unwrap_err().to_string();
    assert!(
        err.contains("HTTP 500") && err.contains(&collector.url("/api/traces")),
        "{err}"
    );

    let endpoint = format!("http://{}/api/traces", dead_addr());
    let mut cfg = agent_config(1);
    cfg.jaeger.collector_endpoint = Some(endpoint.clone());
    let layer = layer_with_env(cfg, &[]);
    let (status, _) = send(traced(&layer), request()).await;
    assert_eq!(status, 200);
    let err = layer.pipeline().force_flush().unwrap_err().to_string();
    assert!(err.contains(&endpoint), "{err}");
}

#[tokio::test]
async fn env_variables_choose_the_agent() {
    let agent = Agent::start();
    let port = agent.port().to_string();
    // The config points at port 1; the environment wins.
    let layer = layer_with_env(
        agent_config(1),
        &[
            ("OTEL_EXPORTER_JAEGER_AGENT_HOST", "127.0.0.1"),
            ("OTEL_EXPORTER_JAEGER_AGENT_PORT", &port),
        ],
    );
    send(traced(&layer), get_req("/readyz")).await;
    layer.pipeline().force_flush().unwrap();
    let datagrams = agent.drain(Duration::from_millis(300));
    assert_eq!(datagrams.len(), 1);
    let batch = decode_emit_batch(&datagrams[0]);
    assert!(batch
        .spans
        .iter()
        .any(|s| s.operation_name == "GET /readyz"));
    let server = batch
        .spans
        .iter()
        .find(|s| s.operation_name == "GET /readyz")
        .unwrap();
    assert_ne!(
        TraceId::from(
            ((server.trace_id_high as u64 as u128) << 64) | server.trace_id_low as u64 as u128
        ),
        TraceId::INVALID
    );
    assert_ne!(SpanId::from(server.span_id as u64), SpanId::INVALID);
}

#[test]
fn grpc_protocol_is_refused_with_a_pointer_to_otlp() {
    let mut cfg = agent_config(6831);
    cfg.jaeger.protocol = Some(tower_otel_tracing::config::JaegerProtocol::Grpc);
    let err = JaegerExporter::from_config(&cfg).unwrap_err();
    assert_eq!(err.path(), "tracing.jaeger.protocol");
    assert!(err.to_string().contains("otlp"), "{err}");
}

#[tokio::test]
async fn server_error_marks_server_and_start_span_only_on_agent_and_collector() {
    let collector = Receiver::start();
    let agent = Agent::start();
    let mut collector_cfg = agent_config(agent.port());
    collector_cfg.jaeger.collector_endpoint = Some(collector.url("/api/traces"));
    for (cfg, via_agent) in [(agent_config(agent.port()), true), (collector_cfg, false)] {
        let layer = layer_with_env(cfg, &[]);
        let (status, _) = send(traced(&layer), get_req("/fail")).await;
        assert_eq!(status, 500);
        layer.pipeline().force_flush().unwrap();
        let batch = if via_agent {
            decode_emit_batch(&agent.drain(Duration::from_millis(300))[0])
        } else {
            decode_binary_batch(&collector.wait_for(1)[0].body)
        };
        assert_eq!(batch.spans.len(), 3);
        for span in &batch.spans {
            let (kind, error) = match span.str_tag("type") {
                None => ("server", true),
                Some("http.response.start") => ("internal", true),
                Some("http.response.body") => ("internal", false),
                Some(other) => panic!("unexpected {other}"),
            };
            assert_eq!(span.tag("span.kind"), Some(&TagV::Str(kind.into())));
            if error {
                assert_eq!(span.tag("error"), Some(&TagV::Bool(true)), "{span:#?}");
                assert_eq!(span.str_tag("otel.status_code"), Some("ERROR"));
            } else {
                assert_eq!(span.tag("error"), None, "{span:#?}");
                assert_eq!(span.str_tag("otel.status_code"), None);
            }
        }
    }
}

#[tokio::test]
async fn stable_conventions_on_the_wire() {
    let collector = Receiver::start();
    let mut cfg = agent_config(6831);
    cfg.jaeger.collector_endpoint = Some(collector.url("/api/traces"));
    cfg.semconv = Some(tower_otel_tracing::config::Semconv::Stable);
    let layer = layer_with_env(cfg, &[]);
    send(traced(&layer), request()).await;
    layer.pipeline().force_flush().unwrap();
    let batch = decode_binary_batch(&collector.wait_for(1)[0].body);
    let server = batch
        .spans
        .iter()
        .find(|s| s.tag("span.kind") == Some(&TagV::Str("server".into())))
        .unwrap();
    assert_eq!(
        server.operation_name, "POST /summarize",
        "the route template"
    );
    assert_eq!(server.str_tag("http.request.method"), Some("POST"));
    assert_eq!(server.str_tag("url.path"), Some("/summarize"));
    assert_eq!(server.tag("server.port"), Some(&TagV::Long(3000)));
    assert_eq!(server.tag("network.peer.port"), Some(&TagV::Long(59482)));
    assert_eq!(
        server.tag("http.response.status_code"),
        Some(&TagV::Long(200))
    );
    assert_eq!(server.tag("http.method"), None);
    let start = batch
        .spans
        .iter()
        .find(|s| s.str_tag("asgi.event.type") == Some("http.response.start"))
        .unwrap();
    assert_eq!(
        start.tag("http.response.status_code"),
        Some(&TagV::Long(200))
    );
    assert_eq!(start.tag("type"), None);
}

#[tokio::test]
async fn a_kept_error_trace_on_the_wire() {
    let agent = Agent::start();
    let mut cfg = agent_config(agent.port());
    cfg.sample_rate = Some(0.0);
    cfg.keep_errors = Some(true);
    let layer = layer_with_env(cfg, &[]);
    send(traced(&layer), get_req("/readyz")).await;
    send(traced(&layer), get_req("/fail")).await;
    layer.pipeline().force_flush().unwrap();
    let batch = decode_emit_batch(&agent.drain(Duration::from_millis(300))[0]);
    assert_eq!(batch.spans.len(), 3);
    let server = batch
        .spans
        .iter()
        .find(|s| s.operation_name == "GET /fail")
        .unwrap();
    assert_eq!(server.str_tag("sampling.reason"), Some("error"));
    assert_eq!(server.tag("error"), Some(&TagV::Bool(true)));
    assert_eq!(server.flags, 1, "exported as sampled");
    assert!(batch
        .spans
        .iter()
        .filter(|s| s.span_id != server.span_id)
        .all(|s| s.parent_span_id == server.span_id));
}
