//! The conventions switch: every key of the server, child and client spans, with
//! its type and value, in legacy, stable and dup mode; names with and without a
//! route; unknown methods; redacted queries; the variable beating the config.

use std::collections::BTreeMap;

use crate::common::*;
use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::Version;
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;
use tower_otel_tracing::config::Semconv;
use tower_otel_tracing::settings::Settings;
use tower_otel_tracing::{ConnectionInfo, TracingConfig};

fn harness(mode: Semconv) -> Harness {
    Harness::new(TracingConfig {
        sample_rate: Some(1.0),
        semconv: Some(mode),
        ..Default::default()
    })
}

fn app(h: &Harness) -> Router {
    Router::new()
        .route("/users/{id}", get(|| async { "user" }))
        .route(
            "/boom",
            get(|| async { (http::StatusCode::BAD_GATEWAY, "down") }),
        )
        .fallback(|| async { "fallback" })
        .layer(h.layer.clone())
}

fn request(method: &str, uri: &str, version: Version) -> http::Request<Body> {
    let mut req = http::Request::builder()
        .method(method)
        .uri(uri)
        .version(version)
        .header("host", "svc.local:3000")
        .header("user-agent", "curl/8.5")
        .body(Body::empty())
        .unwrap();
    req.extensions_mut().insert(ConnectionInfo {
        local_addr: "10.0.0.2:3000".parse().unwrap(),
        peer_addr: "10.0.0.9:59482".parse().unwrap(),
    });
    req
}

/// Every attribute of a span as `key -> value`, to compare whole sets.
fn attrs(span: &SpanData) -> BTreeMap<String, Value> {
    span.attributes
        .iter()
        .map(|kv| (kv.key.to_string(), kv.value.clone()))
        .collect()
}

fn s(v: &str) -> Value {
    Value::from(v.to_owned())
}

fn i(v: i64) -> Value {
    Value::I64(v)
}

/// The totals of ours every recorded server span carries, in every mode:
/// request body frames and bytes, response body frames and bytes.
fn totals(request: (i64, i64), response: (i64, i64)) -> BTreeMap<String, Value> {
    BTreeMap::from([
        ("tower_otel_tracing.request.frames".into(), i(request.0)),
        ("tower_otel_tracing.request.bytes".into(), i(request.1)),
        ("tower_otel_tracing.response.frames".into(), i(response.0)),
        ("tower_otel_tracing.response.bytes".into(), i(response.1)),
    ])
}

fn legacy_server(flavor: &str, target: &str, url: &str) -> BTreeMap<String, Value> {
    BTreeMap::from([
        ("http.scheme".into(), s("http")),
        ("http.host".into(), s("10.0.0.2:3000")),
        ("net.host.port".into(), i(3000)),
        ("http.flavor".into(), s(flavor)),
        ("http.target".into(), s(target)),
        ("http.url".into(), s(url)),
        ("http.method".into(), s("GET")),
        ("http.server_name".into(), s("svc.local:3000")),
        ("http.user_agent".into(), s("curl/8.5")),
        ("net.peer.ip".into(), s("10.0.0.9")),
        ("net.peer.port".into(), i(59482)),
        ("http.status_code".into(), i(200)),
    ])
}

fn stable_server(
    version: &str,
    path: &str,
    query: Option<&str>,
    route: Option<&str>,
) -> BTreeMap<String, Value> {
    let mut m = BTreeMap::from([
        ("http.request.method".into(), s("GET")),
        ("url.scheme".into(), s("http")),
        ("url.path".into(), s(path)),
        ("server.address".into(), s("svc.local")),
        ("server.port".into(), i(3000)),
        ("client.address".into(), s("10.0.0.9")),
        ("network.peer.address".into(), s("10.0.0.9")),
        ("network.peer.port".into(), i(59482)),
        ("network.protocol.version".into(), s(version)),
        ("user_agent.original".into(), s("curl/8.5")),
        ("http.response.status_code".into(), i(200)),
    ]);
    if let Some(q) = query {
        m.insert("url.query".into(), s(q));
    }
    if let Some(r) = route {
        m.insert("http.route".into(), s(r));
    }
    m
}

async fn server_span(mode: Semconv, method: &str, uri: &str, version: Version) -> Vec<SpanData> {
    let h = harness(mode);
    let (status, _) = send(app(&h), request(method, uri, version)).await;
    assert!(status.is_success() || status.is_server_error(), "{status}");
    h.spans()
}

