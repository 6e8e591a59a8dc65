//! Header values, passwords and URL credentials never appear in a log line, a
//! warning, an error, `Debug` output or the printed settings. Errors name the
//! field and say what is wrong instead.

#[cfg(feature = "otlp")]
use crate::common;

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use tower_otel_tracing::config::ExporterType;
use tower_otel_tracing::settings::Settings;
use tower_otel_tracing::{TracingConfig, TracingLayer};

/// Every log line of this test binary, from every thread (exports log from the
/// batch processor's own thread), the other modules' lines included: none may
/// hold a secret either. A test waiting for a line of its own looks for its own
/// address in it.
fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || Capture(writer.clone()))
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        buf
    })
    .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logged() -> String {
    String::from_utf8_lossy(&logs().lock().unwrap()).into_owned()
}

fn assert_clean(what: &str, text: &str) {
    for secret in ["SECRET", "s3cr3t"] {
        assert!(!text.contains(secret), "{what} leaks a secret:\n{text}");
    }
}

fn otlp_cfg() -> TracingConfig {
    let mut cfg = TracingConfig {
        exporter_type: Some(ExporterType::Otlp),
        sample_rate: Some(1.0),
        ..Default::default()
    };
    cfg.otlp.http.headers = Some(BTreeMap::from([(
        "x-api-key".to_owned(),
        "SECRET-valid-key".to_owned(),
    )]));
    cfg
}

#[test]
fn invalid_header_values_in_the_config_are_explained_without_the_value() {
    let _ = logs();
    let mut cfg = otlp_cfg();
    cfg.otlp.http.headers = Some(BTreeMap::from([(
        "x-api-key".to_owned(),
        "SECRET\nkey".to_owned(),
    )]));
    let err = cfg.validate().unwrap_err();
    assert_eq!(err.path(), "tracing.otlp.http.headers.x-api-key");
    assert!(err.to_string().contains("0x0a at position 6"), "{err}");
    assert_clean("ConfigError", &err.to_string());
    assert_clean("ConfigError debug", &format!("{err:?}"));
    let err = TracingLayer::builder(cfg)
        .install_global(false)
        .build()
        .unwrap_err();
    assert_clean("build error", &err.to_string());
    assert_clean("config Debug", &format!("{:?}", otlp_cfg()));
}

#[test]
fn invalid_header_variables_are_warned_about_without_the_value() {
    let _ = logs();
    let env = HashMap::from([
        (
            "OTEL_EXPORTER_OTLP_HEADERS".to_owned(),
            "x-tenant=acme,api-key=SECRET%0Avalue".to_owned(),
        ),
        (
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS".to_owned(),
            "SECRET-no-equals-sign".to_owned(),
        ),
    ]);
    let settings = Settings::resolve_with(&otlp_cfg(), env).unwrap();
    assert_eq!(settings.warnings.len(), 2, "{:?}", settings.warnings);
    assert!(
        settings.warnings[0].contains("OTEL_EXPORTER_OTLP_HEADERS")
            && settings.warnings[0].contains("entry 2 (`api-key`)")
            && settings.warnings[0].contains("0x0a"),
        "{}",
        settings.warnings[0]
    );
    assert!(settings.warnings[1].contains("entry 1 is not a name=value pair"));
    for w in &settings.warnings {
        assert_clean("warning", w);
    }
    // The config's own (valid) header stays, and is masked wherever it shows.
    let (name, value) = &settings.otlp.http_headers[0];
    assert_eq!(
        (name.as_str(), value.to_str().unwrap()),
        ("x-api-key", "SECRET-valid-key")
    );
    assert!(value.is_sensitive());
    assert_clean("Settings Display", &settings.to_string());
    assert!(settings.to_string().contains("x-api-key=********"));
    assert_clean("Settings Debug", &format!("{settings:?}"));
    assert_clean("logs", &logged());
    assert!(
        logged().contains("OTEL_EXPORTER_OTLP_HEADERS"),
        "{}",
        logged()
    );
}

#[test]
fn passwords_and_url_credentials_are_masked() {
    let _ = logs();
    let mut cfg = TracingConfig {
        exporter_type: Some(ExporterType::Jaeger),
        ..Default::default()
    };
    cfg.jaeger.collector_endpoint = Some("http://alice:s3cr3t@127.0.0.1:1/api/traces".into());
    let env = HashMap::from([
        ("OTEL_EXPORTER_JAEGER_USER".to_owned(), "alice".to_owned()),
        (
            "OTEL_EXPORTER_JAEGER_PASSWORD".to_owned(),
            "SECRET-password".to_owned(),
        ),
        (
            "OTEL_EXPORTER_ZIPKIN_ENDPOINT".to_owned(),
            "ftp://bob:SECRET@host/".to_owned(),
        ),
    ]);
    let settings = Settings::resolve_with(&cfg, env).unwrap();
    assert_eq!(settings.warnings.len(), 1);
    assert!(settings.warnings[0].contains("ftp://REDACTED@host/"));
    for text in [
        settings.to_string(),
        format!("{settings:?}"),
        settings.warnings.join("\n"),
        format!("{cfg:?}"),
    ] {
        assert_clean("settings", &text);
    }
    cfg.jaeger.collector_endpoint = Some("mailto://alice:s3cr3t@x".into());
    let err = cfg.validate().unwrap_err();
    assert_eq!(err.path(), "tracing.jaeger.collector_endpoint");
    assert_clean("url error", &err.to_string());
}

#[cfg(feature = "otlp")]
#[tokio::test(flavor = "multi_thread")]
async fn export_failures_log_no_credentials() {
    let _ = logs();
    let dead = common::receiver::dead_addr();
    let mut cfg = otlp_cfg();
    cfg.timeout = Some(1.0);
    cfg.otlp.endpoint = Some(format!("http://alice:s3cr3t@{dead}/v1/traces"));
    let layer = TracingLayer::builder(cfg)
        .install_global(false)
        .env_vars([("OTEL_BSP_SCHEDULE_DELAY", "10")])
        .build()
        .unwrap();
    assert_clean("layer Debug", &format!("{layer:?}"));
    common::send(common::traced(&layer), common::get_req("/missing")).await;
    let _ = layer.pipeline().force_flush();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let own_line = |text: &str| {
        text.lines()
            .any(|l| l.contains("export of") && l.contains(&format!("@{dead}/")))
    };
    while !own_line(&logged()) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let text = logged();
    assert!(text.contains("REDACTED@"), "{text}");
    assert_clean("export failure log", &text);
}
