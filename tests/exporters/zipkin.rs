//! Zipkin v2 export: what goes over the wire, validated against the Zipkin API
//! schema (`ListOfSpans`), and how failures are reported.

use std::time::Duration;

use crate::common::receiver::{dead_addr, Receiver};
use crate::common::*;
use axum::routing::get;
use axum::Router;
use opentelemetry_sdk::trace::SpanExporter as _;
use serde_json::Value as Json;
use tower_otel_tracing::config::ExporterType;
use tower_otel_tracing::exporter::ZipkinExporter;
use tower_otel_tracing::{ConnectionInfo, TracingConfig, TracingLayer};

/// Our own JSON Schema for a Zipkin v2 span list (tests/zipkin-v2-schema.json),
/// always; the official API's `ListOfSpans` too when its file is at hand
/// (`ZIPKIN_SCHEMA`, or `../shared/spec/zipkin2-api.yaml` beside this checkout).
fn validators() -> Vec<(&'static str, jsonschema::Validator)> {
    let build = |schema: &Json| {
        jsonschema::draft4::options()
            .should_validate_formats(true)
            .build(schema)
            .unwrap()
    };
    let ours: Json = serde_json::from_str(include_str!("../zipkin-v2-schema.json")).unwrap();
    let mut validators = vec![("tests/zipkin-v2-schema.json", build(&ours))];
    if let Some(api) = official_api() {
        let schema = serde_json::json!({
            "definitions": api["definitions"],
            "$ref": "#/definitions/ListOfSpans",
        });
        validators.push(("zipkin2-api.yaml ListOfSpans", build(&schema)));
    }
    validators
}

fn official_api() -> Option<Json> {
    let path = std::env::var("ZIPKIN_SCHEMA").ok().unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/spec/zipkin2-api.yaml"
        )
        .to_owned()
    });
    let text = std::fs::read_to_string(&path).ok()?;
    Some(serde_norway::from_str(&text).expect("the Zipkin API file is YAML"))
}

fn assert_valid(body: &[u8]) -> Vec<Json> {
    let json: Json = serde_json::from_slice(body).expect("JSON body");
    for (name, validator) in validators() {
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name} errors: {errors:#?}\n{json:#}");
    }
    json.as_array().unwrap().clone()
}

fn zipkin_config(endpoint: String) -> TracingConfig {
    let mut cfg = TracingConfig {
        exporter_type: Some(ExporterType::Zipkin),
        sample_rate: Some(1.0),
        service_name: Some("Summarization".into()),
        timeout: Some(5.0),
        ..Default::default()
    };
    cfg.zipkin.endpoint = Some(endpoint);
    cfg.zipkin.local_node_ipv4 = Some("192.168.0.1".parse().unwrap());
    cfg.zipkin.local_node_ipv6 = Some("2001:db8::c001".parse().unwrap());
    cfg.zipkin.local_node_port = Some(31313);
    cfg
}

fn layer(cfg: TracingConfig) -> TracingLayer {
    layer_with_env(cfg, &[])
}

fn tag<'a>(span: &'a Json, key: &str) -> Option<&'a str> {
    span["tags"]
        .get(key)
        .map(|v| v.as_str().expect("tags are strings"))
}

fn by_name<'a>(spans: &'a [Json], name: &str) -> Vec<&'a Json> {
    spans.iter().filter(|s| s["name"] == name).collect()
}