#[tokio::test]
async fn every_key_of_a_server_span_in_each_mode() {
    let q = "/users/7?sig=SECRET&page=2";
    let redacted = "/users/7?sig=REDACTED&page=2";
    for (version, text) in [(Version::HTTP_11, "1.1"), (Version::HTTP_2, "2")] {
        let url = format!("http://svc.local:3000{redacted}");
        // The body is `user`: one frame of 4 bytes.
        let mut legacy = legacy_server(text, redacted, &url);
        legacy.extend(totals((0, 0), (1, 4)));
        let mut stable = stable_server(
            text,
            "/users/7",
            Some("sig=REDACTED&page=2"),
            Some("/users/{id}"),
        );
        stable.extend(totals((0, 0), (1, 4)));
        for (mode, name, expected) in [
            (Semconv::Legacy, "GET /users/7", legacy.clone()),
            (Semconv::Stable, "GET /users/{id}", stable.clone()),
            (Semconv::Dup, "GET /users/7", {
                let mut both = legacy.clone();
                both.extend(stable.clone());
                both
            }),
        ] {
            let spans = server_span(mode, "GET", q, version).await;
            let server = one_server_span(&spans);
            assert_eq!(server.name, name, "{mode} {text}");
            assert_eq!(attrs(server), expected, "{mode} HTTP/{text}");
            for child in children_of(&spans, server) {
                let a = attrs(child);
                let ty = a.get("type").or(a.get("asgi.event.type")).unwrap().clone();
                let mut want = BTreeMap::new();
                if mode.legacy() {
                    want.insert("type".to_owned(), ty.clone());
                }
                if mode.stable() {
                    want.insert("asgi.event.type".to_owned(), ty.clone());
                }
                if ty == s("http.response.start") {
                    if mode.legacy() {
                        want.insert("http.status_code".into(), i(200));
                    }
                    if mode.stable() {
                        want.insert("http.response.status_code".into(), i(200));
                    }
                }
                assert_eq!(a, want, "{mode}: child {}", child.name);
                assert_eq!(child.name, format!("{name} http send"));
            }
        }
    }
}

#[tokio::test]
async fn names_without_a_route_unknown_methods_and_errors() {
    let spans = server_span(Semconv::Stable, "GET", "/no/route/here", Version::HTTP_11).await;
    let server = one_server_span(&spans);
    assert_eq!(server.name, "GET", "no route template: just the method");
    assert!(!attrs(server).contains_key("http.route"));

    let spans = server_span(Semconv::Stable, "BREW", "/pot", Version::HTTP_11).await;
    let server = one_server_span(&spans);
    assert_eq!(server.name, "HTTP");
    assert_eq!(attrs(server)["http.request.method"], s("_OTHER"));
    assert_eq!(attrs(server)["http.request.method_original"], s("BREW"));
    let spans = server_span(Semconv::Legacy, "BREW", "/pot", Version::HTTP_11).await;
    assert_eq!(one_server_span(&spans).name, "HTTP /pot");

    let spans = server_span(Semconv::Dup, "GET", "/boom", Version::HTTP_11).await;
    let server = one_server_span(&spans);
    assert!(matches!(server.status, Status::Error { .. }));
    assert_eq!(attrs(server)["error.type"], s("502"));
    assert_eq!(attrs(server)["http.status_code"], i(502));
    assert_eq!(attrs(server)["http.response.status_code"], i(502));
}

