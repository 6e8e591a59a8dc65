//! The tracing configuration, in the shape BentoML users already write: what a
//! user types, before anything is resolved. [`crate::settings`] turns it (and the
//! `OTEL_*` environment) into the settings that run.
//!
//! - `mod.rs`: [`TracingConfig`], the top level, and [`ExporterType`];
//! - `zipkin.rs`, `jaeger.rs`, `otlp.rs`: the exporter sections;
//! - `metrics.rs`: [`MetricsConfig`], the HTTP server metrics and their exporter;
//! - `propagator.rs`: [`Propagator`], the context formats by name;
//! - `semconv.rs`: [`Semconv`], which HTTP semantic conventions spans carry;
//! - `excluded_urls.rs`: [`ExcludedUrls`], the routes never traced;
//! - `load.rs`: JSON, YAML and TOML, bare or under `tracing:`;
//! - `validate.rs`: the one check per kind of value (URL, header, port, ...);
//! - `redact.rs`: how secrets are kept out of messages;
//! - `error.rs`: [`ConfigError`].
//!
//! A config usually arrives as text, BentoML's dictionary bare or under `tracing`:
//!
//! ```
//! use tower_otel_tracing::config::{ConfigFormat, ExporterType};
//! use tower_otel_tracing::TracingConfig;
//!
//! let json = r#"{"tracing": {"exporter_type": "console", "sample_rate": 0.25}}"#;
//! let cfg = TracingConfig::parse(json, ConfigFormat::Json)?;
//! assert_eq!(cfg.exporter_type, Some(ExporterType::Console));
//! // Parsing checks types only; ranges, URLs and files are checked here.
//! cfg.validate()?;
//! # Ok::<(), tower_otel_tracing::ConfigError>(())
//! ```

mod error;
mod excluded_urls;
mod jaeger;
mod load;
mod metrics;
mod otlp;
mod propagator;
pub(crate) mod redact;
mod semconv;
pub(crate) mod validate;
mod zipkin;

use serde::{Deserialize, Serialize};

pub use error::{ConfigError, ConfigErrorKind};
pub use excluded_urls::ExcludedUrls;
pub use jaeger::{JaegerConfig, JaegerGrpcConfig, JaegerProtocol, JaegerThriftConfig};
pub use load::ConfigFormat;
pub use metrics::{ExemplarFilter, MetricsConfig, MetricsExporter, MetricsOtlpConfig, Temporality};
pub use otlp::{Compression, OtlpConfig, OtlpGrpcConfig, OtlpHttpConfig, OtlpProtocol};
pub use propagator::Propagator;
pub use semconv::Semconv;
pub use zipkin::ZipkinConfig;

