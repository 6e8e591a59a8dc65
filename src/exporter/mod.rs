//! Exporters: the last stage, finished spans to one wire format each. Every
//! exporter is a self-contained module behind one trait (`Export`, in
//! `export.rs`), built from its own section of
//! [`Settings`](crate::settings::Settings). They hold encoders and transports
//! only: what they encode is the span model of `record/spans/`, read through
//! its views.
//!
//! - `console.rs`, `in_memory.rs`: always there (the quick start, tests);
//! - `zipkin/` (feature `zipkin`): Zipkin v2 JSON over HTTP;
//! - `jaeger/` (feature `jaeger`): Jaeger Thrift to the agent (UDP) or collector (HTTP);
//! - `otlp/` (feature `otlp`, gRPC with `otlp-grpc`): OTLP protobuf;
//! - `tags.rs`: the mapping Zipkin and Jaeger share (status, scope, resource);
//! - `per_scope.rs`, `body_size.rs`: what the encoders share (per-scope
//!   values of a batch, a body's size from the last one);
//! - `transport.rs`: the one blocking HTTP client the HTTP exporters post through;
//! - `metrics_push/`: the HTTP metrics' push (`metrics.exporter`: OTLP over
//!   the same transports, or the console), on its own thread, behind its own
//!   trait (`PushExporter`): it reads the instruments of `metrics/`.
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

#[cfg(any(feature = "zipkin", feature = "jaeger", feature = "otlp"))]
mod body_size;
mod console;
mod export;
mod in_memory;
#[cfg(feature = "jaeger")]
mod jaeger;
pub(crate) mod metrics_push;
#[cfg(feature = "otlp")]
pub(crate) mod otlp;
#[cfg(any(feature = "zipkin", feature = "jaeger", feature = "otlp"))]
// `get` serves Jaeger and Zipkin, `iter` OTLP.
#[cfg_attr(not(all(feature = "jaeger", feature = "otlp")), allow(dead_code))]
mod per_scope;
#[cfg(any(feature = "zipkin", feature = "jaeger"))]
mod tags;
#[cfg(any(feature = "zipkin", feature = "jaeger", feature = "otlp"))]
mod transport;
#[cfg(feature = "zipkin")]
mod zipkin;

pub use console::ConsoleExporter;
pub(crate) use console::Timestamp;
pub(crate) use export::{Export, SdkExporter};
pub use in_memory::InMemoryExporter;
#[cfg(feature = "jaeger")]
pub use jaeger::JaegerExporter;
#[cfg(feature = "otlp")]
pub use otlp::OtlpExporter;
#[cfg(feature = "zipkin")]
pub use zipkin::ZipkinExporter;