#[tokio::test]
async fn request_span_tree_arrives_as_valid_zipkin_v2() {
    let rx = Receiver::start();
    let layer = layer(zipkin_config(rx.url("/api/v2/spans")));
    let mut req = post_summarize("zipkin gets these spans");
    req.headers_mut()
        .insert("user-agent", "curl/8.0".parse().unwrap());
    req.extensions_mut().insert(ConnectionInfo {
        local_addr: "10.0.0.2:3000".parse().unwrap(),
        peer_addr: "10.0.0.9:59482".parse().unwrap(),
    });
    let (status, _) = send(traced(&layer), req).await;
    assert_eq!(status, 200);
    layer.pipeline().force_flush().unwrap();

    let posts = rx.wait_for(1);
    assert_eq!(posts.len(), 1);
    let post = &posts[0];
    assert_eq!(post.method, "POST");
    assert_eq!(post.uri.path(), "/api/v2/spans");
    assert_eq!(post.headers["content-type"], "application/json");
    let spans = assert_valid(&post.body);
    assert_eq!(spans.len(), 5, "{spans:#?}");

    let server = by_name(&spans, "POST /summarize");
    assert_eq!(server.len(), 1);
    let server = server[0];
    assert_eq!(server["kind"], "SERVER");
    assert!(server.get("parentId").is_none(), "root has no parentId");
    let trace_id = server["traceId"].as_str().unwrap();
    assert_eq!(trace_id.len(), 32);
    let server_id = server["id"].as_str().unwrap();
    assert_eq!(
        server["localEndpoint"],
        serde_json::json!({
            "serviceName": "Summarization",
            "ipv4": "192.168.0.1",
            "ipv6": "2001:db8::c001",
            "port": 31313
        })
    );
    assert_eq!(
        server["remoteEndpoint"],
        serde_json::json!({"ipv4": "10.0.0.9", "port": 59482})
    );
    for (k, v) in [
        ("http.scheme", "http"),
        ("http.host", "10.0.0.2:3000"),
        ("net.host.port", "3000"),
        ("http.flavor", "1.1"),
        ("http.target", "/summarize"),
        ("http.url", "http://svc.local:3000/summarize"),
        ("http.method", "POST"),
        ("http.server_name", "svc.local:3000"),
        ("http.user_agent", "curl/8.0"),
        ("net.peer.ip", "10.0.0.9"),
        ("net.peer.port", "59482"),
        ("http.status_code", "200"),
        ("otel.scope.name", "tower-otel-tracing"),
        ("otel.library.name", "tower-otel-tracing"),
        ("otel.scope.version", env!("CARGO_PKG_VERSION")),
        ("telemetry.sdk.language", "rust"),
    ] {
        assert_eq!(tag(server, k), Some(v), "tag {k}");
    }
    assert_eq!(
        tag(server, "service.name"),
        None,
        "service.name is the localEndpoint"
    );
    assert_eq!(tag(server, "otel.status_code"), None);
    assert!(server["duration"].as_u64().unwrap() >= 1);

    let sends = by_name(&spans, "POST /summarize http send");
    assert_eq!(sends.len(), 2);
    let receives = by_name(&spans, "POST /summarize http receive");
    assert_eq!(receives.len(), 1);
    let model = by_name(&spans, "summarize.model");
    assert_eq!(model.len(), 1);
    for child in sends.iter().chain(&receives).chain(&model) {
        assert!(child.get("kind").is_none(), "INTERNAL has no kind: {child}");
        assert_eq!(child["traceId"], trace_id);
        assert_eq!(child["parentId"], server_id);
        assert!(child["timestamp"].as_u64().unwrap() >= server["timestamp"].as_u64().unwrap());
    }
    let start = sends
        .iter()
        .find(|s| tag(s, "type") == Some("http.response.start"))
        .unwrap();
    assert_eq!(tag(start, "http.status_code"), Some("200"));
    assert!(sends
        .iter()
        .any(|s| tag(s, "type") == Some("http.response.body")));
    assert_eq!(tag(receives[0], "type"), Some("http.request"));
    assert_eq!(tag(model[0], "otel.scope.name"), Some("test.handler"));
}

