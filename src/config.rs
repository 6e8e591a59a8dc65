//! The tracing configuration, in the shape BentoML users already write.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::excluded_urls::ExcludedUrls;
use crate::propagation::Propagator;
use crate::redact::{self, MaskedHeaders, MaskedUrl};

/// Default for [`TracingConfig::timeout`], in seconds.
pub const DEFAULT_TIMEOUT_SECS: f64 = 10.0;
/// Default Zipkin v2 collector URL.
pub const DEFAULT_ZIPKIN_ENDPOINT: &str = "http://localhost:9411/api/v2/spans";
/// Default OTLP/HTTP traces URL.
pub const DEFAULT_OTLP_ENDPOINT: &str = "http://localhost:4318/v1/traces";
/// Default Jaeger agent host.
pub const DEFAULT_JAEGER_AGENT_HOST: &str = "localhost";
/// Default Jaeger agent (compact Thrift over UDP) port.
pub const DEFAULT_JAEGER_AGENT_PORT: u16 = 6831;

/// Request tracing configuration: BentoML's `tracing` dictionary, plus `service_name`.
///
/// Every field is optional; an empty config traces nothing (`sample_rate` defaults to 0,
/// as in BentoML). Load it from Rust, or from JSON, YAML or TOML, either as the
/// dictionary itself or nested under a top-level `tracing` key.
///
/// ```
/// use tower_otel_tracing::{ConfigFormat, ExporterType, TracingConfig};
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
    /// Zipkin exporter settings.
    pub zipkin: ZipkinConfig,
    /// Jaeger exporter settings.
    pub jaeger: JaegerConfig,
    /// OTLP exporter settings.
    pub otlp: OtlpConfig,
}

/// The exporter that receives finished spans.
///
/// ```
/// use tower_otel_tracing::ExporterType;
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

/// `zipkin` section.
///
/// ```
/// let mut cfg = tower_otel_tracing::TracingConfig::default();
/// cfg.zipkin.local_node_ipv4 = Some("192.168.0.1".parse().unwrap());
/// cfg.zipkin.local_node_port = Some(31313);
/// ```
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ZipkinConfig {
    /// Collector URL. Default [`DEFAULT_ZIPKIN_ENDPOINT`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// `localEndpoint.ipv4` of every span.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "ipv4")]
    pub local_node_ipv4: Option<Ipv4Addr>,
    /// `localEndpoint.ipv6` of every span.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "ipv6")]
    pub local_node_ipv6: Option<Ipv6Addr>,
    /// `localEndpoint.port` of every span.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_node_port: Option<u16>,
}

/// `jaeger` section.
///
/// ```
/// let mut cfg = tower_otel_tracing::TracingConfig::default();
/// cfg.jaeger.collector_endpoint = Some("http://localhost:14268/api/traces".into());
/// ```
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JaegerConfig {
    /// Wire protocol. Default `thrift`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<JaegerProtocol>,
    /// When set, batches are POSTed here and never sent to the agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collector_endpoint: Option<String>,
    /// Agent settings.
    pub thrift: JaegerThriftConfig,
    /// Accepted so BentoML configs load.
    pub grpc: JaegerGrpcConfig,
}

/// Jaeger wire protocol.
///
/// ```
/// use tower_otel_tracing::JaegerProtocol;
/// let p: JaegerProtocol = serde_json::from_str("\"thrift\"").unwrap();
/// assert_eq!(p, JaegerProtocol::Thrift);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JaegerProtocol {
    /// Thrift: compact over UDP to the agent, binary over HTTP to the collector.
    Thrift,
    /// Jaeger's gRPC API.
    Grpc,
}

/// `jaeger.thrift` section.
///
/// ```
/// let mut cfg = tower_otel_tracing::TracingConfig::default();
/// cfg.jaeger.thrift.udp_split_oversized_batches = Some(true);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JaegerThriftConfig {
    /// Agent host. Default `localhost`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_host_name: Option<String>,
    /// Agent UDP port. Default 6831.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_port: Option<u16>,
    /// Split batches larger than one UDP datagram instead of dropping them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub udp_split_oversized_batches: Option<bool>,
}

/// `jaeger.grpc` section.
///
/// ```
/// let mut cfg = tower_otel_tracing::TracingConfig::default();
/// cfg.jaeger.grpc.insecure = Some(true);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JaegerGrpcConfig {
    /// Plaintext gRPC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
}

