//! The settings that run: the config with every set and valid `OTEL_*` variable
//! applied on top, resolved once, in one pure step, by one table.
//!
//! - `fields/`: the table, a file per section. One row per setting: its field path, the variables
//!   that override it (later ones win), what a valid value is, its default, and
//!   whether it is a secret. It drives resolution, `--print-config` and the
//!   README's reference table alike;
//! - `resolve.rs`: config, then environment, row by row, into [`Settings`];
//! - `metrics.rs`: [`MetricsSettings`], and what the metrics take from the
//!   traces' OTLP settings;
//! - `print.rs`: what `--print-config` shows, secrets masked;
//! - `env.rs`: where variables come from (the process, or an explicit map).
//!
//! BentoML's guide promises that `OTEL_*` variables take precedence over the
//! config; the variables are OpenTelemetry's
//! (<https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/>,
//! <https://opentelemetry.io/docs/specs/otel/protocol/exporter/>). The layer, the
//! pipeline and every exporter read only [`Settings`] or their section of it.
//!
//! ```
//! use std::collections::HashMap;
//! use tower_otel_tracing::settings::{Settings, Source};
//! use tower_otel_tracing::TracingConfig;
//!
//! let cfg = TracingConfig { service_name: Some("summarizer".into()), ..Default::default() };
//! let env = HashMap::from([("OTEL_SERVICE_NAME".to_owned(), "summarizer-canary".to_owned())]);
//! let settings = Settings::resolve_with(&cfg, env)?;
//! assert_eq!(settings.service_name, "summarizer-canary");
//! assert_eq!(settings.source("service_name"), Source::Env("OTEL_SERVICE_NAME"));
//! # Ok::<(), tower_otel_tracing::ConfigError>(())
//! ```

mod env;
pub(crate) mod fields;
mod metrics;
mod print;
mod resolve;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::Duration;

use http::{HeaderName, HeaderValue};

use crate::config::redact::{url_credentials, MASK};
use crate::config::{
    Compression, ConfigError, ExcludedUrls, ExporterType, KeepDetail, OtlpProtocol, Propagator,
    Semconv, TracingConfig,
};
pub(crate) use env::Environment;
pub use fields::{fields, Field};
pub use metrics::MetricsSettings;
#[cfg(all(feature = "otlp", not(feature = "otlp-grpc")))]
pub(crate) use resolve::grpc_not_compiled_in;
#[cfg(not(all(feature = "zipkin", feature = "jaeger", feature = "otlp")))]
pub(crate) use resolve::not_compiled_in;

/// The sampler that decides which new requests are recorded
/// (`OTEL_TRACES_SAMPLER` names).
///
/// ```
/// use tower_otel_tracing::settings::{Sampler, Settings};
/// use tower_otel_tracing::TracingConfig;
///
/// let cfg = TracingConfig { sample_rate: Some(0.1), ..Default::default() };
/// let settings = Settings::resolve_with(&cfg, Default::default())?;
/// assert_eq!(settings.sampler, Sampler::ParentBasedTraceIdRatio(0.1));
/// assert_eq!(settings.sampler.to_string(), "parentbased_traceidratio(0.1)");
/// # Ok::<(), tower_otel_tracing::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampler {
    /// Record everything, ignoring the caller's decision.
    AlwaysOn,
    /// Record nothing.
    AlwaysOff,
    /// Record this ratio of traces, ignoring the caller's decision.
    TraceIdRatio(f64),
    /// Follow the caller; record every new trace.
    ParentBasedAlwaysOn,
    /// Follow the caller; record no new trace.
    ParentBasedAlwaysOff,
    /// Follow the caller; record this ratio of new traces (BentoML's `sample_rate`).
    ParentBasedTraceIdRatio(f64),
}

impl fmt::Display for Sampler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sampler::AlwaysOn => f.write_str("always_on"),
            Sampler::AlwaysOff => f.write_str("always_off"),
            Sampler::TraceIdRatio(r) => write!(f, "traceidratio({r})"),
            Sampler::ParentBasedAlwaysOn => f.write_str("parentbased_always_on"),
            Sampler::ParentBasedAlwaysOff => f.write_str("parentbased_always_off"),
            Sampler::ParentBasedTraceIdRatio(r) => write!(f, "parentbased_traceidratio({r})"),
        }
    }
}