#[tokio::test]
async fn server_errors_carry_error_tags_and_exceptions_become_annotations() {
    let rx = Receiver::start();
    let layer = layer(zipkin_config(rx.url("/api/v2/spans")));
    send(traced(&layer), get_req("/fail")).await;
    let svc = tower::ServiceBuilder::new()
        .layer(layer.clone())
        .service_fn(|_req: http::Request<_>| async {
            Err::<http::Response<String>, _>(std::io::Error::other("backend down"))
        });
    let _ = tower::ServiceExt::oneshot(svc, get_req("/boom")).await;
    layer.pipeline().force_flush().unwrap();
    let spans: Vec<Json> = rx
        .wait_for(1)
        .iter()
        .flat_map(|p| assert_valid(&p.body))
        .collect();
    let fail = by_name(&spans, "GET /fail")[0];
    assert_eq!(tag(fail, "otel.status_code"), Some("ERROR"));
    assert_eq!(tag(fail, "error"), Some(""));
    let sends = by_name(&spans, "GET /fail http send");
    assert_eq!(sends.len(), 2);
    for send_span in sends {
        if tag(send_span, "type") == Some("http.response.start") {
            assert_eq!(tag(send_span, "otel.status_code"), Some("ERROR"));
            assert_eq!(tag(send_span, "error"), Some(""));
        } else {
            // The body frame of a 5xx was sent fine: no status, no error tag.
            assert_eq!(tag(send_span, "otel.status_code"), None);
            assert_eq!(tag(send_span, "error"), None);
        }
    }
    let boom = by_name(&spans, "GET /boom")[0];
    assert_eq!(tag(boom, "error"), Some("backend down"));
    let annotations = boom["annotations"].as_array().unwrap();
    assert_eq!(annotations.len(), 1);
    let value: Json = serde_json::from_str(annotations[0]["value"].as_str().unwrap()).unwrap();
    assert_eq!(value["exception"]["exception.message"], "backend down");
    assert!(annotations[0]["timestamp"].as_u64().unwrap() >= boom["timestamp"].as_u64().unwrap());
}

#[tokio::test]
async fn tag_values_are_truncated() {
    let rx = Receiver::start();
    let mut cfg = zipkin_config(rx.url("/api/v2/spans"));
    cfg.max_tag_value_length = Some(6);
    let layer = layer(cfg);
    let mut req = get_req("/readyz");
    req.headers_mut()
        .insert("user-agent", "Mozilla/5.0 (long agent)".parse().unwrap());
    send(traced(&layer), req).await;
    layer.pipeline().force_flush().unwrap();
    let spans = assert_valid(&rx.wait_for(1)[0].body);
    let server = by_name(&spans, "GET /readyz")[0];
    assert_eq!(tag(server, "http.user_agent"), Some("Mozill"));
    assert_eq!(tag(server, "http.url"), Some("http:/"));
    assert_eq!(tag(server, "http.status_code"), Some("200"));
}

#[tokio::test]
async fn collector_failures_are_export_errors_and_requests_carry_on() {
    let rx = Receiver::start();
    rx.respond_with(500);
    let layer = layer(zipkin_config(rx.url("/api/v2/spans")));
    let (status, body) = send(traced(&layer), post_summarize("still answered fine")).await;
    assert_eq!(status, 200);
    assert_eq!(&body[..], b"still answered fine");
    let err = layer.pipeline().force_flush().unwrap_err().to_string();
    assert!(err.contains("HTTP 500"), "{err}");
    assert!(err.contains(&rx.url("/api/v2/spans")), "{err}");
    assert_eq!(rx.requests().len(), 1);
}

#[tokio::test]
async fn collector_down_is_an_export_error_naming_the_endpoint() {
    let endpoint = format!("http://{}/api/v2/spans", dead_addr());
    let layer = layer(zipkin_config(endpoint.clone()));
    let (status, _) = send(traced(&layer), get_req("/readyz")).await;
    assert_eq!(status, 200);
    let err = layer.pipeline().force_flush().unwrap_err().to_string();
    assert!(err.contains(&endpoint), "{err}");
}

#[tokio::test]
async fn exporter_reports_status_and_endpoint_directly() {
    let rx = Receiver::start();
    rx.respond_with(503);
    let exporter = ZipkinExporter::from_config(&zipkin_config(rx.url("/api/v2/spans"))).unwrap();
    let err = exporter.export(Vec::new()).await.unwrap_err().to_string();
    assert!(
        err.contains("HTTP 503") && err.contains(&rx.url("/api/v2/spans")),
        "{err}"
    );
    rx.respond_with(202);
    exporter.export(Vec::new()).await.unwrap();
    // An empty batch is still a valid ListOfSpans.
    assert_eq!(assert_valid(&rx.requests()[1].body).len(), 0);
}

