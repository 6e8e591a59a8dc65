//! Ratio sampling of new traces.

use crate::common::*;
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

/// Sample rate 0.25 on one route, recording only server spans (to keep
/// thousands of requests quick).
fn quarter_rate_server_spans() -> (Harness, axum::Router) {
    let h = Harness::with(
        TracingConfig {
            sample_rate: Some(0.25),
            ..Default::default()
        },
        |b| b.send_spans(false).receive_spans(false),
    );
    let app = axum::Router::new()
        .route("/r", axum::routing::get(|| async { "" }))
        .layer(h.layer.clone());
    (h, app)
}

#[tokio::test]
async fn ratio_quarter_records_about_a_quarter() {
    let (h, app) = quarter_rate_server_spans();
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

/// A sampled root is exported with the trace id its sampling was decided on:
/// every exported trace id passes the `TraceIdRatioBased` rule (the last 8 bytes,
/// shifted to 63 bits, below `ratio * 2^63`), so another service with the same
/// ratio decides the same for it. A trace id drawn after the decision would fail
/// the rule about three times in four at this ratio.
#[tokio::test]
async fn exported_roots_carry_the_trace_id_sampling_decided_on() {
    let (h, app) = quarter_rate_server_spans();
    for _ in 0..400 {
        drop(app.clone().oneshot(get_req("/r")).await.unwrap());
    }
    let spans = h.spans();
    let servers = server_spans(&spans);
    assert!(servers.len() > 40, "only {} sampled", servers.len());
    let threshold = (0.25 * (1u64 << 63) as f64) as u64;
    for span in servers {
        let bytes = span.span_context.trace_id().to_bytes();
        let low = u64::from_be_bytes(bytes[8..].try_into().unwrap());
        assert!(
            low >> 1 < threshold,
            "trace {} fails the ratio rule it was sampled by",
            span.span_context.trace_id()
        );
    }
}