#[tokio::test]
async fn inner_errors_and_grpc_calls() {
    let h = harness(Semconv::Stable);
    let svc = tower::ServiceBuilder::new()
        .layer(h.layer.clone())
        .service_fn(|_req: http::Request<_>| async {
            Err::<http::Response<String>, _>(std::io::Error::other("backend down"))
        });
    let _ = tower::ServiceExt::oneshot(svc, request("GET", "/x", Version::HTTP_11)).await;
    let spans = h.spans();
    let server = one_server_span(&spans);
    assert_eq!(attrs(server)["error.type"], s("std::io::error::Error"));

    let h = harness(Semconv::Stable);
    let svc = tower::ServiceBuilder::new()
        .layer(h.layer.clone())
        .service_fn(|_req: http::Request<_>| async {
            Ok::<_, std::convert::Infallible>(
                http::Response::builder()
                    .header("content-type", "application/grpc")
                    .header("grpc-status", "0")
                    .body(String::new())
                    .unwrap(),
            )
        });
    let mut req = request("POST", "/grpc.health.v1.Health/Check", Version::HTTP_2);
    req.headers_mut()
        .insert("content-type", "application/grpc".parse().unwrap());
    let resp = tower::ServiceExt::oneshot(svc, req).await.unwrap();
    let _ = http_body_util::BodyExt::collect(resp.into_body()).await;
    let spans = h.spans();
    let server = one_server_span(&spans);
    let a = attrs(server);
    assert_eq!(
        server.name, "grpc.health.v1.Health/Check",
        "the RPC conventions' name"
    );
    for (k, v) in [
        ("rpc.system.name", s("grpc")),
        ("rpc.method", s("grpc.health.v1.Health/Check")),
        ("rpc.status_code", s("OK")),
        ("http.request.method", s("POST")),
        ("network.protocol.version", s("2")),
        ("url.path", s("/grpc.health.v1.Health/Check")),
    ] {
        assert_eq!(a.get(k), Some(&v), "{k}: {a:#?}");
    }
    for deprecated in [
        "http.method",
        "rpc.system",
        "rpc.service",
        "rpc.grpc.status_code",
        "error.type",
    ] {
        assert!(!a.contains_key(deprecated), "{deprecated}: {a:#?}");
    }
}

/// A gRPC service behind `h`'s layer: `Check` answers OK after a message (the
/// status in the trailers, as tonic sends it), `Run` fails with INTERNAL
/// (trailers-only).
async fn grpc_call(h: &Harness, path: &str) -> Vec<SpanData> {
    use http_body::Frame;
    type Frames = Vec<Result<Frame<bytes::Bytes>, std::convert::Infallible>>;
    let svc = tower::ServiceBuilder::new()
        .layer(h.layer.clone())
        .service_fn(|req: http::Request<_>| async move {
            let resp = http::Response::builder().header("content-type", "application/grpc");
            let (resp, frames): (_, Frames) = if req.uri().path().ends_with("/Run") {
                (
                    resp.header("grpc-status", "13")
                        .header("grpc-message", "model%20crashed"),
                    Vec::new(),
                )
            } else {
                let mut trailers = http::HeaderMap::new();
                trailers.insert("grpc-status", "0".parse().unwrap());
                (
                    resp,
                    vec![
                        Ok(Frame::data(bytes::Bytes::from_static(
                            b"\0\0\0\0\x02\x08\x01",
                        ))),
                        Ok(Frame::trailers(trailers)),
                    ],
                )
            };
            let body = http_body_util::StreamBody::new(futures_util::stream::iter(frames));
            Ok::<_, std::convert::Infallible>(resp.body(body).unwrap())
        });
    let mut req = request("POST", path, Version::HTTP_2);
    req.headers_mut()
        .insert("content-type", "application/grpc".parse().unwrap());
    let resp = tower::ServiceExt::oneshot(svc, req).await.unwrap();
    let _ = http_body_util::BodyExt::collect(resp.into_body()).await;
    h.spans()
}

