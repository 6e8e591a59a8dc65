//! Config + environment -> [`Settings`], in one pure step over an explicit
//! variable source: every row of the table reads the config, then every row reads
//! its variables, in table order. The SDK's own reading of the environment is
//! always overridden by what comes out of here.

use std::collections::BTreeMap;

use crate::config::redact::url_credentials;
use crate::config::{
    Compression, ConfigError, ConfigErrorKind, ExporterType, OtlpProtocol, Propagator, Semconv,
    TracingConfig,
};

use super::fields::{self, fields};
use super::{
    metrics, BatchSettings, Environment, JaegerSettings, KeepSettings, OtlpSettings, Sampler,
    Settings, Source, ZipkinSettings,
};

pub(super) fn resolve(cfg: &TracingConfig, env: &Environment) -> Result<Settings, ConfigError> {
    let mut s = defaults();
    for field in fields() {
        if (field.from_config)(field, cfg, &mut s)? {
            s.set_source(field.key(), Source::Config);
        }
    }
    for field in fields() {
        for &var in field.vars() {
            let Some(raw) = env.get(var) else { continue };
            match (field.from_env)(var, raw.trim(), &mut s) {
                Ok(true) => s.set_source(field.key(), Source::Env(var)),
                Ok(false) => {}
                Err(why) if field.secret() => s.warn(format!("ignoring {var}: {why}")),
                Err(why) => {
                    let shown = url_credentials(&raw);
                    s.warn(format!("ignoring {var}={shown:?}: {why}"));
                }
            }
        }
    }
    finish(&mut s)?;
    Ok(s)
}

/// Every setting at its default, before the config or the environment.
fn defaults() -> Settings {
    let timeout = fields::DEFAULT_TIMEOUT;
    Settings {
        disabled: false,
        exporter: ExporterType::None,
        sampler: Sampler::ParentBasedTraceIdRatio(fields::DEFAULT_SAMPLE_RATE),
        timeout,
        max_tag_value_length: None,
        excluded_urls: None,
        service_name: default_service_name(),
        resource_attributes: Vec::new(),
        propagators: Propagator::DEFAULT.to_vec(),
        semconv: Semconv::Legacy,
        rpc_semconv: Semconv::Legacy,
        keep: KeepSettings::default(),
        max_frame_spans: fields::DEFAULT_MAX_FRAME_SPANS,
        batch: BatchSettings::default(),
        zipkin: ZipkinSettings {
            endpoint: fields::DEFAULT_ZIPKIN_ENDPOINT.to_owned(),
            local_node_ipv4: None,
            local_node_ipv6: None,
            local_node_port: None,
            timeout,
        },
        jaeger: JaegerSettings {
            collector_endpoint: None,
            agent_host_name: fields::DEFAULT_JAEGER_AGENT_HOST.to_owned(),
            agent_port: fields::DEFAULT_JAEGER_AGENT_PORT,
            udp_split_oversized_batches: false,
            user: None,
            password: None,
            timeout,
        },
        otlp: OtlpSettings {
            protocol: OtlpProtocol::Http,
            endpoint: fields::DEFAULT_OTLP_ENDPOINT.to_owned(),
            compression: Compression::None,
            http_headers: Vec::new(),
            grpc_headers: Vec::new(),
            certificate: None,
            insecure: false,
            timeout,
        },
        metrics: metrics::defaults(timeout),
        warnings: Vec::new(),
        sources: BTreeMap::new(),
    }
}

/// What follows from the values together.
fn finish(s: &mut Settings) -> Result<(), ConfigError> {
    s.batch.max_export_batch_size = s.batch.max_export_batch_size.min(s.batch.max_queue_size);
    if s.exporter == ExporterType::Console
        && s.source(fields::general::BATCH_SCHEDULE_DELAY.key()) == Source::Default
    {
        s.batch.schedule_delay = fields::CONSOLE_SCHEDULE_DELAY;
    }
    if s.excluded_urls.as_ref().is_some_and(|e| e.is_empty()) {
        s.excluded_urls = None;
    }
    s.zipkin.timeout = s.timeout;
    s.jaeger.timeout = s.timeout;
    s.otlp.timeout = s.timeout;
    if !s.disabled {
        compiled_in(s)?;
    }
    if s.exporter == ExporterType::Otlp
        && s.otlp.insecure
        && s.otlp.endpoint.starts_with("https://")
    {
        return Err(ConfigError::of_kind(
            ConfigErrorKind::InvalidValue,
            fields::otlp::OTLP_GRPC_INSECURE.error_path(),
            format!(
                "plaintext gRPC was asked for, but the endpoint `{}` asks for TLS: use an \
                 http:// endpoint, or leave `insecure` off",
                url_credentials(&s.otlp.endpoint)
            ),
        ));
    }
    metrics::finish(s)
}