#[tokio::test]
async fn env_endpoint_and_timeout_win_over_the_config() {
    let from_config = Receiver::start();
    let from_env = Receiver::start();
    let layer = TracingLayer::builder(zipkin_config(from_config.url("/api/v2/spans")))
        .install_global(false)
        .env_vars([("OTEL_EXPORTER_ZIPKIN_ENDPOINT", from_env.url("/zipkin"))])
        .build()
        .unwrap();
    send(traced(&layer), get_req("/readyz")).await;
    layer.pipeline().force_flush().unwrap();
    assert_eq!(from_env.wait_for(1).len(), 1);
    assert_eq!(from_env.requests()[0].uri.path(), "/zipkin");
    assert!(from_config.requests().is_empty());

    // A collector slower than OTEL_EXPORTER_ZIPKIN_TIMEOUT (ms) fails the export,
    // although the config allows 5 s.
    let slow = Receiver::start();
    slow.delay(Duration::from_secs(3));
    let layer = TracingLayer::builder(zipkin_config(slow.url("/api/v2/spans")))
        .install_global(false)
        .env_vars([("OTEL_EXPORTER_ZIPKIN_TIMEOUT", "200")])
        .build()
        .unwrap();
    send(traced(&layer), get_req("/readyz")).await;
    let err = layer.pipeline().force_flush().unwrap_err().to_string();
    assert!(
        err.to_lowercase().contains("timeout") || err.to_lowercase().contains("timed out"),
        "{err}"
    );
}

#[tokio::test]
async fn traced_app_from_config_path() {
    let rx = Receiver::start();
    let text = format!(
        "tracing:\n  exporter_type: zipkin\n  sample_rate: 1.0\n  zipkin:\n    endpoint: {}\n    local_node_ipv4: 192.168.0.1\n    local_node_ipv6: \"2001:db8::c001\"\n    local_node_port: 31313\n",
        rx.url("/api/v2/spans")
    );
    let cfg = TracingConfig::parse(&text, tower_otel_tracing::config::ConfigFormat::Yaml).unwrap();
    let layer = layer(cfg);
    let app = Router::new()
        .route("/x", get(|| async { "x" }))
        .layer(layer.clone());
    send(app, get_req("/x")).await;
    layer.pipeline().force_flush().unwrap();
    let spans = assert_valid(&rx.wait_for(1)[0].body);
    let server = by_name(&spans, "GET /x")[0];
    assert_eq!(server["localEndpoint"]["port"], 31313);
    // Default service name: the binary's (this test binary's crate name, then
    // cargo's hash).
    assert!(server["localEndpoint"]["serviceName"]
        .as_str()
        .unwrap()
        .starts_with(env!("CARGO_CRATE_NAME")));
}

/// The validators are not vacuous: they reject what Zipkin rejects, including the
/// `"kind": null` BentoML's Python exporter writes; ours also what we never write.
#[test]
fn schema_rejects_invalid_spans() {
    let ok = serde_json::json!([{"traceId": "0af7651916cd43dd8448eb211c80319c", "id": "b7ad6b7169203331", "duration": 1}]);
    let bad_everywhere = [
        serde_json::json!([{"traceId": "0af7651916cd43dd8448eb211c80319c", "id": "b7ad6b7169203331", "kind": null}]),
        serde_json::json!([{"traceId": "0af7651916cd43dd8448eb211c80319c", "id": "b7ad6b7169203331", "kind": "INTERNAL"}]),
        serde_json::json!([{"traceId": "0af7651916cd43dd8448eb211c80319c", "id": "b7ad6b7169203331", "duration": 0}]),
        serde_json::json!([{"traceId": "0af7651916cd43dd8448eb211c80319c", "id": "short"}]),
        serde_json::json!([{"traceId": "0af7651916cd43dd8448eb211c80319c", "id": "b7ad6b7169203331", "tags": {"n": 1}}]),
        serde_json::json!([{"traceId": "0af7651916cd43dd8448eb211c80319c", "id": "b7ad6b7169203331", "localEndpoint": {"ipv4": "300.1.1.1"}}]),
        serde_json::json!([{"traceId": "0af7651916cd43dd8448eb211c80319c", "id": "b7ad6b7169203331", "annotations": [{"value": "x"}]}]),
        serde_json::json!([{"id": "b7ad6b7169203331"}]),
    ];
    // The official patterns are unanchored and open to unknown keys; ours are not.
    let bad_for_ours = [
        serde_json::json!([{"traceId": "0AF7651916CD43DD", "id": "b7ad6b7169203331"}]),
        serde_json::json!([{"traceId": "0af7651916cd43dd8", "id": "b7ad6b7169203331"}]),
        serde_json::json!([{"traceId": "0af7651916cd43dd", "id": "b7ad6b7169203331", "extra": 1}]),
        serde_json::json!([{"traceId": "0af7651916cd43dd", "id": "b7ad6b7169203331", "localEndpoint": {"port": 70000}}]),
    ];
    let validators = validators();
    for (name, v) in &validators {
        assert!(v.is_valid(&ok), "{name}");
        for bad in &bad_everywhere {
            assert!(!v.is_valid(bad), "{name} accepts {bad}");
        }
    }
    for bad in &bad_for_ours {
        assert!(!validators[0].1.is_valid(bad), "ours accepts {bad}");
    }
}

