//! The client layer across real services on loopback: service A calls service B
//! through it, and one trace follows the request, in every propagation format.

use crate::common;

use std::net::SocketAddr;
use std::time::Duration;

use crate::common::*;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query};
use axum::routing::{get, post};
use axum::{Extension, Router};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt};
use opentelemetry_sdk::trace::SpanData;
use serde::Deserialize;
use tower::ServiceExt;
use tower_otel_tracing::client::TracingClientLayer;
use tower_otel_tracing::config::Propagator;
use tower_otel_tracing::{TraceInfo, TracingConfig, TracingLayer};

fn cfg(rate: f64, propagators: &[Propagator]) -> TracingConfig {
    TracingConfig {
        sample_rate: Some(rate),
        propagators: Some(propagators.to_vec()),
        ..Default::default()
    }
}

#[derive(Deserialize)]
struct StreamParams {
    n: u32,
}

/// Service B: what it saw of the trace, statuses on demand, a slow stream.
fn service_b(layer: &TracingLayer) -> Router {
    Router::new()
        .route(
            "/info",
            get(|Extension(info): Extension<TraceInfo>| async move {
                let baggage = opentelemetry::Context::current()
                    .baggage()
                    .get("tenant")
                    .map(|v| v.to_string())
                    .unwrap_or_default();
                format!("{} {} {baggage}", info.trace_id, info.sampled)
            }),
        )
        .route(
            "/status/{code}",
            get(|Path(code): Path<u16>| async move {
                (http::StatusCode::from_u16(code).unwrap(), "as asked")
            }),
        )
        .route(
            "/stream",
            get(|Query(p): Query<StreamParams>| async move {
                let chunks = futures_util::StreamExt::then(
                    futures_util::stream::iter(0..p.n),
                    |i| async move {
                        tokio::time::sleep(Duration::from_millis(30)).await;
                        Ok::<_, std::convert::Infallible>(Bytes::from(format!("chunk {i}\n")))
                    },
                );
                Body::from_stream(chunks)
            }),
        )
        .route("/echo", post(|body: String| async move { body }))
        .route(
            "/headers",
            get(|headers: http::HeaderMap| async move {
                let get = |name| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-")
                        .to_owned()
                };
                format!("{} {}", get("traceparent"), get("x-via"))
            }),
        )
        .layer(layer.clone())
}

type HttpClient = tower_otel_tracing::client::TracingClientService<
    Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
>;

fn http_client(layer: &TracingClientLayer) -> HttpClient {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    tower::Layer::layer(layer, client)
}

/// Service A: `/call?to=PATH` forwards a GET to B with its own `baggage` header,
/// `/forward?to=PATH` with no baggage header of its own; both answer with A's
/// trace id, then B's status and body.
fn service_a(layer: &TracingLayer, b: SocketAddr) -> Router {
    #[derive(Deserialize)]
    struct To {
        to: String,
    }
    let client = http_client(&layer.client());
    let forwarding = client.clone();
    Router::new()
        .route(
            "/call",
            get(
                move |Query(to): Query<To>, info: Option<Extension<TraceInfo>>| {
                    let url = format!("http://{b}{}", to.to);
                    forward(client.clone(), url, Some("tenant=acme"), info)
                },
            ),
        )
        .route(
            "/forward",
            get(
                move |Query(to): Query<To>, info: Option<Extension<TraceInfo>>| {
                    let url = format!("http://{b}{}", to.to);
                    forward(forwarding.clone(), url, None, info)
                },
            ),
        )
        .layer(layer.clone())
}

