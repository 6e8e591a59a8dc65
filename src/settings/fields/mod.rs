//! The table of settings: one row per setting, in the order they are resolved.
//! Resolution (`resolve.rs`), `--print-config` (`print.rs`) and the README's
//! reference table all read it; nothing else knows a field path or a variable name.

// Public to the crate so that code outside the table (errors, where a value came
// from) names a row instead of repeating its path.
pub(crate) mod general;
pub(crate) mod jaeger;
pub(crate) mod metrics;
pub(crate) mod otlp;
pub(crate) mod zipkin;

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::Duration;

use crate::config::redact::MASK;
use crate::config::validate;
use crate::config::{Compression, ConfigError, ExporterType, OtlpProtocol, Semconv, TracingConfig};

use super::{Certificate, Sampler, Settings, Source};

pub(crate) const DEFAULT_SAMPLE_RATE: f64 = 0.0;
/// Enough for any ordinary response; a long stream is bounded, not silenced.
pub(crate) const DEFAULT_MAX_FRAME_SPANS: usize = 1000;
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
pub(crate) const DEFAULT_ZIPKIN_ENDPOINT: &str = "http://localhost:9411/api/v2/spans";
pub(crate) const DEFAULT_JAEGER_AGENT_HOST: &str = "localhost";
pub(crate) const DEFAULT_JAEGER_AGENT_PORT: u16 = 6831;
pub(crate) const DEFAULT_OTLP_ENDPOINT: &str = "http://localhost:4318/v1/traces";
/// A person reads the console at a terminal: show spans about when the request ends.
pub(crate) const CONSOLE_SCHEDULE_DELAY: Duration = Duration::from_millis(500);

/// Reads a setting's value from the config: `Ok(true)` when the config sets it.
/// It is handed its own row, so that its errors take the path from there.
type FromConfig = fn(&Field, &TracingConfig, &mut Settings) -> Result<bool, ConfigError>;
/// Applies one variable's (trimmed, non-blank) value: `Ok(true)` when applied,
/// `Ok(false)` when it does not apply, `Err(why)` when invalid (never quoting it).
type FromEnv = fn(&'static str, &str, &mut Settings) -> Result<bool, String>;
/// The effective value as `--print-config` shows it (secrets masked).
type Show = fn(&Settings) -> String;

/// One setting: where it is read from and what is valid.
///
/// ```
/// let otlp_headers = tower_otel_tracing::settings::fields()
///     .iter()
///     .find(|f| f.key() == "otlp.http.headers")
///     .unwrap();
/// assert!(otlp_headers.secret());
/// assert_eq!(otlp_headers.vars(), ["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"]);
/// ```
pub struct Field {
    pub(super) key: &'static str,
    pub(super) config: Option<&'static str>,
    pub(super) vars: &'static [&'static str],
    pub(super) expected: &'static str,
    pub(super) default: DefaultText,
    pub(super) secret: bool,
    /// Shown by `--print-config` only when this exporter runs.
    pub(super) exporter: Option<ExporterType>,
    pub(super) from_config: FromConfig,
    pub(super) from_env: FromEnv,
    pub(super) show: Show,
}

