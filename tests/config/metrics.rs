//! The `metrics` section and its variables: every variable unset (the config
//! stands), valid (it wins) and invalid (one warning naming it and its value,
//! ignored); the metrics endpoint derived from the traces' one; what the
//! metrics' OTLP settings take from the traces'; errors that name the field
//! and the value; header values never shown. Resolution runs on explicit maps,
//! never on the process environment.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use tower_otel_tracing::config::{
    Compression, ConfigFormat, ExemplarFilter, ExporterType, MetricsConfig, MetricsExporter,
    MetricsOtlpConfig, OtlpProtocol, Temporality,
};
use tower_otel_tracing::settings::{Settings, Source};
use tower_otel_tracing::{ConfigError, TracingConfig};

/// Traces to the console; metrics scraped, with every metrics field set.
fn configured() -> TracingConfig {
    let mut cfg = TracingConfig {
        exporter_type: Some(ExporterType::Console),
        ..Default::default()
    };
    cfg.otlp.endpoint = Some("http://config-otlp:4318/v1/traces".into());
    cfg.metrics = MetricsConfig {
        exporter: Some(MetricsExporter::Prometheus),
        interval: Some(30.0),
        exemplar_filter: Some(ExemplarFilter::TraceBased),
        server_address: Some(false),
        otlp: MetricsOtlpConfig {
            endpoint: Some("http://config-metrics:4318/v1/metrics".into()),
            protocol: Some(OtlpProtocol::Http),
            headers: Some(BTreeMap::from([("x-config".into(), "c".into())])),
            timeout: Some(5.0),
            temporality: Some(Temporality::Cumulative),
        },
    };
    cfg
}

/// The same, with no metrics endpoint and no metrics timeout: what the generic
/// OTLP variables set when the metrics' config leaves them to them.
fn without_endpoint_or_timeout() -> TracingConfig {
    let mut cfg = configured();
    cfg.metrics.otlp.endpoint = None;
    cfg.metrics.otlp.timeout = None;
    cfg
}

fn resolve(cfg: &TracingConfig, vars: &[(&str, &str)]) -> Settings {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Settings::resolve_with(cfg, map).expect("the config is valid")
}

/// The metrics' OTLP HTTP headers as plain text, for comparisons.
fn headers(s: &Settings) -> BTreeMap<String, String> {
    s.metrics
        .otlp
        .http_headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
        .collect()
}