#[tokio::test]
async fn grpc_calls_in_every_mode_with_every_key() {
    for (path, code) in [("/grpc.health.v1.Health/Check", 0), ("/demo.Model/Run", 13)] {
        let (service, method) = path[1..].split_once('/').unwrap();
        let rpc = BTreeMap::from([
            ("rpc.system".to_owned(), s("grpc")),
            ("rpc.service".to_owned(), s(service)),
            ("rpc.method".to_owned(), s(method)),
            ("rpc.grpc.status_code".to_owned(), i(code)),
        ]);
        // Today's RPC conventions: the method fully qualified, the status by
        // name, and INTERNAL (a server fault) as the error's type too.
        let name = if code == 0 { "OK" } else { "INTERNAL" };
        let mut rpc_stable = BTreeMap::from([
            ("rpc.system.name".to_owned(), s("grpc")),
            ("rpc.method".to_owned(), s(&path[1..])),
            ("rpc.status_code".to_owned(), s(name)),
        ]);
        if code != 0 {
            rpc_stable.insert("error.type".into(), s(name));
        }
        // Check answers one 7-byte message; Run fails trailers-only, with no body.
        let sent = totals((0, 0), if code == 0 { (1, 7) } else { (0, 0) });
        let mut legacy = legacy_server("2", path, &format!("http://svc.local:3000{path}"));
        legacy.insert("http.method".into(), s("POST"));
        legacy.extend(rpc.clone());
        legacy.extend(sent.clone());
        let mut stable = stable_server("2", path, None, None);
        stable.insert("http.request.method".into(), s("POST"));
        stable.extend(rpc_stable.clone());
        stable.extend(sent);
        let legacy_name = format!("POST {path}");
        for (mode, name, expected) in [
            (Semconv::Legacy, legacy_name.as_str(), legacy.clone()),
            (Semconv::Stable, &path[1..], stable.clone()),
            (Semconv::Dup, legacy_name.as_str(), {
                let mut both = legacy.clone();
                both.extend(stable.clone());
                both
            }),
        ] {
            let spans = grpc_call(&harness(mode), path).await;
            let server = one_server_span(&spans);
            assert_eq!(server.name, name, "{mode} {path}");
            assert_eq!(attrs(server), expected, "{mode} {path}");
            if code == 0 {
                assert_eq!(server.status, Status::Unset, "{mode}");
            } else {
                assert!(
                    matches!(&server.status, Status::Error { description } if description.contains("model crashed")),
                    "{mode}: {:?}",
                    server.status
                );
            }
            let children = children_of(&spans, server);
            let mut types = Vec::new();
            for child in &children {
                let a = attrs(child);
                let ty = a.get("type").or(a.get("asgi.event.type")).unwrap().clone();
                let mut want = BTreeMap::new();
                if mode.legacy() {
                    want.insert("type".to_owned(), ty.clone());
                }
                if mode.stable() {
                    want.insert("asgi.event.type".to_owned(), ty.clone());
                }
                if ty == s("http.response.start") {
                    if mode.legacy() {
                        want.insert("http.status_code".into(), i(200));
                    }
                    if mode.stable() {
                        want.insert("http.response.status_code".into(), i(200));
                    }
                }
                assert_eq!(a, want, "{mode}: child {}", child.name);
                assert_eq!(child.name, format!("{name} http send"), "{mode}");
                assert_eq!(child.status, Status::Unset, "{mode}: {}", child.name);
                types.push(ty.as_str().into_owned());
            }
            types.sort();
            let want: &[&str] = if code == 0 {
                &[
                    "http.response.body",
                    "http.response.start",
                    "http.response.trailers",
                ]
            } else {
                // Trailers-only: the head, then the empty end of the body.
                &["http.response.body", "http.response.start"]
            };
            assert_eq!(types, want, "{mode} {path}");
        }
    }
}

#[tokio::test]
async fn a_panicking_handler_has_its_error_type_in_stable_mode() {
    for mode in [Semconv::Legacy, Semconv::Stable, Semconv::Dup] {
        let h = harness(mode);
        let svc = tower::ServiceBuilder::new()
            .layer(h.layer.clone())
            .service_fn(|req: http::Request<_>| async move {
                if req.uri().path() == "/x" {
                    panic!("handler blew up");
                }
                Ok::<http::Response<String>, std::convert::Infallible>(http::Response::default())
            });
        let joined = tokio::spawn(tower::ServiceExt::oneshot(
            svc,
            request("GET", "/x", Version::HTTP_11),
        ))
        .await;
        assert!(joined.unwrap_err().is_panic());
        let spans = h.spans();
        let server = one_server_span(&spans);
        let a = attrs(server);
        assert_eq!(
            a.get("error.type"),
            mode.stable().then(|| s("panic")).as_ref(),
            "{mode}"
        );
        assert!(
            matches!(&server.status, Status::Error { description } if description == "handler blew up"),
            "{mode}"
        );
        let event = &server.events.events[0];
        assert_eq!(event.name, "exception");
        let ev: BTreeMap<String, Value> = event
            .attributes
            .iter()
            .map(|kv| (kv.key.to_string(), kv.value.clone()))
            .collect();
        assert_eq!(ev["exception.type"], s("panic"), "{mode}");
        assert_eq!(ev["exception.message"], s("handler blew up"), "{mode}");
    }
}