impl Field {
    /// The setting's key, as [`Settings::source`] takes it.
    pub fn key(&self) -> &'static str {
        self.key
    }
    /// Its path in the config, under `tracing.` (`None`: environment only).
    ///
    /// ```
    /// use tower_otel_tracing::settings::fields;
    ///
    /// let path = |key| fields().iter().find(|f| f.key() == key).unwrap().config_path();
    /// assert_eq!(path("sampler"), Some("sample_rate"));
    /// assert_eq!(path("disabled"), None, "only OTEL_SDK_DISABLED sets it");
    /// ```
    pub fn config_path(&self) -> Option<&'static str> {
        self.config
    }
    /// The variables that override it, in order: a later one wins.
    pub fn vars(&self) -> &'static [&'static str] {
        self.vars
    }
    /// What a valid value is.
    ///
    /// ```
    /// let ipv4 = tower_otel_tracing::settings::fields()
    ///     .iter()
    ///     .find(|f| f.key() == "zipkin.local_node_ipv4")
    ///     .unwrap();
    /// assert_eq!(ipv4.expected(), "an IPv4 address");
    /// ```
    pub fn expected(&self) -> &'static str {
        self.expected
    }
    /// Whether its value is a secret (never logged, printed or shown by `Debug`).
    pub fn secret(&self) -> bool {
        self.secret
    }
    pub(super) fn shown_for(&self, s: &Settings) -> bool {
        self.exporter.is_none_or(|e| e == s.exporter) && metrics::shown(self, s)
    }

    /// The path a config error about it names: `tracing.` and its config path.
    pub(crate) fn error_path(&self) -> String {
        // Environment-only settings raise no config errors; their key is the
        // nearest name should one ever need it.
        format!("tracing.{}", self.config.unwrap_or(self.key))
    }

    /// An exporter this build leaves out, named by this setting, which chose
    /// it.
    pub(crate) fn not_compiled_in(&self, name: &str) -> ConfigError {
        ConfigError::of_kind(
            crate::config::ConfigErrorKind::Unsupported,
            self.error_path(),
            format!("the `{name}` exporter is not compiled in: enable the `{name}` cargo feature"),
        )
    }

    /// An invalid config value, quoted unless the setting is secret.
    pub(super) fn bad(&self, value: Option<&dyn std::fmt::Display>, why: String) -> ConfigError {
        bad_at(self.error_path(), value.filter(|_| !self.secret), why)
    }
}

/// How the reference table shows a setting's default. The text is made from the
/// value resolution really starts from (see `print.rs`), never written by hand, so
/// that the two cannot drift apart.
pub(super) enum DefaultText {
    /// What `--print-config` shows for the default (`none` when it shows nothing).
    Shown,
    /// That, with a remark on what it means.
    ShownWith(&'static str),
    /// That, and what it becomes when this exporter runs.
    ShownAndFor(ExporterType),
    /// Only known at run time (the binary's name), so described instead.
    Described(&'static str),
}

/// Every setting, in resolution order.
///
/// ```
/// use tower_otel_tracing::settings::fields;
///
/// for field in fields() {
///     println!("{:<45} {}", field.key(), field.vars().join(", "));
/// }
/// assert_eq!(fields()[0].vars(), ["OTEL_SDK_DISABLED"]);
/// ```
pub fn fields() -> &'static [&'static Field] {
    static ALL: LazyLock<Vec<&'static Field>> = LazyLock::new(|| {
        [
            general::ROWS,
            zipkin::ROWS,
            jaeger::ROWS,
            otlp::ROWS,
            metrics::ROWS,
        ]
        .into_iter()
        .flatten()
        .copied()
        .collect()
    });
    &ALL
}

fn bad_at(path: String, value: Option<&dyn std::fmt::Display>, why: String) -> ConfigError {
    let message = match value {
        Some(v) => format!("invalid value `{v}`: {why}"),
        None => why,
    };
    ConfigError::new(path, message)
}

pub(super) fn set<T>(v: Option<T>, apply: impl FnOnce(T)) -> bool {
    v.map(apply).is_some()
}

pub(super) fn no_config(
    _: &Field,
    _: &TracingConfig,
    _: &mut Settings,
) -> Result<bool, ConfigError> {
    Ok(false)
}

pub(super) fn no_env(_: &'static str, _: &str, _: &mut Settings) -> Result<bool, String> {
    Ok(false)
}

pub(super) fn millis(v: &str) -> Result<Duration, String> {
    v.parse::<u64>()
        .ok()
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis)
        .ok_or_else(|| "expected positive milliseconds".into())
}

pub(super) fn count(v: &str) -> Result<usize, String> {
    v.parse::<usize>()
        .map_err(|_| "expected a positive integer".to_owned())
        .and_then(validate::positive)
}

pub(super) fn env_url(v: &str) -> Result<String, String> {
    validate::http_url(v)
}

