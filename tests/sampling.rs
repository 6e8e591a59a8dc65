//! Ratio sampling of new traces.

mod common;

use common::*;
use tower::ServiceExt;
use tower_otel_tracing::TracingConfig;

#[tokio::test]
async fn rate_zero_exports_nothing() {
    for cfg in [
        TracingConfig::default(),
        TracingConfig {
            sample_rate: Some(0.0),
            ..Default::default()
        },
    ] {
        let h = Harness::new(cfg);
        for _ in 0..200 {
            send(h.app(), post_summarize("a b c d")).await;
        }
        assert!(h.spans().is_empty());
    }
}

#[tokio::test]
async fn ratio_quarter_records_about_a_quarter() {
    let h = Harness::with(
        TracingConfig {
            sample_rate: Some(0.25),
            ..Default::default()
        },
        // Only server spans, to keep 10,000 requests quick.
        |b| b.send_spans(false).receive_spans(false),
    );
    let app = axum::Router::new()
        .route("/r", axum::routing::get(|| async { "" }))
        .layer(h.layer.clone());
    const N: usize = 10_000;
    for _ in 0..N {
        let resp = app.clone().oneshot(get_req("/r")).await.unwrap();
        drop(resp);
    }
    let recorded = server_spans(&h.spans()).len();
    let ratio = recorded as f64 / N as f64;
    // Binomial(10000, 0.25) has sd 0.0043: 0.03 is about 7 sd.
    assert!((ratio - 0.25).abs() < 0.03, "recorded {recorded} of {N}");
}
