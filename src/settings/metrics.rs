//! [`MetricsSettings`], and what follows for them once every row of the table
//! has been read: the OTLP settings the metrics leave unset are the traces'
//! (their variables applied), and the metrics endpoint, unless given, is
//! derived from the traces' one.

use std::time::Duration;

use crate::config::redact::url_credentials;
use crate::config::{
    Compression, ConfigError, ConfigErrorKind, ExemplarFilter, MetricsExporter, OtlpProtocol,
    Temporality,
};

use super::fields::metrics::{
    METRICS_EXPORTER, METRICS_OTLP_CERTIFICATE_FILE, METRICS_OTLP_COMPRESSION,
    METRICS_OTLP_ENDPOINT, METRICS_OTLP_HEADERS, METRICS_OTLP_PROTOCOL, METRICS_OTLP_TIMEOUT,
};
use super::fields::{general, otlp, Field};
use super::{OtlpSettings, Settings, Source};

/// Between two pushes when nothing says otherwise (the specification's default).
pub(crate) const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
/// The metrics endpoint when neither the metrics nor the traces name one.
pub(crate) const DEFAULT_HTTP_ENDPOINT: &str = "http://localhost:4318/v1/metrics";
/// The same over gRPC, where the URL has no signal path.
pub(crate) const DEFAULT_GRPC_ENDPOINT: &str = "http://localhost:4317";

/// The metrics settings that run (`metrics.*`, `OTEL_METRIC*`,
/// `OTEL_EXPORTER_OTLP_METRICS_*`).
///
/// ```
/// use std::time::Duration;
/// use tower_otel_tracing::config::{MetricsExporter, Temporality};
/// use tower_otel_tracing::settings::Settings;
/// use tower_otel_tracing::TracingConfig;
///
/// let mut cfg = TracingConfig::default();
/// cfg.otlp.endpoint = Some("http://collector:4318/v1/traces".into());
/// cfg.metrics.exporter = Some(MetricsExporter::Prometheus);
/// let env = [("OTEL_METRIC_EXPORT_INTERVAL".to_owned(), "15000".to_owned())];
/// let metrics = Settings::resolve_with(&cfg, env.into())?.metrics;
/// assert_eq!(metrics.exporter, MetricsExporter::Prometheus);
/// assert_eq!(metrics.interval, Duration::from_secs(15));
/// assert_eq!(metrics.temporality, Temporality::Cumulative);
/// // The traces' collector, at the metrics' path.
/// assert_eq!(metrics.otlp.endpoint, "http://collector:4318/v1/metrics");
/// # Ok::<(), tower_otel_tracing::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MetricsSettings {
    /// Where metrics are pushed: `MetricsExporter::None` and `Prometheus` push nothing
    /// (the pull endpoint, `TracingLayer::metrics`, serves them either way).
    pub exporter: MetricsExporter,
    /// Between two pushes. Default 60 s.
    pub interval: Duration,
    /// Which measurements may become exemplars. Default `trace_based`.
    pub exemplar_filter: ExemplarFilter,
    /// Write `server.address` and `server.port` on the HTTP server metrics (opt-in).
    pub server_address: bool,
    /// The OTLP exporter's settings for metrics: the traces' OTLP settings (`Settings::otlp`)
    /// with the metrics' own overrides applied, the endpoint ending in `/v1/metrics`.
    pub otlp: OtlpSettings,
    /// How pushed histograms are reported. Default cumulative; with `delta`,
    /// up-down counters stay cumulative, as the specification says.
    pub temporality: Temporality,
}

/// Every metrics setting at its default, before the config or the environment.
pub(super) fn defaults(timeout: Duration) -> MetricsSettings {
    MetricsSettings {
        exporter: MetricsExporter::None,
        interval: DEFAULT_INTERVAL,
        exemplar_filter: ExemplarFilter::default(),
        server_address: false,
        otlp: OtlpSettings {
            protocol: OtlpProtocol::Http,
            endpoint: DEFAULT_HTTP_ENDPOINT.to_owned(),
            compression: Compression::None,
            http_headers: Vec::new(),
            grpc_headers: Vec::new(),
            certificate: None,
            insecure: false,
            timeout,
        },
        temporality: Temporality::default(),
    }
}

