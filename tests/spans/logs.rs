//! Log correlation: lines written while a request is handled carry its trace id
//! (the one its spans carry, or for an unsampled request the one in `TraceInfo`),
//! in text and in JSON.

use std::sync::{Arc, Mutex};

use crate::common::*;
use axum::routing::get;
use axum::{Extension, Router};
use tower_otel_tracing::logs::TraceIds;
use tower_otel_tracing::{TraceInfo, TracingConfig};

#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Lines {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn app(h: &Harness) -> Router {
    Router::new()
        .route(
            "/work",
            get(|Extension(info): Extension<TraceInfo>| async move {
                tracing::info!(answer = 42, "handled the work");
                format!("{} {}", info.trace_id, info.span_id)
            }),
        )
        .layer(h.layer.clone())
}

async fn logged_request(h: &Harness, json: bool) -> (String, String) {
    let lines = Lines::default();
    let writer = lines.clone();
    let make = move || writer.clone();
    let dispatch = if json {
        tracing::Dispatch::new(
            tracing_subscriber::fmt()
                .json()
                .with_writer(make)
                .event_format(TraceIds::json(tracing_subscriber::fmt::format().json()))
                .finish(),
        )
    } else {
        tracing::Dispatch::new(
            tracing_subscriber::fmt()
                .with_ansi(false)
                .with_writer(make)
                .event_format(TraceIds::text(tracing_subscriber::fmt::format()))
                .finish(),
        )
    };
    // Scoped to this thread: the test runtime runs the handler on it.
    let _default = tracing::dispatcher::set_default(&dispatch);
    let (_, body) = send(app(h), get_req("/work")).await;
    tracing::info!("outside any request");
    (String::from_utf8(body.to_vec()).unwrap(), lines.text())
}

#[tokio::test]
async fn text_lines_carry_the_ids_of_the_exported_spans() {
    let h = Harness::sampled();
    let (body, logs) = logged_request(&h, false).await;
    let spans = h.spans();
    let server = one_server_span(&spans);
    let (trace, span) = (
        server.span_context.trace_id(),
        server.span_context.span_id(),
    );
    assert_eq!(body, format!("{trace} {span}"));
    let lines: Vec<&str> = logs.lines().collect();
    assert_eq!(lines.len(), 2, "{logs}");
    assert!(
        lines[0].starts_with(&format!("trace_id={trace} span_id={span} ")),
        "{logs}"
    );
    assert!(lines[0].contains("handled the work") && lines[0].contains("answer=42"));
    assert!(
        !lines[1].contains("trace_id="),
        "no trace outside a request: {logs}"
    );
}

#[tokio::test]
async fn json_lines_carry_the_ids_and_stay_json() {
    let h = Harness::sampled();
    let (_, logs) = logged_request(&h, true).await;
    let spans = h.spans();
    let server = one_server_span(&spans);
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[0]["trace_id"],
        server.span_context.trace_id().to_string()
    );
    assert_eq!(
        lines[0]["span_id"],
        server.span_context.span_id().to_string()
    );
    assert_eq!(lines[0]["fields"]["message"], "handled the work");
    assert_eq!(lines[0]["fields"]["answer"], 42);
    assert!(lines[1].get("trace_id").is_none());
}

#[tokio::test]
async fn unsampled_requests_log_the_trace_id_their_handler_sees() {
    let h = Harness::new(TracingConfig::default());
    let (body, logs) = logged_request(&h, false).await;
    assert!(h.spans().is_empty());
    let (trace, span) = body.split_once(' ').unwrap();
    assert!(
        logs.lines()
            .next()
            .unwrap()
            .starts_with(&format!("trace_id={trace} span_id={span} ")),
        "{logs}"
    );
}