#[tokio::test]
async fn stable_conventions_on_the_wire() {
    let rx = Receiver::start();
    let mut cfg = zipkin_config(rx.url("/api/v2/spans"));
    cfg.semconv = Some(tower_otel_tracing::config::Semconv::Stable);
    let layer = layer(cfg);
    let mut req = post_summarize("stable keys");
    req.extensions_mut().insert(ConnectionInfo {
        local_addr: "10.0.0.2:3000".parse().unwrap(),
        peer_addr: "10.0.0.9:59482".parse().unwrap(),
    });
    send(traced(&layer), req).await;
    layer.pipeline().force_flush().unwrap();
    let spans = assert_valid(&rx.wait_for(1)[0].body);
    let server = spans.iter().find(|s| s["kind"] == "SERVER").unwrap();
    assert_eq!(server["name"], "POST /summarize", "the route template");
    for (k, v) in [
        ("http.request.method", "POST"),
        ("url.path", "/summarize"),
        ("url.scheme", "http"),
        ("server.address", "svc.local"),
        ("server.port", "3000"),
        ("client.address", "10.0.0.9"),
        ("network.peer.port", "59482"),
        ("network.protocol.version", "1.1"),
        ("http.response.status_code", "200"),
    ] {
        assert_eq!(tag(server, k), Some(v), "{k}");
    }
    assert_eq!(tag(server, "http.method"), None);
    let children: Vec<&Json> = spans.iter().filter(|s| s.get("kind").is_none()).collect();
    assert!(children.len() >= 3);
    let sends: Vec<_> = children
        .iter()
        .filter(|c| c["name"] == "POST /summarize http send")
        .collect();
    assert_eq!(sends.len(), 2);
    for child in sends {
        assert!(tag(child, "asgi.event.type").is_some());
        assert_eq!(tag(child, "type"), None);
    }
}

#[tokio::test]
async fn a_kept_error_trace_on_the_wire() {
    let rx = Receiver::start();
    let mut cfg = zipkin_config(rx.url("/api/v2/spans"));
    cfg.sample_rate = Some(0.0);
    cfg.keep_errors = Some(true);
    let layer = layer(cfg);
    send(traced(&layer), get_req("/readyz")).await;
    send(traced(&layer), get_req("/fail")).await;
    layer.pipeline().force_flush().unwrap();
    let spans: Vec<Json> = rx
        .wait_for(1)
        .iter()
        .flat_map(|p| assert_valid(&p.body))
        .collect();
    assert_eq!(spans.len(), 3, "only the failing request: {spans:#?}");
    let server = by_name(&spans, "GET /fail")[0];
    assert_eq!(tag(server, "sampling.reason"), Some("error"));
    assert_eq!(tag(server, "otel.status_code"), Some("ERROR"));
    for child in by_name(&spans, "GET /fail http send") {
        assert_eq!(child["parentId"], server["id"]);
        assert_eq!(child["traceId"], server["traceId"]);
    }
}