fn cert_path() -> String {
    let path = std::env::temp_dir().join(format!("tot-metrics-ca-{}.pem", std::process::id()));
    std::fs::write(
        &path,
        "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

struct Case {
    var: &'static str,
    /// The setting's name for `Settings::source`.
    field: &'static str,
    config: fn() -> TracingConfig,
    valid: &'static str,
    invalid: &'static str,
    /// True when the valid value has been applied.
    applied: fn(&Settings) -> bool,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            var: "OTEL_METRICS_EXPORTER",
            field: "metrics.exporter",
            config: configured,
            valid: "console",
            invalid: "kafka",
            applied: |s| s.metrics.exporter == MetricsExporter::Console,
        },
        Case {
            var: "OTEL_METRIC_EXPORT_INTERVAL",
            field: "metrics.interval",
            config: configured,
            valid: "15000",
            invalid: "15s",
            applied: |s| s.metrics.interval == Duration::from_secs(15),
        },
        Case {
            var: "OTEL_METRICS_EXEMPLAR_FILTER",
            field: "metrics.exemplar_filter",
            config: configured,
            valid: "always_off",
            invalid: "sometimes",
            applied: |s| s.metrics.exemplar_filter == ExemplarFilter::AlwaysOff,
        },
        Case {
            var: "OTEL_RUST_METRICS_SERVER_ADDRESS",
            field: "metrics.server_address",
            config: configured,
            valid: "TRUE",
            invalid: "yes",
            applied: |s| s.metrics.server_address,
        },
        Case {
            var: "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
            field: "metrics.otlp.protocol",
            config: configured,
            valid: "grpc",
            invalid: "http/json",
            applied: |s| s.metrics.otlp.protocol == OtlpProtocol::Grpc,
        },
        Case {
            var: "OTEL_EXPORTER_OTLP_ENDPOINT",
            field: "metrics.otlp.endpoint",
            config: without_endpoint_or_timeout,
            valid: "http://env-otlp:4318/",
            invalid: "env-otlp:4318",
            applied: |s| s.metrics.otlp.endpoint == "http://env-otlp:4318/v1/metrics",
        },
        Case {
            var: "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            field: "metrics.otlp.endpoint",
            config: configured,
            valid: "http://env-metrics:9090/api/v1/otlp/v1/metrics",
            invalid: "ftp://x",
            applied: |s| {
                s.metrics.otlp.endpoint == "http://env-metrics:9090/api/v1/otlp/v1/metrics"
            },
        },
        Case {
            var: "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION",
            field: "metrics.otlp.compression",
            config: configured,
            valid: "gzip",
            invalid: "brotli",
            applied: |s| s.metrics.otlp.compression == Compression::Gzip,
        },
        Case {
            var: "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE",
            field: "metrics.otlp.certificate_file",
            config: configured,
            valid: "CERT",
            invalid: "/no/such/ca.pem",
            applied: |s| s.metrics.otlp.certificate.is_some(),
        },
        Case {
            var: "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
            field: "metrics.otlp.headers",
            config: configured,
            valid: "api-key=abc%3D,x-team=ml",
            invalid: "a=SECRET%0A",
            applied: |s| {
                headers(s)
                    == BTreeMap::from([
                        ("api-key".into(), "abc=".into()),
                        ("x-team".into(), "ml".into()),
                    ])
                    && s.metrics.otlp.grpc_headers == s.metrics.otlp.http_headers
            },
        },
        Case {
            var: "OTEL_EXPORTER_OTLP_TIMEOUT",
            field: "metrics.otlp.timeout",
            config: without_endpoint_or_timeout,
            valid: "3000",
            invalid: "3s",
            applied: |s| s.metrics.otlp.timeout == Duration::from_secs(3),
        },
        Case {
            var: "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
            field: "metrics.otlp.timeout",
            config: configured,
            valid: "2500",
            invalid: "-1",
            applied: |s| s.metrics.otlp.timeout == Duration::from_millis(2500),
        },
        Case {
            var: "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
            field: "metrics.otlp.temporality",
            config: configured,
            valid: "Delta",
            invalid: "weekly",
            applied: |s| s.metrics.temporality == Temporality::Delta,
        },
    ]
}

#[test]
fn every_metrics_variable_unset_valid_invalid() {
    let cert = cert_path();
    for case in cases() {
        let cfg = (case.config)();
        let valid = if case.valid == "CERT" {
            cert.as_str()
        } else {
            case.valid
        };

        let unset = resolve(&cfg, &[]);
        assert!(!(case.applied)(&unset), "{}: applied while unset", case.var);
        assert!(
            unset.warnings.is_empty(),
            "{}: {:?}",
            case.var,
            unset.warnings
        );
        assert_ne!(
            unset.source(case.field),
            Source::Env(case.var),
            "{}",
            case.var
        );

        let set = resolve(&cfg, &[(case.var, valid)]);
        assert!(
            (case.applied)(&set),
            "{}={valid} not applied: {set:#?}",
            case.var
        );
        assert!(set.warnings.is_empty(), "{}: {:?}", case.var, set.warnings);
        assert_eq!(
            set.source(case.field),
            Source::Env(case.var),
            "{}",
            case.var
        );

        let bad = case.invalid;
        let mut ignored = resolve(&cfg, &[(case.var, bad)]);
        assert_eq!(
            ignored.warnings.len(),
            1,
            "{}={bad}: {:?}",
            case.var,
            ignored.warnings
        );
        let w = &ignored.warnings[0];
        if case.var.ends_with("_HEADERS") {
            // Header values are secrets: the warning names the entry, not the value.
            assert!(w.contains(case.var) && w.contains("entry 1"), "{w}");
            assert!(!w.contains("SECRET") && !w.contains('='), "{w}");
        } else {
            assert!(w.contains(case.var) && w.contains(bad), "{w}");
        }
        assert!(!(case.applied)(&ignored), "{}={bad} was applied", case.var);
        ignored.warnings.clear();
        assert_eq!(ignored, unset, "{}={bad} changed the settings", case.var);
    }
    let _ = std::fs::remove_file(cert);
}

