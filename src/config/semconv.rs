//! [`Semconv`]: which HTTP semantic conventions spans carry.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Which HTTP semantic conventions spans carry: BentoML's (the conventions before
/// v1.21, the default), the stable ones (v1.23 on), or both during a migration,
/// as OpenTelemetry's `OTEL_SEMCONV_STABILITY_OPT_IN` plan describes
/// (<https://opentelemetry.io/docs/specs/semconv/non-normative/http-migration/>).
///
/// ```
/// use tower_otel_tracing::config::Semconv;
///
/// let mode: Semconv = serde_json::from_str("\"dup\"").unwrap();
/// assert!(mode.legacy() && mode.stable());
/// assert_eq!(Semconv::default(), Semconv::Legacy);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Semconv {
    /// `http.method`, `http.target`, `net.peer.ip`, ...: exactly BentoML's output.
    #[default]
    Legacy,
    /// `http.request.method`, `url.path`, `client.address`, ...: the stable conventions.
    Stable,
    /// Both sets of attributes; span names follow the legacy rule.
    Dup,
}

impl Semconv {
    /// Whether the legacy attributes (and names) are written.
    pub fn legacy(self) -> bool {
        matches!(self, Semconv::Legacy | Semconv::Dup)
    }

    /// Whether the stable attributes are written.
    pub fn stable(self) -> bool {
        matches!(self, Semconv::Stable | Semconv::Dup)
    }

    /// Its name in config files.
    ///
    /// ```
    /// use tower_otel_tracing::config::Semconv;
    ///
    /// assert_eq!(Semconv::Stable.as_str(), "stable");
    /// assert_eq!(Semconv::default().as_str(), "legacy");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Semconv::Legacy => "legacy",
            Semconv::Stable => "stable",
            Semconv::Dup => "dup",
        }
    }
}

impl fmt::Display for Semconv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
