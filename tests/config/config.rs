//! Loading BentoML-shaped configs from JSON, YAML and TOML, and errors that name
//! the field and the value.

use std::collections::BTreeMap;
use std::path::PathBuf;

use tower_otel_tracing::config::{
    Compression, ConfigFormat, ExcludedUrls, ExporterType, JaegerProtocol, OtlpProtocol,
};
use tower_otel_tracing::{ConfigError, TracingConfig, TracingLayer};

/// The seed's Zipkin example, written in Rust.
fn zipkin_seed() -> TracingConfig {
    let mut cfg = TracingConfig {
        exporter_type: Some(ExporterType::Zipkin),
        sample_rate: Some(1.0),
        ..Default::default()
    };
    cfg.zipkin.endpoint = Some("http://localhost:9411/api/v2/spans".into());
    cfg.zipkin.local_node_ipv4 = Some("192.168.0.1".parse().unwrap());
    cfg.zipkin.local_node_ipv6 = Some("2001:db8::c001".parse().unwrap());
    cfg.zipkin.local_node_port = Some(31313);
    cfg
}

#[test]
fn zipkin_seed_in_every_format_and_nesting() {
    let yaml = "exporter_type: zipkin\nsample_rate: 1.0\nzipkin:\n  endpoint: http://localhost:9411/api/v2/spans\n  local_node_ipv4: 192.168.0.1\n  local_node_ipv6: 2001:db8::c001\n  local_node_port: 31313\n";
    let nested_yaml = format!(
        "tracing:\n{}",
        yaml.lines().map(|l| format!("  {l}\n")).collect::<String>()
    );
    let json = r#"{"exporter_type": "zipkin", "sample_rate": 1.0, "zipkin": {"endpoint": "http://localhost:9411/api/v2/spans", "local_node_ipv4": "192.168.0.1", "local_node_ipv6": "2001:db8::c001", "local_node_port": 31313}}"#;
    let nested_json = format!(r#"{{"tracing": {json}, "api_server": {{"workers": 4}}}}"#);
    let toml = "exporter_type = \"zipkin\"\nsample_rate = 1.0\n[zipkin]\nendpoint = \"http://localhost:9411/api/v2/spans\"\nlocal_node_ipv4 = \"192.168.0.1\"\nlocal_node_ipv6 = \"2001:db8::c001\"\nlocal_node_port = 31313\n";
    let nested_toml = "[tracing]\nexporter_type = \"zipkin\"\nsample_rate = 1.0\n[tracing.zipkin]\nendpoint = \"http://localhost:9411/api/v2/spans\"\nlocal_node_ipv4 = \"192.168.0.1\"\nlocal_node_ipv6 = \"2001:db8::c001\"\nlocal_node_port = 31313\n";
    for (text, format) in [
        (yaml, ConfigFormat::Yaml),
        (nested_yaml.as_str(), ConfigFormat::Yaml),
        (json, ConfigFormat::Json),
        (nested_json.as_str(), ConfigFormat::Json),
        (toml, ConfigFormat::Toml),
        (nested_toml, ConfigFormat::Toml),
    ] {
        let cfg = TracingConfig::parse(text, format).unwrap_or_else(|e| panic!("{format:?}: {e}"));
        assert_eq!(cfg, zipkin_seed(), "{format:?}: {text}");
        cfg.validate().unwrap();
    }
}

#[test]
fn jaeger_seed_with_python_style_booleans() {
    let yaml = r#"
tracing:
  exporter_type: jaeger
  sample_rate: 1.0
  timeout: 5
  max_tag_value_length: 256
  excluded_urls: readyz
  jaeger:
    protocol: thrift
    collector_endpoint: http://localhost:14268/api/traces?format=jaeger.thrift
    thrift:
      agent_host_name: localhost
      agent_port: 6831
      udp_split_oversized_batches: True
"#;
    let cfg = TracingConfig::parse(yaml, ConfigFormat::Yaml).unwrap();
    cfg.validate().unwrap();
    assert_eq!(cfg.exporter_type, Some(ExporterType::Jaeger));
    assert_eq!(cfg.timeout, Some(5.0));
    assert_eq!(cfg.max_tag_value_length, Some(256));
    assert_eq!(
        cfg.excluded_urls,
        Some(ExcludedUrls::new(["readyz"]).unwrap())
    );
    assert_eq!(cfg.jaeger.protocol, Some(JaegerProtocol::Thrift));
    assert_eq!(
        cfg.jaeger.collector_endpoint.as_deref(),
        Some("http://localhost:14268/api/traces?format=jaeger.thrift")
    );
    assert_eq!(
        cfg.jaeger.thrift.agent_host_name.as_deref(),
        Some("localhost")
    );
    assert_eq!(cfg.jaeger.thrift.agent_port, Some(6831));
    assert_eq!(cfg.jaeger.thrift.udp_split_oversized_batches, Some(true));
}

#[test]
fn otlp_seed_with_headers() {
    let cert = temp_file(
        "ca.pem",
        "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
    );
    let json = format!(
        r#"{{"tracing": {{"exporter_type": "otlp", "sample_rate": 1.0, "timeout": 2.5,
            "otlp": {{"protocol": "http", "endpoint": "https://localhost:4318/v1/traces", "compression": "gzip",
                     "http": {{"certificate_file": {:?}, "headers": {{"Keep-Alive": "timeout=5, max=1000"}}}}}}}}}}"#,
        cert.path.display().to_string()
    );
    let cfg = TracingConfig::parse(&json, ConfigFormat::Json).unwrap();
    cfg.validate().unwrap();
    assert_eq!(cfg.otlp.protocol, Some(OtlpProtocol::Http));
    assert_eq!(cfg.otlp.compression, Some(Compression::Gzip));
    assert_eq!(cfg.timeout, Some(2.5));
    assert_eq!(
        cfg.effective_timeout(),
        std::time::Duration::from_millis(2500)
    );
    assert_eq!(
        cfg.otlp.http.certificate_file.as_deref(),
        Some(cert.path.as_path())
    );
    let mut headers = BTreeMap::new();
    headers.insert("Keep-Alive".to_owned(), "timeout=5, max=1000".to_owned());
    assert_eq!(cfg.otlp.http.headers, Some(headers));
}