/// What follows for the metrics from every row together; runs after the
/// traces' own `finish`, so that their timeout is final.
pub(super) fn finish(s: &mut Settings) -> Result<(), ConfigError> {
    // The protocol first: which headers and which endpoint follow depend on it.
    inherit(s, &METRICS_OTLP_PROTOCOL, &otlp::OTLP_PROTOCOL, |m, t| {
        m.protocol = t.protocol
    });
    inherit(
        s,
        &METRICS_OTLP_COMPRESSION,
        &otlp::OTLP_COMPRESSION,
        |m, t| m.compression = t.compression,
    );
    inherit(
        s,
        &METRICS_OTLP_CERTIFICATE_FILE,
        &otlp::OTLP_HTTP_CERTIFICATE_FILE,
        |m, t| m.certificate = t.certificate.clone(),
    );
    let traces_headers = match s.metrics.otlp.protocol {
        OtlpProtocol::Http => &otlp::OTLP_HTTP_HEADERS,
        OtlpProtocol::Grpc => &otlp::OTLP_GRPC_HEADERS,
    };
    inherit(s, &METRICS_OTLP_HEADERS, traces_headers, |m, t| {
        m.http_headers = t.http_headers.clone();
        m.grpc_headers = t.grpc_headers.clone();
    });
    inherit(s, &METRICS_OTLP_TIMEOUT, &general::TIMEOUT, |m, t| {
        m.timeout = t.timeout
    });
    // No setting of the metrics' own: gRPC in plaintext is asked for once.
    s.metrics.otlp.insecure = s.otlp.insecure;
    endpoint(s);

    if !s.disabled {
        compiled_in(&s.metrics)?;
    }
    let m = &s.metrics;
    if m.exporter == MetricsExporter::Otlp
        && m.otlp.protocol == OtlpProtocol::Grpc
        && m.otlp.insecure
        && m.otlp.endpoint.starts_with("https://")
    {
        return Err(ConfigError::of_kind(
            ConfigErrorKind::InvalidValue,
            otlp::OTLP_GRPC_INSECURE.error_path(),
            format!(
                "plaintext gRPC was asked for, but the metrics endpoint `{}` asks for TLS: use \
                 an http:// endpoint, or leave `insecure` off",
                url_credentials(&m.otlp.endpoint)
            ),
        ));
    }
    Ok(())
}

/// When the metrics leave `metrics` unset, takes the traces' value, and says
/// that it came from where the traces' did.
fn inherit(
    s: &mut Settings,
    metrics: &Field,
    traces: &Field,
    take: impl FnOnce(&mut OtlpSettings, &OtlpSettings),
) {
    if s.source(metrics.key()) != Source::Default {
        return;
    }
    take(&mut s.metrics.otlp, &s.otlp);
    let from = s.source(traces.key());
    s.set_source(metrics.key(), from);
}

/// The metrics endpoint: given in full (the metrics' config or variable), a
/// base URL for every signal (`OTEL_EXPORTER_OTLP_ENDPOINT`), or derived from
/// the traces' endpoint, in that order.
fn endpoint(s: &mut Settings) {
    let key = METRICS_OTLP_ENDPOINT.key();
    let protocol = s.metrics.otlp.protocol;
    match s.source(key) {
        Source::Env("OTEL_EXPORTER_OTLP_ENDPOINT") => {
            s.metrics.otlp.endpoint = from_base(&s.metrics.otlp.endpoint, protocol);
        }
        Source::Default => {
            let traces = s.source(otlp::OTLP_ENDPOINT.key());
            if traces == Source::Default {
                s.metrics.otlp.endpoint = default_endpoint(protocol).to_owned();
                return;
            }
            match from_traces(&s.otlp.endpoint, s.otlp.protocol, protocol) {
                Ok(url) => {
                    s.metrics.otlp.endpoint = url;
                    s.set_source(key, traces);
                }
                Err(why) => {
                    s.metrics.otlp.endpoint = default_endpoint(protocol).to_owned();
                    // Only worth saying when the metrics go there.
                    if s.metrics.exporter == MetricsExporter::Otlp {
                        s.warn(format!(
                            "{key}: {why}, so the metrics go to {}: set `{}` or \
                             OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                            s.metrics.otlp.endpoint,
                            METRICS_OTLP_ENDPOINT.error_path()
                        ));
                    }
                }
            }
        }
        _ => {}
    }
}

fn default_endpoint(protocol: OtlpProtocol) -> &'static str {
    match protocol {
        OtlpProtocol::Http => DEFAULT_HTTP_ENDPOINT,
        OtlpProtocol::Grpc => DEFAULT_GRPC_ENDPOINT,
    }
}

/// A base URL for every signal, as the specification reads
/// `OTEL_EXPORTER_OTLP_ENDPOINT`: over HTTP the metrics' path is appended; a
/// gRPC URL has no signal path, and is used as given.
fn from_base(base: &str, protocol: OtlpProtocol) -> String {
    match protocol {
        OtlpProtocol::Http => format!("{}/v1/metrics", base.trim_end_matches('/')),
        OtlpProtocol::Grpc => base.to_owned(),
    }
}

/// The metrics endpoint beside the traces' one, or why there is none: over
/// HTTP `/v1/traces` becomes `/v1/metrics` (and a URL without a path gets
/// it); over gRPC the traces' URL serves both. A URL for another protocol,
/// or with a path of its own, says nothing of where metrics go.
fn from_traces(
    traces: &str,
    traces_protocol: OtlpProtocol,
    protocol: OtlpProtocol,
) -> Result<String, String> {
    if traces_protocol != protocol {
        return Err(
            "the traces' endpoint is for another protocol than the metrics' one".to_owned(),
        );
    }
    if protocol == OtlpProtocol::Grpc {
        return Ok(traces.to_owned());
    }
    let url = traces.trim_end_matches('/');
    if let Some(base) = url.strip_suffix("/v1/traces") {
        return Ok(format!("{base}/v1/metrics"));
    }
    let after_scheme = url.find("://").map_or(url, |i| &url[i + 3..]);
    if !after_scheme.contains(['/', '?', '#']) {
        return Ok(format!("{url}/v1/metrics"));
    }
    Err("the traces' endpoint does not end in /v1/traces".to_owned())
}