#[test]
fn without_variables_the_config_decides() {
    let s = resolve(&configured(), &[]);
    let m = &s.metrics;
    assert_eq!(m.exporter, MetricsExporter::Prometheus);
    assert_eq!(m.interval, Duration::from_secs(30));
    assert_eq!(m.exemplar_filter, ExemplarFilter::TraceBased);
    assert!(!m.server_address);
    assert_eq!(m.otlp.endpoint, "http://config-metrics:4318/v1/metrics");
    assert_eq!(m.otlp.protocol, OtlpProtocol::Http);
    assert_eq!(
        headers(&s),
        BTreeMap::from([("x-config".into(), "c".into())])
    );
    assert_eq!(m.otlp.timeout, Duration::from_secs(5));
    assert_eq!(m.temporality, Temporality::Cumulative);
    for key in [
        "metrics.exporter",
        "metrics.interval",
        "metrics.exemplar_filter",
        "metrics.server_address",
        "metrics.otlp.endpoint",
        "metrics.otlp.protocol",
        "metrics.otlp.headers",
        "metrics.otlp.timeout",
        "metrics.otlp.temporality",
    ] {
        assert_eq!(s.source(key), Source::Config, "{key}");
    }
}

#[test]
fn defaults_when_nothing_is_said() {
    let s = resolve(&TracingConfig::default(), &[]);
    let m = &s.metrics;
    assert_eq!(m.exporter, MetricsExporter::None);
    assert_eq!(m.interval, Duration::from_secs(60));
    assert_eq!(m.exemplar_filter, ExemplarFilter::TraceBased);
    assert!(!m.server_address);
    assert_eq!(m.temporality, Temporality::Cumulative);
    assert_eq!(m.otlp.endpoint, "http://localhost:4318/v1/metrics");
    assert_eq!(m.otlp.protocol, OtlpProtocol::Http);
    assert_eq!(m.otlp.compression, Compression::None);
    assert!(m.otlp.http_headers.is_empty() && m.otlp.certificate.is_none());
    assert_eq!(m.otlp.timeout, Duration::from_secs(10));
    assert_eq!(s.source("metrics.otlp.endpoint"), Source::Default);
}

/// Where the metrics go when only the traces' endpoint, or the base URL for
/// every signal, is given.
#[test]
fn the_metrics_endpoint_is_derived() {
    let endpoint = |traces: Option<&str>, vars: &[(&str, &str)]| {
        let mut cfg = TracingConfig::default();
        cfg.otlp.endpoint = traces.map(str::to_owned);
        let s = resolve(&cfg, vars);
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        (
            s.metrics.otlp.endpoint.clone(),
            s.source("metrics.otlp.endpoint"),
        )
    };
    // The traces' endpoint, its `/v1/traces` replaced.
    assert_eq!(
        endpoint(Some("http://collector:4318/v1/traces"), &[]),
        ("http://collector:4318/v1/metrics".into(), Source::Config)
    );
    assert_eq!(
        endpoint(Some("https://gw.example/otlp/v1/traces/"), &[]),
        ("https://gw.example/otlp/v1/metrics".into(), Source::Config)
    );
    // Without a path, the metrics' path is added.
    assert_eq!(
        endpoint(Some("http://collector:4318"), &[]).0,
        "http://collector:4318/v1/metrics"
    );
    // The traces' own variable moves the metrics with them.
    let var = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
    assert_eq!(
        endpoint(None, &[(var, "http://t:4318/v1/traces")]),
        ("http://t:4318/v1/metrics".into(), Source::Env(var))
    );
    // The base URL for every signal beats the traces' endpoint, theirs included.
    let generic = "OTEL_EXPORTER_OTLP_ENDPOINT";
    assert_eq!(
        endpoint(
            Some("http://collector:4318/v1/traces"),
            &[
                (generic, "http://base:4318"),
                (var, "http://t:4318/v1/traces")
            ]
        ),
        ("http://base:4318/v1/metrics".into(), Source::Env(generic))
    );
    // The metrics' own variable is used as given, over everything.
    let own = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";
    assert_eq!(
        endpoint(
            Some("http://collector:4318/v1/traces"),
            &[(generic, "http://base:4318"), (own, "http://m:9090/otlp")]
        ),
        ("http://m:9090/otlp".into(), Source::Env(own))
    );
    // Nothing said.
    assert_eq!(
        endpoint(None, &[]),
        ("http://localhost:4318/v1/metrics".into(), Source::Default)
    );
}

