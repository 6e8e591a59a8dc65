//! Status rules, errors, panics, streaming bodies and early disconnects.

use std::convert::Infallible;
use std::fmt;
use std::time::Duration;

use crate::common::*;
use axum::body::{Body, Bytes};
use http_body_util::{BodyExt, Full};
use opentelemetry::trace::Status;
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;
#[cfg(feature = "axum")]
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::{ServiceBuilder, ServiceExt};

fn exception(span: &SpanData) -> (String, String) {
    let events: Vec<_> = span
        .events
        .iter()
        .filter(|e| e.name == "exception")
        .collect();
    assert_eq!(events.len(), 1, "{span:#?}");
    let get = |k: &str| {
        events[0]
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == k)
            .map(|kv| kv.value.to_string())
            .unwrap_or_else(|| panic!("no {k}"))
    };
    (get("exception.type"), get("exception.message"))
}

#[tokio::test]
async fn server_errors_mark_server_and_send_spans() {
    let h = Harness::sampled();
    let (status, _) = send(h.app(), get_req("/fail")).await;
    assert_eq!(status, 500);
    let spans = h.spans();
    let server = one_server_span(&spans);
    assert!(matches!(server.status, Status::Error { .. }));
    assert_eq!(int_attr(server, "http.status_code"), Some(500));
    let children = children_of(&spans, server);
    assert_eq!(children.len(), 2);
    // As BentoML records it: the response head failed, the body frame did not.
    for c in children {
        match str_attr(c, "type") {
            Some("http.response.start") => {
                assert!(matches!(c.status, Status::Error { .. }), "{c:#?}")
            }
            Some("http.response.body") => assert_eq!(c.status, Status::Unset, "{c:#?}"),
            other => panic!("unexpected child {other:?}: {c:#?}"),
        }
    }
}

#[tokio::test]
async fn streamed_5xx_body_and_trailer_frames_stay_unset() {
    let h = Harness::sampled();
    let svc = tower::ServiceBuilder::new()
        .layer(h.layer.clone())
        .service_fn(|_req: http::Request<_>| async {
            let frames = vec![
                Ok::<_, Infallible>(http_body::Frame::data(Bytes::from("a"))),
                Ok(http_body::Frame::data(Bytes::from("b"))),
                Ok(http_body::Frame::trailers(http::HeaderMap::new())),
            ];
            let body = http_body_util::StreamBody::new(futures_util::stream::iter(frames));
            Ok::<_, Infallible>(http::Response::builder().status(503).body(body).unwrap())
        });
    let resp = tower::ServiceExt::oneshot(svc, get_req("/stream"))
        .await
        .unwrap();
    let _ = resp.into_body().collect().await;
    let spans = h.spans();
    let server = one_server_span(&spans);
    assert!(matches!(server.status, Status::Error { .. }));
    let children = children_of(&spans, server);
    assert_eq!(children.len(), 4, "{children:#?}");
    for c in children {
        let ty = str_attr(c, "type").unwrap();
        if ty == "http.response.start" {
            assert!(matches!(c.status, Status::Error { .. }));
        } else {
            assert_eq!(c.status, Status::Unset, "{ty}");
        }
    }
}

#[tokio::test]
async fn client_errors_are_not_span_errors() {
    let h = Harness::sampled();
    let (status, _) = send(h.app(), get_req("/missing")).await;
    assert_eq!(status, 404);
    let spans = h.spans();
    assert!(spans.iter().all(|s| s.status == Status::Unset));
}

#[derive(Debug)]
struct ModelError;
impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("model exploded")
    }
}

#[tokio::test]
async fn inner_service_error_records_an_exception() {
    let h = Harness::sampled();
    let svc =
        ServiceBuilder::new()
            .layer(h.layer.clone())
            .service_fn(|_req: http::Request<_>| async {
                Err::<http::Response<Full<Bytes>>, _>(ModelError)
            });
    let err = svc.oneshot(get_req("/model")).await.unwrap_err();
    assert_eq!(err.to_string(), "model exploded");
    let spans = h.spans();
    let server = one_server_span(&spans);
    assert_eq!(
        server.status,
        Status::Error {
            description: "model exploded".into()
        }
    );
    let (ty, msg) = exception(server);
    assert!(ty.ends_with("ModelError"), "{ty}");
    assert_eq!(msg, "model exploded");
}

