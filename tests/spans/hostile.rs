//! Hostile and odd input never panics and has a documented result:
//! an invalid parent starts a new root, an unreadable header value is omitted,
//! odd request targets keep their raw form.

use crate::common::*;
use axum::body::Body;
use axum::Router;
use opentelemetry::trace::SpanId;
use tower::ServiceExt;
use tower_otel_tracing::TracingConfig;

fn harness() -> Harness {
    let cfg = TracingConfig::parse(
        "sample_rate: 1.0\npropagators: [tracecontext, baggage, b3, jaeger]",
        tower_otel_tracing::config::ConfigFormat::Yaml,
    )
    .unwrap();
    // A queue that holds every span of the 3,000-request test below, so that
    // none is dropped if the export thread falls behind.
    Harness::with(cfg, |b| {
        b.send_spans(false)
            .receive_spans(false)
            .env_vars([("OTEL_BSP_MAX_QUEUE_SIZE", "4096")])
    })
}

fn app(h: &Harness) -> Router {
    Router::new()
        .fallback(|| async { "ok" })
        .layer(h.layer.clone())
}

async fn status_of(h: &Harness, req: http::Request<Body>) -> u16 {
    let resp = app(h).oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap();
    status
}

#[tokio::test]
async fn malformed_oversized_and_repeated_context_headers_start_new_roots() {
    let h = harness();
    let long = "a".repeat(64 * 1024);
    let cases: Vec<Vec<(&str, Vec<u8>)>> = vec![
        vec![("traceparent", long.clone().into_bytes())],
        vec![(
            "traceparent",
            b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x".to_vec(),
        )],
        vec![("tracestate", format!("k={long}").into_bytes())],
        vec![(
            "tracestate",
            (0..2000)
                .map(|i| format!("k{i}=v"))
                .collect::<Vec<_>>()
                .join(",")
                .into_bytes(),
        )],
        vec![(
            "baggage",
            (0..5000)
                .map(|i| format!("k{i}=v{i}"))
                .collect::<Vec<_>>()
                .join(",")
                .into_bytes(),
        )],
        vec![("baggage", b"=,=;;%%%zz".to_vec())],
        vec![(
            "b3",
            b"80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-zz-extra".to_vec(),
        )],
        vec![
            ("x-b3-traceid", b"zz".to_vec()),
            ("x-b3-spanid", long.clone().into_bytes()),
        ],
        vec![("uber-trace-id", b"::::".to_vec())],
        vec![("uber-trace-id", b"%%3A%3A".to_vec())],
        vec![("traceparent", vec![0xff, 0xfe, 0x80])],
    ];
    for headers in &cases {
        let mut req = get_req("/x");
        for (k, v) in headers {
            req.headers_mut().append(
                http::HeaderName::from_static(k),
                http::HeaderValue::from_bytes(v).unwrap(),
            );
        }
        assert_eq!(status_of(&h, req).await, 200);
    }
    let spans = h.spans();
    let servers = server_spans(&spans);
    assert_eq!(servers.len(), cases.len());
    for s in &servers {
        assert_eq!(s.parent_span_id, SpanId::INVALID, "{:?}", s.attributes);
    }
}

/// Version 00 is exactly 55 characters: a trailing `-` makes it malformed, and
/// the trace restarts (the SDK's parser used to continue it).
#[tokio::test]
async fn trailing_dash_in_traceparent_restarts_the_trace() {
    let h = harness();
    let mut req = get_req("/x");
    req.headers_mut().insert(
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-"
            .parse()
            .unwrap(),
    );
    status_of(&h, req).await;
    let spans = h.spans();
    let server = one_server_span(&spans);
    assert_eq!(server.parent_span_id, SpanId::INVALID);
    assert_ne!(
        server.span_context.trace_id().to_string(),
        "0af7651916cd43dd8448eb211c80319c"
    );
}

/// Two `traceparent` headers: neither can be trusted as the parent (W3C Trace
/// Context), so the trace restarts.
#[tokio::test]
async fn repeated_traceparent_restarts_the_trace() {
    let h = harness();
    let mut req = get_req("/x");
    req.headers_mut().append(
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
            .parse()
            .unwrap(),
    );
    req.headers_mut().append(
        "traceparent",
        "00-11111111111111111111111111111111-2222222222222222-01"
            .parse()
            .unwrap(),
    );
    status_of(&h, req).await;
    let spans = h.spans();
    let server = one_server_span(&spans);
    assert_eq!(server.parent_span_id, SpanId::INVALID);
    let trace = server.span_context.trace_id().to_string();
    assert_ne!(trace, "0af7651916cd43dd8448eb211c80319c");
    assert_ne!(trace, "11111111111111111111111111111111");
}

