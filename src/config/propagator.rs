//! The context propagation formats by name, as `OTEL_PROPAGATORS` and the
//! `propagators` field spell them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A context propagation format, as named in `OTEL_PROPAGATORS`.
///
/// ```
/// use tower_otel_tracing::config::Propagator;
/// use tower_otel_tracing::TracingConfig;
///
/// assert_eq!(Propagator::from_name("b3multi"), Some(Propagator::B3Multi));
/// let cfg = TracingConfig {
///     propagators: Some(vec![Propagator::TraceContext, Propagator::Jaeger]),
///     ..Default::default()
/// };
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Propagator {
    /// W3C `traceparent` / `tracestate`.
    TraceContext,
    /// W3C `baggage`.
    Baggage,
    /// Zipkin B3, single `b3` header (extraction also reads the multi-header form).
    B3,
    /// Zipkin B3, `X-B3-*` headers.
    B3Multi,
    /// Jaeger `uber-trace-id`.
    Jaeger,
    /// No propagation.
    None,
}

impl Propagator {
    /// The default: W3C trace context and baggage.
    ///
    /// ```
    /// use tower_otel_tracing::config::Propagator;
    /// use tower_otel_tracing::settings::Settings;
    /// use tower_otel_tracing::TracingConfig;
    ///
    /// let settings = Settings::resolve_with(&TracingConfig::default(), Default::default())?;
    /// assert_eq!(settings.propagators, Propagator::DEFAULT);
    /// # Ok::<(), tower_otel_tracing::ConfigError>(())
    /// ```
    pub const DEFAULT: [Propagator; 2] = [Propagator::TraceContext, Propagator::Baggage];

    /// Its name in `OTEL_PROPAGATORS` and config files.
    ///
    /// ```
    /// use tower_otel_tracing::config::Propagator;
    ///
    /// let names: Vec<&str> = Propagator::DEFAULT.iter().map(|p| p.as_str()).collect();
    /// assert_eq!(names.join(","), "tracecontext,baggage");
    /// assert_eq!(Propagator::from_name(Propagator::B3Multi.as_str()), Some(Propagator::B3Multi));
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Propagator::TraceContext => "tracecontext",
            Propagator::Baggage => "baggage",
            Propagator::B3 => "b3",
            Propagator::B3Multi => "b3multi",
            Propagator::Jaeger => "jaeger",
            Propagator::None => "none",
        }
    }

    /// Parses one `OTEL_PROPAGATORS` entry.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Propagator::TraceContext,
            Propagator::Baggage,
            Propagator::B3,
            Propagator::B3Multi,
            Propagator::Jaeger,
            Propagator::None,
        ]
        .into_iter()
        .find(|p| p.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

impl fmt::Display for Propagator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
