//! Arbitrary text as a YAML, JSON or TOML config (the first byte picks which):
//! parsing and validation return errors, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tower_otel_tracing::config::ConfigFormat;
use tower_otel_tracing::settings::Settings;
use tower_otel_tracing::TracingConfig;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let format = match selector % 3 {
        0 => ConfigFormat::Yaml,
        1 => ConfigFormat::Json,
        _ => ConfigFormat::Toml,
    };
    if let Ok(cfg) = TracingConfig::parse(text, format) {
        let _ = cfg.validate();
        if let Ok(settings) = Settings::resolve_with(&cfg, Default::default()) {
            let _ = settings.to_string();
        }
    }
});