#[tokio::test]
async fn unreadable_and_huge_headers() {
    let h = harness();
    let mut req = get_req("/x");
    req.headers_mut().insert(
        "user-agent",
        http::HeaderValue::from_bytes(&[0x66, 0xff, 0x67]).unwrap(),
    );
    status_of(&h, req).await;
    let mut req = get_req("/y");
    let huge = "h".repeat(64 * 1024);
    req.headers_mut().insert("host", huge.parse().unwrap());
    req.headers_mut()
        .insert("user-agent", huge.parse().unwrap());
    status_of(&h, req).await;
    let spans = h.spans();
    let x = spans.iter().find(|s| s.name == "GET /x").unwrap();
    assert_eq!(
        attr(x, "http.user_agent"),
        None,
        "non-UTF-8 values are omitted"
    );
    let y = spans.iter().find(|s| s.name == "GET /y").unwrap();
    assert_eq!(
        str_attr(y, "http.user_agent").map(str::len),
        Some(64 * 1024)
    );
    assert_eq!(
        str_attr(y, "http.server_name").map(str::len),
        Some(64 * 1024)
    );
}

#[tokio::test]
async fn odd_request_targets_and_methods() {
    let h = harness();
    let absolute = http::Request::get("http://example.com:8080/a/b?c=d")
        .body(Body::empty())
        .unwrap();
    status_of(&h, absolute).await;
    let asterisk = http::Request::builder()
        .method("OPTIONS")
        .uri("*")
        .body(Body::empty())
        .unwrap();
    status_of(&h, asterisk).await;
    let weird = http::Request::builder()
        .method("X-PURGE")
        .uri("/cache")
        .body(Body::empty())
        .unwrap();
    status_of(&h, weird).await;
    status_of(&h, get_req("/caf%C3%A9/%2e%2e/x%20y")).await;
    let spans = h.spans();
    let names: Vec<&str> = server_spans(&spans)
        .iter()
        .map(|s| s.name.as_ref())
        .collect();
    assert!(names.contains(&"GET /a/b"), "{names:?}");
    assert!(names.contains(&"OPTIONS *"), "{names:?}");
    assert!(names.contains(&"HTTP /cache"), "{names:?}");
    assert!(
        names.contains(&"GET /caf%C3%A9/%2e%2e/x%20y"),
        "raw path, not decoded: {names:?}"
    );
    let abs = spans.iter().find(|s| s.name == "GET /a/b").unwrap();
    assert_eq!(str_attr(abs, "http.target"), Some("/a/b?c=d"));
    assert_eq!(
        str_attr(abs, "http.url"),
        Some("http://example.com:8080/a/b?c=d")
    );
    assert_eq!(str_attr(abs, "http.server_name"), Some("example.com:8080"));
}

/// Random bytes in every context header (a fixed-seed xorshift, so a failure
/// reproduces): every request answers 200 and nothing panics.
#[tokio::test]
async fn random_header_bytes_never_panic() {
    let h = harness();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    const ALPHABET: &[u8] = b"0123456789abcdefABCDEF-:=,;%\t xyz\x80\xff";
    let headers = [
        "traceparent",
        "tracestate",
        "baggage",
        "b3",
        "x-b3-traceid",
        "x-b3-spanid",
        "x-b3-sampled",
        "uber-trace-id",
    ];
    for _ in 0..3000 {
        let mut req = get_req("/fuzz");
        for name in headers {
            if next() % 2 == 0 {
                continue;
            }
            let len = (next() % 80) as usize;
            let value: Vec<u8> = (0..len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                .collect();
            if let Ok(v) = http::HeaderValue::from_bytes(&value) {
                req.headers_mut().insert(name, v);
            }
        }
        assert_eq!(status_of(&h, req).await, 200);
    }
    assert_eq!(server_spans(&h.spans()).len(), 3000);
    assert_eq!(h.layer.pipeline().stats().dropped, 0);
}

#[tokio::test]
async fn signed_url_secrets_reach_no_attribute_of_any_span() {
    let h = Harness::with(sample_all(), |b| {
        b.request_headers(["referer", "x-sig"])
            .response_headers(["location"])
    });
    let target = "/missing?X-Goog-Signature=SECRET1&x=1&sig=SECRET2&AWSAccessKeyId=SECRET3\
                  &Signature=SECRET4";
    let mut req = get_req(target);
    *req.uri_mut() = format!("http://user:SECRET5@svc.local:3000{target}")
        .parse()
        .unwrap();
    req.headers_mut()
        .insert("host", "user:SECRET6@svc.local:3000".parse().unwrap());
    let (status, _) = send(h.app(), req).await;
    assert_eq!(status, 404);
    let spans = h.spans();
    let server = one_server_span(&spans);
    assert_eq!(
        str_attr(server, "http.target"),
        Some(
            "/missing?X-Goog-Signature=REDACTED&x=1&sig=REDACTED&AWSAccessKeyId=REDACTED\
             &Signature=REDACTED"
        )
    );
    let mut seen = 0;
    for span in &spans {
        let texts = span
            .attributes
            .iter()
            .chain(span.events.iter().flat_map(|e| e.attributes.iter()))
            .map(|kv| kv.value.to_string())
            .chain([span.name.to_string()]);
        for text in texts {
            seen += 1;
            assert!(!text.contains("SECRET"), "{}: {text}", span.name);
        }
    }
    assert!(seen > 10);
}
