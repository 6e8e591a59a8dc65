//! The layer on a plain hyper 1 server through hyper-util, peer address included.

use std::convert::Infallible;
use std::time::Duration;

use crate::common::*;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tower::ServiceBuilder;
use tower_otel_tracing::layer::RequestBody;
use tower_otel_tracing::ConnectionInfo;

#[tokio::test]
async fn hyper_server_with_connection_info() {
    let h = Harness::sampled();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let layer = h.layer.clone();
    let server = tokio::spawn(async move {
        loop {
            let (stream, peer_addr) = listener.accept().await.unwrap();
            let local_addr = stream.local_addr().unwrap();
            let svc = ServiceBuilder::new()
                // Per connection: tell the layer who is talking to whom.
                .map_request(move |mut req: http::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(ConnectionInfo {
                        local_addr,
                        peer_addr,
                    });
                    req
                })
                .layer(layer.clone())
                .service_fn(
                    |req: http::Request<RequestBody<hyper::body::Incoming>>| async move {
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from(format!(
                            "got {} bytes",
                            body.len()
                        )))))
                    },
                );
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc))
                    .await;
            });
        }
    });

    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let client_addr = stream.local_addr().unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    let conn = tokio::spawn(conn);
    let req = http::Request::post("/ingest")
        .header("host", "ingest.local")
        .body(Full::new(Bytes::from_static(b"0123456789")))
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(10), sender.send_request(req))
        .await
        .unwrap()
        .unwrap();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"got 10 bytes");
    drop(sender);
    let spans = h.wait_for_spans(4).await;
    server.abort();
    conn.abort();

    let span = one_server_span(&spans);
    assert_eq!(span.name, "POST /ingest");
    assert_eq!(str_attr(span, "http.host"), Some(addr.to_string().as_str()));
    assert_eq!(str_attr(span, "net.peer.ip"), Some("127.0.0.1"));
    assert_eq!(
        int_attr(span, "net.peer.port"),
        Some(i64::from(client_addr.port()))
    );
    assert_eq!(str_attr(span, "http.server_name"), Some("ingest.local"));
    let children = children_of(&spans, span);
    assert_eq!(of_type(&children, "http.request").len(), 1);
    assert_eq!(of_type(&children, "http.response.start").len(), 1);
    assert_eq!(of_type(&children, "http.response.body").len(), 1);
}
