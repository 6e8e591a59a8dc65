//! Two services, one trace: a `Gateway` that forwards `POST /summarize` to the
//! summarize example through the client layer.
//!
//! ```text
//! cargo run --example summarize --features axum,logs            # terminal 1, port 3000
//! cargo run --example gateway --features axum              # terminal 2, port 3001
//! curl -X POST localhost:3001/summarize -d 'One trace. Two services.'
//! ```
//!
//! Both print their spans (console exporter, `sample_rate: 1.0`): the gateway's
//! SERVER span, its CLIENT span for the call, and the summarizer's SERVER span
//! (the CLIENT span's child) all carry the same trace id.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower::ServiceExt;
use tower_otel_tracing::client::TracingClientService;
use tower_otel_tracing::config::ExporterType;
use tower_otel_tracing::{ConnectionInfo, TracingConfig, TracingLayer};

const USAGE: &str = "usage: gateway [--bind ADDR] [--upstream URL] [--config FILE]

  --bind ADDR      address to listen on (default 127.0.0.1:3001)
  --upstream URL   the summarize service (default http://127.0.0.1:3000)
  --config FILE    tracing config (YAML, JSON or TOML); default: console exporter,
                   sample_rate 1.0";

struct Args {
    bind: SocketAddr,
    upstream: String,
    config: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        bind: SocketAddr::from(([127, 0, 0, 1], 3001)),
        upstream: "http://127.0.0.1:3000".to_owned(),
        config: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--bind" => {
                let v = value("--bind")?;
                args.bind = v
                    .parse()
                    .map_err(|e| format!("--bind {v}: not an address like 127.0.0.1:3001: {e}"))?;
            }
            "--upstream" => {
                let v = value("--upstream")?;
                if v.parse::<http::Uri>()
                    .map_or(true, |u| u.authority().is_none())
                {
                    return Err(format!(
                        "--upstream {v}: not a URL like http://127.0.0.1:3000"
                    ));
                }
                args.upstream = v.trim_end_matches('/').to_owned();
            }
            "--config" => args.config = Some(PathBuf::from(value("--config")?)),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

type Upstream = TracingClientService<Client<HttpConnector, Full<Bytes>>>;

#[derive(Clone)]
struct Gateway {
    client: Upstream,
    upstream: String,
}

/// Forwards the text to the summarizer; its answer (or why it failed) is ours.
async fn summarize(State(gw): State<Gateway>, body: Bytes) -> (StatusCode, String) {
    let req = http::Request::post(format!("{}/summarize", gw.upstream))
        .header("content-type", "text/plain")
        .body(Full::new(body))
        .expect("a valid request");
    match gw.client.oneshot(req).await {
        Ok(resp) => {
            let status = resp.status();
            match resp.into_body().collect().await {
                Ok(body) => (
                    status,
                    String::from_utf8_lossy(&body.to_bytes()).into_owned(),
                ),
                Err(e) => (StatusCode::BAD_GATEWAY, format!("upstream body: {e}\n")),
            }
        }
        Err(e) => (StatusCode::BAD_GATEWAY, format!("upstream: {e}\n")),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let args = match parse_args() {
        Ok(args) => args,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("error: {msg}\n");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut cfg = match &args.config {
        Some(path) => match TracingConfig::from_path(path) {
            Ok(cfg) => cfg,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        None => TracingConfig {
            exporter_type: Some(ExporterType::Console),
            sample_rate: Some(1.0),
            ..Default::default()
        },
    };
    cfg.service_name.get_or_insert_with(|| "Gateway".to_owned());
    let layer = match TracingLayer::try_from_config(cfg) {
        Ok(layer) => layer,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let guard = layer.guard();
    let client = tower::Layer::layer(
        &layer.client(),
        Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>(),
    );
    let app = Router::new()
        .route("/summarize", post(summarize))
        .with_state(Gateway {
            client,
            upstream: args.upstream.clone(),
        })
        .nest_service("/_traces", layer.viewer())
        .layer(layer);
    let listener = match tokio::net::TcpListener::bind(args.bind).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", args.bind);
            return ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().unwrap_or(args.bind);
    eprintln!(
        "Gateway listening on http://{addr}, forwarding to {}",
        args.upstream
    );
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<ConnectionInfo>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await;
    if let Err(e) = guard.shutdown() {
        eprintln!("tracing shutdown: {e}");
    }
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Ctrl-C, or SIGTERM where there is one.
async fn shutdown_signal() {
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = terminate => {},
    }
}
