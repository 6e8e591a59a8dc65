//! `max_tag_value_length` truncates string values, on a char boundary, before export.

mod common;

use axum::routing::get;
use axum::Router;
use common::*;
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
    let tracer = h.layer.tracer_provider().tracer("handler");
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