/// Settings that this build could not run are refused here, so `validate()` and a
/// printed config fail the same way the layer would, naming the feature to enable.
fn compiled_in(s: &Settings) -> Result<(), ConfigError> {
    let missing = match s.exporter {
        ExporterType::Zipkin if !cfg!(feature = "zipkin") => "zipkin",
        ExporterType::Jaeger if !cfg!(feature = "jaeger") => "jaeger",
        ExporterType::Otlp if !cfg!(feature = "otlp") => "otlp",
        #[cfg(not(feature = "otlp-grpc"))]
        ExporterType::Otlp if s.otlp.protocol == OtlpProtocol::Grpc => {
            return Err(grpc_not_compiled_in());
        }
        _ => return Ok(()),
    };
    Err(not_compiled_in(missing))
}

/// An exporter this build leaves out.
pub(crate) fn not_compiled_in(name: &str) -> ConfigError {
    fields::general::EXPORTER_TYPE.not_compiled_in(name)
}

/// OTLP over gRPC, which this build leaves out.
#[cfg(not(feature = "otlp-grpc"))]
pub(crate) fn grpc_not_compiled_in() -> ConfigError {
    ConfigError::of_kind(
        ConfigErrorKind::Unsupported,
        fields::otlp::OTLP_PROTOCOL.error_path(),
        "`grpc` needs the `otlp-grpc` cargo feature",
    )
}

fn default_service_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown_service".to_owned())
}

impl Settings {
    pub(super) fn set_source(&mut self, key: &'static str, source: Source) {
        self.sources.insert(key, source);
    }

    pub(super) fn warn(&mut self, msg: String) {
        tracing::warn!("tower-otel-tracing: {msg}");
        self.warnings.push(msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each build accepts exactly the exporters it has, and names the feature
    /// that is missing.
    #[test]
    fn exporters_left_out_of_the_build_are_refused() {
        for (exporter, name, on) in [
            (ExporterType::Zipkin, "zipkin", cfg!(feature = "zipkin")),
            (ExporterType::Jaeger, "jaeger", cfg!(feature = "jaeger")),
            (ExporterType::Otlp, "otlp", cfg!(feature = "otlp")),
            (ExporterType::Console, "console", true),
        ] {
            let cfg = TracingConfig {
                exporter_type: Some(exporter),
                ..Default::default()
            };
            match cfg.validate() {
                Ok(()) => assert!(on, "{name} accepted without its feature"),
                Err(e) => {
                    assert!(!on, "{name} refused: {e}");
                    assert_eq!(e.path(), "tracing.exporter_type");
                    assert!(
                        e.to_string().contains(&format!("`{name}` cargo feature")),
                        "{e}"
                    );
                }
            }
            let disabled = [("OTEL_SDK_DISABLED".to_owned(), "true".to_owned())];
            let disabled = Settings::resolve_with(&cfg, disabled.into_iter().collect());
            assert!(disabled.is_ok(), "{name}: a disabled SDK runs no exporter");
        }
        let mut grpc = TracingConfig {
            exporter_type: Some(ExporterType::Otlp),
            ..Default::default()
        };
        grpc.otlp.protocol = Some(OtlpProtocol::Grpc);
        let runs = cfg!(all(feature = "otlp", feature = "otlp-grpc"));
        match grpc.validate() {
            Ok(()) => assert!(runs, "gRPC accepted without its feature"),
            Err(e) => {
                assert!(!runs, "gRPC refused: {e}");
                let field = match cfg!(feature = "otlp") {
                    true => "tracing.otlp.protocol",
                    false => "tracing.exporter_type",
                };
                assert_eq!(e.path(), field);
            }
        }
    }
}
