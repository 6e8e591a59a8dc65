//! Context propagation: reading the caller's trace from request headers, and
//! writing it into outgoing ones (the client layer, and the global propagator).
//! W3C Trace Context ([`TraceContextPropagator`]), B3 and Jaeger are ours;
//! baggage comes from the SDK.
//!
//! Formats follow the OpenTelemetry propagators specification:
//! <https://opentelemetry.io/docs/specs/otel/context/api-propagators/>.
//!
//! ```
//! use http::{HeaderMap, HeaderValue};
//! use opentelemetry::propagation::TextMapPropagator;
//! use opentelemetry_http::{HeaderExtractor, HeaderInjector};
//! use tower_otel_tracing::propagation::TraceContextPropagator;
//!
//! let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
//! let mut incoming = HeaderMap::new();
//! incoming.insert("traceparent", HeaderValue::from_static(traceparent));
//! let propagator = TraceContextPropagator::new();
//! let cx = propagator.extract(&HeaderExtractor(&incoming));
//! // No span of ours was started, so the caller's context goes on unchanged.
//! let mut outgoing = HeaderMap::new();
//! propagator.inject_context(&cx, &mut HeaderInjector(&mut outgoing));
//! assert_eq!(outgoing["traceparent"], traceparent);
//! ```

mod b3;
mod jaeger;
mod trace_context;

use http::HeaderName;
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry_sdk::propagation::BaggagePropagator;

use crate::config::Propagator;
use b3::{B3Encoding, B3Propagator};
use jaeger::JaegerPropagator;
pub(crate) use trace_context::{random_flag, traceparent_of};
pub use trace_context::{TraceContextPropagator, MAX_TRACESTATE_LEN, RANDOM};

/// The propagator a format names (`None` for `none`).
fn build(format: Propagator) -> Option<Box<dyn TextMapPropagator + Send + Sync>> {
    Some(match format {
        Propagator::TraceContext => Box::new(TraceContextPropagator::new()),
        Propagator::Baggage => Box::new(BaggagePropagator::new()),
        Propagator::B3 => Box::new(B3Propagator::new(B3Encoding::Single)),
        Propagator::B3Multi => Box::new(B3Propagator::new(B3Encoding::Multiple)),
        Propagator::Jaeger => Box::new(JaegerPropagator::new()),
        Propagator::None => return None,
    })
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
            TextMapCompositePropagator::new(list.iter().filter_map(|p| build(*p)).collect());
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
        TextMapCompositePropagator::new(list.iter().filter_map(|p| build(*p)).collect())
    }
}
