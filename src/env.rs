//! OpenTelemetry environment variables win over the config, as BentoML's guide
//! promises. Resolution is one pure step over an explicit variable source, so it
//! can be tested without touching the process environment.

use std::collections::HashMap;

use crate::config::{ExporterType, TracingConfig};

/// Where `OTEL_*` variables are read from.
#[derive(Debug, Clone, Default)]
pub(crate) enum Environment {
    /// The process environment.
    #[default]
    Process,
    /// Exactly these variables (tests, embedding).
    Vars(HashMap<String, String>),
}

impl Environment {
    fn get(&self, name: &str) -> Option<String> {
        match self {
            Environment::Process => std::env::var(name).ok(),
            Environment::Vars(vars) => vars.get(name).cloned(),
        }
        .filter(|v| !v.trim().is_empty())
    }
}

/// Applies every set and valid variable to `cfg`. Each invalid one yields a warning
/// naming the variable and the value (also logged), and is ignored.
pub(crate) fn apply(cfg: &mut TracingConfig, env: &Environment) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut warn = |var: &str, value: &str, expected: &str| {
        let msg = format!("ignoring {var}={value:?}: expected {expected}");
        tracing::warn!("tower-otel-tracing: {msg}");
        warnings.push(msg);
    };

    if let Some(v) = env.get("OTEL_EXPORTER_ZIPKIN_ENDPOINT") {
        if crate::config::is_http_url(&v) {
            cfg.zipkin.endpoint = Some(v);
        } else {
            warn(
                "OTEL_EXPORTER_ZIPKIN_ENDPOINT",
                &v,
                "an http:// or https:// URL",
            );
        }
    }
    if let Some(v) = env.get("OTEL_EXPORTER_ZIPKIN_TIMEOUT") {
        match parse_millis(&v) {
            Some(secs) if cfg.exporter_type == Some(ExporterType::Zipkin) => {
                cfg.timeout = Some(secs)
            }
            Some(_) => {}
            None => warn(
                "OTEL_EXPORTER_ZIPKIN_TIMEOUT",
                &v,
                "a positive number of milliseconds",
            ),
        }
    }
    warnings
}

/// Milliseconds, as the OpenTelemetry timeout variables give them, in seconds.
fn parse_millis(v: &str) -> Option<f64> {
    v.trim()
        .parse::<u64>()
        .ok()
        .filter(|ms| *ms > 0)
        .map(|ms| ms as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Environment {
        Environment::Vars(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn zipkin() -> TracingConfig {
        TracingConfig {
            exporter_type: Some(ExporterType::Zipkin),
            timeout: Some(10.0),
            ..Default::default()
        }
    }

    #[test]
    fn unset_leaves_the_config_alone() {
        let mut cfg = zipkin();
        assert!(apply(&mut cfg, &vars(&[])).is_empty());
        assert_eq!(cfg, zipkin());
    }

    #[test]
    fn valid_zipkin_variables_win() {
        let mut cfg = zipkin();
        cfg.zipkin.endpoint = Some("http://from-config:9411/api/v2/spans".into());
        let w = apply(
            &mut cfg,
            &vars(&[
                (
                    "OTEL_EXPORTER_ZIPKIN_ENDPOINT",
                    "http://from-env:9411/api/v2/spans",
                ),
                ("OTEL_EXPORTER_ZIPKIN_TIMEOUT", "2500"),
            ]),
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(
            cfg.zipkin.endpoint.as_deref(),
            Some("http://from-env:9411/api/v2/spans")
        );
        assert_eq!(cfg.timeout, Some(2.5));
    }

    #[test]
    fn invalid_zipkin_variables_are_warned_and_ignored() {
        let mut cfg = zipkin();
        let w = apply(
            &mut cfg,
            &vars(&[
                ("OTEL_EXPORTER_ZIPKIN_ENDPOINT", "not a url"),
                ("OTEL_EXPORTER_ZIPKIN_TIMEOUT", "abc"),
            ]),
        );
        assert_eq!(w.len(), 2);
        assert!(w[0].contains("OTEL_EXPORTER_ZIPKIN_ENDPOINT") && w[0].contains("not a url"));
        assert!(w[1].contains("OTEL_EXPORTER_ZIPKIN_TIMEOUT") && w[1].contains("abc"));
        assert_eq!(cfg, zipkin());
    }

    #[test]
    fn zipkin_timeout_only_applies_to_zipkin() {
        let mut cfg = TracingConfig {
            exporter_type: Some(ExporterType::Console),
            ..Default::default()
        };
        apply(&mut cfg, &vars(&[("OTEL_EXPORTER_ZIPKIN_TIMEOUT", "100")]));
        assert_eq!(cfg.timeout, None);
    }
}
