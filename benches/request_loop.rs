//! Runs N in-process requests through one stack, for instruction counting:
//!
//! ```text
//! cargo bench --features axum --bench request_loop --no-run
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/deps/request_loop-* bare 20000
//! ```
//!
//! Per-request instructions = (total(N2) - total(N1)) / (N2 - N1), which cancels
//! start-up. Stacks: `bare`, `rate0`, `rate1` (full BentoML tree), `rate1_server_only`.

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use http_body_util::BodyExt;
use tower::ServiceExt;
use tower_otel_tracing::{TracingConfig, TracingLayer};

mod support;
use support::NoopExporter;

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let stack = args.next().unwrap_or_else(|| "bare".into());
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let router = Router::new().route(
        "/summarize",
        post(|body: String| async move { body[..body.len().min(20)].to_owned() }),
    );
    let layer = |rate: f64, children: bool| {
        TracingLayer::builder(TracingConfig {
            sample_rate: Some(rate),
            ..Default::default()
        })
        .exporter(NoopExporter)
        .install_global(false)
        .env_vars([("OTEL_BSP_MAX_QUEUE_SIZE", "1000000")])
        .send_spans(children)
        .receive_spans(children)
        .build()
        .unwrap()
    };
    let app = match stack.as_str() {
        "bare" => router,
        "rate0" => router.layer(layer(0.0, true)),
        "rate1" => router.layer(layer(1.0, true)),
        "rate1_server_only" => router.layer(layer(1.0, false)),
        other => panic!("unknown stack {other}"),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        for _ in 0..n {
            let req = http::Request::post("/summarize")
                .header("host", "127.0.0.1:3000")
                .header("content-type", "application/json")
                .body(Body::from(
                    r#"{"text": "The quick brown fox jumps over the dog."}"#,
                ))
                .unwrap();
            let resp = app.clone().oneshot(req).await.unwrap();
            std::hint::black_box(resp.into_body().collect().await.unwrap().to_bytes());
        }
    });
}