/// Request tracing configuration: BentoML's `tracing` dictionary, plus `service_name`.
///
/// Every field is optional; an empty config traces nothing (`sample_rate` defaults to 0,
/// as in BentoML). Load it from Rust, or from JSON, YAML or TOML, either as the
/// dictionary itself or nested under a top-level `tracing` key.
///
/// ```
/// use tower_otel_tracing::config::{ConfigFormat, ExporterType};
/// use tower_otel_tracing::TracingConfig;
///
/// let yaml = r#"
/// tracing:
///   exporter_type: zipkin
///   sample_rate: 1.0
///   excluded_urls: readyz,livez
///   zipkin:
///     endpoint: http://localhost:9411/api/v2/spans
///     local_node_port: 31313
/// "#;
/// let cfg = TracingConfig::parse(yaml, ConfigFormat::Yaml).unwrap();
/// assert_eq!(cfg.exporter_type, Some(ExporterType::Zipkin));
/// assert_eq!(cfg.zipkin.local_node_port, Some(31313));
/// assert_eq!(cfg.excluded_urls.unwrap().patterns(), ["readyz", "livez"]);
///
/// // The same in Rust:
/// let cfg = TracingConfig {
///     exporter_type: Some(ExporterType::Console),
///     sample_rate: Some(1.0),
///     ..Default::default()
/// };
/// cfg.validate().unwrap();
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TracingConfig {
    /// Which exporter receives finished spans. `None`: spans exist (trace ids are
    /// available to handlers) but go nowhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exporter_type: Option<ExporterType>,
    /// Ratio of new traces that are recorded, in `[0, 1]`. Default 0: nothing is recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<f64>,
    /// Seconds the exporter may spend on one batch. Default 10.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
    /// String attribute values (and string array elements) longer than this many
    /// characters are truncated before export.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tag_value_length: Option<usize>,
    /// Requests whose `scheme://host/path` matches one of these regexes are not traced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excluded_urls: Option<ExcludedUrls>,
    /// Resource `service.name`. Default: the running binary's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    /// Context propagation formats, in order. Default: W3C `tracecontext` and `baggage`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub propagators: Option<Vec<Propagator>>,
    /// Which HTTP semantic conventions spans carry (ours). Default `legacy`:
    /// BentoML's output. `OTEL_SEMCONV_STABILITY_OPT_IN` wins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub semconv: Option<Semconv>,
    /// Also export requests the sample rate did not pick when they end with a 5xx,
    /// an inner-service error, a panic or a gRPC error status (ours). Default false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_errors: Option<bool>,
    /// Also export requests whose server span lasted longer than this many
    /// seconds (ours). Default: none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_slower_than: Option<f64>,
    /// What a kept request exports: the layer's spans (`server`, the default), or
    /// every span of its trace, the handler's included (`full`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_detail: Option<KeepDetail>,
    /// Keep errors and slow requests even when the caller said "not sampled"
    /// (ours). Default false: the caller's decision is respected, and when this
    /// is on, the kept trace holds only this service's part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_despite_caller: Option<bool>,
    /// At most this many `http receive` spans, and as many body `http send` spans,
    /// per request (ours): a long stream (server-sent events, tokens, gRPC
    /// streaming) sends one frame per event, and each would otherwise be a span.
    /// Frames beyond it are still counted in the server span's totals. Default
    /// 1000; 0: unlimited, as in BentoML.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_frame_spans: Option<usize>,
    /// Zipkin exporter settings.
    pub zipkin: ZipkinConfig,
    /// Jaeger exporter settings.
    pub jaeger: JaegerConfig,
    /// OTLP exporter settings.
    pub otlp: OtlpConfig,
    /// HTTP server metrics: where they are pushed, and how.
    pub metrics: MetricsConfig,
}

/// What a request kept by `keep_errors` or `keep_slower_than` exports.
///
/// ```
/// use tower_otel_tracing::config::KeepDetail;
/// let d: KeepDetail = serde_json::from_str("\"full\"").unwrap();
/// assert_eq!(d, KeepDetail::Full);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeepDetail {
    /// The server span and its send/receive children, as a sampled request has them.
    #[default]
    Server,
    /// Every span of the trace, the handler's own included: each unsampled request
    /// records its spans in a bounded buffer, exported only if it is kept.
    Full,
}

impl KeepDetail {
    /// Its name in config files.
    ///
    /// ```
    /// use tower_otel_tracing::config::KeepDetail;
    ///
    /// assert_eq!(KeepDetail::Full.as_str(), "full");
    /// assert_eq!(KeepDetail::default().as_str(), "server");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            KeepDetail::Server => "server",
            KeepDetail::Full => "full",
        }
    }
}

/// The exporter that receives finished spans.
///
/// ```
/// use tower_otel_tracing::config::ExporterType;
///
/// let ty: ExporterType = serde_json::from_str("\"zipkin\"").unwrap();
/// assert_eq!(ty, ExporterType::Zipkin);
/// assert_eq!(ExporterType::InMemory.as_str(), "in_memory");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExporterType {
    /// Zipkin v2 JSON over HTTP.
    Zipkin,
    /// Jaeger Thrift, to the agent over UDP or the collector over HTTP.
    Jaeger,
    /// OTLP protobuf over HTTP.
    Otlp,
    /// Prints spans to stdout in the OpenTelemetry Collector debug-exporter layout.
    Console,
    /// Keeps spans in memory, for tests.
    InMemory,
    /// Spans are created but not exported.
    None,
}

impl ExporterType {
    /// The name used in config files and `OTEL_TRACES_EXPORTER`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExporterType::Zipkin => "zipkin",
            ExporterType::Jaeger => "jaeger",
            ExporterType::Otlp => "otlp",
            ExporterType::Console => "console",
            ExporterType::InMemory => "in_memory",
            ExporterType::None => "none",
        }
    }
}