#[tokio::test]
async fn server_address_and_port_from_an_http2_authority_without_host() {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let h = harness(Semconv::Stable);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let layer = h.layer.clone();
    let server = tokio::spawn(async move {
        loop {
            let (stream, peer_addr) = listener.accept().await.unwrap();
            let local_addr = stream.local_addr().unwrap();
            let svc = tower::ServiceBuilder::new()
                .map_request(move |mut req: http::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(ConnectionInfo {
                        local_addr,
                        peer_addr,
                    });
                    req
                })
                .layer(layer.clone())
                .service_fn(|req: http::Request<_>| async move {
                    let host = req.headers().contains_key(http::header::HOST);
                    Ok::<_, std::convert::Infallible>(http::Response::new(
                        http_body_util::Full::new(bytes::Bytes::from(format!(
                            "{:?} host={host}",
                            req.version()
                        ))),
                    ))
                });
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(
                        TokioIo::new(stream),
                        hyper_util::service::TowerToHyperService::new(svc),
                    )
                    .await;
            });
        }
    });
    // HTTP/2 with prior knowledge: the authority travels as `:authority`, and
    // hyper's client sends no Host header.
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let client_port = i64::from(stream.local_addr().unwrap().port());
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    let conn = tokio::spawn(conn);
    for uri in [
        "http://api.svc.example:8443/users/7?page=2",
        "http://api.svc.example/users/8",
    ] {
        let req = http::Request::get(uri)
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .unwrap();
        let resp =
            tokio::time::timeout(std::time::Duration::from_secs(10), sender.send_request(req))
                .await
                .unwrap()
                .unwrap();
        let body = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes();
        assert_eq!(&body[..], b"HTTP/2.0 host=false", "{uri}");
    }
    let spans = h.wait_for_server_spans(2).await;
    server.abort();
    conn.abort();
    for (path, query, port) in [("/users/7", Some("page=2"), 8443), ("/users/8", None, 80)] {
        let server = server_spans(&spans)
            .into_iter()
            .find(|sp| attrs(sp)["url.path"] == s(path))
            .unwrap_or_else(|| panic!("{path}: {spans:#?}"));
        let mut want = BTreeMap::from([
            ("http.request.method".to_owned(), s("GET")),
            ("url.scheme".into(), s("http")),
            ("url.path".into(), s(path)),
            ("server.address".into(), s("api.svc.example")),
            ("server.port".into(), i(port)),
            ("client.address".into(), s("127.0.0.1")),
            ("network.peer.address".into(), s("127.0.0.1")),
            ("network.peer.port".into(), i(client_port)),
            ("network.protocol.version".into(), s("2")),
            ("http.response.status_code".into(), i(200)),
        ]);
        if let Some(q) = query {
            want.insert("url.query".into(), s(q));
        }
        want.extend(totals((0, 0), (1, b"HTTP/2.0 host=false".len() as i64)));
        assert_eq!(attrs(server), want, "{path}");
        assert_eq!(server.name, "GET");
    }
}

#[tokio::test]
async fn truncation_and_recorded_headers_apply_in_stable_mode() {
    let h = Harness::with(
        TracingConfig {
            sample_rate: Some(1.0),
            semconv: Some(Semconv::Stable),
            max_tag_value_length: Some(10),
            ..Default::default()
        },
        |b| {
            b.request_headers(["x-request-id", "authorization"])
                .response_headers(["content-type"])
        },
    );
    let mut req = request("GET", "/users/12345678?sig=SECRET&page=2", Version::HTTP_11);
    let headers = req.headers_mut();
    headers.insert("user-agent", "curl/8.5.0-long-agent".parse().unwrap());
    headers.insert("x-request-id", "req-1234567890".parse().unwrap());
    headers.insert("authorization", "Bearer s3cret".parse().unwrap());
    send(app(&h), req).await;
    let spans = h.spans();
    let server = one_server_span(&spans);
    assert_eq!(server.name, "GET /users/{id}", "names are not cut");
    let strings = |v: &str| {
        Value::Array(opentelemetry::Array::String(vec![
            opentelemetry::StringValue::from(v.to_owned()),
        ]))
    };
    let mut want = stable_server("1.1", "/users/123", Some("sig=REDACT"), Some("/users/{id"));
    want.insert("user_agent.original".into(), s("curl/8.5.0"));
    want.insert(
        "http.request.header.x-request-id".into(),
        strings("req-123456"),
    );
    want.insert(
        "http.request.header.authorization".into(),
        strings("[REDACTED]"),
    );
    want.insert(
        "http.response.header.content-type".into(),
        strings("text/plain"),
    );
    want.extend(totals((0, 0), (1, 4)));
    assert_eq!(attrs(server), want);
    for child in children_of(&spans, server) {
        assert_eq!(attrs(child)["asgi.event.type"], s("http.respo"));
    }
    // Redaction comes first: `sig=SECRET` fits the limit but never shows.
    let all = format!("{spans:?}");
    assert!(!all.contains("SECRET") && !all.contains("s3cret"), "{all}");
}

