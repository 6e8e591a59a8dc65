//! The service the W3C Trace Context test suite drives (w3c/trace-context,
//! `test/`): `POST /test` takes a JSON list of `{"url", "arguments"}` and, for
//! each, POSTs `arguments` as JSON to `url` through the client layer, so the
//! suite judges what the layer sends onward.
//!
//! ```sh
//! cargo run --example trace_context_service --features axum -- --bind 127.0.0.1:5000
//! # in a checkout of w3c/trace-context, with aiohttp installed:
//! SPEC_LEVEL=2 python test/test.py http://127.0.0.1:5000/test
//! ```
//!
//! Sampling is the default (parent-based, rate 0 for new traces): the suite
//! checks propagation, not export, and nothing is printed.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::routing::post;
use axum::{Json, Router};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use tower::ServiceExt;
use tower_otel_tracing::client::TracingClientService;
use tower_otel_tracing::config::ExporterType;
use tower_otel_tracing::{TracingConfig, TracingLayer};

type HttpClient =
    TracingClientService<Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>>;

/// One instruction of the suite: call `url` with `arguments` as the body.
#[derive(Deserialize)]
struct Instruction {
    url: String,
    #[serde(default)]
    arguments: serde_json::Value,
}

async fn test(client: HttpClient, Json(list): Json<Vec<Instruction>>) -> &'static str {
    for step in list {
        let body = serde_json::to_vec(&step.arguments).unwrap_or_default();
        let Ok(req) = http::Request::post(&step.url)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
        else {
            continue;
        };
        // The suite answers each callback; a failed one is the suite's to report.
        if let Ok(resp) = client.clone().oneshot(req).await {
            let _ = resp.into_body().collect().await;
        }
    }
    "ok"
}

#[tokio::main]
async fn main() {
    let mut bind: SocketAddr = "127.0.0.1:5000".parse().unwrap();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--bind", Some(addr)) => bind = addr.parse().expect("--bind takes ADDR:PORT"),
            _ => {
                eprintln!("usage: trace_context_service [--bind ADDR:PORT]");
                std::process::exit(2);
            }
        }
    }
    let cfg = TracingConfig {
        exporter_type: Some(ExporterType::None),
        service_name: Some("trace-context-service".into()),
        ..Default::default()
    };
    let layer = TracingLayer::from_config(cfg);
    let client: HttpClient = tower::Layer::layer(
        &layer.client(),
        Client::builder(TokioExecutor::new()).build_http(),
    );
    let app = Router::new()
        .route("/test", post(move |body| test(client.clone(), body)))
        .layer(layer.clone());
    let listener = tokio::net::TcpListener::bind(bind).await.expect("bind");
    eprintln!("listening on http://{bind}/test");
    axum::serve(listener, app).await.expect("serve");
}