/// `otlp` section.
///
/// ```
/// let mut cfg = tower_otel_tracing::TracingConfig::default();
/// cfg.otlp.endpoint = Some("http://collector:4318/v1/traces".into());
/// cfg.otlp.compression = Some(tower_otel_tracing::Compression::Gzip);
/// ```
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OtlpConfig {
    /// Transport. Default `http`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<OtlpProtocol>,
    /// Full traces URL, used as given. Default [`DEFAULT_OTLP_ENDPOINT`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Request body compression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<Compression>,
    /// HTTP transport settings.
    pub http: OtlpHttpConfig,
    /// gRPC transport settings.
    pub grpc: OtlpGrpcConfig,
}

/// OTLP transport.
///
/// ```
/// use tower_otel_tracing::OtlpProtocol;
/// let p: OtlpProtocol = serde_json::from_str("\"grpc\"").unwrap();
/// assert_eq!(p, OtlpProtocol::Grpc);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OtlpProtocol {
    /// Protobuf over HTTP.
    Http,
    /// gRPC.
    Grpc,
}

/// Export request compression.
///
/// ```
/// use tower_otel_tracing::Compression;
/// let c: Compression = serde_json::from_str("\"gzip\"").unwrap();
/// assert_eq!(c, Compression::Gzip);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    /// gzip.
    Gzip,
    /// No compression.
    None,
}

/// `otlp.http` section.
///
/// ```
/// let mut cfg = tower_otel_tracing::TracingConfig::default();
/// cfg.otlp.http.headers = Some([("x-api-key".to_owned(), "secret".to_owned())].into());
/// ```
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OtlpHttpConfig {
    /// PEM file with the CA certificate(s) trusted for an `https` endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_file: Option<PathBuf>,
    /// Extra headers on every export request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
}

/// `otlp.grpc` section.
///
/// ```
/// let mut cfg = tower_otel_tracing::TracingConfig::default();
/// cfg.otlp.grpc.insecure = Some(true);
/// ```
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OtlpGrpcConfig {
    /// Extra gRPC metadata on every export call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
    /// Plaintext gRPC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
}

// `Debug` by hand where secrets live: URL credentials and header values are masked.
impl fmt::Debug for ZipkinConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZipkinConfig")
            .field("endpoint", &MaskedUrl(&self.endpoint))
            .field("local_node_ipv4", &self.local_node_ipv4)
            .field("local_node_ipv6", &self.local_node_ipv6)
            .field("local_node_port", &self.local_node_port)
            .finish()
    }
}

impl fmt::Debug for JaegerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JaegerConfig")
            .field("protocol", &self.protocol)
            .field("collector_endpoint", &MaskedUrl(&self.collector_endpoint))
            .field("thrift", &self.thrift)
            .field("grpc", &self.grpc)
            .finish()
    }
}

impl fmt::Debug for OtlpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpConfig")
            .field("protocol", &self.protocol)
            .field("endpoint", &MaskedUrl(&self.endpoint))
            .field("compression", &self.compression)
            .field("http", &self.http)
            .field("grpc", &self.grpc)
            .finish()
    }
}

impl fmt::Debug for OtlpHttpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpHttpConfig")
            .field("certificate_file", &self.certificate_file)
            .field("headers", &MaskedHeaders(&self.headers))
            .finish()
    }
}

impl fmt::Debug for OtlpGrpcConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpGrpcConfig")
            .field("headers", &MaskedHeaders(&self.headers))
            .field("insecure", &self.insecure)
            .finish()
    }
}

/// The syntax of a configuration text.
///
/// ```
/// use tower_otel_tracing::ConfigFormat;
/// assert_eq!(ConfigFormat::from_extension("YML"), Some(ConfigFormat::Yaml));
/// assert_eq!(ConfigFormat::from_extension("ini"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigFormat {
    /// JSON.
    Json,
    /// YAML (feature `yaml`, on by default).
    Yaml,
    /// TOML (feature `toml`, on by default).
    Toml,
}

impl ConfigFormat {
    /// The format a file extension names (`json`, `yaml`, `yml`, `toml`), case-insensitively.
    pub fn from_extension(ext: &str) -> Option<Self> {
        match ext.to_ascii_lowercase().as_str() {
            "json" => Some(ConfigFormat::Json),
            "yaml" | "yml" => Some(ConfigFormat::Yaml),
            "toml" => Some(ConfigFormat::Toml),
            _ => None,
        }
    }
}

