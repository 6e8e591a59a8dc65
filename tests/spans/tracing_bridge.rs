//! Spans from the `tracing` crate, bridged by tracing-opentelemetry, nest under
//! the request's server span.

use crate::common::*;
use axum::routing::post;
use axum::Router;
use opentelemetry::trace::TracerProvider as _;
use tracing_subscriber::layer::SubscriberExt;

#[tracing::instrument(skip(text))]
async fn summarize(text: String) -> String {
    tokenize(&text)
        .into_iter()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

#[tracing::instrument(skip_all)]
fn tokenize(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

#[tokio::test]
async fn instrumented_handler_spans_nest_under_the_server_span() {
    let h = Harness::sampled();
    let subscriber = tracing_subscriber::registry().with(
        tracing_opentelemetry::layer()
            .with_tracer(h.layer.pipeline().tracer_provider().tracer("bridge")),
    );
    // Scoped to this test's thread (current-thread runtime): no global subscriber.
    let _default = tracing::subscriber::set_default(subscriber);
    let app = Router::new()
        .route("/summarize", post(summarize))
        .layer(h.layer.clone());
    let (_, body) = send(app, post_summarize("tracing spans nest")).await;
    assert_eq!(&body[..], b"tracing spans");
    let spans = h.spans();
    let server = one_server_span(&spans);
    let handler = spans
        .iter()
        .find(|s| s.name == "summarize")
        .expect("summarize span");
    let inner = spans
        .iter()
        .find(|s| s.name == "tokenize")
        .expect("tokenize span");
    assert_eq!(handler.parent_span_id, server.span_context.span_id());
    assert_eq!(
        handler.span_context.trace_id(),
        server.span_context.trace_id()
    );
    assert_eq!(inner.parent_span_id, handler.span_context.span_id());
}
