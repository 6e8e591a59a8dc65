//! The layer on a plain hyper 1 server through hyper-util, with the peer and
//! local addresses of every connection.
//!
//! ```text
//! cargo run --example hyper
//! curl -X POST localhost:3001/echo -d 'hello'
//! ```

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tower::ServiceBuilder;
use tower_otel_tracing::config::ExporterType;
use tower_otel_tracing::layer::RequestBody;
use tower_otel_tracing::{ConnectionInfo, TracingConfig, TracingLayer};

async fn echo(
    req: http::Request<RequestBody<hyper::body::Incoming>>,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let body = match req.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    Ok(http::Response::new(Full::new(body)))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bind: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3001".into())
        .parse()?;
    let layer = TracingLayer::try_from_config(TracingConfig {
        exporter_type: Some(ExporterType::Console),
        sample_rate: Some(1.0),
        service_name: Some("HyperEcho".into()),
        ..Default::default()
    })?;
    let guard = layer.guard();
    let listener = tokio::net::TcpListener::bind(bind).await?;
    eprintln!("hyper echo on http://{}", listener.local_addr()?);

    loop {
        let (stream, peer_addr) = tokio::select! {
            accepted = listener.accept() => accepted?,
            _ = tokio::signal::ctrl_c() => break,
        };
        let local_addr = stream.local_addr()?;
        let svc = ServiceBuilder::new()
            // hyper has no ConnectInfo: give the layer both ends of this connection.
            .map_request(move |mut req: http::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectionInfo {
                    local_addr,
                    peer_addr,
                });
                req
            })
            .layer(layer.clone())
            .service_fn(echo);
        tokio::spawn(async move {
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc))
                .await;
        });
    }
    guard.shutdown()?;
    Ok(())
}