async fn forward(
    client: HttpClient,
    url: String,
    baggage: Option<&'static str>,
    info: Option<Extension<TraceInfo>>,
) -> (http::StatusCode, String) {
    let mut req = http::Request::get(url);
    if let Some(baggage) = baggage {
        req = req.header("baggage", baggage);
    }
    let req = req.body(Full::new(Bytes::new())).unwrap();
    match client.oneshot(req).await {
        Ok(resp) => {
            let status = resp.status();
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            let trace = info.map_or("excluded".to_owned(), |i| i.0.trace_id.to_string());
            (
                http::StatusCode::OK,
                format!(
                    "{trace} {} {}",
                    status.as_u16(),
                    String::from_utf8_lossy(&body)
                ),
            )
        }
        Err(e) => (http::StatusCode::BAD_GATEWAY, format!("upstream: {e}")),
    }
}

async fn call_a(a: SocketAddr, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut req = http::Request::get(format!("http://{a}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = tokio::time::timeout(
        Duration::from_secs(10),
        client.request(req.body(Full::new(Bytes::new())).unwrap()),
    )
    .await
    .expect("A answers in time")
    .unwrap();
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn client_spans(spans: &[SpanData]) -> Vec<&SpanData> {
    spans
        .iter()
        .filter(|s| s.span_kind == SpanKind::Client)
        .collect()
}

#[tokio::test]
async fn one_trace_across_two_services_in_every_format() {
    for format in [
        Propagator::TraceContext,
        Propagator::B3,
        Propagator::B3Multi,
        Propagator::Jaeger,
    ] {
        let hb = Harness::new(cfg(1.0, &[format, Propagator::Baggage]));
        let ha = Harness::new(cfg(1.0, &[format, Propagator::Baggage]));
        let (b, _tb) = serve_loopback(service_b(&hb.layer)).await;
        let (a, _ta) = serve_loopback(service_a(&ha.layer, b)).await;
        let (status, body) = call_a(a, "/call?to=/info", &[]).await;
        assert_eq!(status, 200, "{format}: {body}");

        let a_spans = ha.wait_for_server_spans(1).await;
        let b_spans = hb.wait_for_server_spans(1).await;
        let a_server = one_server_span(&a_spans);
        let clients = client_spans(&a_spans);
        assert_eq!(clients.len(), 1, "{format}: {a_spans:#?}");
        let client = clients[0];
        let b_server = one_server_span(&b_spans);

        let trace = a_server.span_context.trace_id();
        assert_eq!(client.span_context.trace_id(), trace, "{format}");
        assert_eq!(b_server.span_context.trace_id(), trace, "{format}");
        assert_eq!(client.parent_span_id, a_server.span_context.span_id());
        assert_eq!(
            b_server.parent_span_id,
            client.span_context.span_id(),
            "{format}: the callee's server span is the CLIENT span's child"
        );
        assert!(b_server.parent_span_is_remote);
        // B saw A's trace, sampled; and the caller's own baggage header stayed.
        assert_eq!(body, format!("{trace} 200 {trace} true acme"), "{format}");

        assert_eq!(client.name, "GET");
        assert_eq!(str_attr(client, "http.method"), Some("GET"));
        assert_eq!(
            str_attr(client, "http.url"),
            Some(format!("http://{b}/info").as_str())
        );
        assert_eq!(str_attr(client, "net.peer.name"), Some("127.0.0.1"));
        assert_eq!(int_attr(client, "net.peer.port"), Some(i64::from(b.port())));
        assert_eq!(int_attr(client, "http.status_code"), Some(200));
        assert_eq!(client.status, Status::Unset);
    }
}

#[tokio::test]
async fn unsampled_at_a_records_nothing_anywhere_and_b_sees_the_trace_id() {
    let hb = Harness::new(cfg(1.0, &Propagator::DEFAULT));
    let ha = Harness::new(cfg(0.0, &Propagator::DEFAULT));
    let (b, _tb) = serve_loopback(service_b(&hb.layer)).await;
    let (a, _ta) = serve_loopback(service_a(&ha.layer, b)).await;
    let (status, body) = call_a(a, "/call?to=/info", &[]).await;
    assert_eq!(status, 200);
    let words: Vec<&str> = body.split(' ').collect();
    assert_eq!(
        words[0], words[2],
        "B's TraceInfo shows A's trace id: {body}"
    );
    assert_eq!(words[3], "false", "B does not sample it either: {body}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(ha.spans().is_empty());
    assert!(hb.spans().is_empty());
}

#[tokio::test]
async fn excluded_at_a_means_b_records_nothing() {
    let hb = Harness::new(cfg(1.0, &Propagator::DEFAULT));
    let mut a_cfg = cfg(1.0, &Propagator::DEFAULT);
    a_cfg.excluded_urls = Some(tower_otel_tracing::config::ExcludedUrls::new(["call"]).unwrap());
    let ha = Harness::new(a_cfg);
    let (b, _tb) = serve_loopback(service_b(&hb.layer)).await;
    let (a, _ta) = serve_loopback(service_a(&ha.layer, b)).await;
    let (status, body) = call_a(a, "/call?to=/info", &[]).await;
    assert_eq!(status, 200);
    assert!(body.ends_with(" false acme"), "{body}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(ha.spans().is_empty());
    assert!(hb.spans().is_empty(), "{:#?}", hb.spans());
}

#[tokio::test]
async fn statuses_and_a_dead_upstream() {
    let hb = Harness::new(cfg(1.0, &Propagator::DEFAULT));
    let ha = Harness::new(cfg(1.0, &Propagator::DEFAULT));
    let (b, _tb) = serve_loopback(service_b(&hb.layer)).await;
    let (a, _ta) = serve_loopback(service_a(&ha.layer, b)).await;
    for code in [404u16, 503] {
        let (status, body) = call_a(a, &format!("/call?to=/status/{code}"), &[]).await;
        assert_eq!(status, 200);
        assert!(body.contains(&format!(" {code} as asked")), "{body}");
    }
    let spans = ha.wait_for_server_spans(2).await;
    let mut clients = client_spans(&spans);
    clients.sort_by_key(|s| int_attr(s, "http.status_code"));
    assert_eq!(clients.len(), 2);
    for (client, code) in clients.iter().zip([404, 503]) {
        assert_eq!(int_attr(client, "http.status_code"), Some(code));
        assert!(matches!(client.status, Status::Error { .. }), "{client:#?}");
    }

    // B is gone: the call fails, the handler answers as it decides.
    let dead = common::receiver::dead_addr();
    let hd = Harness::new(cfg(1.0, &Propagator::DEFAULT));
    let (a2, _t2) = serve_loopback(service_a(&hd.layer, dead)).await;
    let (status, body) = call_a(a2, "/call?to=/info", &[]).await;
    assert_eq!(status, 502, "{body}");
    let spans = hd.wait_for_server_spans(1).await;
    let clients = client_spans(&spans);
    assert_eq!(clients.len(), 1);
    let client = clients[0];
    assert!(matches!(&client.status, Status::Error { description } if !description.is_empty()));
    let event = client
        .events
        .iter()
        .find(|e| e.name == "exception")
        .expect("exception event");
    assert!(event
        .attributes
        .iter()
        .any(|kv| kv.key.as_str() == "exception.message"));
    assert_eq!(attr(client, "http.status_code"), None);
}

#[tokio::test]
async fn the_client_span_lasts_until_the_last_chunk() {
    let hb = Harness::new(cfg(1.0, &Propagator::DEFAULT));
    let ha = Harness::new(cfg(1.0, &Propagator::DEFAULT));
    let (b, _tb) = serve_loopback(service_b(&hb.layer)).await;
    let (a, _ta) = serve_loopback(service_a(&ha.layer, b)).await;
    let (_, body) = call_a(a, "/call?to=/stream%3Fn=4", &[]).await;
    assert!(body.ends_with("chunk 3\n"), "{body}");
    let a_spans = ha.wait_for_server_spans(1).await;
    let b_spans = hb.wait_for_server_spans(1).await;
    let client = client_spans(&a_spans)[0];
    // B produced its last chunk before A could read it, and A's span ended after.
    let last_chunk = b_spans
        .iter()
        .filter(|s| s.name.ends_with("http send"))
        .map(|s| s.end_time)
        .max()
        .unwrap();
    assert!(client.end_time >= last_chunk, "{client:#?}");
    assert_eq!(attr(client, "http.cancelled"), None);
}

#[tokio::test]
async fn a_body_dropped_early_ends_the_span_cancelled() {
    let hb = Harness::new(cfg(1.0, &Propagator::DEFAULT));
    let (b, _tb) = serve_loopback(service_b(&hb.layer)).await;
    let client = TracingClientLayer::try_from_config(TracingConfig {
        sample_rate: Some(1.0),
        exporter_type: Some(tower_otel_tracing::config::ExporterType::InMemory),
        ..Default::default()
    })
    .unwrap();
    let exporter = client.pipeline().in_memory_exporter().unwrap();
    let req = http::Request::get(format!("http://{b}/stream?n=50"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = http_client(&client).oneshot(req).await.unwrap();
    let mut body = resp.into_body();
    let _first = body.frame().await;
    drop(body);
    client.pipeline().force_flush().unwrap();
    let spans = exporter.finished_spans();
    let span = client_spans(&spans)[0];
    assert_eq!(
        span.parent_span_id,
        opentelemetry::trace::SpanId::INVALID,
        "a root: the sampler decided"
    );
    assert_eq!(
        attr(span, "http.cancelled"),
        Some(&opentelemetry::Value::Bool(true))
    );
}

#[tokio::test]
async fn headers_the_caller_set_are_kept_and_spans_can_be_switched_off() {
    let ha = Harness::sampled();
    let (b, _tb) = serve_loopback(Router::new().route(
        "/headers",
        get(|headers: http::HeaderMap| async move {
            headers
                .get("traceparent")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        }),
    ))
    .await;
    let mine = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let req = http::Request::get(format!("http://{b}/headers"))
        .header("traceparent", mine)
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = http_client(&ha.layer.client()).oneshot(req).await.unwrap();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], mine.as_bytes());

    let inject_only = ha.layer.client().client_spans(false);
    let req = http::Request::get(format!("http://{b}/headers"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = http_client(&inject_only).oneshot(req).await.unwrap();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let sent = String::from_utf8(body.to_vec()).unwrap();
    // A call outside any trace starts one here: sampled, and its id random.
    assert!(sent.starts_with("00-") && sent.ends_with("-03"), "{sent}");
    // Only the first call (with its own header) made a span; the second none.
    assert_eq!(client_spans(&ha.spans()).len(), 1);
}

#[cfg(feature = "reqwest")]
#[tokio::test]
async fn reqwest_middleware_to_axum() {
    let hb = Harness::new(cfg(1.0, &Propagator::DEFAULT));
    let ha = Harness::new(cfg(1.0, &Propagator::DEFAULT));
    let (b, _tb) = serve_loopback(service_b(&hb.layer)).await;
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(ha.layer.client().reqwest())
        .build();
    let resp = client
        .post(format!("http://{b}/echo"))
        .body("over reqwest")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.url().as_str(), format!("http://{b}/echo"));
    assert_eq!(resp.text().await.unwrap(), "over reqwest");
    let a_spans = ha.wait_for_spans(1).await;
    let b_spans = hb.wait_for_server_spans(1).await;
    let client_span = client_spans(&a_spans)[0];
    assert_eq!(client_span.name, "POST");
    assert_eq!(int_attr(client_span, "http.status_code"), Some(200));
    let b_server = one_server_span(&b_spans);
    assert_eq!(b_server.parent_span_id, client_span.span_context.span_id());
    assert_eq!(
        b_server.span_context.trace_id(),
        client_span.span_context.trace_id()
    );
}

fn with_peer(mut req: http::Request<Body>, peer: &str) -> http::Request<Body> {
    req.extensions_mut()
        .insert(tower_otel_tracing::ConnectionInfo {
            local_addr: "10.0.0.2:3000".parse().unwrap(),
            peer_addr: peer.parse().unwrap(),
        });
    req
}

#[tokio::test]
async fn a_public_endpoint_starts_new_roots_linked_to_the_caller() {
    let remote_trace = "0af7651916cd43dd8448eb211c80319c";
    let remote_span = "b7ad6b7169203331";
    let incoming = |peer: &str| {
        let mut req = get_req("/info");
        req.headers_mut().insert(
            "traceparent",
            format!("00-{remote_trace}-{remote_span}-01")
                .parse()
                .unwrap(),
        );
        req.headers_mut()
            .insert("baggage", "tenant=mallory".parse().unwrap());
        with_peer(req, peer)
    };
    let public = Harness::with(sample_all(), |b| b.public_endpoint(true));
    let (_, body) = send(service_b(&public.layer), incoming("203.0.113.5:4000")).await;
    let body = String::from_utf8(body.to_vec()).unwrap();
    assert!(!body.starts_with(remote_trace), "{body}");
    assert!(body.ends_with("true "), "baggage dropped: {body}");
    let spans = public.spans();
    let server = one_server_span(&spans);
    assert_ne!(server.span_context.trace_id().to_string(), remote_trace);
    assert_eq!(server.parent_span_id, opentelemetry::trace::SpanId::INVALID);
    assert_eq!(server.links.len(), 1);
    let link = &server.links.links[0].span_context;
    assert_eq!(link.trace_id().to_string(), remote_trace);
    assert_eq!(link.span_id().to_string(), remote_span);

    // A trusted network still parents; others are still new roots.
    let cidr = Harness::with(sample_all(), |b| b.trusted_networks(["10.0.0.0/8"]));
    let (_, body) = send(service_b(&cidr.layer), incoming("10.1.2.3:4000")).await;
    assert!(String::from_utf8_lossy(&body).starts_with(remote_trace));
    assert!(String::from_utf8_lossy(&body).ends_with("mallory"));
    let (_, body) = send(service_b(&cidr.layer), incoming("198.51.100.7:4000")).await;
    let body = String::from_utf8(body.to_vec()).unwrap();
    assert!(!body.starts_with(remote_trace), "{body}");
    assert!(
        body.ends_with("true "),
        "baggage dropped outside the CIDR: {body}"
    );
    let spans = cidr.spans();
    let servers = server_spans(&spans);
    assert_eq!(servers.len(), 2);
    assert_eq!(
        servers
            .iter()
            .filter(|s| s.span_context.trace_id().to_string() == remote_trace)
            .count(),
        1
    );
    let outside = servers
        .iter()
        .find(|s| s.span_context.trace_id().to_string() != remote_trace)
        .unwrap();
    assert_eq!(
        outside.parent_span_id,
        opentelemetry::trace::SpanId::INVALID
    );
    assert_eq!(outside.links.len(), 1, "{outside:#?}");
    let link = &outside.links.links[0].span_context;
    assert_eq!(link.trace_id().to_string(), remote_trace);
    assert_eq!(link.span_id().to_string(), remote_span);
    let err = TracingLayer::builder(TracingConfig::default())
        .trusted_networks(["10.0.0.0/33"])
        .install_global(false)
        .build()
        .unwrap_err();
    assert_eq!(err.path(), "trusted_networks");
}

#[tokio::test]
async fn grpc_client_to_grpc_server() {
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;
    let hb = Harness::new(cfg(1.0, &Propagator::DEFAULT));
    let ha = Harness::new(cfg(1.0, &Propagator::DEFAULT));
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("demo", tonic_health::ServingStatus::Serving)
        .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server_layer = hb.layer.clone();
    let _server = tokio::spawn(async move {
        tonic::transport::Server::builder()
            .layer(server_layer)
            .add_service(health)
            .serve_with_incoming(tokio_stream_listener(listener))
            .await
            .unwrap();
    });
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let traced = tower::ServiceBuilder::new()
        .layer(ha.layer.client())
        .service(channel);
    let mut client = HealthClient::new(traced);
    let ok = client
        .check(HealthCheckRequest {
            service: "demo".into(),
        })
        .await
        .unwrap();
    assert_eq!(ok.into_inner().status, 1);
    let err = client
        .check(HealthCheckRequest {
            service: "unknown".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);

    let a_spans = ha.wait_for_spans(2).await;
    let b_spans = hb.wait_for_server_spans(2).await;
    let mut clients = client_spans(&a_spans);
    clients.sort_by_key(|s| int_attr(s, "rpc.grpc.status_code"));
    assert_eq!(clients.len(), 2, "{a_spans:#?}");
    for c in &clients {
        assert_eq!(str_attr(c, "rpc.system"), Some("grpc"));
        assert_eq!(str_attr(c, "rpc.service"), Some("grpc.health.v1.Health"));
        assert_eq!(str_attr(c, "rpc.method"), Some("Check"));
        let server = b_spans
            .iter()
            .find(|s| s.parent_span_id == c.span_context.span_id())
            .expect("the server span is the CLIENT span's child");
        assert_eq!(server.span_context.trace_id(), c.span_context.trace_id());
    }
    assert_eq!(int_attr(clients[0], "rpc.grpc.status_code"), Some(0));
    assert_eq!(clients[0].status, Status::Unset);
    assert_eq!(int_attr(clients[1], "rpc.grpc.status_code"), Some(5));
    assert!(matches!(clients[1].status, Status::Error { .. }));
}

fn tokio_stream_listener(
    listener: tokio::net::TcpListener,
) -> impl futures_util::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    futures_util::stream::unfold(listener, |l| async move {
        let accepted = l.accept().await.map(|(s, _)| s);
        Some((accepted, l))
    })
}

#[tokio::test]
async fn current_context_outside_any_request_is_used() {
    // A span the user made is the parent of the call's span.
    use opentelemetry::trace::{Tracer, TracerProvider as _};
    let ha = Harness::sampled();
    let (b, _tb) = serve_loopback(Router::new().route("/", get(|| async { "ok" }))).await;
    let tracer = ha.layer.pipeline().tracer_provider().tracer("job");
    let span = tracer.start("batch-job");
    let cx = opentelemetry::Context::current_with_span(span);
    let job_span_id = cx.span().span_context().span_id();
    {
        // The client reads the context current when the call is made (its
        // first poll); this test's runtime is single-threaded.
        let _attached = cx.clone().attach();
        let req = http::Request::get(format!("http://{b}/"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let resp = http_client(&ha.layer.client()).oneshot(req).await.unwrap();
        let _ = resp.into_body().collect().await;
    }
    cx.span().end();
    let spans = ha.spans();
    let client = client_spans(&spans)[0];
    assert_eq!(client.parent_span_id, job_span_id);
}

/// Serves `app` on loopback with axum's plain `ConnectInfo<SocketAddr>` (the peer
/// only), as most axum services do, rather than the crate's `ConnectionInfo`.
async fn serve_with_axum_connect_info(app: Router) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    (addr, task)
}

#[tokio::test]
async fn trusted_networks_judge_the_real_peer_from_axum_connect_info() {
    let remote_trace = "0af7651916cd43dd8448eb211c80319c";
    let remote_span = "b7ad6b7169203331";
    let traceparent = format!("00-{remote_trace}-{remote_span}-01");
    let headers = [
        ("traceparent", traceparent.as_str()),
        ("baggage", "tenant=mallory"),
    ];

    // The real peer is 127.0.0.1, outside 10.0.0.0/8: a new root, linked to the
    // caller, without its baggage.
    let outside = Harness::with(sample_all(), |b| b.trusted_networks(["10.0.0.0/8"]));
    let (addr, _t) = serve_with_axum_connect_info(service_b(&outside.layer)).await;
    let (status, body) = call_a(addr, "/info", &headers).await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.starts_with(remote_trace), "{body}");
    assert!(body.ends_with(" true "), "baggage dropped: {body}");
    let spans = outside.wait_for_server_spans(1).await;
    let server = one_server_span(&spans);
    assert_eq!(str_attr(server, "net.peer.ip"), Some("127.0.0.1"));
    assert_ne!(server.span_context.trace_id().to_string(), remote_trace);
    assert_eq!(server.parent_span_id, opentelemetry::trace::SpanId::INVALID);
    assert_eq!(server.links.len(), 1, "{server:#?}");
    let link = &server.links.links[0].span_context;
    assert_eq!(link.trace_id().to_string(), remote_trace);
    assert_eq!(link.span_id().to_string(), remote_span);

    // Loopback trusted: the caller parents and its baggage stays.
    let inside = Harness::with(sample_all(), |b| b.trusted_networks(["127.0.0.0/8"]));
    let (addr, _t) = serve_with_axum_connect_info(service_b(&inside.layer)).await;
    let (status, body) = call_a(addr, "/info", &headers).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, format!("{remote_trace} true mallory"));
    let spans = inside.wait_for_server_spans(1).await;
    let server = one_server_span(&spans);
    assert_eq!(server.span_context.trace_id().to_string(), remote_trace);
    assert_eq!(server.parent_span_id.to_string(), remote_span);
    assert!(server.parent_span_is_remote);
    assert_eq!(server.links.len(), 0);
}

#[tokio::test]
async fn a_service_builder_stack_with_tower_http_layers() {
    use tower_http::map_request_body::MapRequestBodyLayer;
    use tower_http::set_header::SetRequestHeaderLayer;
    let hb = Harness::sampled();
    let ha = Harness::sampled();
    let (b, _tb) = serve_loopback(service_b(&hb.layer)).await;
    // Our layer between two tower-http layers: the outer one adds a header after
    // the caller, the inner one turns the caller's `Bytes` body into the `Full`
    // body the hyper client takes.
    let client = tower::ServiceBuilder::new()
        .layer(SetRequestHeaderLayer::if_not_present(
            http::HeaderName::from_static("x-via"),
            http::HeaderValue::from_static("gateway"),
        ))
        .layer(ha.layer.client())
        .layer(MapRequestBodyLayer::new(Full::<Bytes>::new))
        .service(Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
    let app = Router::new()
        .route(
            "/via-stack",
            get(move || {
                let client = client.clone();
                async move {
                    let req = http::Request::get(format!("http://{b}/headers"))
                        .body(Bytes::new())
                        .unwrap();
                    let resp = client.oneshot(req).await.unwrap();
                    let body = resp.into_body().collect().await.unwrap().to_bytes();
                    String::from_utf8(body.to_vec()).unwrap()
                }
            }),
        )
        .layer(ha.layer.clone());
    let (a, _ta) = serve_loopback(app).await;
    let (status, body) = call_a(a, "/via-stack", &[]).await;
    assert_eq!(status, 200, "{body}");

    let a_spans = ha.wait_for_server_spans(1).await;
    let b_spans = hb.wait_for_server_spans(1).await;
    let a_server = one_server_span(&a_spans);
    let clients = client_spans(&a_spans);
    assert_eq!(clients.len(), 1, "{a_spans:#?}");
    let client = clients[0];
    let b_server = one_server_span(&b_spans);
    let trace = a_server.span_context.trace_id();
    // B received the CLIENT span as its parent, and the outer layer's header.
    assert_eq!(
        body,
        // Sampled (01) and a trace id made here, so random (02).
        format!("00-{trace}-{}-03 gateway", client.span_context.span_id())
    );
    assert_eq!(client.span_context.trace_id(), trace);
    assert_eq!(client.parent_span_id, a_server.span_context.span_id());
    assert_eq!(b_server.span_context.trace_id(), trace);
    assert_eq!(b_server.parent_span_id, client.span_context.span_id());
    assert_eq!(client.name, "GET");
    assert_eq!(
        str_attr(client, "http.url"),
        Some(format!("http://{b}/headers").as_str())
    );
    assert_eq!(int_attr(client, "http.status_code"), Some(200));
    assert_eq!(client.status, Status::Unset);
    assert_eq!(attr(client, "http.cancelled"), None);
}

#[tokio::test]
async fn a_call_timed_out_before_the_response_head_ends_cancelled() {
    let ha = Harness::sampled();
    // B reads the request and never answers.
    let (b, _tb) =
        serve_loopback(Router::new().route("/stall", get(std::future::pending::<&'static str>)))
            .await;
    let client = http_client(&ha.layer.client());
    let app = Router::new()
        .route(
            "/call",
            get(move || {
                let client = client.clone();
                async move {
                    let req = http::Request::get(format!("http://{b}/stall"))
                        .body(Full::new(Bytes::new()))
                        .unwrap();
                    let call = client.oneshot(req);
                    match tokio::time::timeout(Duration::from_millis(200), call).await {
                        Err(_) => (http::StatusCode::GATEWAY_TIMEOUT, "timed out".to_owned()),
                        Ok(answer) => (
                            http::StatusCode::OK,
                            format!("{:?}", answer.map(|r| r.status())),
                        ),
                    }
                }
            }),
        )
        .layer(ha.layer.clone());
    let (a, _ta) = serve_loopback(app).await;
    let (status, body) = call_a(a, "/call", &[]).await;
    assert_eq!(status, 504, "{body}");

    let spans = ha.wait_for_server_spans(1).await;
    let server = one_server_span(&spans);
    let clients = client_spans(&spans);
    assert_eq!(
        clients.len(),
        1,
        "the dropped call's span was exported: {spans:#?}"
    );
    let client = clients[0];
    assert_eq!(client.parent_span_id, server.span_context.span_id());
    assert_eq!(
        attr(client, "http.cancelled"),
        Some(&opentelemetry::Value::Bool(true))
    );
    assert_eq!(attr(client, "http.status_code"), None, "no head arrived");
    // As on the server side, cancelling is not a failure of the call itself: no
    // exception, no ERROR; the caller's own answer (a 504 here) carries that.
    assert!(client.events.is_empty(), "{client:#?}");
    assert_eq!(client.status, Status::Unset);
    assert!(matches!(server.status, Status::Error { .. }));
    // It ended when the call was given up, not when A's request ended.
    let lasted = client.end_time.duration_since(client.start_time).unwrap();
    assert!(lasted >= Duration::from_millis(150), "{lasted:?}");
    assert!(client.end_time <= server.end_time);
}

#[tokio::test]
async fn baggage_a_receives_goes_on_to_b_with_the_default_propagators() {
    let hb = Harness::sampled();
    let ha = Harness::sampled();
    let (b, _tb) = serve_loopback(service_b(&hb.layer)).await;
    let (a, _ta) = serve_loopback(service_a(&ha.layer, b)).await;
    // `/forward` sets no baggage header: only the context A extracted can carry it.
    let (status, body) = call_a(
        a,
        "/forward?to=/info",
        &[("baggage", "tenant=globex,region=eu")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let a_spans = ha.wait_for_server_spans(1).await;
    let b_spans = hb.wait_for_server_spans(1).await;
    let trace = one_server_span(&a_spans).span_context.trace_id();
    assert_eq!(body, format!("{trace} 200 {trace} true globex"));
    let client = client_spans(&a_spans)[0];
    assert_eq!(
        one_server_span(&b_spans).parent_span_id,
        client.span_context.span_id()
    );

    // With no baggage coming in, none goes out.
    let (_, body) = call_a(a, "/forward?to=/info", &[]).await;
    assert!(body.ends_with(" true "), "{body}");
}
