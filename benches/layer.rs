//! Per-request cost in-process: the bare router, and the layer at sample_rate 0
//! and 1.0 (full BentoML span tree) exporting to a no-op exporter behind the batch
//! processor. Run: `cargo bench --features axum --bench layer`.

use std::hint::black_box;

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use criterion::{criterion_group, criterion_main, Criterion};
use http_body_util::BodyExt;
use tower::ServiceExt;
use tower_otel_tracing::{TracingConfig, TracingLayer};

mod support;
use support::NoopExporter;

const BODY: &str = r#"{"text": "The quick brown fox jumps over the dog."}"#;

fn router() -> Router {
    Router::new().route(
        "/summarize",
        post(|body: String| async move { body[..body.len().min(20)].to_owned() }),
    )
}

fn request() -> http::Request<Body> {
    http::Request::post("/summarize")
        .header("host", "127.0.0.1:3000")
        .header("content-type", "application/json")
        .header("user-agent", "bench/1.0")
        .body(Body::from(BODY))
        .unwrap()
}

fn layer(rate: f64) -> TracingLayer {
    TracingLayer::builder(TracingConfig {
        sample_rate: Some(rate),
        ..Default::default()
    })
    .exporter(NoopExporter)
    .install_global(false)
    .local_addr("127.0.0.1:3000".parse().unwrap())
    .build()
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("request");
    let apps = [
        ("bare", router()),
        ("layer_rate_0", router().layer(layer(0.0))),
        ("layer_rate_1", router().layer(layer(1.0))),
    ];
    for (name, app) in apps {
        group.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let resp = app.clone().oneshot(request()).await.unwrap();
                    black_box(resp.into_body().collect().await.unwrap().to_bytes())
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