#[test]
fn the_metrics_config_endpoint_beats_the_base_url_for_every_signal() {
    let mut cfg = TracingConfig::default();
    cfg.metrics.otlp.endpoint = Some("http://m:4318/v1/metrics".into());
    let s = resolve(&cfg, &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318")]);
    assert_eq!(s.metrics.otlp.endpoint, "http://m:4318/v1/metrics");
    assert_eq!(s.source("metrics.otlp.endpoint"), Source::Config);
    assert_eq!(s.otlp.endpoint, "http://base:4318/v1/traces");
    // The same for the timeout.
    cfg.metrics.otlp.timeout = Some(1.5);
    let s = resolve(&cfg, &[("OTEL_EXPORTER_OTLP_TIMEOUT", "9000")]);
    assert_eq!(s.metrics.otlp.timeout, Duration::from_millis(1500));
}

#[test]
fn over_grpc_the_url_has_no_signal_path() {
    let mut cfg = TracingConfig::default();
    cfg.metrics.otlp.protocol = Some(OtlpProtocol::Grpc);
    assert_eq!(
        resolve(&cfg, &[]).metrics.otlp.endpoint,
        "http://localhost:4317"
    );
    let s = resolve(&cfg, &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4317")]);
    assert_eq!(s.metrics.otlp.endpoint, "http://base:4317");
    // Traces and metrics both over gRPC: one collector URL serves both.
    let mut cfg = TracingConfig::default();
    cfg.otlp.protocol = Some(OtlpProtocol::Grpc);
    cfg.otlp.endpoint = Some("http://collector:4317".into());
    let s = resolve(&cfg, &[]);
    assert_eq!(s.metrics.otlp.protocol, OtlpProtocol::Grpc);
    assert_eq!(s.metrics.otlp.endpoint, "http://collector:4317");
    // The traces' variable switches the metrics too, and their default with it.
    let s = resolve(
        &TracingConfig::default(),
        &[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")],
    );
    assert_eq!(s.metrics.otlp.endpoint, "http://localhost:4317");
    assert_eq!(
        s.source("metrics.otlp.protocol"),
        Source::Env("OTEL_EXPORTER_OTLP_PROTOCOL")
    );
}

/// A traces' endpoint whose path says nothing of the metrics' one: the
/// default, said once when the metrics go there.
#[test]
fn an_endpoint_that_cannot_be_derived_is_said_when_it_matters() {
    let mut cfg = TracingConfig::default();
    cfg.otlp.endpoint = Some("http://gw:8080/api/traces".into());
    cfg.metrics.exporter = Some(MetricsExporter::Prometheus);
    let s = resolve(&cfg, &[]);
    assert_eq!(s.metrics.otlp.endpoint, "http://localhost:4318/v1/metrics");
    assert!(s.warnings.is_empty(), "nothing is pushed: {:?}", s.warnings);
    if cfg!(feature = "otlp") {
        cfg.metrics.exporter = Some(MetricsExporter::Otlp);
        let s = resolve(&cfg, &[]);
        assert_eq!(s.metrics.otlp.endpoint, "http://localhost:4318/v1/metrics");
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
        let w = &s.warnings[0];
        assert!(
            w.contains("metrics.otlp.endpoint") && w.contains("/v1/traces"),
            "{w}"
        );
        assert!(w.contains("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"), "{w}");
    }
}

#[test]
fn unset_otlp_settings_are_the_traces_ones() {
    let cert = cert_path();
    let mut cfg = TracingConfig {
        timeout: Some(4.0),
        ..Default::default()
    };
    cfg.otlp.compression = Some(Compression::Gzip);
    cfg.otlp.http.headers = Some(BTreeMap::from([("x-traces".into(), "t".into())]));
    let s = resolve(&cfg, &[("OTEL_EXPORTER_OTLP_CERTIFICATE", &cert)]);
    let m = &s.metrics.otlp;
    assert_eq!(m.compression, Compression::Gzip);
    assert_eq!(m.timeout, Duration::from_secs(4));
    assert_eq!(m.certificate, s.otlp.certificate);
    assert!(m.certificate.is_some());
    assert_eq!(
        headers(&s),
        BTreeMap::from([("x-traces".into(), "t".into())])
    );
    // Each says where the traces' value came from.
    assert_eq!(s.source("metrics.otlp.compression"), Source::Config);
    assert_eq!(s.source("metrics.otlp.timeout"), Source::Config);
    assert_eq!(s.source("metrics.otlp.headers"), Source::Config);
    assert_eq!(
        s.source("metrics.otlp.certificate_file"),
        Source::Env("OTEL_EXPORTER_OTLP_CERTIFICATE")
    );

    // The metrics' own values win over the traces'.
    cfg.metrics.otlp.headers = Some(BTreeMap::from([("x-metrics".into(), "m".into())]));
    cfg.metrics.otlp.timeout = Some(1.0);
    let s = resolve(&cfg, &[("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "none")]);
    assert_eq!(
        headers(&s),
        BTreeMap::from([("x-metrics".into(), "m".into())])
    );
    assert_eq!(s.metrics.otlp.timeout, Duration::from_secs(1));
    assert_eq!(s.metrics.otlp.compression, Compression::None);
    assert_eq!(
        s.otlp.compression,
        Compression::Gzip,
        "the traces keep theirs"
    );
    let _ = std::fs::remove_file(cert);
}

#[test]
fn an_exporter_list_runs_its_first_supported_name() {
    let exporter = |v: &str| {
        let s = resolve(&TracingConfig::default(), &[("OTEL_METRICS_EXPORTER", v)]);
        (s.metrics.exporter, s.warnings)
    };
    assert_eq!(
        exporter("prometheus"),
        (MetricsExporter::Prometheus, vec![])
    );
    assert_eq!(exporter(" None "), (MetricsExporter::None, vec![]));
    assert_eq!(exporter("logging"), (MetricsExporter::Console, vec![]));

    let (chosen, warnings) = exporter("kafka,console,prometheus");
    assert_eq!(chosen, MetricsExporter::Console);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let w = &warnings[0];
    assert!(w.contains("OTEL_METRICS_EXPORTER"), "{w}");
    assert!(w.contains("kafka,console,prometheus"), "{w}");
    assert!(w.contains("`kafka`") && w.contains("`prometheus`"), "{w}");

    // No supported name: invalid, and the config stands.
    let mut cfg = TracingConfig::default();
    cfg.metrics.exporter = Some(MetricsExporter::Prometheus);
    let s = resolve(&cfg, &[("OTEL_METRICS_EXPORTER", "kafka,zipkin")]);
    assert_eq!(s.metrics.exporter, MetricsExporter::Prometheus);
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    assert!(s.warnings[0].contains("kafka,zipkin"), "{:?}", s.warnings);
}

#[test]
fn lowmemory_is_delta() {
    let s = resolve(
        &configured(),
        &[(
            "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
            "LowMemory",
        )],
    );
    assert_eq!(s.metrics.temporality, Temporality::Delta);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

/// The section in every format, bare or under `tracing`.
#[test]
fn the_section_loads_from_every_format() {
    let metrics = MetricsConfig {
        exporter: Some(MetricsExporter::Otlp),
        interval: Some(15.0),
        exemplar_filter: Some(ExemplarFilter::AlwaysOn),
        server_address: Some(true),
        otlp: MetricsOtlpConfig {
            endpoint: Some("http://collector:4318/v1/metrics".into()),
            protocol: Some(OtlpProtocol::Http),
            headers: Some(BTreeMap::from([("x-api-key".into(), "k".into())])),
            timeout: Some(2.5),
            temporality: Some(Temporality::Delta),
        },
    };
    let expected = TracingConfig {
        metrics,
        ..Default::default()
    };
    let yaml = "metrics:\n  exporter: otlp\n  interval: 15\n  exemplar_filter: always_on\n  server_address: true\n  otlp:\n    endpoint: http://collector:4318/v1/metrics\n    protocol: http\n    headers: {x-api-key: k}\n    timeout: 2.5\n    temporality: delta\n";
    let nested_yaml = format!(
        "tracing:\n{}",
        yaml.lines().map(|l| format!("  {l}\n")).collect::<String>()
    );
    let json = r#"{"metrics": {"exporter": "otlp", "interval": 15, "exemplar_filter": "always_on", "server_address": true,
        "otlp": {"endpoint": "http://collector:4318/v1/metrics", "protocol": "http", "headers": {"x-api-key": "k"}, "timeout": 2.5, "temporality": "delta"}}}"#;
    let nested_json = format!(r#"{{"tracing": {json}, "api_server": {{"workers": 4}}}}"#);
    let toml = "[metrics]\nexporter = \"otlp\"\ninterval = 15.0\nexemplar_filter = \"always_on\"\nserver_address = true\n[metrics.otlp]\nendpoint = \"http://collector:4318/v1/metrics\"\nprotocol = \"http\"\ntimeout = 2.5\ntemporality = \"delta\"\n[metrics.otlp.headers]\nx-api-key = \"k\"\n";
    let nested_toml = toml.replace("[metrics", "[tracing.metrics");
    for (text, format) in [
        (yaml, ConfigFormat::Yaml),
        (nested_yaml.as_str(), ConfigFormat::Yaml),
        (json, ConfigFormat::Json),
        (nested_json.as_str(), ConfigFormat::Json),
        (toml, ConfigFormat::Toml),
        (nested_toml.as_str(), ConfigFormat::Toml),
    ] {
        let cfg = TracingConfig::parse(text, format).unwrap_or_else(|e| panic!("{format:?}: {e}"));
        assert_eq!(cfg, expected, "{format:?}: {text}");
    }
    // And back.
    let json = serde_json::to_string(&expected).unwrap();
    assert_eq!(
        TracingConfig::parse(&json, ConfigFormat::Json).unwrap(),
        expected
    );
}

/// Parses and validates, returning the error.
fn error_of(text: &str, format: ConfigFormat) -> ConfigError {
    match TracingConfig::parse(text, format) {
        Err(e) => e,
        Ok(cfg) => cfg
            .validate()
            .expect_err(&format!("{text} should be rejected")),
    }
}

#[test]
fn every_metrics_field_rejects_a_bad_value_naming_path_and_value() {
    use ConfigFormat::{Json, Toml, Yaml};
    let cases: &[(&str, ConfigFormat, &str, &str)] = &[
        (
            "metrics: {exporter: kafka}",
            Yaml,
            "tracing.metrics.exporter",
            "kafka",
        ),
        (
            "metrics: {interval: 0}",
            Yaml,
            "tracing.metrics.interval",
            "0",
        ),
        (
            "metrics: {interval: -2}",
            Yaml,
            "tracing.metrics.interval",
            "-2",
        ),
        (
            "metrics: {interval: soon}",
            Yaml,
            "tracing.metrics.interval",
            "soon",
        ),
        (
            "metrics: {exemplar_filter: sometimes}",
            Yaml,
            "tracing.metrics.exemplar_filter",
            "sometimes",
        ),
        (
            "metrics: {server_address: maybe}",
            Yaml,
            "tracing.metrics.server_address",
            "maybe",
        ),
        (
            "metrics: {otlp: {endpoint: 'localhost:4318'}}",
            Yaml,
            "tracing.metrics.otlp.endpoint",
            "localhost:4318",
        ),
        (
            "metrics: {otlp: {protocol: smtp}}",
            Yaml,
            "tracing.metrics.otlp.protocol",
            "smtp",
        ),
        (
            "metrics: {otlp: {timeout: 0}}",
            Yaml,
            "tracing.metrics.otlp.timeout",
            "0",
        ),
        (
            "metrics: {otlp: {temporality: weekly}}",
            Yaml,
            "tracing.metrics.otlp.temporality",
            "weekly",
        ),
        (
            "metrics: {otlp: {headers: {'bad header': v}}}",
            Yaml,
            "tracing.metrics.otlp.headers.bad header",
            "bad header",
        ),
        (
            // Header values are secrets: the error says where and why, not what.
            "metrics: {otlp: {headers: {x-ok: \"line\\nbreak\"}}}",
            Yaml,
            "tracing.metrics.otlp.headers.x-ok",
            "byte 0x0a at position 4",
        ),
        (
            "metrics: {otlp: {headers: {x-key: 12345678}}}",
            Yaml,
            "tracing.metrics.otlp.headers.x-key",
            "value not shown",
        ),
        (
            r#"{"tracing": {"metrics": {"interval": 0}}}"#,
            Json,
            "tracing.metrics.interval",
            "0",
        ),
        (
            r#"{"metrics": {"otlp": {"temporality": "weekly"}}}"#,
            Json,
            "tracing.metrics.otlp.temporality",
            "weekly",
        ),
        (
            "[tracing.metrics]\nexporter = \"kafka\"\n",
            Toml,
            "tracing.metrics.exporter",
            "kafka",
        ),
        (
            "[metrics.otlp]\nendpoint = \"ftp://x\"\n",
            Toml,
            "tracing.metrics.otlp.endpoint",
            "ftp://x",
        ),
    ];
    for (text, format, path, value) in cases {
        let err = error_of(text, *format);
        assert_eq!(err.path(), *path, "{text}: {err}");
        for secret in ["line", "break", "12345678"] {
            assert!(!err.to_string().contains(secret), "{text}: `{err}` leaks");
        }
        assert!(
            err.to_string().contains(value),
            "{text}: `{err}` should mention `{value}`"
        );
    }
}

#[test]
fn unknown_metrics_fields_are_named() {
    let err = error_of("metrics: {intervall: 5}", ConfigFormat::Yaml);
    assert!(err.path().starts_with("tracing.metrics"), "{err}");
    assert!(err.to_string().contains("intervall"), "{err}");
    assert!(
        err.to_string().contains("interval"),
        "suggests the known fields: {err}"
    );
    // Compression and certificates are the traces' (or the metrics' variables).
    let err = error_of(
        r#"{"metrics": {"otlp": {"compression": "gzip"}}}"#,
        ConfigFormat::Json,
    );
    assert!(err.path().starts_with("tracing.metrics.otlp"), "{err}");
    assert!(err.to_string().contains("compression"), "{err}");
}

/// Header values never appear in `Debug`, `--print-config`, errors or warnings.
#[test]
fn header_values_are_never_shown() {
    let mut cfg = configured();
    cfg.metrics.otlp.headers = Some(BTreeMap::from([("x-api-key".into(), "topsecret".into())]));
    cfg.metrics.otlp.endpoint = Some("http://user:pa55word@m:4318/v1/metrics".into());
    let shown = format!("{cfg:?}");
    assert!(shown.contains("x-api-key"), "{shown}");
    assert!(
        !shown.contains("topsecret") && !shown.contains("pa55word"),
        "{shown}"
    );

    let s = resolve(&cfg, &[]);
    for shown in [format!("{s:?}"), format!("{:?}", s.metrics), s.to_string()] {
        assert!(!shown.contains("topsecret"), "{shown}");
        assert!(!shown.contains("pa55word"), "{shown}");
    }
    let s = resolve(
        &TracingConfig::default(),
        &[("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "x-key=envsecret")],
    );
    assert!(!format!("{s:?}").contains("envsecret"));
    let s = resolve(
        &TracingConfig::default(),
        &[("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "x-key=envsecret%0A")],
    );
    assert!(
        !s.warnings.concat().contains("envsecret"),
        "{:?}",
        s.warnings
    );

    cfg.metrics.otlp.headers = Some(BTreeMap::from([("x-api-key".into(), "top\nsecret".into())]));
    let err = cfg.validate().unwrap_err();
    assert_eq!(err.path(), "tracing.metrics.otlp.headers.x-api-key");
    assert!(!err.to_string().contains("secret"), "{err}");
}

#[test]
fn print_config_shows_the_metrics_rows() {
    let s = resolve(&configured(), &[("OTEL_METRIC_EXPORT_INTERVAL", "10000")]);
    let text = s.to_string();
    let line = |k: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{k} ")))
            .unwrap_or_else(|| panic!("{k} in {text}"))
            .to_owned()
    };
    assert!(line("metrics.exporter").contains("= prometheus"), "{text}");
    assert!(line("metrics.exporter").ends_with("(config)"), "{text}");
    assert!(line("metrics.interval").contains("= 10s"), "{text}");
    assert!(
        line("metrics.interval").ends_with("(env OTEL_METRIC_EXPORT_INTERVAL)"),
        "{text}"
    );
    assert!(line("metrics.exemplar_filter").contains("trace_based"));
    assert!(line("metrics.server_address").contains("false"));
    // Nothing is pushed over OTLP: its rows are left out, as the traces' are.
    assert!(!text.contains("metrics.otlp."), "{text}");

    if cfg!(feature = "otlp") {
        let mut cfg = configured();
        cfg.metrics.exporter = Some(MetricsExporter::Otlp);
        let text = resolve(&cfg, &[]).to_string();
        for key in [
            "metrics.otlp.protocol",
            "metrics.otlp.endpoint",
            "metrics.otlp.compression",
            "metrics.otlp.certificate_file",
            "metrics.otlp.headers",
            "metrics.otlp.timeout",
            "metrics.otlp.temporality",
        ] {
            assert!(text.contains(&format!("{key} ")), "{key}: {text}");
        }
        assert!(text.contains("x-config=********"), "{text}");
        assert!(
            text.contains("http://config-metrics:4318/v1/metrics"),
            "{text}"
        );
    }
}

/// Plaintext gRPC asked for in the traces' section holds for the metrics too,
/// and is refused with an `https://` metrics endpoint.
#[cfg(feature = "otlp-grpc")]
#[test]
fn insecure_is_checked_against_the_metrics_endpoint() {
    let mut cfg = TracingConfig::default();
    cfg.otlp.grpc.insecure = Some(true);
    cfg.metrics.exporter = Some(MetricsExporter::Otlp);
    cfg.metrics.otlp.protocol = Some(OtlpProtocol::Grpc);
    cfg.metrics.otlp.endpoint = Some("https://collector:4317".into());
    let err = cfg.validate().unwrap_err();
    assert_eq!(err.path(), "tracing.otlp.grpc.insecure");
    assert!(err.to_string().contains("https://collector:4317"), "{err}");
    cfg.metrics.otlp.endpoint = Some("http://collector:4317".into());
    let s = Settings::resolve_with(&cfg, HashMap::new()).unwrap();
    assert!(s.metrics.otlp.insecure);
}
