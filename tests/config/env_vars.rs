//! Every OpenTelemetry variable: unset (config stands), valid (wins), invalid
//! (one warning naming variable and value, ignored). Resolution runs on explicit
//! maps, never on the process environment, so tests cannot race.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use tower_otel_tracing::config::{
    Compression, ExcludedUrls, ExporterType, KeepDetail, OtlpProtocol, Propagator,
};
use tower_otel_tracing::settings::{Sampler, Settings, Source};
use tower_otel_tracing::TracingConfig;

fn base(exporter: ExporterType) -> TracingConfig {
    let mut cfg = TracingConfig {
        exporter_type: Some(exporter),
        sample_rate: Some(0.5),
        timeout: Some(10.0),
        max_tag_value_length: Some(100),
        excluded_urls: Some(ExcludedUrls::new(["readyz"]).unwrap()),
        service_name: Some("from-config".into()),
        ..Default::default()
    };
    cfg.zipkin.endpoint = Some("http://config-zipkin:9411/api/v2/spans".into());
    cfg.jaeger.collector_endpoint = Some("http://config-jaeger:14268/api/traces".into());
    cfg.jaeger.thrift.agent_host_name = Some("config-agent".into());
    cfg.jaeger.thrift.agent_port = Some(6831);
    cfg.jaeger.thrift.udp_split_oversized_batches = Some(false);
    cfg.otlp.endpoint = Some("http://config-otlp:4318/v1/traces".into());
    cfg.otlp.protocol = Some(OtlpProtocol::Http);
    cfg
}

fn resolve(cfg: &TracingConfig, vars: &[(&str, &str)]) -> Settings {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Settings::resolve_with(cfg, map).expect("the config is valid")
}

/// The OTLP HTTP headers as plain text, for comparisons.
fn headers(s: &Settings) -> Option<BTreeMap<String, String>> {
    (!s.otlp.http_headers.is_empty()).then(|| {
        s.otlp
            .http_headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
            .collect()
    })
}

struct Case {
    var: &'static str,
    /// The setting's name for `Settings::source`.
    field: &'static str,
    exporter: ExporterType,
    /// Other variables the case needs (e.g. the sampler for its argument).
    with: &'static [(&'static str, &'static str)],
    valid: &'static str,
    invalid: Option<&'static str>,
    /// True when the valid value has been applied.
    applied: fn(&Settings) -> bool,
}

