//! The layer on a tonic server: `Server::builder().layer(...)`, over real HTTP/2.

mod common;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use common::*;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tonic::server::NamedService;

/// A gRPC service written against tonic's raw service interface (no codegen):
/// answers every call with an empty message and `grpc-status: 0`.
#[derive(Clone)]
struct Echo;

impl NamedService for Echo {
    const NAME: &'static str = "demo.Echo";
}

impl<B: Send + 'static> tower::Service<http::Request<B>> for Echo {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _req: http::Request<B>) -> Self::Future {
        Box::pin(async {
            let resp = http::Response::builder()
                .header("content-type", "application/grpc")
                .header("grpc-status", "0")
                .body(tonic::body::Body::empty())
                .unwrap();
            Ok(resp)
        })
    }
}

#[tokio::test]
async fn tonic_server_gets_the_server_span() {
    let h = Harness::sampled();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .layer(h.layer.clone())
            .add_service(Echo)
            .serve_with_incoming(incoming),
    );

    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    let conn = tokio::spawn(conn);
    // One length-prefixed, empty protobuf message.
    let req = http::Request::post(format!("http://{addr}/demo.Echo/Say"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(Full::new(Bytes::from_static(&[0, 0, 0, 0, 0])))
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(10), sender.send_request(req))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let _ = resp.into_body().collect().await;
    let spans = h.wait_for_spans(3).await;
    server.abort();
    conn.abort();

    let span = one_server_span(&spans);
    assert_eq!(span.name, "POST /demo.Echo/Say");
    assert_eq!(str_attr(span, "http.flavor"), Some("2"));
    assert_eq!(str_attr(span, "http.scheme"), Some("http"));
    assert_eq!(
        str_attr(span, "http.server_name"),
        Some(addr.to_string().as_str())
    );
    assert_eq!(int_attr(span, "http.status_code"), Some(200));
}
