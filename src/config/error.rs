//! [`ConfigError`]: what is wrong with a configuration, and where.

use std::fmt;
use std::path::{Path, PathBuf};

/// What kind of problem a [`ConfigError`] reports.
///
/// ```
/// use tower_otel_tracing::config::{ConfigErrorKind, ConfigFormat};
/// use tower_otel_tracing::TracingConfig;
///
/// let err = TracingConfig::parse("{not json", ConfigFormat::Json).unwrap_err();
/// assert_eq!(err.kind(), ConfigErrorKind::Syntax);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// The text is not valid JSON, YAML or TOML.
    Syntax,
    /// A field has a value of the wrong type or out of range, or is unknown.
    InvalidValue,
    /// A file (the config, a certificate) cannot be read or has an unknown extension.
    File,
    /// Valid, but not supported by this build or this crate (a cargo feature is
    /// off, or a protocol is not implemented).
    Unsupported,
}

/// A configuration problem, located precisely enough to fix it without reading our source.
///
/// It names the file (when the config came from one), the field path in the
/// BentoML-shaped dictionary (`tracing.zipkin.local_node_port`), the offending
/// value and what would have been accepted.
///
/// ```
/// use tower_otel_tracing::config::ConfigFormat;
/// use tower_otel_tracing::TracingConfig;
///
/// let err = TracingConfig::parse("sample_rate: 1.5", ConfigFormat::Yaml)
///     .and_then(|cfg| cfg.validate().map(|_| cfg))
///     .unwrap_err();
/// assert_eq!(err.path(), "tracing.sample_rate");
/// assert!(err.to_string().contains("1.5"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    kind: ConfigErrorKind,
    file: Option<PathBuf>,
    path: String,
    message: String,
}

impl ConfigError {
    /// An invalid value at `path` (the most common kind).
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::of_kind(ConfigErrorKind::InvalidValue, path, message)
    }

    pub(crate) fn of_kind(
        kind: ConfigErrorKind,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ConfigError {
            kind,
            file: None,
            path: path.into(),
            message: message.into(),
        }
    }

    pub(crate) fn in_file(mut self, file: &Path) -> Self {
        self.file = Some(file.to_path_buf());
        self
    }

    /// What kind of problem this is.
    ///
    /// ```
    /// use tower_otel_tracing::config::ConfigErrorKind;
    /// use tower_otel_tracing::TracingConfig;
    ///
    /// let err = TracingConfig { sample_rate: Some(1.5), ..Default::default() }
    ///     .validate()
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), ConfigErrorKind::InvalidValue);
    /// ```
    pub fn kind(&self) -> ConfigErrorKind {
        self.kind
    }

    /// The file the configuration was read from, if any.
    ///
    /// ```
    /// use std::path::Path;
    /// use tower_otel_tracing::config::ConfigFormat;
    /// use tower_otel_tracing::TracingConfig;
    ///
    /// // The extension is checked before the file is opened.
    /// let err = TracingConfig::from_path("tracing.ini").unwrap_err();
    /// assert_eq!(err.file(), Some(Path::new("tracing.ini")));
    /// let err = TracingConfig::parse("{", ConfigFormat::Json).unwrap_err();
    /// assert_eq!(err.file(), None);
    /// ```
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The dotted field path, starting at `tracing`, e.g. `tracing.otlp.http.certificate_file`.
    /// Empty when the problem is not tied to a field (a syntax error, an unreadable file).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is wrong, including the offending value.
    ///
    /// Unlike `Display`, it leaves out the file and the field path.
    ///
    /// ```
    /// use tower_otel_tracing::TracingConfig;
    ///
    /// let err = TracingConfig { sample_rate: Some(1.5), ..Default::default() }
    ///     .validate()
    ///     .unwrap_err();
    /// assert_eq!(err.message(), "invalid value `1.5`: expected a number from 0 to 1");
    /// assert_eq!(err.to_string(), format!("tracing.sample_rate: {}", err.message()));
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}: ", file.display())?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}
