//! Exporters: the last stage, finished spans to one wire format each. Every
//! exporter is a self-contained module behind one trait, built from its own
//! section of [`Settings`](crate::settings::Settings):
//!
//! - `export.rs`: the trait the batch processor exports through; our network
//!   exporters take `finished.rs`'s batches, where a request recorded by the
//!   layer is one item and never becomes SDK `SpanData`, and any SDK
//!   [`SpanExporter`](opentelemetry_sdk::trace::SpanExporter) takes `SpanData`;
//! - `span_view.rs`: a span as every encoder reads it, borrowed from either;
//! - `console.rs`, `in_memory.rs`: always there (the quick start, tests);
//! - `zipkin/` (feature `zipkin`): Zipkin v2 JSON over HTTP;
//! - `jaeger/` (feature `jaeger`): Jaeger Thrift to the agent (UDP) or collector (HTTP);
//! - `otlp/` (feature `otlp`, gRPC with `otlp-grpc`): OTLP protobuf;
//! - `tags.rs`: the mapping Zipkin and Jaeger share (kind, status, scope, resource),
//!   and the viewer's span kind names;
//! - `transport.rs`: the one blocking HTTP client the HTTP exporters post through.
//!
//! Exports run on the batch processor's own thread, never on a request; the
//! network exporters' on up to four export workers it hands batches to
//! (`pipeline/concurrent.rs`), so one stalled export does not stop the rest.
//!
//! ```
//! use opentelemetry::trace::Tracer;
//! use tower_otel_tracing::exporter::InMemoryExporter;
//! use tower_otel_tracing::{TracingConfig, TracingLayer};
//!
//! // Any SpanExporter goes behind the layer's batch processor in place of the
//! // config's `exporter_type`.
//! let spans = InMemoryExporter::default();
//! let cfg = TracingConfig {
//!     sample_rate: Some(1.0),
//!     ..Default::default()
//! };
//! let layer = TracingLayer::builder(cfg).exporter(spans.clone()).build()?;
//! layer.pipeline().tracer("jobs").in_span("nightly cleanup", |_cx| {});
//! layer.pipeline().force_flush()?;
//! assert_eq!(spans.finished_spans()[0].name, "nightly cleanup");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// The sink serves every build; of the view, each format reads what it needs.
#[cfg_attr(
    not(all(
        feature = "zipkin",
        feature = "jaeger",
        feature = "otlp",
        feature = "viewer"
    )),
    allow(dead_code)
)]
pub(crate) mod attributes;
#[cfg(any(feature = "zipkin", feature = "jaeger", feature = "otlp"))]
mod body_size;
pub(crate) mod console;
pub(crate) mod export;
// Only the network exporters take these batches and read SDK spans as views.
#[cfg_attr(
    not(any(feature = "zipkin", feature = "jaeger", feature = "otlp")),
    allow(dead_code)
)]
pub(crate) mod finished;
mod in_memory;
#[cfg(feature = "jaeger")]
mod jaeger;
#[cfg(feature = "otlp")]
mod otlp;
#[cfg(any(feature = "zipkin", feature = "jaeger", feature = "otlp"))]
// `get` serves Jaeger and Zipkin, `iter` OTLP.
#[cfg_attr(not(all(feature = "jaeger", feature = "otlp")), allow(dead_code))]
mod per_scope;
// The viewer names span kinds as these formats do; with it alone the rest of
// the mapping is unused.
#[cfg_attr(
    not(any(feature = "zipkin", feature = "jaeger", feature = "otlp")),
    allow(dead_code)
)]
pub(crate) mod span_view;
#[cfg(any(feature = "zipkin", feature = "jaeger", feature = "viewer"))]
#[cfg_attr(not(any(feature = "zipkin", feature = "jaeger")), allow(dead_code))]
pub(crate) mod tags;
#[cfg(any(feature = "zipkin", feature = "jaeger", feature = "otlp"))]
mod transport;
#[cfg(feature = "zipkin")]
mod zipkin;

pub use console::ConsoleExporter;
pub use in_memory::InMemoryExporter;
#[cfg(feature = "jaeger")]
pub use jaeger::JaegerExporter;
#[cfg(feature = "otlp")]
pub use otlp::OtlpExporter;
#[cfg(feature = "zipkin")]
pub use zipkin::ZipkinExporter;
