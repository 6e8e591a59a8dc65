//! Config + OpenTelemetry environment -> the settings that will run.
//!
//! BentoML's guide promises that `OTEL_*` variables take precedence over the
//! config. This is the one place that decides it, as a pure step over an explicit
//! variable source; the SDK's own environment reading is always overridden.

use std::collections::{BTreeMap, HashMap};
use std::fmt::{self, Write as _};
use std::time::Duration;

use crate::config::{is_http_url, Compression, ExporterType, OtlpProtocol, TracingConfig};
use crate::env::Environment;
use crate::excluded_urls::ExcludedUrls;
use crate::propagation::Propagator;

/// The sampler that decides which new requests are recorded
/// (`OTEL_TRACES_SAMPLER` names).
///
/// ```
/// use tower_otel_tracing::{Sampler, Settings, TracingConfig};
///
/// let cfg = TracingConfig { sample_rate: Some(0.1), ..Default::default() };
/// let settings = Settings::resolve_with(&cfg, Default::default());
/// assert_eq!(settings.sampler, Sampler::ParentBasedTraceIdRatio(0.1));
/// assert_eq!(settings.sampler.to_string(), "parentbased_traceidratio(0.1)");
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
/// let batch = tower_otel_tracing::BatchSettings::default();
/// assert_eq!(batch.max_queue_size, 2048);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSettings {
    /// Delay between two exports. Default 5 s.
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

/// Where an effective value came from.
///
/// ```
/// use tower_otel_tracing::{Settings, Source, TracingConfig};
///
/// let env = [("OTEL_SERVICE_NAME".to_owned(), "api".to_owned())].into();
/// let settings = Settings::resolve_with(&TracingConfig::default(), env);
/// assert_eq!(settings.source("service_name"), Source::Env("OTEL_SERVICE_NAME"));
/// assert_eq!(settings.source("timeout"), Source::Default);
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

/// The effective settings: the config with every set and valid `OTEL_*` variable
/// applied on top.
///
/// ```
/// use std::collections::HashMap;
/// use tower_otel_tracing::{Sampler, Settings, Source, TracingConfig};
///
/// let cfg = TracingConfig { sample_rate: Some(0.5), ..Default::default() };
/// let env = HashMap::from([
///     ("OTEL_TRACES_SAMPLER".to_owned(), "always_on".to_owned()),
///     ("OTEL_TRACES_SAMPLER_ARG".to_owned(), "abc".to_owned()),
/// ]);
/// let settings = Settings::resolve_with(&cfg, env);
/// assert_eq!(settings.sampler, Sampler::AlwaysOn);
/// assert_eq!(settings.source("sampler"), Source::Env("OTEL_TRACES_SAMPLER"));
/// assert!(settings.warnings.is_empty(), "ARG is not read by always_on");
/// println!("{settings}");
/// ```
#[derive(Clone)]
pub struct Settings {
    /// The config with overrides applied to its fields.
    pub config: TracingConfig,
    /// `OTEL_SDK_DISABLED=true`: the layer passes requests through untouched.
    pub disabled: bool,
    /// Which requests are recorded.
    pub sampler: Sampler,
    /// Context propagation formats, in order.
    pub propagators: Vec<Propagator>,
    /// Extra resource attributes (`OTEL_RESOURCE_ATTRIBUTES`, without `service.name`).
    pub resource_attributes: Vec<(String, String)>,
    /// Batch processor settings.
    pub batch: BatchSettings,
    /// Jaeger collector basic-auth user (`OTEL_EXPORTER_JAEGER_USER`).
    pub jaeger_user: Option<String>,
    /// Jaeger collector basic-auth password (`OTEL_EXPORTER_JAEGER_PASSWORD`).
    pub jaeger_password: Option<String>,
    /// One line per ignored variable, naming it and its value.
    pub warnings: Vec<String>,
    sources: BTreeMap<&'static str, Source>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mask = |v: &Option<String>| v.as_ref().map(|_| crate::redact::MASK);
        f.debug_struct("Settings")
            .field("config", &self.config)
            .field("disabled", &self.disabled)
            .field("sampler", &self.sampler)
            .field("propagators", &self.propagators)
            .field("resource_attributes", &self.resource_attributes)
            .field("batch", &self.batch)
            .field("jaeger_user", &self.jaeger_user)
            .field("jaeger_password", &mask(&self.jaeger_password))
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// Resolves against the process environment.
    pub fn resolve(cfg: &TracingConfig) -> Settings {
        resolve(cfg, &Environment::Process)
    }