/// Batch span processor settings (`OTEL_BSP_*`).
///
/// ```
/// let batch = tower_otel_tracing::settings::BatchSettings::default();
/// assert_eq!(batch.max_queue_size, 2048);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSettings {
    /// Delay between two exports. Default 5 s (500 ms for the console exporter).
    pub schedule_delay: Duration,
    /// Spans buffered before new ones are dropped. Default 2048.
    pub max_queue_size: usize,
    /// Spans per export at most. Default 512 (never more than the queue).
    pub max_export_batch_size: usize,
}

impl Default for BatchSettings {
    fn default() -> Self {
        BatchSettings {
            schedule_delay: Duration::from_millis(5000),
            max_queue_size: 2048,
            max_export_batch_size: 512,
        }
    }
}

/// Which requests the head sampling decision did not pick are exported anyway,
/// decided when they end (`keep_*`, `OTEL_RUST_KEEP_*`).
///
/// ```
/// use tower_otel_tracing::settings::Settings;
/// use tower_otel_tracing::TracingConfig;
///
/// let cfg = TracingConfig { keep_errors: Some(true), ..Default::default() };
/// let keep = Settings::resolve_with(&cfg, Default::default())?.keep;
/// assert!(keep.errors && keep.any());
/// # Ok::<(), tower_otel_tracing::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct KeepSettings {
    /// Keep requests that end with a 5xx, an inner error, a panic or a gRPC error.
    pub errors: bool,
    /// Keep requests that lasted longer than this.
    pub slower_than: Option<Duration>,
    /// What a kept request exports.
    pub detail: KeepDetail,
    /// Keep even when the caller said "not sampled".
    pub despite_caller: bool,
}

impl KeepSettings {
    /// Whether any request can be kept.
    pub fn any(&self) -> bool {
        self.errors || self.slower_than.is_some()
    }
}

/// Where an effective value came from.
///
/// ```
/// use tower_otel_tracing::settings::{Settings, Source};
/// use tower_otel_tracing::TracingConfig;
///
/// let env = [("OTEL_SERVICE_NAME".to_owned(), "api".to_owned())].into();
/// let settings = Settings::resolve_with(&TracingConfig::default(), env)?;
/// assert_eq!(settings.source("service_name"), Source::Env("OTEL_SERVICE_NAME"));
/// assert_eq!(settings.source("timeout"), Source::Default);
/// # Ok::<(), tower_otel_tracing::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Built-in default.
    Default,
    /// The config (a file, or Rust).
    Config,
    /// This environment variable.
    Env(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::Config => f.write_str("config"),
            Source::Env(var) => write!(f, "env {var}"),
        }
    }
}

/// The Zipkin exporter's settings (`zipkin.*`, `OTEL_EXPORTER_ZIPKIN_*`).
///
/// ```
/// use tower_otel_tracing::config::ZipkinConfig;
/// use tower_otel_tracing::settings::Settings;
/// use tower_otel_tracing::TracingConfig;
///
/// let zipkin = ZipkinConfig { local_node_port: Some(31313), ..Default::default() };
/// let cfg = TracingConfig { zipkin, ..Default::default() };
/// let url = "http://zipkin:9411/api/v2/spans";
/// let env = [("OTEL_EXPORTER_ZIPKIN_ENDPOINT".to_owned(), url.to_owned())].into();
/// let zipkin = Settings::resolve_with(&cfg, env)?.zipkin;
/// assert_eq!((zipkin.endpoint.as_str(), zipkin.local_node_port), (url, Some(31313)));
/// # Ok::<(), tower_otel_tracing::ConfigError>(())
/// ```
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct ZipkinSettings {
    /// Collector URL.
    pub endpoint: String,
    /// `localEndpoint.ipv4` of every span.
    pub local_node_ipv4: Option<Ipv4Addr>,
    /// `localEndpoint.ipv6` of every span.
    pub local_node_ipv6: Option<Ipv6Addr>,
    /// `localEndpoint.port` of every span.
    pub local_node_port: Option<u16>,
    /// Time one export may take.
    pub timeout: Duration,
}

