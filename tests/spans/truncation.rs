//! `max_tag_value_length` truncates string values, on a char boundary, before export.
// The exporters' tests share the helpers below; without any exporter they are unused.
#![cfg_attr(
    not(any(feature = "zipkin", feature = "jaeger", feature = "otlp")),
    allow(dead_code)
)]

#[cfg(any(feature = "zipkin", feature = "jaeger", feature = "otlp"))]
use crate::common;
use crate::common::*;
use axum::routing::get;
use axum::Router;
use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry::{Array, KeyValue, StringValue, Value};
use tower_otel_tracing::TracingConfig;

#[tokio::test]
async fn long_values_are_cut_on_char_boundaries() {
    let h = Harness::new(TracingConfig {
        sample_rate: Some(1.0),
        max_tag_value_length: Some(8),
        ..Default::default()
    });
    let tracer = h.layer.pipeline().tracer_provider().tracer("handler");
    let app = Router::new()
        .route(
            "/long",
            get(move || {
                let tracer = tracer.clone();
                async move {
                    let mut span = tracer.start("work");
                    span.set_attribute(KeyValue::new("note", "日本語のテキストです"));
                    span.set_attribute(KeyValue::new("short", "ok"));
                    span.set_attribute(KeyValue::new("count", 1234567890123i64));
                    span.set_attribute(KeyValue::new(
                        "list",
                        Value::Array(Array::String(vec![
                            StringValue::from("abcdefghijkl"),
                            StringValue::from("é".repeat(10)),
                        ])),
                    ));
                    span.add_event("evt", vec![KeyValue::new("detail", "0123456789abc")]);
                    span.end();
                    "done"
                }
            }),
        )
        .layer(h.layer.clone());
    let mut req = get_req("/long");
    req.headers_mut().insert(
        "user-agent",
        "Mozilla/5.0 (X11; Linux x86_64) Long".parse().unwrap(),
    );
    send(app, req).await;
    let spans = h.spans();
    let server = one_server_span(&spans);
    assert_eq!(str_attr(server, "http.user_agent"), Some("Mozilla/"));
    assert_eq!(str_attr(server, "http.url"), Some("http://s"));
    assert_eq!(str_attr(server, "http.target"), Some("/long"));
    let work = spans.iter().find(|s| s.name == "work").unwrap();
    assert_eq!(str_attr(work, "note"), Some("日本語のテキスト"));
    assert_eq!(str_attr(work, "short"), Some("ok"));
    assert_eq!(int_attr(work, "count"), Some(1234567890123));
    assert_eq!(
        attr(work, "list"),
        Some(&Value::Array(Array::String(vec![
            StringValue::from("abcdefgh"),
            StringValue::from("é".repeat(8)),
        ])))
    );
    let detail = &work.events.events[0].attributes[0];
    assert_eq!(detail.value, Value::from("01234567"));
}

#[tokio::test]
async fn no_limit_keeps_values_whole() {
    let h = Harness::sampled();
    let mut req = get_req("/readyz");
    let ua = "x".repeat(5000);
    req.headers_mut().insert("user-agent", ua.parse().unwrap());
    send(h.app(), req).await;
    let spans = h.spans();
    assert_eq!(
        str_attr(one_server_span(&spans), "http.user_agent"),
        Some(ua.as_str())
    );
}

/// A handler span with every kind of value `max_tag_value_length` applies to.
fn long_values_app(layer: &tower_otel_tracing::TracingLayer) -> Router {
    use opentelemetry::trace::Status;
    let tracer = layer.pipeline().tracer_provider().tracer("handler");
    Router::new()
        .route(
            "/long",
            get(move || {
                let tracer = tracer.clone();
                async move {
                    let mut span = tracer.start("work");
                    span.set_attribute(KeyValue::new("note", "日本語のテキスト"));
                    span.set_attribute(KeyValue::new(
                        "list",
                        Value::Array(Array::String(vec![
                            StringValue::from("abcdefgh"),
                            StringValue::from("é".repeat(6)),
                        ])),
                    ));
                    span.add_event("evt", vec![KeyValue::new("detail", "0123456789")]);
                    span.set_status(Status::error("description too long"));
                    span.end();
                    "done"
                }
            }),
        )
        .layer(layer.clone())
}

/// What every exporter must carry for the `work` span at a limit of 4.
const CUT_NOTE: &str = "日本語の";
const CUT_LIST: [&str; 2] = ["abcd", "éééé"];
const CUT_DETAIL: &str = "0123";
const CUT_DESCRIPTION: &str = "desc";

