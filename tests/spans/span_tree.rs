//! The per-request span tree: names, kinds, parents and every attribute with its type.

#[cfg(feature = "axum")]
use std::net::SocketAddr;

use crate::common::*;
use axum::body::Body;
use axum::routing::get;
use axum::{Extension, Router};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt};
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;
#[cfg(feature = "axum")]
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower_otel_tracing::exporter::InMemoryExporter;
use tower_otel_tracing::{ConnectionInfo, TraceInfo, TracingLayer};

fn conn() -> ConnectionInfo {
    ConnectionInfo {
        local_addr: "10.1.2.3:3000".parse().unwrap(),
        peer_addr: "10.9.8.7:59482".parse().unwrap(),
    }
}

/// The exact attribute list of a server span, in order, with types.
fn server_attrs(span: &SpanData) -> Vec<(String, Value)> {
    span.attributes
        .iter()
        .map(|kv| (kv.key.as_str().to_owned(), kv.value.clone()))
        .collect()
}

fn s(v: &str) -> Value {
    Value::from(v.to_owned())
}

#[tokio::test]
async fn post_summarize_produces_the_bentoml_tree() {
    let h = Harness::sampled();
    let mut req = post_summarize("the quick brown fox jumps");
    req.headers_mut()
        .insert("user-agent", "Mozilla/5.0 test".parse().unwrap());
    req.extensions_mut().insert(conn());
    let (status, body) = send(h.app(), req).await;
    assert_eq!(status, 200);
    assert_eq!(&body[..], b"the quick brown");

    let spans = h.spans();
    assert_eq!(spans.len(), 5, "{spans:#?}");
    let server = one_server_span(&spans);
    assert_eq!(server.name, "POST /summarize");
    assert_eq!(server.span_kind, SpanKind::Server);
    assert_eq!(server.status, Status::Unset);
    assert_eq!(server.parent_span_id, opentelemetry::trace::SpanId::INVALID);
    assert_eq!(server.instrumentation_scope.name(), "tower-otel-tracing");
    assert_eq!(
        server.instrumentation_scope.version(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(
        server_attrs(server),
        vec![
            ("http.scheme".into(), s("http")),
            ("http.host".into(), s("10.1.2.3:3000")),
            ("net.host.port".into(), Value::I64(3000)),
            ("http.flavor".into(), s("1.1")),
            ("http.target".into(), s("/summarize")),
            ("http.url".into(), s("http://svc.local:3000/summarize")),
            ("http.method".into(), s("POST")),
            ("http.server_name".into(), s("svc.local:3000")),
            ("http.user_agent".into(), s("Mozilla/5.0 test")),
            ("net.peer.ip".into(), s("10.9.8.7")),
            ("net.peer.port".into(), Value::I64(59482)),
            ("http.status_code".into(), Value::I64(200)),
            // Ours, after BentoML's: what the bodies carried.
            ("tower_otel_tracing.request.frames".into(), Value::I64(1)),
            ("tower_otel_tracing.request.bytes".into(), Value::I64(25)),
            ("tower_otel_tracing.response.frames".into(), Value::I64(1)),
            ("tower_otel_tracing.response.bytes".into(), Value::I64(15)),
        ]
    );

    let children = children_of(&spans, server);
    assert_eq!(children.len(), 4, "{children:#?}");
    let trace_id = server.span_context.trace_id();
    for c in &children {
        assert_eq!(c.span_context.trace_id(), trace_id);
        assert!(c.start_time >= server.start_time && c.end_time <= server.end_time);
    }
    let receive = of_type(&children, "http.request");
    assert_eq!(receive.len(), 1);
    assert_eq!(receive[0].name, "POST /summarize http receive");
    assert_eq!(receive[0].span_kind, SpanKind::Internal);
    assert_eq!(
        server_attrs(receive[0]),
        vec![("type".into(), s("http.request"))]
    );

    let start = of_type(&children, "http.response.start");
    assert_eq!(start.len(), 1);
    assert_eq!(start[0].name, "POST /summarize http send");
    assert_eq!(start[0].span_kind, SpanKind::Internal);
    assert_eq!(
        server_attrs(start[0]),
        vec![
            ("http.status_code".into(), Value::I64(200)),
            ("type".into(), s("http.response.start")),
        ]
    );
    let body = of_type(&children, "http.response.body");
    assert_eq!(body.len(), 1);
    assert_eq!(body[0].name, "POST /summarize http send");
    assert_eq!(body[0].span_kind, SpanKind::Internal);
    assert_eq!(
        server_attrs(body[0]),
        vec![("type".into(), s("http.response.body"))]
    );
    assert!(start[0].end_time <= body[0].start_time);

    // The handler's own span nests under the server span.
    let model: Vec<_> = children
        .iter()
        .filter(|c| c.name == "summarize.model")
        .collect();
    assert_eq!(model.len(), 1);
    assert_eq!(model[0].instrumentation_scope.name(), "test.handler");
}

#[tokio::test]
async fn get_without_body_has_no_receive_span_and_one_empty_body_send() {
    let h = Harness::sampled();
    let (status, _) = send(h.app(), get_req("/readyz?probe=1")).await;
    assert_eq!(status, 200);
    let spans = h.spans();
    let server = one_server_span(&spans);
    assert_eq!(server.name, "GET /readyz");
    assert_eq!(str_attr(server, "http.target"), Some("/readyz?probe=1"));
    assert_eq!(
        str_attr(server, "http.url"),
        Some("http://svc.local:3000/readyz?probe=1")
    );
    // No ConnectionInfo and no configured local address: these are unknown, not guessed.
    assert_eq!(attr(server, "http.host"), None);
    assert_eq!(attr(server, "net.peer.ip"), None);
    assert_eq!(str_attr(server, "http.user_agent"), None);
    let children = children_of(&spans, server);
    assert!(of_type(&children, "http.request").is_empty());
    assert_eq!(of_type(&children, "http.response.start").len(), 1);
    assert_eq!(of_type(&children, "http.response.body").len(), 1);
    assert_eq!(children.len(), 2);
}

#[tokio::test]
async fn local_addr_from_builder_is_used_without_connection_info() {
    let h = Harness::with(sample_all(), |b| {
        b.local_addr("192.0.2.1:80".parse().unwrap())
    });
    send(h.app(), get_req("/readyz")).await;
    let spans = h.spans();
    let server = one_server_span(&spans);
    // ASGI leaves the port out of http.host on port 80.
    assert_eq!(str_attr(server, "http.host"), Some("192.0.2.1"));
    assert_eq!(int_attr(server, "net.host.port"), Some(80));
}

#[tokio::test]
async fn unknown_methods_are_named_http() {
    let h = Harness::sampled();
    let app = Router::new()
        .fallback(|| async { "any" })
        .layer(h.layer.clone());
    let req = http::Request::builder()
        .method("BREW")
        .uri("/pot")
        .body(Body::empty())
        .unwrap();
    send(app, req).await;
    let spans = h.spans();
    let server = one_server_span(&spans);
    assert_eq!(server.name, "HTTP /pot");
    assert_eq!(str_attr(server, "http.method"), Some("_OTHER"));
}

#[tokio::test]
async fn lower_case_methods_are_upper_cased() {
    let h = Harness::sampled();
    let app = Router::new()
        .fallback(|| async { "any" })
        .layer(h.layer.clone());
    let req = http::Request::builder()
        .method("get")
        .uri("/x")
        .body(Body::empty())
        .unwrap();
    send(app, req).await;
    let spans = h.spans();
    assert_eq!(one_server_span(&spans).name, "GET /x");
}

#[tokio::test]
async fn child_spans_can_be_switched_off() {
    let h = Harness::with(sample_all(), |b| b.send_spans(false).receive_spans(false));
    send(h.app(), post_summarize("a b c d")).await;
    let spans = h.spans();
    let server = one_server_span(&spans);
    let children = children_of(&spans, server);
    assert_eq!(children.len(), 1, "only the handler span: {children:#?}");
    assert_eq!(children[0].name, "summarize.model");
    assert_eq!(int_attr(server, "http.status_code"), Some(200));
}

#[tokio::test]
async fn handler_can_read_the_trace_id() {
    let h = Harness::sampled();
    let app = Router::new()
        .route(
            "/whoami",
            get(|Extension(info): Extension<TraceInfo>| async move {
                let cx = opentelemetry::Context::current();
                let current = cx.span().span_context().clone();
                assert_eq!(current.trace_id(), info.trace_id);
                assert_eq!(current.span_id(), info.span_id);
                format!("{} {} {}", info.trace_id, info.span_id, info.sampled)
            }),
        )
        .layer(h.layer.clone());
    let (_, body) = send(app, get_req("/whoami")).await;
    let spans = h.spans();
    let server = one_server_span(&spans);
    let expected = format!(
        "{} {} true",
        server.span_context.trace_id(),
        server.span_context.span_id()
    );
    assert_eq!(std::str::from_utf8(&body).unwrap(), expected);
}

/// Over a real socket: axum records both connection ends through `ConnectionInfo`.
#[cfg(feature = "axum")]
#[tokio::test]
async fn loopback_request_records_connection_addresses() {
    let h = Harness::sampled();
    let (server_addr, server) = serve_loopback(h.app()).await;

    let mut stream = tokio::net::TcpStream::connect(server_addr).await.unwrap();
    let client_addr: SocketAddr = stream.local_addr().unwrap();
    let body = "hello loopback world again";
    let request = format!(
        "POST /summarize?lang=en HTTP/1.1\r\nHost: api.example:8080\r\nUser-Agent: loopback-test/1.0\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_string(&mut response),
    )
    .await
    .expect("response in time")
    .unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("hello loopback world"), "{response}");

    let spans = h.wait_for_spans(5).await;
    server.abort();
    let span = one_server_span(&spans);
    assert_eq!(span.name, "POST /summarize");
    assert_eq!(
        str_attr(span, "http.host"),
        Some(server_addr.to_string().as_str())
    );
    assert_eq!(
        int_attr(span, "net.host.port"),
        Some(i64::from(server_addr.port()))
    );
    assert_eq!(str_attr(span, "net.peer.ip"), Some("127.0.0.1"));
    assert_eq!(
        int_attr(span, "net.peer.port"),
        Some(i64::from(client_addr.port()))
    );
    assert_eq!(str_attr(span, "http.server_name"), Some("api.example:8080"));
    assert_eq!(str_attr(span, "http.target"), Some("/summarize?lang=en"));
    assert_eq!(
        str_attr(span, "http.url"),
        Some("http://api.example:8080/summarize?lang=en")
    );
    assert_eq!(str_attr(span, "http.user_agent"), Some("loopback-test/1.0"));
    assert_eq!(str_attr(span, "http.flavor"), Some("1.1"));
    let children = children_of(&spans, span);
    assert_eq!(of_type(&children, "http.request").len(), 1);
    assert_eq!(of_type(&children, "http.response.start").len(), 1);
    assert_eq!(of_type(&children, "http.response.body").len(), 1);
}

#[tokio::test]
async fn credentials_and_signatures_never_reach_http_url() {
    let h = Harness::sampled();
    let app = Router::new()
        .fallback(|| async { "any" })
        .layer(h.layer.clone());
    let req = http::Request::get("http://user:secret@files.example/obj?Signature=abc&x=1&sig=zz")
        .body(Body::empty())
        .unwrap();
    send(app, req).await;
    let spans = h.spans();
    let span = one_server_span(&spans);
    let url = str_attr(span, "http.url").unwrap();
    assert_eq!(
        url,
        "http://REDACTED:REDACTED@files.example/obj?Signature=REDACTED&x=1&sig=REDACTED"
    );
    assert!(!url.contains("secret"));
    assert_eq!(str_attr(span, "http.server_name"), Some("files.example"));
}

#[tokio::test]
async fn trace_id_headers_let_clients_find_their_trace() {
    let h = Harness::with(
        tower_otel_tracing::TracingConfig {
            sample_rate: Some(1.0),
            excluded_urls: Some(tower_otel_tracing::config::ExcludedUrls::new(["readyz"]).unwrap()),
            ..Default::default()
        },
        |b| b.trace_id_headers("X-BentoML-Trace-ID", "X-BentoML-Request-ID"),
    );
    let resp = tower::ServiceExt::oneshot(h.app(), post_summarize("find my trace"))
        .await
        .unwrap();
    let trace = resp.headers()["x-bentoml-trace-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let request = resp.headers()["x-bentoml-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap();
    let spans = h.spans();
    let server = one_server_span(&spans);
    assert_eq!(trace, server.span_context.trace_id().to_string());
    assert_eq!(trace.len(), 32);
    assert_eq!(request, server.span_context.span_id().to_string());
    assert_eq!(request.len(), 16);
    // Excluded routes carry nothing.
    let resp = tower::ServiceExt::oneshot(h.app(), get_req("/readyz"))
        .await
        .unwrap();
    assert!(resp.headers().get("x-bentoml-trace-id").is_none());
}

#[test]
fn invalid_trace_id_header_names_are_config_errors() {
    let err = tower_otel_tracing::TracingLayer::builder(Default::default())
        .trace_id_headers("bad header", "x-ok")
        .install_global(false)
        .build()
        .unwrap_err();
    assert_eq!(err.path(), "trace_id_headers");
    assert!(err.to_string().contains("bad header"));
}

#[tokio::test]
async fn header_values_are_recorded_only_when_named_and_secrets_are_redacted() {
    use opentelemetry::{Array, StringValue};
    let h = Harness::with(sample_all(), |b| {
        b.request_headers(["x-request-id", "Authorization", "x-tenant"])
            .response_headers(["content-type", "set-cookie"])
            .sanitize_headers(["x-tenant"])
    });
    let app = Router::new()
        .route(
            "/login",
            get(|| async {
                (
                    [
                        ("set-cookie", "session=abc"),
                        ("content-type", "text/plain"),
                    ],
                    "ok",
                )
            }),
        )
        .layer(h.layer.clone());
    let mut req = get_req("/login");
    req.headers_mut()
        .insert("x-request-id", "req-7".parse().unwrap());
    req.headers_mut()
        .append("x-request-id", "req-8".parse().unwrap());
    req.headers_mut()
        .insert("authorization", "Bearer s3cret".parse().unwrap());
    req.headers_mut()
        .insert("x-tenant", "acme".parse().unwrap());
    req.headers_mut()
        .insert("x-not-opted-in", "hidden".parse().unwrap());
    send(app, req).await;
    let spans = h.spans();
    let span = one_server_span(&spans);
    let strings = |v: &[&str]| {
        Value::Array(Array::String(
            v.iter().map(|s| StringValue::from(s.to_string())).collect(),
        ))
    };
    assert_eq!(
        attr(span, "http.request.header.x-request-id"),
        Some(&strings(&["req-7", "req-8"]))
    );
    assert_eq!(
        attr(span, "http.request.header.authorization"),
        Some(&strings(&["[REDACTED]"]))
    );
    assert_eq!(
        attr(span, "http.request.header.x-tenant"),
        Some(&strings(&["[REDACTED]"]))
    );
    assert_eq!(
        attr(span, "http.response.header.set-cookie"),
        Some(&strings(&["[REDACTED]"]))
    );
    assert_eq!(
        attr(span, "http.response.header.content-type"),
        Some(&strings(&["text/plain"]))
    );
    let all = format!("{:?}", spans);
    assert!(
        !all.contains("s3cret")
            && !all.contains("session=abc")
            && !all.contains("hidden")
            && !all.contains("acme")
    );
}

/// The layer hands its child spans to the pipeline it built as finished data, not
/// through SDK spans. With a user's provider it must use SDK spans. Both must yield
/// the same spans, field for field (ids and times aside), including for a 5xx.
/// A layer whose spans go through a provider the user built (SDK spans),
/// exporting to `exporter`; the provider is returned to be flushed.
fn users_provider_layer(
    exporter: InMemoryExporter,
) -> (
    TracingLayer,
    InMemoryExporter,
    Option<opentelemetry_sdk::trace::SdkTracerProvider>,
) {
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let layer = TracingLayer::builder(sample_all())
        .tracer_provider(provider.clone())
        .install_global(false)
        .build()
        .unwrap();
    (layer, exporter, Some(provider))
}

#[tokio::test]
async fn child_spans_are_the_same_with_our_pipeline_and_with_a_users_provider() {
    use opentelemetry::trace::{SpanId, TraceFlags};

    async fn record(harness_or_provider: Result<Harness, InMemoryExporter>) -> Vec<SpanData> {
        let (layer, exporter, provider) = match harness_or_provider {
            Ok(h) => (h.layer, h.exporter, None),
            Err(exporter) => users_provider_layer(exporter),
        };
        for req in [post_summarize("the same either way"), get_req("/fail")] {
            let (_, _) = send(traced(&layer), req).await;
        }
        layer.pipeline().force_flush().unwrap();
        if let Some(p) = provider {
            p.force_flush().unwrap();
        }
        exporter.finished_spans()
    }

    let ours = record(Ok(Harness::sampled())).await;
    let sdk = record(Err(InMemoryExporter::default())).await;
    // Server spans: built from a record at the end on our pipeline, an SDK
    // span under a user's provider; the same either way.
    let servers = |spans: &[SpanData]| {
        let mut out: Vec<_> = server_spans(spans)
            .into_iter()
            .map(|s| {
                (
                    s.name.to_string(),
                    format!("{:?}", s.attributes),
                    s.status.clone(),
                    s.span_context.trace_flags(),
                    s.span_context.is_remote(),
                    s.parent_span_id,
                    s.parent_span_is_remote,
                    s.dropped_attributes_count,
                    s.events.len(),
                    s.links.len(),
                    s.instrumentation_scope.clone(),
                )
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    };
    assert_eq!(servers(&ours).len(), 2);
    assert_eq!(servers(&ours), servers(&sdk));
    let children = |spans: &[SpanData]| {
        let mut out: Vec<_> = spans
            .iter()
            .filter(|s| s.span_kind == opentelemetry::trace::SpanKind::Internal)
            .filter(|s| s.name.contains(" http "))
            .map(|s| {
                let parent = spans
                    .iter()
                    .find(|p| p.span_context.span_id() == s.parent_span_id)
                    .expect("parent exported");
                assert_eq!(parent.span_kind, opentelemetry::trace::SpanKind::Server);
                assert_eq!(parent.span_context.trace_id(), s.span_context.trace_id());
                assert_ne!(s.span_context.span_id(), SpanId::INVALID);
                assert!(s.start_time <= s.end_time);
                assert!(s.start_time >= parent.start_time && s.end_time <= parent.end_time);
                (
                    s.name.to_string(),
                    format!("{:?}", s.attributes),
                    s.status.clone(),
                    s.span_context.trace_flags() == TraceFlags::SAMPLED,
                    s.span_context.is_remote(),
                    s.parent_span_is_remote,
                    s.dropped_attributes_count,
                    s.events.len(),
                    s.links.len(),
                    s.instrumentation_scope.clone(),
                )
            })
            .collect();
        out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        out
    };
    let (ours_children, sdk_children) = (children(&ours), children(&sdk));
    // POST: receive + start + body; GET /fail (500): start + body.
    assert_eq!(ours_children.len(), 5, "{ours_children:#?}");
    assert_eq!(ours_children, sdk_children);
    assert!(ours_children
        .iter()
        .any(|c| c.2 == opentelemetry::trace::Status::error("")));
    let mut ids: Vec<u64> = ours
        .iter()
        .map(|s| u64::from_be_bytes(s.span_context.span_id().to_bytes()))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), ours.len(), "span ids are unique");
}

/// A handler writing to the server span in its context (attributes, events,
/// status, a new name, a link) has those writes exported, exactly as when the
/// server span is an SDK span of a provider the user supplied.
#[tokio::test]
async fn handler_writes_to_the_server_span_are_exported() {
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
    use opentelemetry::KeyValue;

    fn annotate(end: bool) -> &'static str {
        opentelemetry::Context::map_current(|cx| {
            let span = cx.span();
            assert!(span.is_recording());
            span.set_attribute(KeyValue::new("user.tier", "gold"));
            span.add_event("cache.miss", vec![KeyValue::new("key", "k1")]);
            span.set_status(Status::error("handler says no"));
            span.set_status(Status::Unset);
            span.update_name("annotated");
            span.add_link(
                SpanContext::new(
                    TraceId::from(7),
                    SpanId::from(9),
                    TraceFlags::SAMPLED,
                    true,
                    TraceState::default(),
                ),
                vec![KeyValue::new("why", "batch")],
            );
            if end {
                span.end();
            }
        });
        "annotated"
    }

    async fn record(provider: Option<InMemoryExporter>, path: &str) -> SpanData {
        let (layer, exporter, sdk) = match provider {
            None => {
                let h = Harness::sampled();
                (h.layer, h.exporter, None)
            }
            Some(exporter) => users_provider_layer(exporter),
        };
        let app = axum::Router::new()
            .route("/annotate", get(|| async { annotate(false) }))
            .route("/annotate-and-end", get(|| async { annotate(true) }))
            .layer(layer.clone());
        let (status, body) = send(app, get_req(path)).await;
        assert_eq!((status.as_u16(), &body[..]), (200, &b"annotated"[..]));
        layer.pipeline().force_flush().unwrap();
        if let Some(p) = sdk {
            p.force_flush().unwrap();
        }
        let spans = exporter.finished_spans();
        one_server_span(&spans).clone()
    }

    let ours = record(None, "/annotate").await;
    assert_eq!(ours.name, "annotated");
    assert_eq!(str_attr(&ours, "user.tier"), Some("gold"));
    assert_eq!(int_attr(&ours, "http.status_code"), Some(200));
    assert_eq!(ours.status, Status::error("handler says no"));
    let events: Vec<_> = ours.events.iter().map(|e| e.name.to_string()).collect();
    assert_eq!(events, ["cache.miss"]);
    assert_eq!(ours.links.len(), 1);
    assert_eq!(ours.links[0].span_context.span_id(), SpanId::from(9));
    assert!(ours.end_time > ours.start_time);

    let sdk = record(Some(InMemoryExporter::default()), "/annotate").await;
    let shape = |s: &SpanData| {
        (
            s.name.to_string(),
            format!("{:?}", s.attributes),
            s.status.clone(),
            s.events
                .iter()
                .map(|e| format!("{}{:?}", e.name, e.attributes))
                .collect::<Vec<_>>(),
            s.links
                .iter()
                .map(|l| format!("{:?}{:?}", l.span_context, l.attributes))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(shape(&ours), shape(&sdk));

    // The exchange, not the handler, ends the server span: an `end` from the
    // handler loses none of what the response adds. (An SDK span of a user's
    // provider does end there, without the response's attributes.)
    let ended = record(None, "/annotate-and-end").await;
    assert_eq!(int_attr(&ended, "http.status_code"), Some(200));
    assert_eq!(
        int_attr(&ended, "tower_otel_tracing.response.bytes"),
        Some(9)
    );
}

/// A frame's span covers the wait for it: from the first poll that found the
/// body not ready to the frame's arrival. One that is there at once is a point.
#[tokio::test]
async fn a_frame_span_covers_the_wait_for_the_frame() {
    use http_body_util::StreamBody;
    use std::time::Duration;

    let h = Harness::sampled();
    let app = Router::new()
        .route(
            "/late",
            get(|| async {
                let (tx, rx) = tokio::sync::mpsc::channel::<
                    Result<http_body::Frame<bytes::Bytes>, std::io::Error>,
                >(2);
                tokio::spawn(async move {
                    tx.send(Ok(http_body::Frame::data(bytes::Bytes::from_static(
                        b"now",
                    ))))
                    .await
                    .unwrap();
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    tx.send(Ok(http_body::Frame::data(bytes::Bytes::from_static(
                        b"later",
                    ))))
                    .await
                    .unwrap();
                });
                let stream = futures_util::stream::unfold(rx, |mut rx| async move {
                    rx.recv().await.map(|frame| (frame, rx))
                });
                Body::new(StreamBody::new(stream))
            }),
        )
        .layer(h.layer.clone());
    let (status, body) = send(app, get_req("/late")).await;
    assert_eq!((status.as_u16(), &body[..]), (200, &b"nowlater"[..]));
    let spans = h.wait_for_spans(4).await;
    let server = one_server_span(&spans);
    let sends = of_type(&children_of(&spans, server), "http.response.body");
    assert_eq!(sends.len(), 2, "{sends:?}");
    let lasted = |s: &SpanData| s.end_time.duration_since(s.start_time).unwrap();
    let mut sends = sends;
    sends.sort_by_key(|s| s.start_time);
    // The second frame was waited for 200 ms (less the moments before the
    // first poll); the span says so. A lower bound only: no timing upper bound.
    assert!(
        lasted(sends[1]) >= Duration::from_millis(150),
        "{:?}",
        lasted(sends[1])
    );
    for s in &sends {
        assert!(s.start_time >= server.start_time && s.end_time <= server.end_time);
    }
}
