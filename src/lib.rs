//! BentoML-style OpenTelemetry request tracing for any tower stack, in one line:
//!
//! ```
//! use axum::{routing::post, Router};
//! use tower_otel_tracing::{TracingConfig, TracingLayer};
//!
//! let cfg = TracingConfig::parse(
//!     "exporter_type: console\nsample_rate: 1.0\nexcluded_urls: readyz",
//!     tower_otel_tracing::ConfigFormat::Yaml,
//! )
//! .unwrap();
//! let app: Router = Router::new()
//!     .route("/summarize", post(|text: String| async move { text }))
//!     .layer(TracingLayer::from_config(cfg));
//! ```
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
//! when it is dropped early (then `http.cancelled = true`).
//!
//! # Configuration
//! [`TracingConfig`] has BentoML's fields (`exporter_type`, `sample_rate`, `timeout`,
//! `max_tag_value_length`, `excluded_urls`, `zipkin`, `jaeger`, `otlp`) plus
//! `service_name`, and loads from JSON, YAML or TOML ([`TracingConfig::from_path`]).
//! `sample_rate` defaults to 0, as in BentoML: set it to collect traces.
//!
//! # Lifecycle
//! Hold a [`TracingGuard`] from [`TracingLayer::guard`] while serving; dropping it,
//! or calling [`TracingGuard::shutdown`], flushes every queued span.
//!
//! # Peer and host addresses
//! `net.peer.*` and `http.host`/`net.host.port` come from a [`ConnectionInfo`] in the
//! request extensions. With the `axum` feature, serve with
//! `app.into_make_service_with_connect_info::<ConnectionInfo>()`.
#![warn(missing_docs)]

mod attributes;
mod body;
mod config;
mod connection;
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
mod request_body;
mod request_span;
mod sampler;
mod service;
mod settings;
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
pub use trace_info::TraceInfo;

/// The README's Rust examples, compiled as doc tests so they stay true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