#[test]
fn defaults() {
    let cfg = TracingConfig::parse("{}", ConfigFormat::Json).unwrap();
    assert_eq!(cfg, TracingConfig::default());
    assert_eq!(
        TracingConfig::parse("", ConfigFormat::Yaml).unwrap(),
        TracingConfig::default()
    );
    assert_eq!(
        TracingConfig::parse("", ConfigFormat::Toml).unwrap(),
        TracingConfig::default()
    );
    assert_eq!(cfg.effective_sample_rate(), 0.0);
    assert_eq!(cfg.effective_timeout(), std::time::Duration::from_secs(10));
}

struct TempFile {
    path: PathBuf,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn temp_file(name: &str, contents: &str) -> TempFile {
    let path = std::env::temp_dir().join(format!(
        "tower-otel-tracing-{}-{}-{name}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::write(&path, contents).unwrap();
    TempFile { path }
}

#[test]
fn from_path_picks_the_format_by_extension_and_names_the_file() {
    for (name, text) in [
        ("a.yaml", "sample_rate: 0.5"),
        ("a.yml", "tracing:\n  sample_rate: 0.5"),
        ("a.json", r#"{"sample_rate": 0.5}"#),
        ("a.toml", "sample_rate = 0.5"),
        ("a.JSON", r#"{"tracing": {"sample_rate": 0.5}}"#),
    ] {
        let f = temp_file(name, text);
        let cfg = TracingConfig::from_path(&f.path).unwrap();
        assert_eq!(cfg.sample_rate, Some(0.5), "{name}");
    }
    let f = temp_file(
        "bad.yaml",
        "tracing:\n  zipkin:\n    local_node_port: 70000\n",
    );
    let err = TracingConfig::from_path(&f.path).unwrap_err();
    assert_eq!(err.file(), Some(f.path.as_path()));
    assert_eq!(err.path(), "tracing.zipkin.local_node_port");
    let shown = err.to_string();
    assert!(shown.starts_with(&f.path.display().to_string()), "{shown}");
    assert!(shown.contains("70000"), "{shown}");

    let f = temp_file("a.ini", "sample_rate=1");
    let err = TracingConfig::from_path(&f.path).unwrap_err();
    assert!(err.to_string().contains(".yaml"), "{err}");
    let err = TracingConfig::from_path("/definitely/not/here.yaml").unwrap_err();
    assert!(
        err.to_string().contains("/definitely/not/here.yaml"),
        "{err}"
    );
}

#[test]
fn syntax_errors_say_which_syntax() {
    let err = TracingConfig::parse("{not json", ConfigFormat::Json).unwrap_err();
    assert!(err.to_string().contains("JSON syntax error"), "{err}");
    let err = TracingConfig::parse("a: [", ConfigFormat::Yaml).unwrap_err();
    assert!(err.to_string().contains("YAML syntax error"), "{err}");
    let err = TracingConfig::parse("a = ", ConfigFormat::Toml).unwrap_err();
    assert!(err.to_string().contains("TOML syntax error"), "{err}");
}

/// Parses and validates, returning the error.
fn error_of(yaml: &str) -> ConfigError {
    match TracingConfig::parse(yaml, ConfigFormat::Yaml) {
        Err(e) => e,
        Ok(cfg) => cfg
            .validate()
            .expect_err(&format!("{yaml} should be rejected")),
    }
}

#[test]
fn every_field_rejects_a_bad_value_naming_path_and_value() {
    let cases: &[(&str, &str, &str)] = &[
        ("exporter_type: kafka", "tracing.exporter_type", "kafka"),
        ("sample_rate: 1.5", "tracing.sample_rate", "1.5"),
        ("sample_rate: -0.1", "tracing.sample_rate", "-0.1"),
        ("sample_rate: often", "tracing.sample_rate", "often"),
        ("timeout: 0", "tracing.timeout", "0"),
        ("timeout: -3", "tracing.timeout", "-3"),
        ("timeout: soon", "tracing.timeout", "soon"),
        (
            "max_tag_value_length: 0",
            "tracing.max_tag_value_length",
            "0",
        ),
        (
            "max_tag_value_length: -5",
            "tracing.max_tag_value_length",
            "-5",
        ),
        (
            "excluded_urls: 'ready(z'",
            "tracing.excluded_urls",
            "ready(z",
        ),
        ("excluded_urls: [ok, '[a-']", "tracing.excluded_urls", "[a-"),
        ("excluded_urls: 5", "tracing.excluded_urls", "5"),
        ("service_name: '  '", "tracing.service_name", "\"  \""),
        (
            "zipkin: {endpoint: 'not a url'}",
            "tracing.zipkin.endpoint",
            "not a url",
        ),
        (
            "zipkin: {local_node_ipv4: 300.1.1.1}",
            "tracing.zipkin.local_node_ipv4",
            "300.1.1.1",
        ),
        (
            "zipkin: {local_node_ipv6: 'zz::1'}",
            "tracing.zipkin.local_node_ipv6",
            "zz::1",
        ),
        (
            "zipkin: {local_node_port: 70000}",
            "tracing.zipkin.local_node_port",
            "70000",
        ),
        ("jaeger: {protocol: udp}", "tracing.jaeger.protocol", "udp"),
        (
            "jaeger: {collector_endpoint: 'ftp://x/y'}",
            "tracing.jaeger.collector_endpoint",
            "ftp://x/y",
        ),
        (
            "jaeger: {thrift: {agent_host_name: ''}}",
            "tracing.jaeger.thrift.agent_host_name",
            "\"\"",
        ),
        (
            "jaeger: {thrift: {agent_port: 70000}}",
            "tracing.jaeger.thrift.agent_port",
            "70000",
        ),
        (
            "jaeger: {thrift: {agent_port: 0}}",
            "tracing.jaeger.thrift.agent_port",
            "0",
        ),
        (
            "jaeger: {thrift: {udp_split_oversized_batches: maybe}}",
            "tracing.jaeger.thrift.udp_split_oversized_batches",
            "maybe",
        ),
        (
            "jaeger: {grpc: {insecure: sometimes}}",
            "tracing.jaeger.grpc.insecure",
            "sometimes",
        ),
        ("otlp: {protocol: smtp}", "tracing.otlp.protocol", "smtp"),
        (
            "otlp: {endpoint: 'localhost:4318'}",
            "tracing.otlp.endpoint",
            "localhost:4318",
        ),
        (
            "otlp: {compression: brotli}",
            "tracing.otlp.compression",
            "brotli",
        ),
        (
            "otlp: {http: {certificate_file: /no/such/ca.pem}}",
            "tracing.otlp.http.certificate_file",
            "/no/such/ca.pem",
        ),
        (
            "otlp: {http: {headers: {'bad header': v}}}",
            "tracing.otlp.http.headers.bad header",
            "bad header",
        ),
        (
            // Header values are secrets: the error says where and why, not what.
            "otlp: {http: {headers: {x-ok: \"line\\nbreak\"}}}",
            "tracing.otlp.http.headers.x-ok",
            "byte 0x0a at position 4",
        ),
        (
            "otlp: {grpc: {headers: {x-key: 12345678}}}",
            "tracing.otlp.grpc.headers.x-key",
            "value not shown",
        ),
        (
            "otlp: {http: {headers: [a, b]}}",
            "tracing.otlp.http.headers",
            "sequence",
        ),
        (
            "otlp: {grpc: {headers: {'a b': c}}}",
            "tracing.otlp.grpc.headers.a b",
            "a b",
        ),
        (
            "otlp: {grpc: {insecure: nope}}",
            "tracing.otlp.grpc.insecure",
            "nope",
        ),
    ];
    for (yaml, path, value) in cases {
        let err = error_of(yaml);
        assert_eq!(err.path(), *path, "{yaml}: {err}");
        if path.contains(".headers.") {
            for secret in ["line", "break", "12345678"] {
                assert!(!err.to_string().contains(secret), "{yaml}: `{err}` leaks");
            }
        }
        assert!(
            err.to_string().contains(value),
            "{yaml}: `{err}` should mention `{value}`"
        );
    }
}

#[test]
fn unknown_keys_are_named() {
    let err = error_of("sample_rte: 1.0");
    assert!(err.to_string().contains("sample_rte"), "{err}");
    assert!(
        err.to_string().contains("sample_rate"),
        "suggests the known fields: {err}"
    );
    let err = error_of("zipkin:\n  endpont: http://x/");
    assert!(err.path().starts_with("tracing.zipkin"), "{err}");
    assert!(err.to_string().contains("endpont"), "{err}");
    let err = error_of("otlp:\n  http:\n    certificate: /x");
    assert!(err.path().starts_with("tracing.otlp.http"), "{err}");
    assert!(err.to_string().contains("certificate"), "{err}");
}

#[test]
fn the_layer_refuses_what_validation_refuses() {
    let err = TracingLayer::try_from_config(TracingConfig {
        timeout: Some(0.0),
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(err.path(), "tracing.timeout");
}

#[test]
#[should_panic(expected = "tracing.sample_rate")]
fn from_config_panics_with_the_field_name() {
    let _ = TracingLayer::from_config(TracingConfig {
        sample_rate: Some(2.0),
        ..Default::default()
    });
}

#[test]
fn every_exporter_type_builds_from_its_config() {
    for ty in ["zipkin", "jaeger", "otlp", "console", "in_memory", "none"] {
        let cfg =
            TracingConfig::parse(&format!("exporter_type: {ty}"), ConfigFormat::Yaml).unwrap();
        let layer = TracingLayer::builder(cfg)
            .install_global(false)
            .env_vars(Vec::<(String, String)>::new())
            .build();
        assert!(layer.is_ok(), "{ty}: {:?}", layer.err());
    }
}

#[test]
fn config_round_trips_through_serde() {
    let cfg = zipkin_seed();
    let json = serde_json::to_string(&cfg).unwrap();
    assert_eq!(
        TracingConfig::parse(&json, ConfigFormat::Json).unwrap(),
        cfg
    );
}

#[test]
fn insecure_is_read_and_checked_against_the_endpoint() {
    use tower_otel_tracing::config::ConfigErrorKind;
    let otlp = |endpoint: &str| {
        TracingConfig::parse(
            &format!(
                "exporter_type: otlp\notlp:\n  protocol: grpc\n  endpoint: {endpoint}\n  grpc:\n    insecure: true"
            ),
            ConfigFormat::Yaml,
        )
        .unwrap()
    };
    let err = otlp("https://collector:4317").validate().unwrap_err();
    assert_eq!(err.path(), "tracing.otlp.grpc.insecure");
    assert!(err.to_string().contains("https://collector:4317"), "{err}");
    otlp("http://collector:4317").validate().unwrap();

    let err = error_of("jaeger: {grpc: {insecure: true}}");
    assert_eq!(err.path(), "tracing.jaeger.grpc.insecure");
    assert_eq!(err.kind(), ConfigErrorKind::Unsupported);
    assert!(err.to_string().contains("otlp"), "{err}");
    TracingConfig::parse("jaeger: {grpc: {insecure: false}}", ConfigFormat::Yaml)
        .unwrap()
        .validate()
        .unwrap();
}

#[test]
fn errors_say_what_kind_of_problem_they_are() {
    use tower_otel_tracing::config::ConfigErrorKind;
    assert_eq!(
        error_of("sample_rate: 2").kind(),
        ConfigErrorKind::InvalidValue
    );
    assert_eq!(
        error_of("jaeger: {protocol: grpc}").kind(),
        ConfigErrorKind::Unsupported
    );
    assert_eq!(
        TracingConfig::parse("a: [", ConfigFormat::Yaml)
            .unwrap_err()
            .kind(),
        ConfigErrorKind::Syntax
    );
    assert_eq!(
        TracingConfig::from_path("/no/such/file.yaml")
            .unwrap_err()
            .kind(),
        ConfigErrorKind::File
    );
    let err = error_of("otlp: {http: {certificate_file: /no/such/ca.pem}}");
    assert_eq!(err.kind(), ConfigErrorKind::File);
}