/// `k=v,k2=v2` with percent-encoded values (W3C baggage octets, as the
/// OpenTelemetry spec asks for resource attributes and OTLP headers). Errors name
/// the entry, never its value.
pub(super) fn pairs(v: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (i, pair) in v.split(',').filter(|p| !p.trim().is_empty()).enumerate() {
        let entry = i + 1;
        let Some((k, val)) = pair.split_once('=') else {
            return Err(format!("entry {entry} is not a name=value pair"));
        };
        let k = k.trim();
        if k.is_empty() {
            return Err(format!("entry {entry} has an empty name"));
        }
        let decoded = percent_encoding::percent_decode_str(val.trim())
            .decode_utf8()
            .map_err(|_| {
                format!("entry {entry} (`{k}`): the value is not percent-encoded UTF-8")
            })?;
        out.push((k.to_owned(), decoded.into_owned()));
    }
    Ok(out)
}

pub(super) type Headers = Vec<(http::HeaderName, http::HeaderValue)>;

pub(super) fn config_headers(
    field: &Field,
    map: &BTreeMap<String, String>,
) -> Result<Headers, ConfigError> {
    map.iter()
        .map(|(k, v)| {
            validate::header(k, v)
                .map_err(|why| bad_at(format!("{}.{k}", field.error_path()), None, why))
        })
        .collect()
}

pub(super) fn show_headers(headers: &Headers) -> String {
    let names: Vec<String> = headers
        .iter()
        .map(|(n, _)| format!("{}={MASK}", n.as_str()))
        .collect();
    names.join(",")
}

pub(super) fn exporter_from_name(v: &str) -> Result<ExporterType, String> {
    match v.to_ascii_lowercase().as_str() {
        "zipkin" => Ok(ExporterType::Zipkin),
        "jaeger" => Ok(ExporterType::Jaeger),
        "otlp" => Ok(ExporterType::Otlp),
        "console" | "logging" => Ok(ExporterType::Console),
        "none" => Ok(ExporterType::None),
        _ => Err("expected one of zipkin, jaeger, otlp, console, none".into()),
    }
}

pub(super) fn sampler_from_env(
    var: &'static str,
    v: &str,
    s: &mut Settings,
) -> Result<bool, String> {
    if var == "OTEL_TRACES_SAMPLER_ARG" {
        // Read only for a ratio sampler the environment chose.
        if s.source(general::SAMPLER.key) != Source::Env("OTEL_TRACES_SAMPLER") {
            return Ok(false);
        }
        let ratio = || {
            v.parse::<f64>()
                .map_err(|_| "expected a ratio from 0 to 1".to_owned())
                .and_then(|r| validate::ratio(r).map_err(|_| "expected a ratio from 0 to 1".into()))
        };
        return match s.sampler {
            Sampler::TraceIdRatio(_) => ratio().map(|r| s.sampler = Sampler::TraceIdRatio(r)),
            Sampler::ParentBasedTraceIdRatio(_) => {
                ratio().map(|r| s.sampler = Sampler::ParentBasedTraceIdRatio(r))
            }
            _ => return Ok(false),
        }
        .map(|()| true);
    }
    // 1.0 is the OpenTelemetry default when the argument is missing or invalid.
    s.sampler = match v.to_ascii_lowercase().as_str() {
        "always_on" => Sampler::AlwaysOn,
        "always_off" => Sampler::AlwaysOff,
        "traceidratio" => Sampler::TraceIdRatio(1.0),
        "parentbased_always_on" => Sampler::ParentBasedAlwaysOn,
        "parentbased_always_off" => Sampler::ParentBasedAlwaysOff,
        "parentbased_traceidratio" => Sampler::ParentBasedTraceIdRatio(1.0),
        _ => {
            return Err(
                "expected always_on, always_off, traceidratio, parentbased_always_on, \
                        parentbased_always_off or parentbased_traceidratio"
                    .into(),
            )
        }
    };
    Ok(true)
}