const LEGACY_CLIENT: [&str; 5] = [
    "http.method",
    "http.url",
    "net.peer.name",
    "net.peer.port",
    "http.status_code",
];
const STABLE_CLIENT: [&str; 6] = [
    "http.request.method",
    "server.address",
    "server.port",
    "url.full",
    "http.response.status_code",
    "error.type",
];

#[tokio::test]
async fn client_spans_follow_the_switch() {
    use tower::ServiceExt;
    for (mode, keys) in [
        (Semconv::Legacy, LEGACY_CLIENT.to_vec()),
        (Semconv::Stable, STABLE_CLIENT.to_vec()),
        (
            Semconv::Dup,
            [&LEGACY_CLIENT[..], &STABLE_CLIENT[..]].concat(),
        ),
    ] {
        let h = harness(mode);
        let client = tower::ServiceBuilder::new()
            .layer(h.layer.client())
            .service_fn(|_req: http::Request<String>| async {
                Ok::<_, std::convert::Infallible>(
                    http::Response::builder()
                        .status(404)
                        .body(String::new())
                        .unwrap(),
                )
            });
        let req = http::Request::get("http://api.example:8080/v1?sig=abc")
            .body(String::new())
            .unwrap();
        let resp = client.oneshot(req).await.unwrap();
        let _ = http_body_util::BodyExt::collect(resp.into_body()).await;
        let spans = h.spans();
        let span = spans
            .iter()
            .find(|s| s.span_kind == SpanKind::Client)
            .unwrap();
        assert_eq!(span.name, "GET");
        let a = attrs(span);
        let got: Vec<&str> = a.keys().map(String::as_str).collect();
        let mut want = keys.clone();
        want.sort();
        assert_eq!(got, want, "{mode}");
        if mode.stable() {
            assert_eq!(a["http.request.method"], s("GET"));
            assert_eq!(a["server.address"], s("api.example"));
            assert_eq!(a["url.full"], s("http://api.example:8080/v1?sig=REDACTED"));
            assert_eq!(a["server.port"], i(8080));
            assert_eq!(a["http.response.status_code"], i(404));
            assert_eq!(a["error.type"], s("404"));
        }
        if mode.legacy() {
            assert_eq!(a["http.method"], s("GET"));
            assert_eq!(a["http.url"], s("http://api.example:8080/v1?sig=REDACTED"));
            assert_eq!(a["net.peer.name"], s("api.example"));
            assert_eq!(a["net.peer.port"], i(8080));
            assert_eq!(a["http.status_code"], i(404));
        }
    }
}

fn resolve(cfg_mode: Option<Semconv>, var: Option<&str>) -> Settings {
    let cfg = TracingConfig {
        semconv: cfg_mode,
        ..Default::default()
    };
    let env = var
        .map(|v| [("OTEL_SEMCONV_STABILITY_OPT_IN".to_owned(), v.to_owned())].into())
        .unwrap_or_default();
    Settings::resolve_with(&cfg, env).unwrap()
}

