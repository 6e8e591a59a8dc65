//! Context propagation formats: W3C (from the SDK), and B3 and Jaeger (ours).

mod b3;
mod jaeger;

use std::fmt;

use http::HeaderName;
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use serde::{Deserialize, Serialize};

use b3::{B3Encoding, B3Propagator};
use jaeger::JaegerPropagator;

/// A context propagation format, as named in `OTEL_PROPAGATORS`.
///
/// ```
/// use tower_otel_tracing::{Propagator, TracingConfig};
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
    pub const DEFAULT: [Propagator; 2] = [Propagator::TraceContext, Propagator::Baggage];

    /// Its name in `OTEL_PROPAGATORS` and config files.
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

    fn build(self) -> Option<Box<dyn TextMapPropagator + Send + Sync>> {
        Some(match self {
            Propagator::TraceContext => Box::new(TraceContextPropagator::new()),
            Propagator::Baggage => Box::new(BaggagePropagator::new()),
            Propagator::B3 => Box::new(B3Propagator::new(B3Encoding::Single)),
            Propagator::B3Multi => Box::new(B3Propagator::new(B3Encoding::Multiple)),
            Propagator::Jaeger => Box::new(JaegerPropagator::new()),
            Propagator::None => return None,
        })
    }
}

impl fmt::Display for Propagator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The propagators in order, composed; later ones win when several find a parent.
pub(crate) struct Propagation {
    pub(crate) composite: TextMapCompositePropagator,
    /// Every header any of them reads: a request with none of these needs no extraction.
    pub(crate) fields: Vec<HeaderName>,
}

impl Propagation {
    pub(crate) fn new(list: &[Propagator]) -> Self {
        let composite =
            TextMapCompositePropagator::new(list.iter().filter_map(|p| p.build()).collect());
        let mut fields: Vec<HeaderName> = composite
            .fields()
            .filter_map(|f| HeaderName::from_bytes(f.as_bytes()).ok())
            .collect();
        fields.dedup();
        Propagation { composite, fields }
    }

    /// Whether `headers` carries any header a propagator reads. A request has a
    /// handful of headers, usually none of these: one pass comparing names costs less
    /// than hashing each field name for a lookup.
    pub(crate) fn any_field_in(&self, headers: &http::HeaderMap) -> bool {
        if headers.keys_len() <= 16 {
            headers.keys().any(|name| self.fields.contains(name))
        } else {
            self.fields.iter().any(|f| headers.contains_key(f))
        }
    }

    pub(crate) fn composite_for_global(list: &[Propagator]) -> TextMapCompositePropagator {
        TextMapCompositePropagator::new(list.iter().filter_map(|p| p.build()).collect())
    }
}