/// Found by the encode_zipkin fuzzer: events equal in name, attributes and
/// microsecond were written as equal annotations, which the schema's
/// `uniqueItems` refuses. Each is written once; events differing in any of
/// those stay.
#[test]
fn equal_events_are_one_annotation() {
    use opentelemetry::trace::{Event, SpanContext, SpanId, SpanKind, Status, TraceFlags};
    use opentelemetry::trace::{TraceId, TraceState};
    use opentelemetry::{InstrumentationScope, KeyValue};
    use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
    use std::time::UNIX_EPOCH;

    let at = |nanos: u64| UNIX_EPOCH + Duration::from_nanos(nanos);
    let mut events = SpanEvents::default();
    events.events = vec![
        // The fuzzer's input: three unnamed events at the epoch.
        Event::new("", at(0), vec![], 0),
        Event::new("", at(0), vec![], 0),
        Event::new("", at(999), vec![], 0),
        // Same microsecond, same attributes: one annotation.
        Event::new("retry", at(5_000), vec![KeyValue::new("n", 1)], 0),
        Event::new("retry", at(5_400), vec![KeyValue::new("n", 1)], 0),
        // Another attribute value, another microsecond: kept.
        Event::new("retry", at(5_000), vec![KeyValue::new("n", 2)], 0),
        Event::new("retry", at(6_000), vec![KeyValue::new("n", 1)], 0),
    ];
    let span = SpanData {
        span_context: SpanContext::new(
            TraceId::from(1),
            SpanId::from(2),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        parent_span_id: SpanId::INVALID,
        parent_span_is_remote: false,
        span_kind: SpanKind::Internal,
        name: "events".into(),
        start_time: at(0),
        end_time: at(10_000),
        attributes: vec![],
        dropped_attributes_count: 0,
        events,
        links: SpanLinks::default(),
        status: Status::Unset,
        instrumentation_scope: InstrumentationScope::builder("t").build(),
    };
    let exporter = ZipkinExporter::from_config(&TracingConfig::default()).unwrap();
    let spans = assert_valid(&exporter.encode(&[span]));
    let annotations: Vec<(u64, &str)> = spans[0]["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["timestamp"].as_u64().unwrap(),
                a["value"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        annotations,
        [
            (0, ""),
            (5, r#"{"retry":{"n":1}}"#),
            (5, r#"{"retry":{"n":2}}"#),
            (6, r#"{"retry":{"n":1}}"#),
        ]
    );
}

/// Found by the `encode_zipkin` fuzz target: a span whose `net.peer.ip` was set
/// twice, once per address family, got both `ipv4` and `ipv6` in its
/// `remoteEndpoint`. The later value replaces the earlier one, as setting an
/// attribute again does: one peer, the last address given.
#[test]
fn a_peer_address_set_twice_keeps_the_last() {
    use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status, TraceFlags};
    use opentelemetry::trace::{TraceId, TraceState};
    use opentelemetry::{InstrumentationScope, KeyValue};
    use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
    use std::time::UNIX_EPOCH;

    let span = |ips: &[&'static str]| SpanData {
        span_context: SpanContext::new(
            TraceId::from(1),
            SpanId::from(2),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        parent_span_id: SpanId::INVALID,
        parent_span_is_remote: false,
        span_kind: SpanKind::Server,
        name: "peer".into(),
        start_time: UNIX_EPOCH,
        end_time: UNIX_EPOCH + Duration::from_micros(3),
        attributes: ips
            .iter()
            .map(|ip| KeyValue::new("net.peer.ip", *ip))
            .chain(std::iter::once(KeyValue::new("net.peer.port", 4321)))
            .collect(),
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: Status::Unset,
        instrumentation_scope: InstrumentationScope::builder("t").build(),
    };
    let exporter = ZipkinExporter::from_config(&TracingConfig::default()).unwrap();
    for (ips, expected) in [
        (
            &["10.0.0.1", "2001:db8::7"][..],
            serde_json::json!({"ipv6": "2001:db8::7", "port": 4321}),
        ),
        (
            &["2001:db8::7", "10.0.0.1"][..],
            serde_json::json!({"ipv4": "10.0.0.1", "port": 4321}),
        ),
        (
            &["10.0.0.1", "not an address"][..],
            serde_json::json!({"ipv4": "10.0.0.1", "port": 4321}),
        ),
    ] {
        let spans = assert_valid(&exporter.encode(&[span(ips)]));
        assert_eq!(spans[0]["remoteEndpoint"], expected, "{ips:?}");
    }
}