    /// Resolves against exactly these variables.
    pub fn resolve_with(cfg: &TracingConfig, vars: HashMap<String, String>) -> Settings {
        resolve(cfg, &Environment::Vars(vars))
    }

    /// Where the setting named like a config field path (`sample_rate`, `sampler`,
    /// `zipkin.endpoint`, `batch.max_queue_size`, ...) came from.
    pub fn source(&self, field: &str) -> Source {
        self.sources.get(field).copied().unwrap_or(Source::Default)
    }
}

pub(crate) fn resolve(cfg: &TracingConfig, env: &Environment) -> Settings {
    let mut r = Resolver {
        env,
        s: Settings {
            config: cfg.clone(),
            disabled: false,
            sampler: Sampler::ParentBasedTraceIdRatio(cfg.effective_sample_rate()),
            propagators: cfg
                .propagators
                .clone()
                .unwrap_or_else(|| Propagator::DEFAULT.to_vec()),
            resource_attributes: Vec::new(),
            batch: BatchSettings::default(),
            jaeger_user: None,
            jaeger_password: None,
            warnings: Vec::new(),
            sources: BTreeMap::new(),
        },
    };
    r.config_sources(cfg);
    r.sdk();
    r.resource();
    r.sampler();
    r.exporter();
    r.propagators();
    r.limits();
    r.batch();
    r.zipkin();
    r.jaeger();
    r.otlp();
    let mut s = r.s;
    // The console is read by a person at a terminal: show spans about when the
    // request finishes, unless a delay was asked for.
    if s.config.exporter_type == Some(ExporterType::Console)
        && s.source("batch.schedule_delay") == Source::Default
    {
        s.batch.schedule_delay = CONSOLE_SCHEDULE_DELAY;
    }
    s
}

const CONSOLE_SCHEDULE_DELAY: Duration = Duration::from_millis(500);

struct Resolver<'a> {
    env: &'a Environment,
    s: Settings,
}