fn cert_path() -> String {
    let path = std::env::temp_dir().join(format!("tot-env-ca-{}.pem", std::process::id()));
    std::fs::write(
        &path,
        "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

fn cases() -> Vec<Case> {
    use ExporterType::{Console, Jaeger, Otlp, Zipkin};
    vec![
        Case {
            var: "OTEL_SDK_DISABLED",
            field: "disabled",
            exporter: Console,
            with: &[],
            valid: "true",
            invalid: Some("yes"),
            applied: |s| s.disabled,
        },
        Case {
            var: "OTEL_SERVICE_NAME",
            field: "service_name",
            exporter: Console,
            with: &[],
            valid: "from-env",
            invalid: None,
            applied: |s| s.service_name == "from-env",
        },
        Case {
            var: "OTEL_RESOURCE_ATTRIBUTES",
            field: "resource_attributes",
            exporter: Console,
            with: &[],
            valid: "deployment.environment=prod,team=ml%20ops",
            invalid: Some("novalue"),
            applied: |s| {
                s.resource_attributes
                    .contains(&("team".into(), "ml ops".into()))
                    && s.resource_attributes
                        .contains(&("deployment.environment".into(), "prod".into()))
            },
        },
        Case {
            var: "OTEL_TRACES_SAMPLER",
            field: "sampler",
            exporter: Console,
            with: &[],
            valid: "always_off",
            invalid: Some("sometimes"),
            applied: |s| s.sampler == Sampler::AlwaysOff,
        },
        Case {
            var: "OTEL_TRACES_SAMPLER_ARG",
            field: "sampler",
            exporter: Console,
            with: &[("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")],
            valid: "0.3",
            invalid: Some("abc"),
            applied: |s| s.sampler == Sampler::ParentBasedTraceIdRatio(0.3),
        },
        Case {
            var: "OTEL_TRACES_EXPORTER",
            field: "exporter_type",
            exporter: Zipkin,
            with: &[],
            valid: "console",
            invalid: Some("kafka"),
            applied: |s| s.exporter == ExporterType::Console,
        },
        Case {
            var: "OTEL_PROPAGATORS",
            field: "propagators",
            exporter: Console,
            with: &[],
            valid: "b3,jaeger",
            invalid: Some("b3,xray"),
            applied: |s| s.propagators == [Propagator::B3, Propagator::Jaeger],
        },
        Case {
            var: "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
            field: "max_tag_value_length",
            exporter: Console,
            with: &[],
            valid: "64",
            invalid: Some("-1"),
            applied: |s| s.max_tag_value_length == Some(64),
        },
        Case {
            var: "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
            field: "max_tag_value_length",
            exporter: Console,
            with: &[],
            valid: "32",
            invalid: Some("0"),
            applied: |s| s.max_tag_value_length == Some(32),
        },
        Case {
            var: "OTEL_BSP_SCHEDULE_DELAY",
            field: "batch.schedule_delay",
            exporter: Console,
            with: &[],
            valid: "250",
            invalid: Some("soon"),
            applied: |s| s.batch.schedule_delay == Duration::from_millis(250),
        },
        Case {
            var: "OTEL_BSP_EXPORT_TIMEOUT",
            field: "timeout",
            exporter: Console,
            with: &[],
            valid: "1500",
            invalid: Some("-5"),
            applied: |s| s.timeout == Duration::from_secs_f64(1.5),
        },
        Case {
            var: "OTEL_BSP_MAX_QUEUE_SIZE",
            field: "batch.max_queue_size",
            exporter: Console,
            with: &[],
            valid: "100",
            invalid: Some("0"),
            applied: |s| s.batch.max_queue_size == 100 && s.batch.max_export_batch_size == 100,
        },
        Case {
            var: "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
            field: "batch.max_export_batch_size",
            exporter: Console,
            with: &[],
            valid: "64",
            invalid: Some("many"),
            applied: |s| s.batch.max_export_batch_size == 64,
        },
        Case {
            var: "OTEL_EXPORTER_ZIPKIN_ENDPOINT",
            field: "zipkin.endpoint",
            exporter: Zipkin,
            with: &[],
            valid: "http://env-zipkin:9411/api/v2/spans",
            invalid: Some("env-zipkin:9411"),
            applied: |s| s.zipkin.endpoint == "http://env-zipkin:9411/api/v2/spans",
        },
        Case {
            var: "OTEL_EXPORTER_ZIPKIN_TIMEOUT",
            field: "timeout",
            exporter: Zipkin,
            with: &[],
            valid: "2500",
            invalid: Some("2.5s"),
            applied: |s| s.timeout == Duration::from_secs_f64(2.5),
        },
        Case {
            var: "OTEL_EXPORTER_JAEGER_AGENT_HOST",
            field: "jaeger.thrift.agent_host_name",
            exporter: Jaeger,
            with: &[],
            valid: "env-agent",
            invalid: Some("bad host"),
            applied: |s| s.jaeger.agent_host_name == "env-agent",
        },
        Case {
            var: "OTEL_EXPORTER_JAEGER_AGENT_PORT",
            field: "jaeger.thrift.agent_port",
            exporter: Jaeger,
            with: &[],
            valid: "6832",
            invalid: Some("70000"),
            applied: |s| s.jaeger.agent_port == 6832,
        },
        Case {
            var: "OTEL_EXPORTER_JAEGER_AGENT_SPLIT_OVERSIZED_BATCHES",
            field: "jaeger.thrift.udp_split_oversized_batches",
            exporter: Jaeger,
            with: &[],
            valid: "true",
            invalid: Some("maybe"),
            applied: |s| s.jaeger.udp_split_oversized_batches,
        },
        Case {
            var: "OTEL_EXPORTER_JAEGER_ENDPOINT",
            field: "jaeger.collector_endpoint",
            exporter: Jaeger,
            with: &[],
            valid: "http://env-jaeger:14268/api/traces",
            invalid: Some("nope"),
            applied: |s| {
                s.jaeger.collector_endpoint.as_deref() == Some("http://env-jaeger:14268/api/traces")
            },
        },
        Case {
            var: "OTEL_EXPORTER_JAEGER_USER",
            field: "jaeger.user",
            exporter: Jaeger,
            with: &[],
            valid: "alice",
            invalid: None,
            applied: |s| s.jaeger.user.as_deref() == Some("alice"),
        },
        Case {
            var: "OTEL_EXPORTER_JAEGER_PASSWORD",
            field: "jaeger.password",
            exporter: Jaeger,
            with: &[],
            valid: "s3cret",
            invalid: None,
            applied: |s| s.jaeger.password.as_deref() == Some("s3cret"),
        },
        Case {
            var: "OTEL_EXPORTER_JAEGER_TIMEOUT",
            field: "timeout",
            exporter: Jaeger,
            with: &[],
            valid: "750",
            invalid: Some("x"),
            applied: |s| s.timeout == Duration::from_secs_f64(0.75),
        },
        Case {
            var: "OTEL_EXPORTER_OTLP_ENDPOINT",
            field: "otlp.endpoint",
            exporter: Otlp,
            with: &[],
            valid: "http://env-otlp:4318/",
            invalid: Some("env-otlp:4318"),
            applied: |s| s.otlp.endpoint == "http://env-otlp:4318/v1/traces",
        },
        Case {
            var: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            field: "otlp.endpoint",
            exporter: Otlp,
            with: &[],
            valid: "http://env-otlp:4318/custom",
            invalid: Some("ftp://x"),
            applied: |s| s.otlp.endpoint == "http://env-otlp:4318/custom",
        },
        Case {
            var: "OTEL_EXPORTER_OTLP_HEADERS",
            field: "otlp.http.headers",
            exporter: Otlp,
            with: &[],
            valid: "api-key=abc%3D,x-team=ml",
            invalid: Some("bad header=1"),
            applied: |s| {
                headers(s)
                    == Some(BTreeMap::from([
                        ("api-key".into(), "abc=".into()),
                        ("x-team".into(), "ml".into()),
                    ]))
            },
        },
        Case {
            var: "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
            field: "otlp.http.headers",
            exporter: Otlp,
            with: &[],
            valid: "a=1",
            invalid: Some("a=SECRET%0A"),
            applied: |s| headers(s) == Some(BTreeMap::from([("a".into(), "1".into())])),
        },
        Case {
            var: "OTEL_EXPORTER_OTLP_CERTIFICATE",
            field: "otlp.http.certificate_file",
            exporter: Otlp,
            with: &[],
            valid: "CERT",
            invalid: Some("/no/such/ca.pem"),
            applied: |s| s.otlp.certificate.is_some(),
        },
        Case {
            var: "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
            field: "otlp.http.certificate_file",
            exporter: Otlp,
            with: &[],
            valid: "CERT",
            invalid: Some("/no/such/ca.pem"),
            applied: |s| s.otlp.certificate.is_some(),
        },
        Case {
            var: "OTEL_EXPORTER_OTLP_COMPRESSION",
            field: "otlp.compression",
            exporter: Otlp,
            with: &[],
            valid: "gzip",
            invalid: Some("brotli"),
            applied: |s| s.otlp.compression == Compression::Gzip,
        },
        Case {
            var: "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
            field: "otlp.compression",
            exporter: Otlp,
            with: &[],
            valid: "gzip",
            invalid: Some("zstd"),
            applied: |s| s.otlp.compression == Compression::Gzip,
        },
        Case {
            var: "OTEL_EXPORTER_OTLP_TIMEOUT",
            field: "timeout",
            exporter: Otlp,
            with: &[],
            valid: "3000",
            invalid: Some("3s"),
            applied: |s| s.timeout == Duration::from_secs_f64(3.0),
        },
        Case {
            var: "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
            field: "timeout",
            exporter: Otlp,
            with: &[],
            valid: "4000",
            invalid: Some("-1"),
            applied: |s| s.timeout == Duration::from_secs_f64(4.0),
        },
        Case {
            var: "OTEL_EXPORTER_OTLP_PROTOCOL",
            field: "otlp.protocol",
            exporter: Otlp,
            with: &[],
            valid: "grpc",
            invalid: Some("http/json"),
            applied: |s| s.otlp.protocol == OtlpProtocol::Grpc,
        },
        Case {
            var: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            field: "otlp.protocol",
            exporter: Otlp,
            with: &[],
            valid: "grpc",
            invalid: Some("udp"),
            applied: |s| s.otlp.protocol == OtlpProtocol::Grpc,
        },
        Case {
            var: "OTEL_RUST_EXCLUDED_URLS",
            field: "excluded_urls",
            exporter: Console,
            with: &[],
            valid: "healthz, metrics",
            invalid: Some("ready(z"),
            applied: |s| s.excluded_urls.as_ref().unwrap().patterns() == ["healthz", "metrics"],
        },
        Case {
            var: "OTEL_RUST_KEEP_ERRORS",
            field: "keep_errors",
            exporter: Console,
            with: &[],
            valid: "true",
            invalid: Some("sometimes"),
            applied: |s| s.keep.errors,
        },
        Case {
            var: "OTEL_RUST_KEEP_SLOWER_THAN",
            field: "keep_slower_than",
            exporter: Console,
            with: &[],
            valid: "2.5",
            invalid: Some("500ms"),
            applied: |s| s.keep.slower_than == Some(Duration::from_millis(2500)),
        },
        Case {
            var: "OTEL_RUST_KEEP_DETAIL",
            field: "keep_detail",
            exporter: Console,
            with: &[],
            valid: "full",
            invalid: Some("everything"),
            applied: |s| s.keep.detail == KeepDetail::Full,
        },
        Case {
            var: "OTEL_RUST_KEEP_DESPITE_CALLER",
            field: "keep_despite_caller",
            exporter: Console,
            with: &[],
            valid: "true",
            invalid: Some("always"),
            applied: |s| s.keep.despite_caller,
        },
    ]
}

#[test]
fn every_variable_unset_valid_invalid() {
    let cert = cert_path();
    for case in cases() {
        let cfg = base(case.exporter);
        let valid = if case.valid == "CERT" {
            cert.as_str()
        } else {
            case.valid
        };

        let unset = resolve(&cfg, case.with);
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

        let mut vars = case.with.to_vec();
        vars.push((case.var, valid));
        let set = resolve(&cfg, &vars);
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

        if let Some(bad) = case.invalid {
            let mut vars = case.with.to_vec();
            vars.push((case.var, bad));
            let ignored = resolve(&cfg, &vars);
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
            if case.with.is_empty() {
                let mut ignored = ignored.clone();
                ignored.warnings.clear();
                assert_eq!(ignored, unset, "{}={bad} changed the settings", case.var);
                assert_eq!(ignored.sampler, unset.sampler);
                assert_eq!(ignored.batch, unset.batch);
            }
        }
    }
    let _ = std::fs::remove_file(cert);
}

#[test]
fn without_variables_the_config_decides() {
    let cfg = base(ExporterType::Zipkin);
    let s = resolve(&cfg, &[]);
    // Every field as the config says.
    assert_eq!(s.exporter, ExporterType::Zipkin);
    assert_eq!(s.timeout, Duration::from_secs(10));
    assert_eq!(s.max_tag_value_length, Some(100));
    assert_eq!(s.excluded_urls, cfg.excluded_urls);
    assert_eq!(s.service_name, "from-config");
    assert_eq!(s.zipkin.endpoint, "http://config-zipkin:9411/api/v2/spans");
    assert_eq!(
        s.jaeger.collector_endpoint.as_deref(),
        Some("http://config-jaeger:14268/api/traces")
    );
    assert_eq!(s.jaeger.agent_host_name, "config-agent");
    assert_eq!(s.jaeger.agent_port, 6831);
    assert!(!s.jaeger.udp_split_oversized_batches);
    assert_eq!(s.otlp.endpoint, "http://config-otlp:4318/v1/traces");
    assert_eq!(s.otlp.protocol, OtlpProtocol::Http);
    assert_eq!(s.sampler, Sampler::ParentBasedTraceIdRatio(0.5));
    assert_eq!(
        s.propagators,
        [Propagator::TraceContext, Propagator::Baggage]
    );
    assert_eq!(s.source("sampler"), Source::Config);
    assert_eq!(s.source("batch.max_queue_size"), Source::Default);
    assert!(!s.disabled);
}

#[test]
fn all_six_samplers() {
    let cfg = base(ExporterType::Console);
    for (name, arg, expected) in [
        ("always_on", None, Sampler::AlwaysOn),
        ("always_off", None, Sampler::AlwaysOff),
        ("traceidratio", Some("0.25"), Sampler::TraceIdRatio(0.25)),
        ("traceidratio", None, Sampler::TraceIdRatio(1.0)),
        ("parentbased_always_on", None, Sampler::ParentBasedAlwaysOn),
        (
            "parentbased_always_off",
            None,
            Sampler::ParentBasedAlwaysOff,
        ),
        (
            "parentbased_traceidratio",
            Some("0"),
            Sampler::ParentBasedTraceIdRatio(0.0),
        ),
        (
            "PARENTBASED_TRACEIDRATIO",
            Some("1"),
            Sampler::ParentBasedTraceIdRatio(1.0),
        ),
    ] {
        let mut vars = vec![("OTEL_TRACES_SAMPLER", name)];
        if let Some(arg) = arg {
            vars.push(("OTEL_TRACES_SAMPLER_ARG", arg));
        }
        assert_eq!(resolve(&cfg, &vars).sampler, expected, "{name} {arg:?}");
    }
    // An out-of-range ratio is invalid: warned, and the OpenTelemetry default 1.0 used.
    let s = resolve(
        &cfg,
        &[
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
        ],
    );
    assert_eq!(s.sampler, Sampler::TraceIdRatio(1.0));
    assert_eq!(s.warnings.len(), 1);
}

#[test]
fn signal_specific_variables_win_over_generic_ones() {
    let cfg = base(ExporterType::Otlp);
    let s = resolve(
        &cfg,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4318"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://traces:4318/v1/traces",
            ),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "1000"),
            ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "2000"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "a=generic"),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "a=traces"),
            ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "10"),
            ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "20"),
            ("OTEL_BSP_EXPORT_TIMEOUT", "9000"),
        ],
    );
    assert_eq!(s.otlp.endpoint, "http://traces:4318/v1/traces");
    assert_eq!(
        s.timeout,
        Duration::from_secs(2),
        "exporter timeout beats the BSP one"
    );
    assert_eq!(headers(&s).unwrap()["a"], "traces");
    assert_eq!(s.max_tag_value_length, Some(20));
}