/// The Jaeger exporter's settings (`jaeger.*`, `OTEL_EXPORTER_JAEGER_*`).
///
/// ```
/// use std::time::Duration;
/// use tower_otel_tracing::settings::Settings;
/// use tower_otel_tracing::TracingConfig;
///
/// let cfg = TracingConfig { timeout: Some(2.0), ..Default::default() };
/// let env = [("OTEL_EXPORTER_JAEGER_AGENT_HOST".to_owned(), "jaeger-agent".to_owned())].into();
/// let jaeger = Settings::resolve_with(&cfg, env)?.jaeger;
/// assert_eq!((jaeger.agent_host_name.as_str(), jaeger.agent_port), ("jaeger-agent", 6831));
/// assert!(jaeger.collector_endpoint.is_none(), "no collector: batches go to the agent");
/// assert_eq!(jaeger.timeout, Duration::from_secs(2));
/// # Ok::<(), tower_otel_tracing::ConfigError>(())
/// ```
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct JaegerSettings {
    /// When set, batches go to this collector URL and never to the agent.
    pub collector_endpoint: Option<String>,
    /// Agent host.
    pub agent_host_name: String,
    /// Agent UDP port.
    pub agent_port: u16,
    /// Split batches larger than one datagram instead of dropping them.
    pub udp_split_oversized_batches: bool,
    /// Collector basic-auth user.
    pub user: Option<String>,
    /// Collector basic-auth password (never shown).
    pub password: Option<String>,
    /// Time one export may take.
    pub timeout: Duration,
}

/// The OTLP exporter's settings (`otlp.*`, `OTEL_EXPORTER_OTLP_*`).
///
/// ```
/// use tower_otel_tracing::settings::Settings;
/// use tower_otel_tracing::TracingConfig;
///
/// let env = [
///     ("OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(), "http://collector:4318".to_owned()),
///     ("OTEL_EXPORTER_OTLP_HEADERS".to_owned(), "api-key=s3cret".to_owned()),
/// ];
/// let otlp = Settings::resolve_with(&TracingConfig::default(), env.into())?.otlp;
/// // The generic variable is a base URL; the traces path is added.
/// assert_eq!(otlp.endpoint, "http://collector:4318/v1/traces");
/// assert_eq!(otlp.http_headers[0].0, "api-key");
/// assert!(!format!("{otlp:?}").contains("s3cret"));
/// # Ok::<(), tower_otel_tracing::ConfigError>(())
/// ```
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct OtlpSettings {
    /// HTTP or gRPC.
    pub protocol: OtlpProtocol,
    /// The full traces URL.
    pub endpoint: String,
    /// Request body compression.
    pub compression: Compression,
    /// Headers of every HTTP export (values marked sensitive, never shown).
    pub http_headers: Vec<(HeaderName, HeaderValue)>,
    /// Metadata of every gRPC export (values never shown).
    pub grpc_headers: Vec<(HeaderName, HeaderValue)>,
    /// CA certificates trusted for an `https` endpoint.
    pub certificate: Option<Certificate>,
    /// Plaintext gRPC was asked for (only valid with an `http://` endpoint).
    pub insecure: bool,
    /// Time one export may take, retries included.
    pub timeout: Duration,
}

/// A CA certificate file, read once when the settings were resolved.
///
/// ```
/// use tower_otel_tracing::config::{OtlpConfig, OtlpHttpConfig};
/// use tower_otel_tracing::settings::Settings;
/// use tower_otel_tracing::TracingConfig;
///
/// # let path = std::env::temp_dir().join("tower-otel-tracing-doc-certificate.pem");
/// # std::fs::write(&path, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")?;
/// let http = OtlpHttpConfig { certificate_file: Some(path.clone()), ..Default::default() };
/// let otlp = OtlpConfig { http, ..Default::default() };
/// let cfg = TracingConfig { otlp, ..Default::default() };
/// let settings = Settings::resolve_with(&cfg, Default::default())?;
/// let cert = settings.otlp.certificate.ok_or("no certificate")?;
/// assert_eq!(cert.path, path);
/// assert!(cert.pem.starts_with(b"-----BEGIN CERTIFICATE-----"));
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Certificate {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its PEM text.
    pub pem: Vec<u8>,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("path", &self.path)
            .field("pem_bytes", &self.pem.len())
            .finish()
    }
}

