//! The quick start: a traced `Summarization` service.
//!
//! ```text
//! cargo run --example summarize --features axum,logs
//! curl -X POST localhost:3000/summarize -d 'some text'
//! ```
//!
//! Without `--config`, spans are printed to stdout (console exporter,
//! `sample_rate: 1.0`, `excluded_urls: readyz`). With `--config FILE` (YAML, JSON or
//! TOML, BentoML's `tracing` shape) they go where the file says.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use axum::body::{Body, Bytes};
use axum::extract::Query;
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use opentelemetry::trace::{Tracer, TracerProvider as _};
use serde::Deserialize;
use tower_otel_tracing::config::{ExcludedUrls, ExporterType};
use tower_otel_tracing::logs::TraceIds;
use tower_otel_tracing::settings::Settings;
use tower_otel_tracing::{ConnectionInfo, TracingConfig, TracingLayer};

const USAGE: &str = "usage: summarize [--bind ADDR] [--config FILE] [--print-config]

  --bind ADDR      address to listen on (default 127.0.0.1:3000)
  --config FILE    tracing config (YAML, JSON or TOML); default: console exporter,
                   sample_rate 1.0, excluded_urls readyz
  --print-config   print the settings that would run (config + OTEL_* environment,
                   with where each value came from), then exit";

struct Args {
    bind: SocketAddr,
    config: Option<PathBuf>,
    print_config: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        bind: SocketAddr::from(([127, 0, 0, 1], 3000)),
        config: None,
        print_config: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--bind" => {
                let v = value("--bind")?;
                args.bind = v
                    .parse()
                    .map_err(|e| format!("--bind {v}: not an address like 127.0.0.1:3000: {e}"))?;
            }
            "--config" => args.config = Some(PathBuf::from(value("--config")?)),
            "--print-config" => args.print_config = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

fn quick_start_config() -> TracingConfig {
    TracingConfig {
        exporter_type: Some(ExporterType::Console),
        sample_rate: Some(1.0),
        excluded_urls: Some(ExcludedUrls::new(["readyz"]).expect("valid regex")),
        ..Default::default()
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    // Log lines written while a request is handled carry its trace and span ids.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .event_format(TraceIds::text(tracing_subscriber::fmt::format()))
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
        None => quick_start_config(),
    };
    cfg.service_name
        .get_or_insert_with(|| "Summarization".to_owned());
    if args.print_config {
        return match Settings::resolve(&cfg) {
            Ok(settings) => {
                print!("{settings}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        };
    }

    let layer = match TracingLayer::try_from_config(cfg) {
        Ok(layer) => layer,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let guard = layer.guard();
    let guard_stats = layer.clone();

    let app = Router::new()
        .route("/summarize", post(summarize))
        .route("/readyz", get(|| async { "ok" }))
        .route("/stream", get(stream))
        .route("/slow", get(slow))
        // The trace viewer; the layer leaves its own requests untraced.
        .nest_service("/_traces", layer.viewer())
        // HTTP metrics from every request, sampled or not (Prometheus text, or
        // OpenMetrics with exemplars that open the trace); not measured itself.
        .route_service("/metrics", layer.metrics())
        .layer(layer);

    let listener = match tokio::net::TcpListener::bind(args.bind).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", args.bind);
            return ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().unwrap_or(args.bind);
    eprintln!("Summarization listening on http://{addr}");
    eprintln!("try: curl -X POST http://{addr}/summarize -d 'some text'");
    eprintln!("then open http://{addr}/_traces, or curl http://{addr}/metrics");

    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<ConnectionInfo>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await;

    // Flushes every span still queued before the process exits.
    if let Err(e) = guard.shutdown() {
        eprintln!("tracing shutdown: {e}");
    }
    let stats = guard_stats.pipeline().stats();
    eprintln!(
        "tracing stats: started={} exported={} dropped={} failed={} queued={} discarded={} overflowed={} kept={}",
        stats.started,
        stats.exported,
        stats.dropped,
        stats.failed,
        stats.queued,
        stats.discarded,
        stats.overflowed,
        stats.kept()
    );
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
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
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    eprintln!("shutting down");
}

#[derive(Deserialize)]
struct SummarizeJson {
    text: Option<String>,
}

/// Plain text or `{"text": ...}`; answers 400 to JSON without `text`, and 500 to
/// `__boom__`, to show what an error trace looks like.
async fn summarize(headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    let text = if is_json {
        match serde_json::from_slice::<SummarizeJson>(&body) {
            Ok(SummarizeJson { text: Some(text) }) => text,
            Ok(_) => return (StatusCode::BAD_REQUEST, "missing field `text`\n".into()),
            Err(e) => return (StatusCode::BAD_REQUEST, format!("invalid JSON: {e}\n")),
        }
    } else {
        String::from_utf8_lossy(&body).into_owned()
    };
    if text.trim() == "__boom__" {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the model failed (deliberately)\n".into(),
        );
    }
    // A span of the handler's own: it nests under the request's server span.
    let tracer = opentelemetry::global::tracer_provider().tracer("summarize.model");
    let summary = tracer.in_span("summarize.model", |_cx| summary_of(&text));
    tracing::info!(
        "summarized {} characters into {}",
        text.chars().count(),
        summary.chars().count()
    );
    (StatusCode::OK, summary + "\n")
}

/// The first sentence, at most 20 words.
fn summary_of(text: &str) -> String {
    let first = text.split_inclusive(['.', '!', '?']).next().unwrap_or("");
    first
        .split_whitespace()
        .take(20)
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Deserialize)]
struct SlowParams {
    ms: Option<u64>,
}

/// Sleeps `ms` milliseconds (default 1000, at most 60 s), then answers 200: a slow
/// request for `keep_slower_than` to keep.
async fn slow(Query(p): Query<SlowParams>) -> String {
    let ms = p.ms.unwrap_or(1000).min(60_000);
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    format!("slept {ms} ms\n")
}

#[derive(Deserialize)]
struct StreamParams {
    n: Option<u32>,
}

/// Streams `n` chunks (default 3, at most 1000): one `http send` span each.
async fn stream(Query(p): Query<StreamParams>) -> Body {
    let n = p.n.unwrap_or(3).min(1000);
    let chunks = (0..n).map(|i| Ok::<_, Infallible>(format!("chunk {i}\n")));
    Body::from_stream(futures_util::stream::iter(chunks))
}