fn exporter_cfg(ty: tower_otel_tracing::config::ExporterType) -> TracingConfig {
    TracingConfig {
        exporter_type: Some(ty),
        sample_rate: Some(1.0),
        max_tag_value_length: Some(4),
        timeout: Some(5.0),
        ..Default::default()
    }
}

#[cfg(feature = "zipkin")]
#[tokio::test]
async fn zipkin_carries_the_cut_values() {
    let rx = common::receiver::Receiver::start();
    let mut cfg = exporter_cfg(tower_otel_tracing::config::ExporterType::Zipkin);
    cfg.zipkin.endpoint = Some(rx.url("/api/v2/spans"));
    let layer = layer_with_env(cfg, &[]);
    send(long_values_app(&layer), get_req("/long")).await;
    layer.pipeline().force_flush().unwrap();
    let spans: Vec<serde_json::Value> = serde_json::from_slice(&rx.wait_for(1)[0].body).unwrap();
    let work = spans.iter().find(|s| s["name"] == "work").unwrap();
    let tags = &work["tags"];
    assert_eq!(tags["note"], CUT_NOTE);
    // Arrays are JSON text of the cut elements (never a cut JSON text).
    let list: Vec<String> = serde_json::from_str(tags["list"].as_str().unwrap()).unwrap();
    assert_eq!(list, CUT_LIST);
    assert_eq!(tags["error"], CUT_DESCRIPTION);
    let annotation: serde_json::Value =
        serde_json::from_str(work["annotations"][0]["value"].as_str().unwrap()).unwrap();
    assert_eq!(annotation["evt"]["detail"], CUT_DETAIL);
}

#[cfg(feature = "jaeger")]
#[tokio::test]
async fn jaeger_carries_the_cut_values() {
    use crate::common::thrift_decode::{decode_binary_batch, TagV};
    let rx = common::receiver::Receiver::start();
    let mut cfg = exporter_cfg(tower_otel_tracing::config::ExporterType::Jaeger);
    cfg.jaeger.collector_endpoint = Some(rx.url("/api/traces"));
    let layer = layer_with_env(cfg, &[]);
    send(long_values_app(&layer), get_req("/long")).await;
    layer.pipeline().force_flush().unwrap();
    let batch = decode_binary_batch(&rx.wait_for(1)[0].body);
    let work = batch
        .spans
        .iter()
        .find(|s| s.operation_name == "work")
        .unwrap();
    assert_eq!(work.str_tag("note"), Some(CUT_NOTE));
    let list: Vec<String> = serde_json::from_str(work.str_tag("list").unwrap()).unwrap();
    assert_eq!(list, CUT_LIST);
    assert_eq!(
        work.str_tag("otel.status_description"),
        Some(CUT_DESCRIPTION)
    );
    assert_eq!(
        work.logs[0].1.get("detail"),
        Some(&TagV::Str(CUT_DETAIL.into()))
    );
}

#[cfg(feature = "otlp")]
#[tokio::test]
async fn otlp_carries_the_cut_values() {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
    use prost::Message;
    let rx = common::receiver::Receiver::start();
    let mut cfg = exporter_cfg(tower_otel_tracing::config::ExporterType::Otlp);
    cfg.otlp.endpoint = Some(rx.url("/v1/traces"));
    let layer = layer_with_env(cfg, &[]);
    send(long_values_app(&layer), get_req("/long")).await;
    layer.pipeline().force_flush().unwrap();
    let req = ExportTraceServiceRequest::decode(&rx.wait_for(1)[0].body[..]).unwrap();
    let work = req
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .find(|s| s.name == "work")
        .unwrap();
    let get = |attrs: &[opentelemetry_proto::tonic::common::v1::KeyValue], k: &str| {
        attrs
            .iter()
            .find(|kv| kv.key == k)
            .and_then(|kv| kv.value.clone())
            .and_then(|v| v.value)
            .unwrap()
    };
    assert_eq!(
        get(&work.attributes, "note"),
        Any::StringValue(CUT_NOTE.into())
    );
    let Any::ArrayValue(list) = get(&work.attributes, "list") else {
        panic!("list is an array")
    };
    let list: Vec<Any> = list.values.into_iter().filter_map(|v| v.value).collect();
    assert_eq!(list, CUT_LIST.map(|s| Any::StringValue(s.into())).to_vec());
    assert_eq!(
        get(&work.events[0].attributes, "detail"),
        Any::StringValue(CUT_DETAIL.into())
    );
    assert_eq!(work.status.as_ref().unwrap().message, CUT_DESCRIPTION);
}