/// The top-level key under which the tracing dictionary may be nested.
const ROOT: &str = "tracing";

impl TracingConfig {
    /// Reads a config file, choosing the syntax by extension (`.json`, `.yaml`/`.yml`, `.toml`).
    /// The error names the file.
    ///
    /// ```no_run
    /// let cfg = tower_otel_tracing::TracingConfig::from_path("tracing.yaml")?;
    /// # Ok::<(), tower_otel_tracing::ConfigError>(())
    /// ```
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let format = path
            .extension()
            .and_then(|e| e.to_str())
            .and_then(ConfigFormat::from_extension)
            .ok_or_else(|| {
                ConfigError::new(
                    "",
                    "unknown config file extension: expected .json, .yaml, .yml or .toml",
                )
                .in_file(path)
            })?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new("", format!("cannot read file: {e}")).in_file(path))?;
        TracingConfig::parse(&text, format).map_err(|e| e.in_file(path))
    }

    /// Parses a config text: the tracing dictionary itself, or a document with a
    /// top-level `tracing` key (other top-level keys are then left to their owners).
    /// Syntax and type errors name the field path; call [`validate`](Self::validate)
    /// for range checks.
    pub fn parse(text: &str, format: ConfigFormat) -> Result<Self, ConfigError> {
        match format {
            ConfigFormat::Json => {
                let value: serde_json::Value = serde_json::from_str(text)
                    .map_err(|e| ConfigError::new("", format!("JSON syntax error: {e}")))?;
                let nested = value.as_object().is_some_and(|m| m.contains_key(ROOT));
                let value = match value {
                    serde_json::Value::Object(mut m) if nested => {
                        m.remove(ROOT).unwrap_or_default()
                    }
                    other => other,
                };
                deserialize_at_root(value)
            }
            #[cfg(feature = "yaml")]
            ConfigFormat::Yaml => {
                let value: serde_norway::Value = serde_norway::from_str(text)
                    .map_err(|e| ConfigError::new("", format!("YAML syntax error: {e}")))?;
                let value = match value {
                    serde_norway::Value::Mapping(mut m) if m.contains_key(ROOT) => {
                        m.remove(ROOT).unwrap_or_default()
                    }
                    // An empty YAML document means "all defaults".
                    serde_norway::Value::Null => serde_norway::Value::Mapping(Default::default()),
                    other => other,
                };
                deserialize_at_root(value)
            }
            #[cfg(feature = "toml")]
            ConfigFormat::Toml => {
                let mut table: toml::Table = toml::from_str(text)
                    .map_err(|e| ConfigError::new("", format!("TOML syntax error: {e}")))?;
                let value = match table.remove(ROOT) {
                    Some(inner) => inner,
                    None => toml::Value::Table(table),
                };
                deserialize_at_root(value)
            }
            #[allow(unreachable_patterns)]
            other => Err(ConfigError::new(
                "",
                format!("{other:?} config support is not compiled in: enable the cargo feature"),
            )),
        }
    }

    /// Range and consistency checks that types alone cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(rate) = self.sample_rate {
            if !(0.0..=1.0).contains(&rate) {
                return Err(ConfigError::invalid(
                    "tracing.sample_rate",
                    rate,
                    "a number from 0 to 1",
                ));
            }
        }
        if let Some(t) = self.timeout {
            if !(t.is_finite() && t > 0.0 && t <= 86_400.0) {
                return Err(ConfigError::invalid(
                    "tracing.timeout",
                    t,
                    "a number of seconds greater than 0 (at most one day)",
                ));
            }
        }
        if self.max_tag_value_length == Some(0) {
            return Err(ConfigError::invalid(
                "tracing.max_tag_value_length",
                0,
                "a positive number of characters",
            ));
        }
        if let Some(name) = &self.service_name {
            if name.trim().is_empty() {
                return Err(ConfigError::invalid(
                    "tracing.service_name",
                    format!("{name:?}"),
                    "a non-empty name",
                ));
            }
        }
        validate_url("tracing.zipkin.endpoint", self.zipkin.endpoint.as_deref())?;
        validate_url(
            "tracing.jaeger.collector_endpoint",
            self.jaeger.collector_endpoint.as_deref(),
        )?;
        if let Some(host) = &self.jaeger.thrift.agent_host_name {
            if host.trim().is_empty() || host.contains(char::is_whitespace) {
                return Err(ConfigError::invalid(
                    "tracing.jaeger.thrift.agent_host_name",
                    format!("{host:?}"),
                    "a host name or IP address",
                ));
            }
        }
        if self.jaeger.thrift.agent_port == Some(0) {
            return Err(ConfigError::invalid(
                "tracing.jaeger.thrift.agent_port",
                0,
                "a port from 1 to 65535",
            ));
        }
        validate_url("tracing.otlp.endpoint", self.otlp.endpoint.as_deref())?;
        validate_headers("tracing.otlp.http.headers", self.otlp.http.headers.as_ref())?;
        validate_headers("tracing.otlp.grpc.headers", self.otlp.grpc.headers.as_ref())?;
        if let Some(file) = &self.otlp.http.certificate_file {
            if let Err(e) = std::fs::File::open(file) {
                return Err(ConfigError::new(
                    "tracing.otlp.http.certificate_file",
                    format!("cannot read `{}`: {e}", file.display()),
                ));
            }
        }
        Ok(())
    }

    /// The ratio of new traces recorded (default 0).
    pub fn effective_sample_rate(&self) -> f64 {
        self.sample_rate.unwrap_or(0.0)
    }

    /// The export timeout (default 10 s).
    pub fn effective_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout.unwrap_or(DEFAULT_TIMEOUT_SECS))
    }
}