/// The effective settings: the config with every set and valid `OTEL_*` variable
/// applied on top. Made by [`Settings::resolve`]; read by the layer, the pipeline
/// and the exporters, nothing else.
///
/// ```
/// use std::collections::HashMap;
/// use tower_otel_tracing::settings::{Sampler, Settings, Source};
/// use tower_otel_tracing::TracingConfig;
///
/// let cfg = TracingConfig { sample_rate: Some(0.5), ..Default::default() };
/// let env = HashMap::from([
///     ("OTEL_TRACES_SAMPLER".to_owned(), "always_on".to_owned()),
///     ("OTEL_TRACES_SAMPLER_ARG".to_owned(), "abc".to_owned()),
/// ]);
/// let settings = Settings::resolve_with(&cfg, env)?;
/// assert_eq!(settings.sampler, Sampler::AlwaysOn);
/// assert_eq!(settings.source("sampler"), Source::Env("OTEL_TRACES_SAMPLER"));
/// assert!(settings.warnings.is_empty(), "ARG is not read by always_on");
/// println!("{settings}");
/// # Ok::<(), tower_otel_tracing::ConfigError>(())
/// ```
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct Settings {
    /// `OTEL_SDK_DISABLED=true`: the layer passes requests through untouched.
    pub disabled: bool,
    /// Where finished spans go.
    pub exporter: ExporterType,
    /// Which requests are recorded.
    pub sampler: Sampler,
    /// Time an exporter may spend on one batch.
    pub timeout: Duration,
    /// String values longer than this many characters are cut.
    pub max_tag_value_length: Option<usize>,
    /// Routes never traced (`None` when no pattern is set).
    pub excluded_urls: Option<ExcludedUrls>,
    /// Resource `service.name`.
    pub service_name: String,
    /// Extra resource attributes (`OTEL_RESOURCE_ATTRIBUTES`, without `service.name`).
    pub resource_attributes: Vec<(String, String)>,
    /// Context propagation formats, in order.
    pub propagators: Vec<Propagator>,
    /// Which HTTP semantic conventions spans carry.
    pub semconv: Semconv,
    /// Which RPC semantic conventions gRPC calls carry (`rpc.*`): the config's
    /// `semconv`, or `rpc`/`rpc/dup` in `OTEL_SEMCONV_STABILITY_OPT_IN`.
    pub rpc_semconv: Semconv,
    /// Which requests the sample rate did not pick are exported anyway.
    pub keep: KeepSettings,
    /// At most this many `http receive` spans, and as many body `http send`
    /// spans, per request; 0: unlimited.
    pub max_frame_spans: usize,
    /// Batch processor settings.
    pub batch: BatchSettings,
    /// The Zipkin exporter's section.
    pub zipkin: ZipkinSettings,
    /// The Jaeger exporter's section.
    pub jaeger: JaegerSettings,
    /// The OTLP exporter's section.
    pub otlp: OtlpSettings,
    /// The HTTP server metrics: where they are pushed, and how.
    pub metrics: MetricsSettings,
    /// One line per ignored variable (or ignored part of a list), naming it (and
    /// its value, unless secret), and one when the metrics endpoint could not
    /// be derived from the traces' one.
    pub warnings: Vec<String>,
    sources: BTreeMap<&'static str, Source>,
}

impl Settings {
    /// Resolves `cfg` against the process environment. The error is the config's
    /// first invalid field; invalid variables are warnings and are ignored.
    ///
    /// ```
    /// use tower_otel_tracing::settings::Settings;
    /// use tower_otel_tracing::TracingConfig;
    ///
    /// let cfg = TracingConfig { sample_rate: Some(0.1), ..Default::default() };
    /// let settings = Settings::resolve(&cfg)?;
    /// // A bad variable in the deployment does not stop the service.
    /// for warning in &settings.warnings {
    ///     eprintln!("{warning}");
    /// }
    /// # Ok::<(), tower_otel_tracing::ConfigError>(())
    /// ```
    pub fn resolve(cfg: &TracingConfig) -> Result<Settings, ConfigError> {
        resolve::resolve(cfg, &Environment::Process)
    }

    /// Resolves `cfg` against exactly these variables.
    pub fn resolve_with(
        cfg: &TracingConfig,
        vars: HashMap<String, String>,
    ) -> Result<Settings, ConfigError> {
        resolve::resolve(cfg, &Environment::Vars(vars))
    }

