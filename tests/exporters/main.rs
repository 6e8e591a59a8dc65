//! What goes on the wire: each exporter's output decoded with the format's own
//! reference decoder, its settings, and how it reports failures.
//!
//! Modules:
//! - `otlp`: OTLP over HTTP (protobuf, headers, gzip, custom CA, retries) and
//!   gRPC, decoded with opentelemetry-proto (feature `otlp`);
//! - `zipkin`: Zipkin v2 JSON validated against the Zipkin API schema
//!   (feature `zipkin`);
//! - `jaeger`: Jaeger Thrift to the agent (compact, UDP) and the collector
//!   (binary, HTTP), decoded with the `thrift` crate (feature `jaeger`, Unix);
//! - `console`: the console exporter's layout;
//! - `metrics`: the HTTP metrics' pull endpoint, in the Prometheus text format
//!   and OpenMetrics with exemplars, parsed with openmetrics-parser (feature
//!   `axum`);
//! - `metrics_push`: the metrics pushed over OTLP (HTTP and gRPC), decoded
//!   with opentelemetry-proto, cumulative and delta (features `axum`, `otlp`).

#[path = "../common/mod.rs"]
mod common;

mod console;
#[cfg(all(feature = "jaeger", unix))]
mod jaeger;
#[cfg(feature = "axum")]
mod metrics;
#[cfg(all(feature = "axum", feature = "otlp"))]
mod metrics_push;
#[cfg(feature = "otlp")]
mod otlp;
#[cfg(feature = "zipkin")]
mod zipkin;