fn deserialize_at_root<'de, D: serde::Deserializer<'de>>(
    de: D,
) -> Result<TracingConfig, ConfigError>
where
    D::Error: std::fmt::Display,
{
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." || path.is_empty() {
            ROOT.to_owned()
        } else {
            format!("{ROOT}.{path}")
        };
        let mut message = e.into_inner().to_string();
        if is_header_value_path(&path) {
            // serde quotes the offending value between backticks: a secret here.
            message = hide_quoted(&message);
        }
        ConfigError::new(path, message)
    })
}

/// `tracing.otlp.{http,grpc}.headers.<name>`: where header values (API keys) live.
fn is_header_value_path(path: &str) -> bool {
    ["tracing.otlp.http.headers.", "tracing.otlp.grpc.headers."]
        .iter()
        .any(|prefix| path.starts_with(prefix))
}

fn hide_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for (i, part) in message.split('`').enumerate() {
        out.push_str(if i % 2 == 1 {
            "(value not shown)"
        } else {
            part
        });
    }
    out
}

fn ipv4<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<Ipv4Addr>, D::Error> {
    parse_with(de, "an IPv4 address like 192.168.0.1")
}

fn ipv6<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<Ipv6Addr>, D::Error> {
    parse_with(de, "an IPv6 address like 2001:db8::c001")
}

/// Parses a string field with `FromStr`, keeping the offending text in the error
/// (std's address parse errors do not repeat it).
fn parse_with<'de, D, T>(de: D, expected: &str) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
{
    let text = String::deserialize(de)?;
    text.trim().parse().map(Some).map_err(|_| {
        serde::de::Error::custom(format!("invalid value `{text}`: expected {expected}"))
    })
}

/// An absolute `http://` or `https://` URL with a host.
pub(crate) fn is_http_url(url: &str) -> bool {
    url.parse::<http::Uri>().ok().is_some_and(|u| {
        matches!(u.scheme_str(), Some("http" | "https"))
            && u.authority().is_some_and(|a| !a.host().is_empty())
    })
}

fn validate_url(path: &str, url: Option<&str>) -> Result<(), ConfigError> {
    let Some(url) = url else { return Ok(()) };
    if is_http_url(url) {
        Ok(())
    } else {
        Err(ConfigError::invalid(
            path,
            redact::url_credentials(url),
            "an absolute http:// or https:// URL with a host",
        ))
    }
}

fn validate_headers(
    path: &str,
    headers: Option<&BTreeMap<String, String>>,
) -> Result<(), ConfigError> {
    for (name, value) in headers.into_iter().flatten() {
        // Values are secrets (API keys): the error says why, never what.
        if let Some(problem) =
            redact::header_name_problem(name).or_else(|| redact::header_value_problem(value))
        {
            return Err(ConfigError::new(format!("{path}.{name}"), problem));
        }
    }
    Ok(())
}
