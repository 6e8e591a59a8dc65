use std::fmt;
use std::path::{Path, PathBuf};

/// A configuration problem, located precisely enough to fix it without reading our source.
///
/// It names the file (when the config came from one), the field path in the
/// BentoML-shaped dictionary (`tracing.zipkin.local_node_port`), the offending
/// value and what would have been accepted.
///
/// ```
/// use tower_otel_tracing::{ConfigFormat, TracingConfig};
///
/// let err = TracingConfig::parse("sample_rate: 1.5", ConfigFormat::Yaml)
///     .and_then(|cfg| cfg.validate().map(|_| cfg))
///     .unwrap_err();
/// assert_eq!(err.path(), "tracing.sample_rate");
/// assert!(err.to_string().contains("1.5"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    file: Option<PathBuf>,
    path: String,
    message: String,
}

impl ConfigError {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            file: None,
            path: path.into(),
            message: message.into(),
        }
    }

    /// An error about `value` at `path`, with a hint of what is accepted.
    pub(crate) fn invalid(path: &str, value: impl fmt::Display, expected: &str) -> Self {
        ConfigError::new(
            path,
            format!("invalid value `{value}`: expected {expected}"),
        )
    }

    pub(crate) fn in_file(mut self, file: &Path) -> Self {
        self.file = Some(file.to_path_buf());
        self
    }

    /// The file the configuration was read from, if any.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The dotted field path, starting at `tracing`, e.g. `tracing.otlp.http.certificate_file`.
    /// Empty when the problem is not tied to a field (a syntax error, an unreadable file).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is wrong, including the offending value.
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
