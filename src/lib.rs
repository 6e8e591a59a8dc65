//! BentoML-style OpenTelemetry request tracing for any tower stack (axum, tonic,
//! hyper), in one line:
//!
//! ```
//! use axum::{routing::post, Router};
//! use tower_otel_tracing::{ConfigFormat, TracingConfig, TracingLayer};
//!
//! let cfg = TracingConfig::parse(
//!     "exporter_type: console\nsample_rate: 1.0\nexcluded_urls: readyz",
//!     ConfigFormat::Yaml,
//! )
//! .unwrap();
//! let app: Router = Router::new()
//!     .route("/summarize", post(|text: String| async move { text }))
//!     .layer(TracingLayer::from_config(cfg));
//! ```
//!
//! # Quick start
//! `cargo run --example summarize --features axum`, then
//! `curl -X POST localhost:3000/summarize -d 'some text'`: the spans print on stdout
//! in the OpenTelemetry Collector's debug layout.
//!
//! # What is recorded
//! For a sampled `POST /summarize` with a small body, four spans, as BentoML's
//! ASGI stack records them:
//!
//! | span | kind | attributes |
//! | --- | --- | --- |
//! | `POST /summarize` | SERVER | `http.scheme`, `http.host`, `net.host.port`, `http.flavor`, `http.target`, `http.url`, `http.method`, `http.server_name`, `http.user_agent`, `net.peer.ip`, `net.peer.port`, `http.status_code` |
//! | `POST /summarize http receive` | INTERNAL | `type=http.request` (one per request body frame read) |
//! | `POST /summarize http send` | INTERNAL | `type=http.response.start`, `http.status_code` |
//! | `POST /summarize http send` | INTERNAL | `type=http.response.body` (one per response body frame) |
//!
//! The server span is ERROR for a 5xx status, an inner-service error or a panic
//! (with an `exception` event), and ends when the response body has been sent, or
//! when it is dropped early (then `http.cancelled = true`). `http.url` never carries
//! credentials or signed-URL secrets; no other header values are recorded.
//!
//! # Configuration
//! [`TracingConfig`] has BentoML's fields (`exporter_type`, `sample_rate`, `timeout`,
//! `max_tag_value_length`, `excluded_urls`, `zipkin`, `jaeger`, `otlp`) plus
//! `service_name` and `propagators`, and loads from JSON, YAML or TOML
//! ([`TracingConfig::from_path`]), bare or under a `tracing` key. `sample_rate`
//! defaults to 0, as in BentoML: set it to collect traces. Errors name the file, the
//! field path, the value and what is allowed ([`ConfigError`]).
//!
//! # Environment variables
//! OpenTelemetry's `OTEL_*` variables win over the config when set and valid
//! (`OTEL_SDK_DISABLED`, `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
//! `OTEL_TRACES_SAMPLER[_ARG]`, `OTEL_TRACES_EXPORTER`, `OTEL_PROPAGATORS`, the
//! value-length limits, `OTEL_BSP_*`, the Zipkin, Jaeger and OTLP exporter variables,
//! `OTEL_RUST_EXCLUDED_URLS`); invalid ones are logged and ignored. [`Settings`] is
//! the resolved result, printable with its origins.
//!
//! # Exporters
//! `console` and `in_memory` ([`ConsoleExporter`], [`InMemoryExporter`]) are always
//! there; `zipkin` (Zipkin v2 JSON), `jaeger` (Thrift to the agent over UDP or the
//! collector over HTTP), `otlp` (protobuf over HTTP) and `otlp-grpc` are cargo
//! features. Any `opentelemetry_sdk::trace::SpanExporter` plugs in with
//! [`TracingLayerBuilder::exporter`], a whole provider with
//! [`TracingLayerBuilder::tracer_provider`]. Exports run on the batch processor's
//! own thread with blocking clients (gRPC brings its own runtime), never on a
//! request, and a failing collector only produces log lines.
//!
//! # Frameworks
//! - axum: `.layer(...)` on a `Router`; serve with
//!   `into_make_service_with_connect_info::<ConnectionInfo>()` for the peer and host
//!   addresses (feature `axum`); [`TracingLayerBuilder::route_names`] names spans
//!   after route templates.
//! - tonic: `Server::builder().layer(...)`; gRPC calls get `rpc.*` attributes and
//!   `rpc.grpc.status_code` from `grpc-status` (see `examples/grpc.rs`).
//! - hyper: wrap the per-connection service and insert a [`ConnectionInfo`]
//!   (see `examples/hyper.rs`).
//! - the `tracing` crate: `#[tracing::instrument]` spans nest under the server span
//!   through tracing-opentelemetry (see `examples/tracing_bridge.rs`).
//! - Propagation: W3C trace context and baggage by default; B3 (single and multi
//!   header) and Jaeger (`uber-trace-id`) by config or `OTEL_PROPAGATORS`.
//!
//! # Lifecycle
//! Hold a [`TracingGuard`] from [`TracingLayer::guard`] while serving; dropping it,
//! or calling [`TracingGuard::shutdown`], flushes every queued span. Handlers find
//! their trace in the [`TraceInfo`] request extension and in
//! `opentelemetry::Context::current()`; [`TracingLayerBuilder::trace_id_headers`]
//! returns the ids to clients.
//!
//! # Performance
//! The sampling decision is made before anything else: an unsampled request builds
//! no attributes and no SDK span, only a small context with its trace id. Excluded
//! requests cost one regex-set match. Sampled requests pay for their spans; span
//! ends only enqueue, and exports run off the request path. `benches/` measures
//! both (criterion).
#![warn(missing_docs)]

mod attributes;
mod body;
mod config;
mod connection;
mod decimal;
mod env;
mod error;
mod excluded_urls;
mod exporter;
mod future;
mod grpc;
mod guard;
#[cfg(any(feature = "zipkin", feature = "jaeger", feature = "otlp"))]
mod http_transport;
mod layer;
mod pipeline;
mod propagation;
mod recorded_headers;
mod redact;
mod request_body;
mod request_span;
mod sampler;
mod service;
mod settings;
mod stats;
mod trace_info;
mod truncate;

pub use body::ResponseBody;
pub use config::{
    Compression, ConfigFormat, ExporterType, JaegerConfig, JaegerGrpcConfig, JaegerProtocol,
    JaegerThriftConfig, OtlpConfig, OtlpGrpcConfig, OtlpHttpConfig, OtlpProtocol, TracingConfig,
    ZipkinConfig, DEFAULT_JAEGER_AGENT_HOST, DEFAULT_JAEGER_AGENT_PORT, DEFAULT_OTLP_ENDPOINT,
    DEFAULT_TIMEOUT_SECS, DEFAULT_ZIPKIN_ENDPOINT,
};
pub use connection::ConnectionInfo;
pub use error::ConfigError;
pub use excluded_urls::ExcludedUrls;
#[cfg(feature = "jaeger")]
pub use exporter::JaegerExporter;
#[cfg(feature = "otlp")]
pub use exporter::OtlpExporter;
#[cfg(feature = "zipkin")]
pub use exporter::ZipkinExporter;
pub use exporter::{ConsoleExporter, InMemoryExporter};
pub use future::ResponseFuture;
pub use guard::TracingGuard;
pub use layer::{TracingLayer, TracingLayerBuilder};
pub use propagation::Propagator;
pub use request_body::RequestBody;
pub use service::TracingService;
pub use settings::{BatchSettings, Sampler, Settings, Source};
pub use stats::TracingStats;
pub use trace_info::TraceInfo;

/// The README's Rust examples, compiled as doc tests so they stay true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
