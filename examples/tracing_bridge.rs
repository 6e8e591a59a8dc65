//! Spans made with the `tracing` crate (`#[tracing::instrument]`) nested under the
//! request's server span, through tracing-opentelemetry.
//!
//! ```text
//! cargo run --example tracing_bridge --features axum
//! curl -X POST localhost:3002/summarize -d 'Bridges carry spans. They also carry logs.'
//! ```

use axum::routing::post;
use axum::Router;
use opentelemetry::trace::TracerProvider as _;
use tower_otel_tracing::config::ExporterType;
use tower_otel_tracing::{ConnectionInfo, TracingConfig, TracingLayer};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

#[tracing::instrument(skip(text), fields(chars = text.len()))]
async fn summarize(text: String) -> String {
    let first = first_sentence(&text);
    tracing::info!(summary_len = first.len(), "summarized");
    first
}

#[tracing::instrument(skip_all)]
fn first_sentence(text: &str) -> String {
    text.split_inclusive('.')
        .next()
        .unwrap_or("")
        .trim()
        .to_owned()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let layer = TracingLayer::try_from_config(TracingConfig {
        exporter_type: Some(ExporterType::Console),
        sample_rate: Some(1.0),
        service_name: Some("Summarization".into()),
        ..Default::default()
    })?;
    let guard = layer.guard();
    // `tracing` spans become OpenTelemetry spans of the layer's provider; their
    // parent is the request's server span, current while the handler runs.
    tracing_subscriber::registry()
        .with(
            tracing_opentelemetry::layer()
                .with_tracer(layer.pipeline().tracer_provider().tracer("summarize")),
        )
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .init();

    let app = Router::new()
        .route("/summarize", post(summarize))
        .layer(layer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3002").await?;
    eprintln!("listening on http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<ConnectionInfo>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    guard.shutdown()?;
    Ok(())
}