impl Resolver<'_> {
    fn get(&self, var: &'static str) -> Option<String> {
        self.env.get(var)
    }

    fn warn(&mut self, var: &str, value: &str, expected: &str) {
        let value = crate::redact::url_credentials(value);
        let msg = format!("ignoring {var}={value:?}: expected {expected}");
        tracing::warn!("tower-otel-tracing: {msg}");
        self.s.warnings.push(msg);
    }

    /// A warning about a variable whose value is a secret: why, never what.
    fn warn_secret(&mut self, var: &str, why: &str) {
        let msg = format!("ignoring {var}: {why}");
        tracing::warn!("tower-otel-tracing: {msg}");
        self.s.warnings.push(msg);
    }

    fn set_source(&mut self, field: &'static str, source: Source) {
        self.s.sources.insert(field, source);
    }

    /// Reads `var` with `parse`; on success records `field`'s source and returns the
    /// value, on failure warns with `expected`.
    fn read<T>(
        &mut self,
        var: &'static str,
        field: &'static str,
        expected: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Option<T> {
        let raw = self.get(var)?;
        match parse(raw.trim()) {
            Some(v) => {
                self.set_source(field, Source::Env(var));
                Some(v)
            }
            None => {
                self.warn(var, &raw, expected);
                None
            }
        }
    }

    fn exporter_is(&self, ty: ExporterType) -> bool {
        self.s.config.exporter_type == Some(ty)
    }

    fn config_sources(&mut self, cfg: &TracingConfig) {
        let set = [
            ("exporter_type", cfg.exporter_type.is_some()),
            ("sampler", cfg.sample_rate.is_some()),
            ("timeout", cfg.timeout.is_some()),
            ("max_tag_value_length", cfg.max_tag_value_length.is_some()),
            ("excluded_urls", cfg.excluded_urls.is_some()),
            ("service_name", cfg.service_name.is_some()),
            ("propagators", cfg.propagators.is_some()),
            ("zipkin.endpoint", cfg.zipkin.endpoint.is_some()),
            (
                "jaeger.collector_endpoint",
                cfg.jaeger.collector_endpoint.is_some(),
            ),
            (
                "jaeger.thrift.agent_host_name",
                cfg.jaeger.thrift.agent_host_name.is_some(),
            ),
            (
                "jaeger.thrift.agent_port",
                cfg.jaeger.thrift.agent_port.is_some(),
            ),
            (
                "jaeger.thrift.udp_split_oversized_batches",
                cfg.jaeger.thrift.udp_split_oversized_batches.is_some(),
            ),
            ("otlp.protocol", cfg.otlp.protocol.is_some()),
            ("otlp.endpoint", cfg.otlp.endpoint.is_some()),
            ("otlp.compression", cfg.otlp.compression.is_some()),
            (
                "otlp.http.certificate_file",
                cfg.otlp.http.certificate_file.is_some(),
            ),
            ("otlp.http.headers", cfg.otlp.http.headers.is_some()),
        ];
        for (field, is_set) in set {
            if is_set {
                self.set_source(field, Source::Config);
            }
        }
    }

    fn sdk(&mut self) {
        if let Some(disabled) =
            self.read("OTEL_SDK_DISABLED", "disabled", "true or false", parse_bool)
        {
            self.s.disabled = disabled;
        }
    }

    fn resource(&mut self) {
        if let Some(attrs) = self.read(
            "OTEL_RESOURCE_ATTRIBUTES",
            "resource_attributes",
            "comma-separated key=value pairs (values URL-encoded)",
            parse_pairs,
        ) {
            for (k, v) in attrs {
                if k == "service.name" {
                    self.s.config.service_name = Some(v);
                    self.set_source("service_name", Source::Env("OTEL_RESOURCE_ATTRIBUTES"));
                } else {
                    self.s.resource_attributes.push((k, v));
                }
            }
        }
        if let Some(name) = self.read("OTEL_SERVICE_NAME", "service_name", "a name", |v| {
            Some(v.to_owned())
        }) {
            self.s.config.service_name = Some(name);
        }
    }

    fn sampler(&mut self) {
        let Some(name) = self.read(
            "OTEL_TRACES_SAMPLER",
            "sampler",
            "always_on, always_off, traceidratio, parentbased_always_on, \
             parentbased_always_off or parentbased_traceidratio",
            |v| {
                let v = v.to_ascii_lowercase();
                matches!(
                    v.as_str(),
                    "always_on"
                        | "always_off"
                        | "traceidratio"
                        | "parentbased_always_on"
                        | "parentbased_always_off"
                        | "parentbased_traceidratio"
                )
                .then_some(v)
            },
        ) else {
            return;
        };
        // 1.0 is the OpenTelemetry default when the argument is missing or invalid.
        let arg = |this: &mut Self| -> f64 {
            this.read(
                "OTEL_TRACES_SAMPLER_ARG",
                "sampler",
                "a ratio from 0 to 1",
                |v| v.parse::<f64>().ok().filter(|r| (0.0..=1.0).contains(r)),
            )
            .unwrap_or(1.0)
        };
        self.s.sampler = match name.as_str() {
            "always_on" => Sampler::AlwaysOn,
            "always_off" => Sampler::AlwaysOff,
            "traceidratio" => Sampler::TraceIdRatio(arg(self)),
            "parentbased_always_on" => Sampler::ParentBasedAlwaysOn,
            "parentbased_always_off" => Sampler::ParentBasedAlwaysOff,
            _ => Sampler::ParentBasedTraceIdRatio(arg(self)),
        };
    }

    fn exporter(&mut self) {
        if let Some(ty) = self.read(
            "OTEL_TRACES_EXPORTER",
            "exporter_type",
            "one of zipkin, jaeger, otlp, console, none",
            |v| match v.to_ascii_lowercase().as_str() {
                "zipkin" => Some(ExporterType::Zipkin),
                "jaeger" => Some(ExporterType::Jaeger),
                "otlp" => Some(ExporterType::Otlp),
                "console" | "logging" => Some(ExporterType::Console),
                "none" => Some(ExporterType::None),
                _ => None,
            },
        ) {
            self.s.config.exporter_type = Some(ty);
        }
    }

    fn propagators(&mut self) {
        if let Some(list) = self.read(
            "OTEL_PROPAGATORS",
            "propagators",
            "a comma-separated list of tracecontext, baggage, b3, b3multi, jaeger, none",
            |v| {
                v.split(',')
                    .filter(|p| !p.trim().is_empty())
                    .map(Propagator::from_name)
                    .collect::<Option<Vec<_>>>()
            },
        ) {
            self.s.propagators = list;
        }
    }

    fn limits(&mut self) {
        for var in [
            "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
            // Read last: the span-specific limit wins over the general one.
            "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
        ] {
            if let Some(n) = self.read(var, "max_tag_value_length", "a positive integer", |v| {
                v.parse::<usize>().ok().filter(|n| *n > 0)
            }) {
                self.s.config.max_tag_value_length = Some(n);
            }
        }
    }

    fn batch(&mut self) {
        if let Some(ms) = self.read(
            "OTEL_BSP_SCHEDULE_DELAY",
            "batch.schedule_delay",
            "milliseconds",
            parse_u64,
        ) {
            self.s.batch.schedule_delay = Duration::from_millis(ms);
        }
        if let Some(n) = self.read(
            "OTEL_BSP_MAX_QUEUE_SIZE",
            "batch.max_queue_size",
            "a positive integer",
            parse_positive,
        ) {
            self.s.batch.max_queue_size = n;
        }
        if let Some(n) = self.read(
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
            "batch.max_export_batch_size",
            "a positive integer",
            parse_positive,
        ) {
            self.s.batch.max_export_batch_size = n;
        }
        self.s.batch.max_export_batch_size = self
            .s
            .batch
            .max_export_batch_size
            .min(self.s.batch.max_queue_size);
        if let Some(secs) = self.read(
            "OTEL_BSP_EXPORT_TIMEOUT",
            "timeout",
            "positive milliseconds",
            parse_millis,
        ) {
            self.s.config.timeout = Some(secs);
        }
    }

    /// An exporter's own timeout variable, applied only when that exporter runs.
    fn exporter_timeout(&mut self, var: &'static str, ty: ExporterType) {
        if let Some(raw) = self.get(var) {
            match parse_millis(raw.trim()) {
                Some(secs) if self.exporter_is(ty) => {
                    self.s.config.timeout = Some(secs);
                    self.set_source("timeout", Source::Env(var));
                }
                Some(_) => {}
                None => self.warn(var, &raw, "positive milliseconds"),
            }
        }
    }

    fn url(&mut self, var: &'static str, field: &'static str) -> Option<String> {
        self.read(var, field, "an http:// or https:// URL", |v| {
            is_http_url(v).then(|| v.to_owned())
        })
    }

    fn zipkin(&mut self) {
        if let Some(url) = self.url("OTEL_EXPORTER_ZIPKIN_ENDPOINT", "zipkin.endpoint") {
            self.s.config.zipkin.endpoint = Some(url);
        }
        self.exporter_timeout("OTEL_EXPORTER_ZIPKIN_TIMEOUT", ExporterType::Zipkin);
    }

    fn jaeger(&mut self) {
        if let Some(host) = self.read(
            "OTEL_EXPORTER_JAEGER_AGENT_HOST",
            "jaeger.thrift.agent_host_name",
            "a host name or IP address",
            |v| (!v.contains(char::is_whitespace)).then(|| v.to_owned()),
        ) {
            self.s.config.jaeger.thrift.agent_host_name = Some(host);
        }
        if let Some(port) = self.read(
            "OTEL_EXPORTER_JAEGER_AGENT_PORT",
            "jaeger.thrift.agent_port",
            "a port from 1 to 65535",
            |v| v.parse::<u16>().ok().filter(|p| *p != 0),
        ) {
            self.s.config.jaeger.thrift.agent_port = Some(port);
        }
        if let Some(split) = self.read(
            "OTEL_EXPORTER_JAEGER_AGENT_SPLIT_OVERSIZED_BATCHES",
            "jaeger.thrift.udp_split_oversized_batches",
            "true or false",
            parse_bool,
        ) {
            self.s.config.jaeger.thrift.udp_split_oversized_batches = Some(split);
        }
        if let Some(url) = self.url("OTEL_EXPORTER_JAEGER_ENDPOINT", "jaeger.collector_endpoint") {
            self.s.config.jaeger.collector_endpoint = Some(url);
        }
        self.s.jaeger_user = self.read(
            "OTEL_EXPORTER_JAEGER_USER",
            "jaeger.user",
            "a user name",
            |v| Some(v.to_owned()),
        );
        self.s.jaeger_password = self.get("OTEL_EXPORTER_JAEGER_PASSWORD");
        if self.s.jaeger_password.is_some() {
            self.set_source(
                "jaeger.password",
                Source::Env("OTEL_EXPORTER_JAEGER_PASSWORD"),
            );
        }
        self.exporter_timeout("OTEL_EXPORTER_JAEGER_TIMEOUT", ExporterType::Jaeger);
    }

    fn otlp(&mut self) {
        // The signal-specific variable of each pair is read last, so it wins.
        if let Some(base) = self.url("OTEL_EXPORTER_OTLP_ENDPOINT", "otlp.endpoint") {
            self.s.config.otlp.endpoint = Some(format!("{}/v1/traces", base.trim_end_matches('/')));
        }
        if let Some(url) = self.url("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "otlp.endpoint") {
            self.s.config.otlp.endpoint = Some(url);
        }
        for var in [
            "OTEL_EXPORTER_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        ] {
            let Some(raw) = self.get(var) else { continue };
            match parse_headers(&raw) {
                Ok(headers) => {
                    self.set_source("otlp.http.headers", Source::Env(var));
                    self.s.config.otlp.grpc.headers = Some(headers.clone());
                    self.s.config.otlp.http.headers = Some(headers);
                }
                Err(why) => self.warn_secret(var, &why),
            }
        }
        for var in [
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
            "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
        ] {
            if let Some(path) = self.read(
                var,
                "otlp.http.certificate_file",
                "a readable PEM file",
                |v| std::fs::File::open(v).is_ok().then(|| v.into()),
            ) {
                self.s.config.otlp.http.certificate_file = Some(path);
            }
        }
        for var in [
            "OTEL_EXPORTER_OTLP_COMPRESSION",
            "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
        ] {
            if let Some(c) = self.read(var, "otlp.compression", "gzip or none", |v| {
                match v.to_ascii_lowercase().as_str() {
                    "gzip" => Some(Compression::Gzip),
                    "none" => Some(Compression::None),
                    _ => None,
                }
            }) {
                self.s.config.otlp.compression = Some(c);
            }
        }
        for var in [
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        ] {
            if let Some(p) = self.read(var, "otlp.protocol", "http/protobuf or grpc", |v| {
                match v.to_ascii_lowercase().as_str() {
                    "http/protobuf" | "http" => Some(OtlpProtocol::Http),
                    "grpc" => Some(OtlpProtocol::Grpc),
                    _ => None,
                }
            }) {
                self.s.config.otlp.protocol = Some(p);
            }
        }
        self.exporter_timeout("OTEL_EXPORTER_OTLP_TIMEOUT", ExporterType::Otlp);
        self.exporter_timeout("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", ExporterType::Otlp);
        if let Some(list) = self.read(
            "OTEL_RUST_EXCLUDED_URLS",
            "excluded_urls",
            "comma-separated valid regular expressions",
            |v| ExcludedUrls::from_comma_separated(v).ok(),
        ) {
            self.s.config.excluded_urls = Some(list);
        }
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    if v.eq_ignore_ascii_case("true") {
        Some(true)
    } else if v.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn parse_u64(v: &str) -> Option<u64> {
    v.parse().ok()
}

fn parse_positive(v: &str) -> Option<usize> {
    v.parse::<usize>().ok().filter(|n| *n > 0)
}

/// Milliseconds, as the OpenTelemetry timeout variables give them, in seconds.
fn parse_millis(v: &str) -> Option<f64> {
    v.parse::<u64>()
        .ok()
        .filter(|ms| *ms > 0)
        .map(|ms| ms as f64 / 1000.0)
}

/// `k=v,k2=v2` with percent-encoded values (W3C baggage octets, as the
/// OpenTelemetry spec asks for resource attributes and OTLP headers).
fn parse_pairs(v: &str) -> Option<Vec<(String, String)>> {
    v.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|pair| {
            let (k, val) = pair.split_once('=')?;
            let k = k.trim();
            if k.is_empty() {
                return None;
            }
            Some((k.to_owned(), percent_decode(val.trim())?))
        })
        .collect()
}

/// `OTEL_EXPORTER_OTLP_HEADERS`: `name=value` pairs, values percent-encoded. The
/// error names the entry and what is wrong with it, never a value.
fn parse_headers(v: &str) -> Result<BTreeMap<String, String>, String> {
    let mut headers = BTreeMap::new();
    for (i, pair) in v.split(',').filter(|p| !p.trim().is_empty()).enumerate() {
        let entry = i + 1;
        let Some((name, value)) = pair.split_once('=') else {
            return Err(format!("entry {entry} is not a name=value pair"));
        };
        let name = name.trim();
        if let Some(problem) = crate::redact::header_name_problem(name) {
            return Err(format!("entry {entry}: {problem}"));
        }
        let Some(value) = percent_decode(value.trim()) else {
            return Err(format!(
                "entry {entry} (`{name}`): the value is not valid percent-encoded UTF-8"
            ));
        };
        if let Some(problem) = crate::redact::header_value_problem(&value) {
            return Err(format!("entry {entry} (`{name}`): {problem}"));
        }
        headers.insert(name.to_owned(), value);
    }
    Ok(headers)
}

pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl fmt::Display for Settings {
    /// What will run, one setting per line with its origin. Secrets are masked.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        let mut rows: Vec<(&'static str, String)> = vec![
            ("disabled", self.disabled.to_string()),
            (
                "exporter_type",
                c.exporter_type
                    .map_or("none".to_owned(), |t| t.as_str().to_owned()),
            ),
            ("sampler", self.sampler.to_string()),
            ("timeout", format!("{:?}", c.effective_timeout())),
            (
                "max_tag_value_length",
                c.max_tag_value_length
                    .map_or("unlimited".to_owned(), |n| n.to_string()),
            ),
            (
                "excluded_urls",
                c.excluded_urls
                    .as_ref()
                    .map_or(String::new(), |e| e.patterns().join(",")),
            ),
            (
                "service_name",
                c.service_name
                    .clone()
                    .unwrap_or_else(|| "(binary name)".to_owned()),
            ),
            (
                "resource_attributes",
                self.resource_attributes
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            (
                "propagators",
                self.propagators
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            (
                "batch.schedule_delay",
                format!("{:?}", self.batch.schedule_delay),
            ),
            (
                "batch.max_queue_size",
                self.batch.max_queue_size.to_string(),
            ),
            (
                "batch.max_export_batch_size",
                self.batch.max_export_batch_size.to_string(),
            ),
        ];
        match c.exporter_type {
            Some(ExporterType::Zipkin) => rows.push((
                "zipkin.endpoint",
                crate::redact::url_credentials(
                    c.zipkin
                        .endpoint
                        .as_deref()
                        .unwrap_or(crate::config::DEFAULT_ZIPKIN_ENDPOINT),
                )
                .into_owned(),
            )),
            Some(ExporterType::Jaeger) => {
                rows.push((
                    "jaeger.collector_endpoint",
                    crate::redact::url_credentials(
                        c.jaeger.collector_endpoint.as_deref().unwrap_or_default(),
                    )
                    .into_owned(),
                ));
                rows.push((
                    "jaeger.thrift.agent_host_name",
                    c.jaeger
                        .thrift
                        .agent_host_name
                        .clone()
                        .unwrap_or_else(|| crate::config::DEFAULT_JAEGER_AGENT_HOST.to_owned()),
                ));
                rows.push((
                    "jaeger.thrift.agent_port",
                    c.jaeger
                        .thrift
                        .agent_port
                        .unwrap_or(crate::config::DEFAULT_JAEGER_AGENT_PORT)
                        .to_string(),
                ));
                if self.jaeger_password.is_some() {
                    rows.push(("jaeger.password", crate::redact::MASK.to_owned()));
                }
            }
            Some(ExporterType::Otlp) => {
                rows.push((
                    "otlp.endpoint",
                    crate::redact::url_credentials(
                        c.otlp
                            .endpoint
                            .as_deref()
                            .unwrap_or(crate::config::DEFAULT_OTLP_ENDPOINT),
                    )
                    .into_owned(),
                ));
                rows.push((
                    "otlp.http.headers",
                    c.otlp
                        .http
                        .headers
                        .iter()
                        .flatten()
                        .map(|(k, _)| format!("{k}={}", crate::redact::MASK))
                        .collect::<Vec<_>>()
                        .join(","),
                ));
            }
            _ => {}
        }
        let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        let mut out = String::new();
        for (k, v) in rows {
            let _ = writeln!(out, "{k:<width$} = {v}  ({})", self.source(k));
        }
        f.write_str(&out)
    }
}