/// A metrics exporter this build could not run is refused here, as the traces'
/// are, naming the setting and the cargo feature.
fn compiled_in(m: &MetricsSettings) -> Result<(), ConfigError> {
    if m.exporter != MetricsExporter::Otlp {
        return Ok(());
    }
    if !cfg!(feature = "otlp") {
        return Err(METRICS_EXPORTER.not_compiled_in("otlp"));
    }
    if !cfg!(feature = "otlp-grpc") && m.otlp.protocol == OtlpProtocol::Grpc {
        return Err(ConfigError::of_kind(
            ConfigErrorKind::Unsupported,
            METRICS_OTLP_PROTOCOL.error_path(),
            "`grpc` needs the `otlp-grpc` cargo feature",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TracingConfig;
    use OtlpProtocol::{Grpc, Http};

    #[test]
    fn the_metrics_endpoint_beside_the_traces_one() {
        for (traces, metrics) in [
            ("http://c:4318/v1/traces", "http://c:4318/v1/metrics"),
            ("http://c:4318/v1/traces/", "http://c:4318/v1/metrics"),
            ("https://c/otlp/v1/traces", "https://c/otlp/v1/metrics"),
            ("http://c:4318", "http://c:4318/v1/metrics"),
            ("http://c:4318/", "http://c:4318/v1/metrics"),
            ("http://u:p@c:4318", "http://u:p@c:4318/v1/metrics"),
        ] {
            assert_eq!(from_traces(traces, Http, Http).as_deref(), Ok(metrics));
        }
        for traces in [
            "http://c/api/traces",
            "http://c:4318/v1/trace",
            "http://c?x=1",
        ] {
            let why = from_traces(traces, Http, Http).unwrap_err();
            assert!(why.contains("/v1/traces"), "{traces}: {why}");
        }
        // Over gRPC the URL has no signal path: the traces' one serves both.
        assert_eq!(
            from_traces("http://c:4317", Grpc, Grpc).as_deref(),
            Ok("http://c:4317")
        );
        assert!(from_traces("http://c:4318/v1/traces", Http, Grpc).is_err());
        assert!(from_traces("http://c:4317", Grpc, Http).is_err());
    }

    #[test]
    fn a_base_url_gets_the_path_only_over_http() {
        assert_eq!(
            from_base("http://c:4318/", Http),
            "http://c:4318/v1/metrics"
        );
        assert_eq!(from_base("http://c/otlp", Http), "http://c/otlp/v1/metrics");
        assert_eq!(from_base("http://c:4317", Grpc), "http://c:4317");
    }

    /// As for the traces: each build accepts exactly the metrics exporters it
    /// can run, and names the missing feature.
    #[test]
    fn a_metrics_exporter_left_out_of_the_build_is_refused() {
        for (exporter, on) in [
            (MetricsExporter::Otlp, cfg!(feature = "otlp")),
            (MetricsExporter::Console, true),
            (MetricsExporter::Prometheus, true),
            (MetricsExporter::None, true),
        ] {
            let mut cfg = TracingConfig::default();
            cfg.metrics.exporter = Some(exporter);
            match cfg.validate() {
                Ok(()) => assert!(on, "{exporter} accepted without its feature"),
                Err(e) => {
                    assert!(!on, "{exporter} refused: {e}");
                    assert_eq!(e.path(), "tracing.metrics.exporter");
                    assert_eq!(e.kind(), ConfigErrorKind::Unsupported);
                    assert!(e.to_string().contains("`otlp` cargo feature"), "{e}");
                }
            }
            let disabled = [("OTEL_SDK_DISABLED".to_owned(), "true".to_owned())];
            let disabled = Settings::resolve_with(&cfg, disabled.into_iter().collect());
            assert!(
                disabled.is_ok(),
                "{exporter}: a disabled SDK runs no exporter"
            );
        }
        let mut grpc = TracingConfig::default();
        grpc.metrics.exporter = Some(MetricsExporter::Otlp);
        grpc.metrics.otlp.protocol = Some(Grpc);
        let runs = cfg!(all(feature = "otlp", feature = "otlp-grpc"));
        match grpc.validate() {
            Ok(()) => assert!(runs, "gRPC accepted without its feature"),
            Err(e) => {
                assert!(!runs, "gRPC refused: {e}");
                let field = match cfg!(feature = "otlp") {
                    true => "tracing.metrics.otlp.protocol",
                    false => "tracing.metrics.exporter",
                };
                assert_eq!(e.path(), field);
            }
        }
    }
}