#[test]
fn the_variable_beats_the_config_and_bad_values_are_warned_about() {
    assert_eq!(resolve(None, None).semconv, Semconv::Legacy);
    assert_eq!(
        resolve(Some(Semconv::Stable), None).semconv,
        Semconv::Stable
    );
    assert_eq!(
        resolve(Some(Semconv::Legacy), Some("http")).semconv,
        Semconv::Stable
    );
    assert_eq!(
        resolve(Some(Semconv::Stable), Some("http/dup")).semconv,
        Semconv::Dup
    );
    assert_eq!(resolve(None, Some("http, http/dup")).semconv, Semconv::Dup);
    assert_eq!(resolve(None, Some("http/dup,http")).semconv, Semconv::Dup);
    // The RPC conventions have their own entries; the config's mode is both's.
    let modes = |s: Settings| (s.semconv, s.rpc_semconv);
    assert_eq!(
        modes(resolve(Some(Semconv::Stable), None)),
        (Semconv::Stable, Semconv::Stable)
    );
    assert_eq!(
        modes(resolve(None, Some("http"))),
        (Semconv::Stable, Semconv::Legacy)
    );
    assert_eq!(
        modes(resolve(None, Some("http,rpc"))),
        (Semconv::Stable, Semconv::Stable)
    );
    assert_eq!(
        modes(resolve(Some(Semconv::Stable), Some("rpc/dup,rpc"))),
        (Semconv::Stable, Semconv::Dup)
    );
    assert!(resolve(None, Some("rpc")).warnings.is_empty());
    // Other domains are not ours: left alone, no warning.
    let other = resolve(Some(Semconv::Stable), Some("database/dup"));
    assert_eq!(other.semconv, Semconv::Stable);
    assert!(other.warnings.is_empty());
    // A mistake: warned, naming the variable and value, and ignored.
    let bad = resolve(Some(Semconv::Dup), Some("htp"));
    assert_eq!(bad.semconv, Semconv::Dup);
    assert_eq!(bad.warnings.len(), 1);
    assert!(
        bad.warnings[0].contains("OTEL_SEMCONV_STABILITY_OPT_IN")
            && bad.warnings[0].contains("htp")
    );
    let cfg: TracingConfig = TracingConfig::parse(
        "semconv: dup",
        tower_otel_tracing::config::ConfigFormat::Yaml,
    )
    .unwrap();
    assert_eq!(cfg.semconv, Some(Semconv::Dup));
    let err = TracingConfig::parse(
        "semconv: modern",
        tower_otel_tracing::config::ConfigFormat::Yaml,
    )
    .unwrap_err();
    assert_eq!(err.path(), "tracing.semconv");
}

#[tokio::test]
async fn a_user_route_layer_outside_routing_names_by_method() {
    // Around the router the route is not known yet: stable names fall back to the method.
    let h = harness(Semconv::Stable);
    let app = tower::Layer::layer(
        &h.layer,
        Router::new().route("/users/{id}", get(|| async { "user" })),
    );
    let resp = tower::ServiceExt::oneshot(app, request("GET", "/users/1", Version::HTTP_11))
        .await
        .unwrap();
    let _ = http_body_util::BodyExt::collect(resp.into_body()).await;
    assert_eq!(one_server_span(&h.spans()).name, "GET");
}

/// A layer of `mode` whose variable is `var`, not the config.
fn harness_with_variable(var: &str) -> Harness {
    Harness::with(
        TracingConfig {
            sample_rate: Some(1.0),
            ..Default::default()
        },
        |b| b.env_vars([("OTEL_SEMCONV_STABILITY_OPT_IN", var)]),
    )
}

/// `http` alone switches the HTTP conventions, not the RPC ones (as the
/// migration plans of both say); `http,rpc` switches both.
#[tokio::test]
async fn the_rpc_conventions_follow_their_own_entry() {
    let path = "/demo.Model/Run";
    let spans = grpc_call(&harness_with_variable("http"), path).await;
    let a = attrs(one_server_span(&spans));
    assert_eq!(a.get("http.request.method"), Some(&s("POST")));
    assert_eq!(a.get("rpc.grpc.status_code"), Some(&i(13)));
    assert_eq!(a.get("rpc.method"), Some(&s("Run")));
    assert!(!a.contains_key("rpc.status_code") && !a.contains_key("http.method"));

    let spans = grpc_call(&harness_with_variable("http,rpc"), path).await;
    let server = one_server_span(&spans);
    assert_eq!(server.name, "demo.Model/Run");
    let a = attrs(server);
    assert_eq!(a.get("rpc.status_code"), Some(&s("INTERNAL")));
    assert_eq!(a.get("error.type"), Some(&s("INTERNAL")));
    assert_eq!(a.get("rpc.method"), Some(&s("demo.Model/Run")));
    assert!(!a.contains_key("rpc.grpc.status_code") && !a.contains_key("rpc.system"));

    let spans = grpc_call(&harness_with_variable("rpc/dup"), path).await;
    let server = one_server_span(&spans);
    assert_eq!(
        server.name, "POST /demo.Model/Run",
        "BentoML's name in dup mode"
    );
    let a = attrs(server);
    assert_eq!(a.get("http.method"), Some(&s("POST")));
    for key in [
        "rpc.system",
        "rpc.system.name",
        "rpc.grpc.status_code",
        "rpc.status_code",
    ] {
        assert!(a.contains_key(key), "{key}: {a:#?}");
    }
}