#[tokio::test]
async fn handler_panic_records_an_exception_and_still_panics() {
    let h = Harness::sampled();
    let svc =
        ServiceBuilder::new()
            .layer(h.layer.clone())
            .service_fn(|_req: http::Request<_>| async {
                if true {
                    panic!("handler blew up");
                }
                Ok::<http::Response<Full<Bytes>>, Infallible>(http::Response::new(Full::default()))
            });
    let joined = tokio::spawn(svc.oneshot(get_req("/panic"))).await;
    assert!(joined.unwrap_err().is_panic());
    let spans = h.spans();
    let server = one_server_span(&spans);
    assert!(matches!(server.status, Status::Error { .. }));
    assert_eq!(
        exception(server),
        ("panic".into(), "handler blew up".into())
    );
}

#[tokio::test]
async fn body_error_records_an_exception() {
    let h = Harness::sampled();
    let svc =
        ServiceBuilder::new()
            .layer(h.layer.clone())
            .service_fn(|_req: http::Request<_>| async {
                let items = vec![
                    Ok(Bytes::from("part")),
                    Err(std::io::Error::other("disk gone")),
                ];
                let body = Body::from_stream(futures_util::stream::iter(items));
                Ok::<_, Infallible>(http::Response::new(body))
            });
    let resp = svc.oneshot(get_req("/file")).await.unwrap();
    assert!(resp.into_body().collect().await.is_err());
    let spans = h.spans();
    let server = one_server_span(&spans);
    assert!(matches!(server.status, Status::Error { .. }));
    let (_, msg) = exception(server);
    assert!(msg.contains("disk gone"), "{msg}");
    // The frame that made it out was recorded.
    let children = children_of(&spans, server);
    assert_eq!(of_type(&children, "http.response.body").len(), 1);
}

#[tokio::test]
async fn streaming_response_gets_one_send_span_per_chunk() {
    let h = Harness::sampled();
    let (_, body) = send(h.app(), get_req("/stream?n=7")).await;
    assert_eq!(body.iter().filter(|b| **b == b'\n').count(), 7);
    let spans = h.spans();
    let server = one_server_span(&spans);
    let children = children_of(&spans, server);
    let body_spans = of_type(&children, "http.response.body");
    assert_eq!(body_spans.len(), 7);
    for b in &body_spans {
        assert_eq!(b.name, "GET /stream http send");
        assert!(b.end_time <= server.end_time);
    }
    assert_eq!(of_type(&children, "http.response.start").len(), 1);
}

#[tokio::test]
async fn dropped_response_body_still_ends_the_server_span() {
    let h = Harness::sampled();
    let resp = h.app().oneshot(get_req("/hang")).await.unwrap();
    let mut body = resp.into_body();
    let first = body.frame().await.unwrap().unwrap();
    assert_eq!(first.into_data().unwrap(), "first\n");
    drop(body); // the client went away
    let spans = h.spans();
    let server = one_server_span(&spans);
    assert_eq!(attr(server, "http.cancelled"), Some(&Value::Bool(true)));
    assert_eq!(
        of_type(&children_of(&spans, server), "http.response.body").len(),
        1
    );
}

#[tokio::test]
async fn dropped_future_still_ends_the_server_span() {
    let h = Harness::sampled();
    let svc =
        ServiceBuilder::new()
            .layer(h.layer.clone())
            .service_fn(|_req: http::Request<_>| async {
                std::future::pending::<()>().await;
                Ok::<http::Response<Full<Bytes>>, Infallible>(http::Response::new(Full::default()))
            });
    let timed_out =
        tokio::time::timeout(Duration::from_millis(50), svc.oneshot(get_req("/slow"))).await;
    assert!(timed_out.is_err());
    let spans = h.spans();
    let server = one_server_span(&spans);
    assert_eq!(attr(server, "http.cancelled"), Some(&Value::Bool(true)));
    assert_eq!(attr(server, "http.status_code"), None);
}

/// A real client that hangs up mid-body: hyper drops the body, the span ends.
#[cfg(feature = "axum")]
#[tokio::test]
async fn client_disconnect_over_loopback_ends_the_span() {
    let h = Harness::sampled();
    let (addr, server) = serve_loopback(h.app()).await;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains("first") {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("first chunk in time")
            .unwrap();
        assert!(n > 0, "connection closed early");
        seen.extend_from_slice(&buf[..n]);
    }
    drop(stream);
    let spans = h.wait_for_spans(3).await;
    server.abort();
    let span = one_server_span(&spans);
    assert_eq!(span.name, "GET /hang");
    assert_eq!(attr(span, "http.cancelled"), Some(&Value::Bool(true)));
}
