//! [`TraceInfo`]: the trace a request belongs to, for handlers and their logs.

use opentelemetry::trace::{SpanId, TraceId};

/// The trace a request belongs to, for handlers and their logs.
///
/// The layer inserts it into the request extensions of every traced request, sampled
/// or not: an unsampled request still has a valid trace id, which is what a user
/// quotes when reporting a problem.
///
/// ```
/// use axum::{routing::get, Extension, Router};
/// use tower_otel_tracing::TraceInfo;
///
/// async fn handler(Extension(trace): Extension<TraceInfo>) -> String {
///     format!("trace {} request {}", trace.trace_id, trace.span_id)
/// }
/// let app: Router = Router::new().route("/", get(handler));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceInfo {
    /// The trace id (32 lower-case hex digits when formatted).
    pub trace_id: TraceId,
    /// The server span's id (16 hex digits when formatted).
    pub span_id: SpanId,
    /// Whether the request is recorded and exported.
    pub sampled: bool,
    /// W3C Trace Context Level 2's random-trace-id flag: the trace id is random
    /// (it was made here, or the caller said so).
    pub random: bool,
}
