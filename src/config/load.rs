//! Config texts and files: JSON, YAML or TOML, the tracing dictionary bare or
//! nested under a top-level `tracing` key. Errors name the field path.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;

use serde::Deserialize;

use super::{ConfigError, ConfigErrorKind, TracingConfig};

/// The syntax of a configuration text.
///
/// ```
/// use tower_otel_tracing::config::ConfigFormat;
/// assert_eq!(ConfigFormat::from_extension("YML"), Some(ConfigFormat::Yaml));
/// assert_eq!(ConfigFormat::from_extension("ini"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigFormat {
    /// JSON.
    Json,
    /// YAML (feature `yaml`, on by default).
    Yaml,
    /// TOML (feature `toml`, on by default).
    Toml,
}

impl ConfigFormat {
    /// The format a file extension names (`json`, `yaml`, `yml`, `toml`), case-insensitively.
    pub fn from_extension(ext: &str) -> Option<Self> {
        match ext.to_ascii_lowercase().as_str() {
            "json" => Some(ConfigFormat::Json),
            "yaml" | "yml" => Some(ConfigFormat::Yaml),
            "toml" => Some(ConfigFormat::Toml),
            _ => None,
        }
    }
}

/// The top-level key under which the tracing dictionary may be nested.
const ROOT: &str = "tracing";

impl TracingConfig {
    /// Reads a config file, choosing the syntax by extension (`.json`, `.yaml`/`.yml`, `.toml`).
    /// The error names the file.
    ///
    /// ```no_run
    /// let cfg = tower_otel_tracing::TracingConfig::from_path("tracing.yaml")?;
    /// # Ok::<(), tower_otel_tracing::ConfigError>(())
    /// ```
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let format = path
            .extension()
            .and_then(|e| e.to_str())
            .and_then(ConfigFormat::from_extension)
            .ok_or_else(|| {
                ConfigError::of_kind(
                    ConfigErrorKind::File,
                    "",
                    "unknown config file extension: expected .json, .yaml, .yml or .toml",
                )
                .in_file(path)
            })?;
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::of_kind(ConfigErrorKind::File, "", format!("cannot read file: {e}"))
                .in_file(path)
        })?;
        TracingConfig::parse(&text, format).map_err(|e| e.in_file(path))
    }

    /// Parses a config text: the tracing dictionary itself, or a document with a
    /// top-level `tracing` key (other top-level keys are then left to their owners).
    /// Syntax and type errors name the field path; call
    /// [`validate`](TracingConfig::validate) for range checks.
    pub fn parse(text: &str, format: ConfigFormat) -> Result<Self, ConfigError> {
        match format {
            ConfigFormat::Json => {
                let value: serde_json::Value =
                    serde_json::from_str(text).map_err(|e| syntax("JSON", e))?;
                let nested = value.as_object().is_some_and(|m| m.contains_key(ROOT));
                let value = match value {
                    serde_json::Value::Object(mut m) if nested => {
                        m.remove(ROOT).unwrap_or_default()
                    }
                    other => other,
                };
                deserialize_at_root(value)
            }
            #[cfg(feature = "yaml")]
            ConfigFormat::Yaml => {
                let value: serde_norway::Value =
                    serde_norway::from_str(text).map_err(|e| syntax("YAML", e))?;
                let value = match value {
                    serde_norway::Value::Mapping(mut m) if m.contains_key(ROOT) => {
                        m.remove(ROOT).unwrap_or_default()
                    }
                    // An empty YAML document means "all defaults".
                    serde_norway::Value::Null => serde_norway::Value::Mapping(Default::default()),
                    other => other,
                };
                deserialize_at_root(value)
            }
            #[cfg(feature = "toml")]
            ConfigFormat::Toml => {
                let mut table: toml::Table = toml::from_str(text).map_err(|e| syntax("TOML", e))?;
                let value = match table.remove(ROOT) {
                    Some(inner) => inner,
                    None => toml::Value::Table(table),
                };
                deserialize_at_root(value)
            }
            #[allow(unreachable_patterns)]
            other => Err(ConfigError::of_kind(
                ConfigErrorKind::Unsupported,
                "",
                format!("{other:?} config support is not compiled in: enable the cargo feature"),
            )),
        }
    }
}

fn syntax(format: &str, e: impl std::fmt::Display) -> ConfigError {
    ConfigError::of_kind(
        ConfigErrorKind::Syntax,
        "",
        format!("{format} syntax error: {e}"),
    )
}

fn deserialize_at_root<'de, D: serde::Deserializer<'de>>(
    de: D,
) -> Result<TracingConfig, ConfigError>
where
    D::Error: std::fmt::Display,
{
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." || path.is_empty() {
            ROOT.to_owned()
        } else {
            format!("{ROOT}.{path}")
        };
        let mut message = e.into_inner().to_string();
        if is_header_value_path(&path) {
            // serde quotes the offending value between backticks: a secret here.
            message = hide_quoted(&message);
        }
        ConfigError::new(path, message)
    })
}

/// `tracing.otlp.{http,grpc}.headers.<name>` and `tracing.metrics.otlp.headers.<name>`:
/// where header values (API keys) live.
fn is_header_value_path(path: &str) -> bool {
    [
        "tracing.otlp.http.headers.",
        "tracing.otlp.grpc.headers.",
        "tracing.metrics.otlp.headers.",
    ]
    .iter()
    .any(|prefix| path.starts_with(prefix))
}

fn hide_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for (i, part) in message.split('`').enumerate() {
        out.push_str(if i % 2 == 1 {
            "(value not shown)"
        } else {
            part
        });
    }
    out
}

pub(super) fn ipv4<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<Ipv4Addr>, D::Error> {
    parse_with(de, "an IPv4 address like 192.168.0.1")
}

pub(super) fn ipv6<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<Ipv6Addr>, D::Error> {
    parse_with(de, "an IPv6 address like 2001:db8::c001")
}

/// Parses a string field with `FromStr`, keeping the offending text in the error
/// (std's address parse errors do not repeat it).
fn parse_with<'de, D, T>(de: D, expected: &str) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
{
    let text = String::deserialize(de)?;
    text.trim().parse().map(Some).map_err(|_| {
        serde::de::Error::custom(format!("invalid value `{text}`: expected {expected}"))
    })
}
