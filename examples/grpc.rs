//! A tonic gRPC service (the standard health service) behind the layer.
//!
//! ```text
//! cargo run --example grpc -- --demo
//! ```
//!
//! `--demo` makes one unary call (`Check`) and one server-streaming call (`Watch`,
//! two messages) against itself, prints their spans (console exporter) and exits.
//! Without it the server runs until Ctrl-C on `--bind` (default 127.0.0.1:50051).

use std::net::SocketAddr;
use std::time::Duration;

use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::ServingStatus;
use tower_otel_tracing::config::ExporterType;
use tower_otel_tracing::{TracingConfig, TracingLayer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut bind: SocketAddr = "127.0.0.1:50051".parse()?;
    let mut demo = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bind" => bind = args.next().ok_or("--bind needs an address")?.parse()?,
            "--demo" => demo = true,
            other => {
                return Err(format!("unknown argument {other}; use --bind ADDR, --demo").into())
            }
        }
    }
    let layer = TracingLayer::try_from_config(TracingConfig {
        exporter_type: Some(ExporterType::Console),
        sample_rate: Some(1.0),
        service_name: Some("SummarizationGrpc".into()),
        ..Default::default()
    })?;
    let guard = layer.guard();

    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("summarize", ServingStatus::Serving)
        .await;
    let listener =
        tokio::net::TcpListener::bind(if demo { "127.0.0.1:0".parse()? } else { bind }).await?;
    let addr = listener.local_addr()?;
    eprintln!("gRPC health service on http://{addr}");
    let server = tonic::transport::Server::builder()
        .layer(layer)
        .add_service(health)
        .serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(listener),
            async move {
                if demo {
                    std::future::pending::<()>().await;
                }
                let _ = tokio::signal::ctrl_c().await;
            },
        );
    let server = tokio::spawn(server);

    if demo {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
            .connect()
            .await?;
        let mut client = HealthClient::new(channel);
        let req = || HealthCheckRequest {
            service: "summarize".into(),
        };
        let status = client.check(req()).await?.into_inner().status;
        eprintln!("Check: {status}");
        let mut watch = client.watch(req()).await?.into_inner();
        eprintln!("Watch: {:?}", watch.message().await?.map(|m| m.status));
        reporter
            .set_service_status("summarize", ServingStatus::NotServing)
            .await;
        let next = tokio::time::timeout(Duration::from_secs(5), watch.message()).await??;
        eprintln!("Watch: {:?}", next.map(|m| m.status));
        drop(watch);
        tokio::time::sleep(Duration::from_millis(100)).await;
        server.abort();
    } else {
        server.await??;
    }
    guard.shutdown()?;
    Ok(())
}