/// The client layer's gRPC call: the same keys as the server's, and every
/// status but OK an error on the client side (NOT_FOUND here, which is no
/// server fault).
#[tokio::test]
async fn grpc_client_calls_in_every_mode() {
    use tower::ServiceExt;
    for mode in [Semconv::Legacy, Semconv::Stable, Semconv::Dup] {
        let h = harness(mode);
        let client = tower::ServiceBuilder::new()
            .layer(h.layer.client())
            .service_fn(|_req: http::Request<String>| async {
                Ok::<_, std::convert::Infallible>(
                    http::Response::builder()
                        .header("content-type", "application/grpc")
                        .header("grpc-status", "5")
                        .body(String::new())
                        .unwrap(),
                )
            });
        let req = http::Request::post("http://models:50051/demo.Model/Find")
            .header("content-type", "application/grpc")
            .body(String::new())
            .unwrap();
        let resp = client.oneshot(req).await.unwrap();
        let _ = http_body_util::BodyExt::collect(resp.into_body()).await;
        let spans = h.spans();
        let span = spans
            .iter()
            .find(|s| s.span_kind == SpanKind::Client)
            .unwrap();
        assert!(matches!(span.status, Status::Error { .. }), "{mode}");
        let a = attrs(span);
        assert_eq!(
            a.contains_key("rpc.grpc.status_code"),
            mode.legacy(),
            "{mode}"
        );
        assert_eq!(a.contains_key("rpc.system"), mode.legacy(), "{mode}");
        if mode.legacy() {
            assert_eq!(a["rpc.grpc.status_code"], i(5));
            assert_eq!(a["rpc.service"], s("demo.Model"));
        }
        if mode.stable() {
            assert_eq!(a["rpc.system.name"], s("grpc"));
            assert_eq!(a["rpc.method"], s("demo.Model/Find"));
            assert_eq!(a["rpc.status_code"], s("NOT_FOUND"));
            assert_eq!(a["error.type"], s("NOT_FOUND"));
        } else {
            assert_eq!(a["rpc.method"], s("Find"));
        }
    }
}

/// An abandoned exchange: BentoML's `http.cancelled` in legacy mode, ours in
/// stable mode, both in dup; on the server and on the client; never an error
/// (the caller cancelled).
#[tokio::test]
async fn cancelled_calls_in_every_mode() {
    for mode in [Semconv::Legacy, Semconv::Stable, Semconv::Dup] {
        let h = harness(mode);
        // Server: the response future dropped before the handler answers.
        let svc = tower::ServiceBuilder::new()
            .layer(h.layer.clone())
            .service_fn(|_req: http::Request<_>| async {
                std::future::pending::<()>().await;
                Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
            });
        let call = tower::ServiceExt::oneshot(svc, request("GET", "/slow", Version::HTTP_11));
        let _ = tokio::time::timeout(std::time::Duration::from_millis(10), call).await;
        // Client: the call dropped before its answer.
        let client = tower::ServiceBuilder::new()
            .layer(h.layer.client())
            .service_fn(|_req: http::Request<String>| async {
                std::future::pending::<()>().await;
                Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
            });
        let req = http::Request::get("http://api.example/v1")
            .body(String::new())
            .unwrap();
        let call = tower::ServiceExt::oneshot(client, req);
        let _ = tokio::time::timeout(std::time::Duration::from_millis(10), call).await;
        let spans = h.spans();
        for kind in [SpanKind::Server, SpanKind::Client] {
            let span = spans.iter().find(|s| s.span_kind == kind).unwrap();
            let a = attrs(span);
            assert_eq!(
                a.contains_key("http.cancelled"),
                mode.legacy(),
                "{mode} {kind:?}"
            );
            assert_eq!(
                a.contains_key("tower_otel_tracing.cancelled"),
                mode.stable(),
                "{mode} {kind:?}"
            );
            assert_eq!(span.status, Status::Unset, "{mode} {kind:?}");
            assert!(!a.contains_key("error.type"), "{mode} {kind:?}");
        }
    }
}
