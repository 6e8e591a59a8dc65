//! W3C trace context and baggage extraction, and parent-based sampling.

use crate::common::*;
use axum::body::Body;
use axum::routing::get;
use axum::{Extension, Router};
use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::{SpanId, TraceContextExt, TraceId};
use tower_otel_tracing::{TraceInfo, TracingConfig};

const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";
const PARENT_ID: &str = "b7ad6b7169203331";

fn with_traceparent(flags: &str) -> http::Request<Body> {
    let mut req = post_summarize("one two three four");
    req.headers_mut().insert(
        "traceparent",
        format!("00-{TRACE_ID}-{PARENT_ID}-{flags}")
            .parse()
            .unwrap(),
    );
    req.headers_mut()
        .insert("tracestate", "vendor=abc,other=1".parse().unwrap());
    req
}

#[tokio::test]
async fn sampled_remote_parent_is_continued() {
    // sample_rate 0: the caller's decision alone records it.
    let h = Harness::new(TracingConfig::default());
    send(h.app(), with_traceparent("01")).await;
    let spans = h.spans();
    let server = one_server_span(&spans);
    assert_eq!(
        server.span_context.trace_id(),
        TraceId::from_hex(TRACE_ID).unwrap()
    );
    assert_eq!(server.parent_span_id, SpanId::from_hex(PARENT_ID).unwrap());
    assert!(server.parent_span_is_remote);
    assert_eq!(
        server.span_context.trace_state().header(),
        "vendor=abc,other=1"
    );
    assert!(server.span_context.is_sampled());
    for child in children_of(&spans, server) {
        assert_eq!(
            child.span_context.trace_id(),
            server.span_context.trace_id()
        );
        assert!(!child.parent_span_is_remote);
    }
}

#[tokio::test]
async fn unsampled_remote_parent_is_not_exported_even_at_rate_one() {
    let h = Harness::sampled();
    let app = Router::new()
        .route(
            "/info",
            get(|Extension(info): Extension<TraceInfo>| async move {
                format!("{} {}", info.trace_id, info.sampled)
            }),
        )
        .layer(h.layer.clone());
    let mut req = get_req("/info");
    req.headers_mut().insert(
        "traceparent",
        format!("00-{TRACE_ID}-{PARENT_ID}-00").parse().unwrap(),
    );
    let (_, body) = send(app, req).await;
    // The trace id is still there for the handler's logs.
    assert_eq!(
        std::str::from_utf8(&body).unwrap(),
        format!("{TRACE_ID} false")
    );
    send(h.app(), with_traceparent("00")).await;
    assert!(h.spans().is_empty(), "{:#?}", h.spans());
}

#[tokio::test]
async fn malformed_traceparent_starts_a_new_root() {
    let h = Harness::sampled();
    for bad in [
        "garbage",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra-junk-",
    ] {
        let mut req = get_req("/readyz");
        req.headers_mut()
            .insert("traceparent", bad.parse().unwrap());
        let (status, _) = send(h.app(), req).await;
        assert_eq!(status, 200);
    }
    let spans = h.spans();
    let servers = server_spans(&spans);
    assert_eq!(servers.len(), 7);
    for s in servers {
        assert_eq!(s.parent_span_id, SpanId::INVALID, "{:?}", s.name);
        assert_ne!(
            s.span_context.trace_id(),
            TraceId::from_hex(TRACE_ID).unwrap()
        );
    }
}

#[tokio::test]
async fn baggage_reaches_the_handler() {
    let h = Harness::sampled();
    let app = Router::new()
        .route(
            "/bag",
            get(|| async {
                let cx = opentelemetry::Context::current();
                cx.baggage()
                    .get("user.id")
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            }),
        )
        .layer(h.layer.clone());
    let mut req = get_req("/bag");
    req.headers_mut()
        .insert("baggage", "user.id=42,tenant=acme".parse().unwrap());
    let (_, body) = send(app, req).await;
    assert_eq!(&body[..], b"42");
}

#[tokio::test]
async fn handler_spans_nest_under_the_server_span() {
    let h = Harness::sampled();
    send(h.app(), with_traceparent("01")).await;
    let spans = h.spans();
    let server = one_server_span(&spans);
    let model = spans
        .iter()
        .find(|s| s.name == "summarize.model")
        .expect("handler span exported");
    assert_eq!(model.parent_span_id, server.span_context.span_id());
    assert_eq!(
        model.span_context.trace_id(),
        server.span_context.trace_id()
    );
}

#[tokio::test]
async fn unsampled_requests_give_handler_spans_an_unsampled_parent() {
    // Rate 0: neither the server span nor the handler's span may be exported,
    // and the handler sees a valid (unsampled) current span.
    let h = Harness::new(TracingConfig {
        sample_rate: Some(0.0),
        ..Default::default()
    });
    let app = Router::new()
        .route(
            "/cx",
            get(|| async {
                let cx = opentelemetry::Context::current();
                let sc = cx.span().span_context().clone();
                format!("{} {}", sc.is_valid(), sc.is_sampled())
            }),
        )
        .layer(h.layer.clone());
    let (_, body) = send(app, get_req("/cx")).await;
    assert_eq!(&body[..], b"true false");
    send(h.app(), post_summarize("a b c d")).await;
    assert!(h.spans().is_empty());
}

fn harness_with_env(cfg: TracingConfig, vars: &[(&str, &str)]) -> Harness {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Harness::with(cfg, |b| b.env_vars(vars))
}

