//! The `metrics` section: the HTTP server metrics, where they are pushed, and
//! the OTLP exporter's settings for them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::redact::{MaskedHeaders, MaskedUrl};
use super::OtlpProtocol;

/// The `metrics` section, in BentoML's style.
///
/// Every field is optional. The OTLP settings start from the traces' (`otlp`),
/// so a config that already sends traces to a collector only has to name the
/// exporter:
///
/// ```
/// use tower_otel_tracing::config::{ConfigFormat, ExemplarFilter, MetricsExporter};
/// use tower_otel_tracing::TracingConfig;
///
/// let yaml = r#"
/// tracing:
///   exporter_type: otlp
///   otlp:
///     endpoint: http://collector:4318/v1/traces
///   metrics:
///     exporter: otlp
///     interval: 15
///     exemplar_filter: always_on
/// "#;
/// let cfg = TracingConfig::parse(yaml, ConfigFormat::Yaml)?;
/// assert_eq!(cfg.metrics.exporter, Some(MetricsExporter::Otlp));
/// assert_eq!(cfg.metrics.interval, Some(15.0));
/// assert_eq!(cfg.metrics.exemplar_filter, Some(ExemplarFilter::AlwaysOn));
/// # Ok::<(), tower_otel_tracing::ConfigError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Where metrics are pushed: `otlp`, `console`, `prometheus` or `none` (the
    /// default). The pull endpoint serves them whatever this says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exporter: Option<MetricsExporter>,
    /// Seconds between two pushes, greater than 0. Default 60.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<f64>,
    /// Which measurements may become exemplars. Default `trace_based`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exemplar_filter: Option<ExemplarFilter>,
    /// Write `server.address` and `server.port` on the HTTP server metrics.
    /// Default false: the conventions make them opt-in, since every host name
    /// a client sends would become a series of its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_address: Option<bool>,
    /// The OTLP exporter's settings for metrics, over the traces' `otlp` ones.
    pub otlp: MetricsOtlpConfig,
}

/// `metrics.otlp` section: what differs from the traces' `otlp` settings.
/// A field left out takes the traces' value.
///
/// ```
/// use tower_otel_tracing::config::{MetricsOtlpConfig, Temporality};
///
/// let otlp = MetricsOtlpConfig {
///     endpoint: Some("http://collector:4318/v1/metrics".into()),
///     headers: Some([("x-api-key".to_owned(), "s3cret".to_owned())].into()),
///     temporality: Some(Temporality::Delta),
///     ..Default::default()
/// };
/// // Header values are secrets: `Debug` shows the names only.
/// let shown = format!("{otlp:?}");
/// assert!(shown.contains("x-api-key") && !shown.contains("s3cret"));
/// ```
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsOtlpConfig {
    /// Full metrics URL, used as given, e.g. `http://collector:4318/v1/metrics`.
    /// Default: derived from the traces' endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Transport. Default: the traces'.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<OtlpProtocol>,
    /// Extra headers (gRPC metadata) on every export. Default: the traces'.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
    /// Seconds one export may take, greater than 0. Default: the traces'.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
    /// How sums and histograms are reported. Default `cumulative`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temporality: Option<Temporality>,
}

impl fmt::Debug for MetricsOtlpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsOtlpConfig")
            .field("endpoint", &MaskedUrl(&self.endpoint))
            .field("protocol", &self.protocol)
            .field("headers", &MaskedHeaders(&self.headers))
            .field("timeout", &self.timeout)
            .field("temporality", &self.temporality)
            .finish()
    }
}

/// Where metrics are pushed (`OTEL_METRICS_EXPORTER` names).
///
/// ```
/// use tower_otel_tracing::config::MetricsExporter;
///
/// let e: MetricsExporter = serde_json::from_str("\"prometheus\"").unwrap();
/// assert_eq!(e, MetricsExporter::Prometheus);
/// assert_eq!(e.as_str(), "prometheus");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricsExporter {
    /// OTLP, over the transport of `metrics.otlp.protocol`.
    Otlp,
    /// Printed on stdout.
    Console,
    /// Nothing is pushed: a Prometheus server scrapes the pull endpoint.
    Prometheus,
    /// Nothing is pushed.
    None,
}

impl MetricsExporter {
    /// Its name in config files and `OTEL_METRICS_EXPORTER`.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricsExporter::Otlp => "otlp",
            MetricsExporter::Console => "console",
            MetricsExporter::Prometheus => "prometheus",
            MetricsExporter::None => "none",
        }
    }
}

impl fmt::Display for MetricsExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which measurements may be kept as exemplars (`OTEL_METRICS_EXEMPLAR_FILTER`
/// names).
///
/// ```
/// use tower_otel_tracing::config::ExemplarFilter;
///
/// let f: ExemplarFilter = serde_json::from_str("\"always_off\"").unwrap();
/// assert_eq!(f, ExemplarFilter::AlwaysOff);
/// assert_eq!(ExemplarFilter::default().as_str(), "trace_based");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExemplarFilter {
    /// Measurements made in a sampled trace.
    #[default]
    TraceBased,
    /// Every measurement.
    AlwaysOn,
    /// None.
    AlwaysOff,
}

impl ExemplarFilter {
    /// Its name in config files and `OTEL_METRICS_EXEMPLAR_FILTER`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExemplarFilter::TraceBased => "trace_based",
            ExemplarFilter::AlwaysOn => "always_on",
            ExemplarFilter::AlwaysOff => "always_off",
        }
    }
}

impl fmt::Display for ExemplarFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How pushed sums and histograms are reported: since the start (`cumulative`)
/// or since the last push (`delta`).
///
/// ```
/// use tower_otel_tracing::config::Temporality;
///
/// let t: Temporality = serde_json::from_str("\"delta\"").unwrap();
/// assert_eq!(t, Temporality::Delta);
/// assert_eq!(Temporality::default().as_str(), "cumulative");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Temporality {
    /// Totals since the process started.
    #[default]
    Cumulative,
    /// What changed since the last push.
    Delta,
}

impl Temporality {
    /// Its name in config files.
    pub fn as_str(self) -> &'static str {
        match self {
            Temporality::Cumulative => "cumulative",
            Temporality::Delta => "delta",
        }
    }
}

impl fmt::Display for Temporality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