    pub(crate) fn resolve_from(
        cfg: &TracingConfig,
        env: &Environment,
    ) -> Result<Settings, ConfigError> {
        resolve::resolve(cfg, env)
    }

    /// Where the setting with this key (`sampler`, `zipkin.endpoint`,
    /// `batch.max_queue_size`, ... as in [`fields()`]) came from.
    pub fn source(&self, key: &str) -> Source {
        self.sources.get(key).copied().unwrap_or(Source::Default)
    }
}

impl TracingConfig {
    /// Every check the config's own values must pass (ranges, URLs, headers,
    /// readable certificate files), without looking at the environment.
    ///
    /// ```
    /// use tower_otel_tracing::TracingConfig;
    ///
    /// let err = TracingConfig { sample_rate: Some(1.5), ..Default::default() }
    ///     .validate()
    ///     .unwrap_err();
    /// assert_eq!(err.path(), "tracing.sample_rate");
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        Settings::resolve_with(self, HashMap::new()).map(|_| ())
    }

    /// The ratio of new traces recorded, as configured (default 0).
    ///
    /// ```
    /// use tower_otel_tracing::TracingConfig;
    ///
    /// assert_eq!(TracingConfig::default().effective_sample_rate(), 0.0);
    /// let cfg = TracingConfig { sample_rate: Some(0.25), ..Default::default() };
    /// assert_eq!(cfg.effective_sample_rate(), 0.25);
    /// ```
    pub fn effective_sample_rate(&self) -> f64 {
        self.sample_rate.unwrap_or(fields::DEFAULT_SAMPLE_RATE)
    }

    /// The export timeout, as configured (default 10 s).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_otel_tracing::TracingConfig;
    ///
    /// assert_eq!(TracingConfig::default().effective_timeout(), Duration::from_secs(10));
    /// let cfg = TracingConfig { timeout: Some(2.5), ..Default::default() };
    /// assert_eq!(cfg.effective_timeout(), Duration::from_millis(2500));
    /// ```
    pub fn effective_timeout(&self) -> Duration {
        self.timeout
            .map_or(fields::DEFAULT_TIMEOUT, Duration::from_secs_f64)
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("disabled", &self.disabled)
            .field("exporter", &self.exporter)
            .field("sampler", &self.sampler)
            .field("timeout", &self.timeout)
            .field("max_tag_value_length", &self.max_tag_value_length)
            .field("excluded_urls", &self.excluded_urls)
            .field("service_name", &self.service_name)
            .field("resource_attributes", &self.resource_attributes)
            .field("propagators", &self.propagators)
            .field("semconv", &self.semconv)
            .field("rpc_semconv", &self.rpc_semconv)
            .field("keep", &self.keep)
            .field("max_frame_spans", &self.max_frame_spans)
            .field("batch", &self.batch)
            .field("zipkin", &self.zipkin)
            .field("jaeger", &self.jaeger)
            .field("otlp", &self.otlp)
            .field("metrics", &self.metrics)
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ZipkinSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZipkinSettings")
            .field("endpoint", &url_credentials(&self.endpoint))
            .field("local_node_ipv4", &self.local_node_ipv4)
            .field("local_node_ipv6", &self.local_node_ipv6)
            .field("local_node_port", &self.local_node_port)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl fmt::Debug for JaegerSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JaegerSettings")
            .field(
                "collector_endpoint",
                &self.collector_endpoint.as_deref().map(url_credentials),
            )
            .field("agent_host_name", &self.agent_host_name)
            .field("agent_port", &self.agent_port)
            .field(
                "udp_split_oversized_batches",
                &self.udp_split_oversized_batches,
            )
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| MASK))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Header names with their values masked.
fn masked(headers: &[(HeaderName, HeaderValue)]) -> Vec<(&str, &str)> {
    headers.iter().map(|(n, _)| (n.as_str(), MASK)).collect()
}

impl fmt::Debug for OtlpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpSettings")
            .field("protocol", &self.protocol)
            .field("endpoint", &url_credentials(&self.endpoint))
            .field("compression", &self.compression)
            .field("http_headers", &masked(&self.http_headers))
            .field("grpc_headers", &masked(&self.grpc_headers))
            .field("certificate", &self.certificate)
            .field("insecure", &self.insecure)
            .field("timeout", &self.timeout)
            .finish()
    }
}