#[test]
fn service_name_precedence() {
    let cfg = base(ExporterType::Console);
    let s = resolve(
        &cfg,
        &[("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs")],
    );
    assert_eq!(s.service_name, "from-attrs");
    let s = resolve(
        &cfg,
        &[
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs"),
            ("OTEL_SERVICE_NAME", "from-name"),
        ],
    );
    assert_eq!(s.service_name, "from-name");
    assert!(s.resource_attributes.is_empty());
}

#[test]
fn exporter_timeouts_only_apply_to_their_exporter() {
    let s = resolve(
        &base(ExporterType::Zipkin),
        &[("OTEL_EXPORTER_OTLP_TIMEOUT", "1")],
    );
    assert_eq!(s.timeout, Duration::from_secs(10));
    // OTEL_TRACES_EXPORTER switches the exporter first, so its timeout applies.
    let s = resolve(
        &base(ExporterType::Zipkin),
        &[
            ("OTEL_TRACES_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "1"),
        ],
    );
    assert_eq!(s.timeout, Duration::from_millis(1));
}

#[test]
fn printed_settings_show_origins_and_hide_secrets() {
    let mut cfg = base(ExporterType::Otlp);
    cfg.otlp.http.headers = Some(BTreeMap::from([("x-api-key".into(), "topsecret".into())]));
    let s = resolve(
        &cfg,
        &[
            ("OTEL_TRACES_SAMPLER", "always_on"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "99"),
        ],
    );
    let text = s.to_string();
    let line = |k: &str| {
        text.lines()
            .find(|l| l.starts_with(k))
            .unwrap_or_else(|| panic!("{k} in {text}"))
            .to_owned()
    };
    assert!(
        line("sampler").ends_with("(env OTEL_TRACES_SAMPLER)"),
        "{text}"
    );
    assert!(line("sampler").contains("always_on"));
    assert!(line("batch.max_queue_size").contains("= 99"));
    assert!(line("exporter_type").ends_with("(config)"));
    assert!(line("batch.schedule_delay").ends_with("(default)"));
    assert!(line("otlp.endpoint").contains("http://config-otlp:4318/v1/traces"));
    assert!(!text.contains("topsecret"), "{text}");
}

#[test]
fn keep_variables_beat_the_config_and_bad_ones_leave_it_standing() {
    let cfg = TracingConfig {
        keep_errors: Some(true),
        keep_slower_than: Some(0.5),
        keep_detail: Some(KeepDetail::Full),
        keep_despite_caller: Some(true),
        ..base(ExporterType::Console)
    };
    let s = resolve(&cfg, &[]);
    assert!(s.keep.errors && s.keep.despite_caller);
    assert_eq!(s.keep.slower_than, Some(Duration::from_millis(500)));
    assert_eq!(s.keep.detail, KeepDetail::Full);

    // Every variable pulls the other way from the config.
    let s = resolve(
        &cfg,
        &[
            ("OTEL_RUST_KEEP_ERRORS", "false"),
            ("OTEL_RUST_KEEP_SLOWER_THAN", "3"),
            ("OTEL_RUST_KEEP_DETAIL", "server"),
            ("OTEL_RUST_KEEP_DESPITE_CALLER", "false"),
        ],
    );
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert!(!s.keep.errors);
    assert_eq!(s.keep.slower_than, Some(Duration::from_secs(3)));
    assert_eq!(s.keep.detail, KeepDetail::Server);
    assert!(!s.keep.despite_caller);
    for (field, var) in [
        ("keep_errors", "OTEL_RUST_KEEP_ERRORS"),
        ("keep_slower_than", "OTEL_RUST_KEEP_SLOWER_THAN"),
        ("keep_detail", "OTEL_RUST_KEEP_DETAIL"),
        ("keep_despite_caller", "OTEL_RUST_KEEP_DESPITE_CALLER"),
    ] {
        assert_eq!(s.source(field), Source::Env(var));
    }

    // Bad values: one warning each, naming variable and value; the config stands.
    let bad = [
        ("OTEL_RUST_KEEP_ERRORS", "nope"),
        ("OTEL_RUST_KEEP_SLOWER_THAN", "0"),
        ("OTEL_RUST_KEEP_DETAIL", "all"),
        ("OTEL_RUST_KEEP_DESPITE_CALLER", "2"),
    ];
    let s = resolve(&cfg, &bad);
    assert_eq!(s.warnings.len(), bad.len(), "{:?}", s.warnings);
    for (var, value) in bad {
        let named = format!("{var}={value:?}");
        assert!(
            s.warnings.iter().any(|w| w.contains(&named)),
            "{named}: {:?}",
            s.warnings
        );
    }
    assert!(s.keep.errors && s.keep.despite_caller);
    assert_eq!(s.keep.slower_than, Some(Duration::from_millis(500)));
    assert_eq!(s.keep.detail, KeepDetail::Full);
    assert_eq!(s.source("keep_detail"), Source::Config);
}
