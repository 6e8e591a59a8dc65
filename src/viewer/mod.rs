//! An embedded trace viewer (feature `viewer`): see this process's traces in a
//! browser with no backend, as OpenTelemetry's zPages `tracez` page does. It is a
//! debugging window on one process, not a trace backend: Jaeger, Zipkin or an OTLP
//! collector remain the place for many processes and long history.
//!
//! ```
//! use axum::{routing::post, Router};
//! use tower_otel_tracing::config::ExporterType;
//! use tower_otel_tracing::{TracingConfig, TracingLayer};
//!
//! let layer = TracingLayer::builder(TracingConfig {
//!     exporter_type: Some(ExporterType::Console),
//!     sample_rate: Some(1.0),
//!     ..Default::default()
//! })
//! .install_global(false)
//! .build()
//! .unwrap();
//! let app: Router = Router::new()
//!     .route("/summarize", post(|text: String| async move { text }))
//!     .nest_service("/_traces", layer.viewer())
//!     .layer(layer);
//! ```
//!
//! Then open `http://localhost:3000/_traces`:
//! - **overview**: one row per root span name (for the layer, per server span
//!   name) with count, errors, p50/p99 and counts per latency bucket (zPages'
//!   decades, 10 µs to 100 s, errors in parentheses); each cell links to its traces;
//!   then, when the layer's HTTP metrics are on ([`TracingLayer::metrics`](crate::TracingLayer::metrics)
//!   or `metrics.exporter`), each name's requests/s, errors/s and latency (p50, p99)
//!   over the last 15 minutes as small SVG charts, with the histograms' exemplars
//!   linking to their traces while the viewer holds them;
//! - **trace list** (`/traces?name=..&bucket=..&errors=1`): held traces, newest first;
//! - **trace** (`/trace/{trace id}`): a waterfall of every span of the trace
//!   (server span, send/receive children, handler and client spans) nested by
//!   parent on one time axis, coloured by status; each span opens to its
//!   attributes, events, links, resource, ids and duration;
//! - **JSON** for each page under `/api/` (`/api/overview`, `/api/traces?..`,
//!   `/api/trace/{id}`).
//!
//! # Where the data comes from
//! The viewer shows what the pipeline exports. A tee (`tee.rs`) wraps whatever
//! exporter runs (console, Zipkin, Jaeger, OTLP, in-memory or yours) and copies
//! each export batch into the store on the batch processor's thread; requests pay
//! nothing for it, and before a viewer is made the tee only checks one flag per
//! batch. So spans reach the viewer already redacted by the layer (credentials out
//! of `http.url`, recorded headers `[REDACTED]`) and truncated by
//! `max_tag_value_length`, exactly as the exporter gets them, and only sampled (or
//! kept) requests appear. With `exporter_type: none` or a tracer provider of your
//! own ([`TracingLayerBuilder::tracer_provider`](crate::TracingLayerBuilder::tracer_provider))
//! nothing is exported through the layer's pipeline, and the overview says so.
//!
//! # Memory
//! The store (`store.rs`) is bounded by counts:
//! - complete traces: at most `max_traces` (default 300, see
//!   [`TraceViewer::max_traces`]) plus, for each of at most 32 root names, the 3
//!   slowest, the 3 latest failures and the latest of each of the 9 latency
//!   buckets: at most `max_traces + 32 × 15` traces (780 by default);
//! - at most 128 spans per trace, and 4,096 spans in all waiting for their
//!   trace's root to end (the oldest trace is dropped first);
//! - per span, the SDK's limits (128 attributes, 128 events), every value cut to
//!   1,024 characters;
//! - per name, 1,024 durations for p50/p99.
//!
//! A request of the quick start (five spans, about twenty attributes) takes
//! about 4 KiB, so the default store holds a few MiB at most for such traffic.
//! What the bounds drop is counted on the overview.
//!
//! The metrics charts' history (`metrics_history.rs`) holds at most 32 names,
//! each with 90 points (one every 10 s) and one exemplar per duration bucket:
//! about 140 KiB at most. Its points come from a small thread
//! (`viewer-metrics`), started when a viewer exists and metrics are on, that
//! reads the metrics' cumulative counts every 10 s: requests pay nothing for
//! it, and it ends with the layer and its viewers.
//!
//! # Safety
//! - Mount the viewer on a loopback or debug listener in production: traces hold
//!   paths, user agents and whatever attributes handlers record.
//! - The layer does not trace the viewer's own requests: [`TracingLayer::viewer`](crate::TracingLayer::viewer)
//!   tells the layer its path (`/_traces`, or [`TracingLayer::viewer_at`](crate::TracingLayer::viewer_at)'s),
//!   and requests under it are excluded like `excluded_urls`.
//! - Pages are maud templates, which HTML-escape every value; they carry no
//!   scripts and no inline styles, and every response sets
//!   `Content-Security-Policy: default-src 'none'; style-src 'self'; ...`,
//!   `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY` and
//!   `Cache-Control: no-store`. Lists and details work without JavaScript.
//!
//! Layout: `store.rs` (the bounded store), `span.rs` (a span as the store keeps it), `tee.rs` (the exporter wrapper),
//! `service.rs` ([`TraceViewer`], routing and headers), `pages.rs` (HTML and the
//! stylesheet), `json.rs` (the JSON endpoints); for the metrics charts,
//! `metrics_totals.rs` (a reading of the metrics by span name),
//! `metrics_history.rs` (the bounded history of readings; rates and quantiles
//! from bucket counts are `metrics/quantile.rs`), `sampler.rs` (the thread that takes readings),
//! `charts.rs` (SVG sparklines) and `metrics_section.rs` (the overview's section).

mod charts;
mod json;
mod metrics_history;
mod metrics_section;
mod metrics_totals;
mod pages;
mod sampler;
mod service;
mod span;
mod store;
mod tee;

pub(crate) use metrics_history::MetricsHistory;
pub(crate) use metrics_totals::Naming;
pub use service::TraceViewer;
pub(crate) use store::TraceStore;
pub(crate) use tee::Tee;

/// The path [`TracingLayer::viewer`](crate::TracingLayer::viewer) mounts at.
///
/// ```
/// use tower_otel_tracing::{viewer, TracingConfig, TracingLayer};
///
/// let layer = TracingLayer::from_config(TracingConfig::default());
/// assert_eq!(layer.viewer().path(), viewer::DEFAULT_PATH);
/// ```
pub const DEFAULT_PATH: &str = "/_traces";

/// Whether `path` is the viewer's (`base` itself or below it).
pub(crate) fn is_viewer_path(path: &str, base: &str) -> bool {
    path.strip_prefix(base)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}
