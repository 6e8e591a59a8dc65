//! # Layout
//! BentoML-style OpenTelemetry request tracing for any tower stack (axum, tonic,
//! hyper). The modules follow a request's data, from the request to the wire:
//!
//! ```text
//!  request ──> layer ──────> record ─────────────> pipeline ─────> exporter ──> wire
//!  ConnectionInfo  TracingLayer  live: the record      sampler           zipkin/   JSON
//!  TraceInfo       decision      as it runs            batch processor   jaeger/   Thrift
//!                  future        build: record         keep buffer       otlp/     protobuf
//!                  bodies          -> spans            truncation        console   text
//!                                spans: what every     stats
//!                                  consumer reads
//!        ▲             ▲              ▲                     ▲
//!        │             └─ conventions: names and attributes │
//!        └── config ──> settings ───────────────────────────┘
//!            TracingConfig  one table of settings, resolved once (config, then OTEL_*)
//! ```
//!
//! - `request`: what the layer reads from a request ([`ConnectionInfo`]) and adds
//!   to it ([`TraceInfo`]).
//! - [`layer`]: the tower layer, the per-request decision, the future and bodies.
//! - `record`: the heart of the crate. A recorded request is a compact record
//!   written on the request's threads (`record/live/`: clock ticks and facts,
//!   no attributes), handed at its end to the pipeline, and described as its
//!   spans only there (`record/build/`), into the one span model every consumer
//!   reads (`record/spans/`).
//! - `conventions`: what spans say, as BentoML's stack and the stable
//!   OpenTelemetry conventions name and describe them.
//! - [`pipeline`]: sampling, the batch processor, the keep buffer, accounting,
//!   truncation, and the [`Pipeline`](pipeline::Pipeline) handle.
//! - [`exporter`]: one module per wire format behind one trait: encoders and
//!   transports only.
//! - [`config`] and [`settings`]: what users write, and what runs.
//! - [`propagation`]: the caller's trace in and out of headers (W3C Trace Context
//!   Level 2, B3, Jaeger).
//! - [`client`]: outgoing calls (the other end of propagation), and `logs`
//!   (feature `logs`): trace ids on log lines.
//! - [`viewer`] (feature `viewer`, on by default): the embedded trace viewer,
//!   fed by a tee beside the exporter.
//!
//! Two fast paths keep tracing cheap. **The layer decides sampling itself**,
//! before any SDK span exists (`layer/decision.rs`, with the policy in
//! `pipeline/sampler.rs`): an unsampled request builds no attributes and no span,
//! only a small context with its trace id. **A sampled request is a record**:
//! its frames are clock ticks written as they happen, and when it ends the
//! record itself goes to the batch processor through a lock-free queue
//! (`pipeline/batch.rs`), where its server span and `http send`/`http receive`
//! children are described, on the export thread; the handler's context holds
//! a handle that takes its writes to the server span into the record.
//!
//! Behaviour comes from the OpenTelemetry specifications where BentoML's is
//! silent: [trace SDK](https://opentelemetry.io/docs/specs/otel/trace/sdk/),
//! [environment variables](https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/),
//! [propagators](https://opentelemetry.io/docs/specs/otel/context/api-propagators/),
//! [HTTP semantic conventions](https://opentelemetry.io/docs/specs/semconv/http/).
//!
//! # Quick start
//! One line traces every request of a router:
//!
//! ```
//! use axum::{routing::post, Router};
//! use tower_otel_tracing::config::ConfigFormat;
//! use tower_otel_tracing::{TracingConfig, TracingLayer};
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
//! `cargo run --example summarize --features axum,logs`, then
//! `curl -X POST localhost:3000/summarize -d 'some text'`: the spans print on stdout
//! in the OpenTelemetry Collector's debug layout.
//!
//! # What is recorded
//! For a sampled `POST /summarize` with a small body, four spans, as BentoML's
//! ASGI stack records them:
//!
//! | span | kind | attributes |
//! | --- | --- | --- |
//! | `POST /summarize` | SERVER | `http.scheme`, `http.host`, `net.host.port`, `http.flavor`, `http.target`, `http.url`, `http.method`, `http.server_name`, `http.user_agent`, `net.peer.ip`, `net.peer.port`, `http.status_code`; ours: `tower_otel_tracing.{request,response}.{frames,bytes}` |
//! | `POST /summarize http receive` | INTERNAL | `type=http.request` (one per request body frame read) |
//! | `POST /summarize http send` | INTERNAL | `type=http.response.start`, `http.status_code` |
//! | `POST /summarize http send` | INTERNAL | `type=http.response.body` (one per response body frame) |
//!
//! The server span is ERROR for a 5xx status, an inner-service error or a panic
//! (with an `exception` event), and ends when the response body has been sent, or
//! when it is dropped early (then `http.cancelled = true`, or
//! `tower_otel_tracing.cancelled` with the stable conventions). `http.url` never carries
//! credentials or signed-URL secrets; no other header values are recorded.
//! A long stream gets at most `max_frame_spans` (default 1000) frame spans each
//! way; the totals attributes count every frame and byte.
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
//! `OTEL_RUST_EXCLUDED_URLS`); invalid ones are logged and ignored.
//! [`Settings`](settings::Settings) is the resolved result, printable with its
//! origins; [`settings::fields()`] lists every setting with its variables.
//!
//! # Exporters
//! `console` and `in_memory` ([`exporter::ConsoleExporter`],
//! [`exporter::InMemoryExporter`]) are always
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
//!   their status from `grpc-status`, under the keys of the RPC conventions in
//!   use (see `examples/grpc.rs`).
//! - hyper: wrap the per-connection service and insert a [`ConnectionInfo`]
//!   (see `examples/hyper.rs`).
//! - the `tracing` crate: `#[tracing::instrument]` spans nest under the server span
//!   through tracing-opentelemetry (see `examples/tracing_bridge.rs`).
//! - Propagation: W3C trace context and baggage by default; B3 (single and multi
//!   header) and Jaeger (`uber-trace-id`) by config or `OTEL_PROPAGATORS`.
//!
//! # Lifecycle
//! Hold a [`TracingGuard`] from [`TracingLayer::guard`] while serving; dropping it,
//! or calling [`TracingGuard::shutdown`], flushes every queued span.
//! [`TracingLayer::pipeline`] is the handle for flushing, stats and the tracer
//! provider (the guard derefs to it). Handlers find
//! their trace in the [`TraceInfo`] request extension and in
//! `opentelemetry::Context::current()`; [`TracingLayerBuilder::trace_id_headers`]
//! returns the ids to clients.
//!
//! # Performance
//! The sampling decision is made before anything else: an unsampled request builds
//! no attributes and no SDK span, only a small context with its trace id. Excluded
//! requests cost one regex-set match. Sampled requests pay for their spans; span
//! ends only enqueue, and exports run off the request path. `benches/peers`
//! measures every path beside the other tower tracing layers (BENCHMARKS.md).
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod civil_date;
pub mod client;
mod clock;
pub mod config;
mod conventions;
pub mod exporter;
pub mod layer;
#[cfg(feature = "logs")]
pub mod logs;
pub mod metrics;
pub mod pipeline;
pub mod propagation;
mod record;
mod request;
pub mod settings;
mod text;
#[cfg(feature = "viewer")]
pub mod viewer;

pub use config::{ConfigError, TracingConfig};
pub use layer::{TracingLayer, TracingLayerBuilder};
pub use pipeline::TracingGuard;
pub use request::{ConnectionInfo, TraceInfo};

/// The README's Rust examples, compiled as doc tests so they stay true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