/// Sends a GET with these headers; returns the server span's (trace id, parent id).
async fn parent_of(h: &Harness, headers: &[(&str, &str)]) -> Option<(TraceId, SpanId)> {
    h.exporter.reset();
    let mut req = get_req("/readyz");
    for (k, v) in headers {
        req.headers_mut().insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    send(h.app(), req).await;
    let spans = h.spans();
    let servers = server_spans(&spans);
    servers
        .first()
        .map(|s| (s.span_context.trace_id(), s.parent_span_id))
}

const B3_TRACE: &str = "80f198ee56343ba864fe8b2a57d3eff7";
const B3_SPAN: &str = "e457b5a2e4d86bd1";

#[tokio::test]
async fn b3_single_and_multi_from_env() {
    let h = harness_with_env(TracingConfig::default(), &[("OTEL_PROPAGATORS", "b3")]);
    let expected = Some((
        TraceId::from_hex(B3_TRACE).unwrap(),
        SpanId::from_hex(B3_SPAN).unwrap(),
    ));
    let single = format!("{B3_TRACE}-{B3_SPAN}-1");
    assert_eq!(parent_of(&h, &[("b3", &single)]).await, expected);
    assert_eq!(
        parent_of(
            &h,
            &[
                ("x-b3-traceid", B3_TRACE),
                ("x-b3-spanid", B3_SPAN),
                ("x-b3-sampled", "1")
            ]
        )
        .await,
        expected
    );
    // W3C is not configured: a traceparent alone does not sample at rate 0.
    let tp = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    assert_eq!(parent_of(&h, &[("traceparent", &tp)]).await, None);
    // A B3 "not sampled" parent is honoured.
    let unsampled = format!("{B3_TRACE}-{B3_SPAN}-0");
    assert_eq!(parent_of(&h, &[("b3", &unsampled)]).await, None);
}

#[tokio::test]
async fn jaeger_from_config_and_composition_order() {
    let cfg = TracingConfig::parse(
        "propagators: [tracecontext, jaeger]",
        tower_otel_tracing::config::ConfigFormat::Yaml,
    )
    .unwrap();
    let h = Harness::new(cfg);
    let uber = format!("{B3_TRACE}:{B3_SPAN}:0:1");
    let jaeger_parent = Some((
        TraceId::from_hex(B3_TRACE).unwrap(),
        SpanId::from_hex(B3_SPAN).unwrap(),
    ));
    assert_eq!(
        parent_of(&h, &[("uber-trace-id", &uber)]).await,
        jaeger_parent
    );
    // Both present: the later propagator in the list wins.
    let tp = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    assert_eq!(
        parent_of(&h, &[("traceparent", &tp), ("uber-trace-id", &uber)]).await,
        jaeger_parent
    );
    assert_eq!(
        parent_of(&h, &[("traceparent", &tp)]).await,
        Some((
            TraceId::from_hex(TRACE_ID).unwrap(),
            SpanId::from_hex(PARENT_ID).unwrap()
        ))
    );
}

#[tokio::test]
async fn propagators_none_extracts_nothing() {
    let h = harness_with_env(
        TracingConfig {
            sample_rate: Some(1.0),
            ..Default::default()
        },
        &[("OTEL_PROPAGATORS", "none")],
    );
    let tp = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    let (trace, parent) = parent_of(&h, &[("traceparent", &tp)]).await.unwrap();
    assert_ne!(trace, TraceId::from_hex(TRACE_ID).unwrap());
    assert_eq!(parent, SpanId::INVALID);
}

#[tokio::test]
async fn sdk_disabled_passes_requests_through() {
    let h = harness_with_env(
        TracingConfig {
            sample_rate: Some(1.0),
            ..Default::default()
        },
        &[("OTEL_SDK_DISABLED", "true")],
    );
    let app = Router::new()
        .route(
            "/info",
            get(|req: http::Request<Body>| async move {
                req.extensions().get::<TraceInfo>().is_some().to_string()
            }),
        )
        .layer(h.layer.clone());
    let (status, body) = send(app, get_req("/info")).await;
    assert_eq!(status, 200);
    assert_eq!(&body[..], b"false");
    send(h.app(), post_summarize("a b c")).await;
    assert!(h.spans().is_empty());
}

#[tokio::test]
async fn non_parent_based_samplers_ignore_the_caller() {
    let sampled_parent = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    let unsampled_parent = format!("00-{TRACE_ID}-{PARENT_ID}-00");
    let off = harness_with_env(
        TracingConfig::default(),
        &[("OTEL_TRACES_SAMPLER", "always_off")],
    );
    assert_eq!(
        parent_of(&off, &[("traceparent", &sampled_parent)]).await,
        None
    );
    let on = harness_with_env(
        TracingConfig::default(),
        &[("OTEL_TRACES_SAMPLER", "always_on")],
    );
    let (trace, parent) = parent_of(&on, &[("traceparent", &unsampled_parent)])
        .await
        .unwrap();
    assert_eq!(trace, TraceId::from_hex(TRACE_ID).unwrap());
    assert_eq!(parent, SpanId::from_hex(PARENT_ID).unwrap());
    // parentbased_always_off: a caller's sampled trace continues, no new ones start.
    let pb_off = harness_with_env(
        TracingConfig {
            sample_rate: Some(1.0),
            ..Default::default()
        },
        &[("OTEL_TRACES_SAMPLER", "parentbased_always_off")],
    );
    assert_eq!(parent_of(&pb_off, &[]).await, None);
    assert!(parent_of(&pb_off, &[("traceparent", &sampled_parent)])
        .await
        .is_some());
}