/// `OTEL_SEMCONV_STABILITY_OPT_IN`: `http` and `rpc` switch the HTTP and the
/// RPC conventions to the stable ones, `http/dup` and `rpc/dup` to both (they
/// win). A domain the variable does not name keeps the config's mode. Entries
/// for other domains of the conventions (`database`, `messaging/dup`, ...) are
/// not ours and are left alone; anything else is a mistake worth a warning.
pub(super) fn semconv_from_env(_: &'static str, v: &str, s: &mut Settings) -> Result<bool, String> {
    const OTHER_DOMAINS: [&str; 7] = [
        "database",
        "messaging",
        "code",
        "k8s",
        "gen_ai",
        "service.peer",
        "aws",
    ];
    let (mut http, mut rpc) = (None, None);
    for entry in v.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        match entry {
            "http/dup" => http = Some(Semconv::Dup),
            "http" => http = http.or(Some(Semconv::Stable)),
            "rpc/dup" => rpc = Some(Semconv::Dup),
            "rpc" => rpc = rpc.or(Some(Semconv::Stable)),
            other if OTHER_DOMAINS.contains(&other.trim_end_matches("/dup")) => {}
            _ => {
                return Err(
                    "expected a comma-separated list of `http`, `http/dup`, `rpc` or `rpc/dup`"
                        .into(),
                )
            }
        }
    }
    let http = set(http, |m| s.semconv = m);
    let rpc = set(rpc, |m| s.rpc_semconv = m);
    Ok(http || rpc)
}

pub(super) fn timeout_from_env(
    var: &'static str,
    v: &str,
    s: &mut Settings,
) -> Result<bool, String> {
    let t = millis(v)?;
    // An exporter's own variable applies only when that exporter runs.
    let applies = match var {
        "OTEL_EXPORTER_ZIPKIN_TIMEOUT" => s.exporter == ExporterType::Zipkin,
        "OTEL_EXPORTER_JAEGER_TIMEOUT" => s.exporter == ExporterType::Jaeger,
        "OTEL_EXPORTER_OTLP_TIMEOUT" | "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT" => {
            s.exporter == ExporterType::Otlp
        }
        _ => true,
    };
    if applies {
        s.timeout = t;
    }
    Ok(applies)
}

pub(super) fn resource_from_env(
    var: &'static str,
    v: &str,
    s: &mut Settings,
) -> Result<bool, String> {
    for (k, v) in pairs(v)? {
        if k == "service.name" {
            s.service_name = v;
            s.set_source(general::SERVICE_NAME.key, Source::Env(var));
        } else {
            s.resource_attributes.push((k, v));
        }
    }
    Ok(true)
}

/// An `OTEL_EXPORTER_OTLP_*HEADERS` value: its headers, or why not, never
/// showing a value.
pub(super) fn env_headers(v: &str) -> Result<Headers, String> {
    let mut headers = Vec::new();
    for (i, (k, val)) in pairs(v)?.into_iter().enumerate() {
        let header = validate::header(&k, &val).map_err(|why| {
            // A name problem already names the header; a value problem must not show it.
            format!("entry {} (`{k}`): {why}", i + 1)
        })?;
        headers.push(header);
    }
    Ok(headers)
}

pub(super) fn otlp_headers_from_env(
    var: &'static str,
    v: &str,
    s: &mut Settings,
) -> Result<bool, String> {
    let headers = env_headers(v)?;
    s.otlp.grpc_headers = headers.clone();
    s.otlp.http_headers = headers;
    s.set_source(otlp::OTLP_GRPC_HEADERS.key, Source::Env(var));
    Ok(true)
}

pub(super) fn compression(v: &str) -> Result<Compression, String> {
    match v.to_ascii_lowercase().as_str() {
        "gzip" => Ok(Compression::Gzip),
        "none" => Ok(Compression::None),
        _ => Err("expected gzip or none".into()),
    }
}

pub(super) fn otlp_protocol(v: &str) -> Result<OtlpProtocol, String> {
    match v.to_ascii_lowercase().as_str() {
        "http/protobuf" | "http" => Ok(OtlpProtocol::Http),
        "grpc" => Ok(OtlpProtocol::Grpc),
        _ => Err("expected http/protobuf or grpc".into()),
    }
}

pub(super) fn certificate(path: &std::path::Path) -> Result<Certificate, String> {
    validate::certificate(path).map(|pem| Certificate {
        path: path.to_owned(),
        pem,
    })
}

pub(super) fn duration(d: Duration) -> String {
    format!("{d:?}")
}
