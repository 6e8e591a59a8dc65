//! The HTTP client's instrument, `http.client.request.duration`: each call
//! through a client layer, from the call to its response body's end (or its
//! failure, or its drop), by the stable conventions' attributes: the method,
//! the server's address and port, the response status and the error type.
//!
//! A call is found its series once, when it ends: calls wait on the network,
//! so one hash of the server's name there costs nothing a caller notices.

use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use http::uri::Authority;
use http::{Method, Uri};
use opentelemetry::trace::{SpanId, TraceId};

use super::exemplar::Stamp;
use super::histogram::Histogram;
use super::instruments::{DURATION_BOUNDS, NANOS_PER_SECOND};
use super::series_table::SeriesTable;
use super::HttpMetrics;
use crate::clock::{tick, Tick};
use crate::config::ExemplarFilter;
use crate::conventions::naming::sanitize_method;

/// A call's attributes, borrowed: hashed and compared to find its series.
#[derive(Debug, Clone, Copy, Hash)]
struct ClientAttributes<'a> {
    method: &'static str,
    address: Option<&'a str>,
    port: Option<u16>,
    status: Option<u16>,
    failure: Option<&'a str>,
}

/// The same, owned, as a series keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClientKey {
    /// `http.request.method`.
    pub(crate) method: &'static str,
    /// `server.address` and `server.port`: the target's host and port (the
    /// scheme's default when the target names none).
    pub(crate) address: Option<Arc<str>>,
    pub(crate) port: Option<u16>,
    /// `http.response.status_code`, when a response head came back.
    pub(crate) status: Option<u16>,
    /// The type of the call's failure, if it failed.
    pub(crate) failure: Option<Arc<str>>,
}

impl PartialEq<ClientAttributes<'_>> for ClientKey {
    fn eq(&self, other: &ClientAttributes<'_>) -> bool {
        self.method == other.method
            && self.status == other.status
            && self.port == other.port
            && self.address.as_deref() == other.address
            && self.failure.as_deref() == other.failure
    }
}

/// The client's instrument.
#[derive(Debug)]
pub(crate) struct ClientMeter {
    pub(crate) duration: SeriesTable<ClientKey, Histogram>,
}

impl ClientMeter {
    /// At most `limit` attribute sets.
    pub(crate) fn new(limit: usize) -> Self {
        ClientMeter {
            duration: SeriesTable::new(limit, Histogram::new(DURATION_BOUNDS)),
        }
    }
}

/// A call being measured: held by its future, then its response body.
pub(crate) struct ClientMeasure {
    meter: Arc<HttpMetrics>,
    start: Tick,
    method: &'static str,
    /// The target's authority, and its scheme's default port.
    authority: Option<Authority>,
    default_port: u16,
    status: Option<u16>,
    /// The call's trace and span, for an exemplar when its trace is exported.
    exemplar: Option<(TraceId, SpanId)>,
    ended: AtomicBool,
}

impl ClientMeasure {
    /// A call of `method` to `uri` starts now; `exported` names its CLIENT
    /// span when the span's trace is exported, `traced` the span or context
    /// it carries in any case (for the `always_on` exemplar filter).
    pub(crate) fn start(
        meter: &Arc<HttpMetrics>,
        method: &Method,
        uri: &Uri,
        exported: Option<(TraceId, SpanId)>,
        traced: Option<(TraceId, SpanId)>,
    ) -> Self {
        let default_port = match uri.scheme_str() {
            Some("https") => 443,
            _ => 80,
        };
        ClientMeasure {
            meter: meter.clone(),
            start: tick(),
            method: sanitize_method(method),
            authority: uri.authority().cloned(),
            default_port,
            status: None,
            exemplar: match meter.exemplar_filter {
                ExemplarFilter::TraceBased => exported,
                ExemplarFilter::AlwaysOn => exported.or(traced),
                ExemplarFilter::AlwaysOff => None,
            },
            ended: AtomicBool::new(false),
        }
    }

    /// The response head came back with `status`.
    pub(crate) fn responded(&mut self, status: u16) {
        self.status = Some(status);
    }

    /// The call is over: its response body ended, or it failed with
    /// `failure` (a type name).
    pub(crate) fn end(&self, failure: Option<&str>) {
        if self.ended.swap(true, Ordering::AcqRel) {
            return;
        }
        let end = tick();
        let nanos = u64::try_from(end.duration_since(self.start).as_nanos()).unwrap_or(u64::MAX);
        let attributes = ClientAttributes {
            method: self.method,
            address: self.authority.as_ref().map(Authority::host),
            port: self
                .authority
                .as_ref()
                .map(|a| a.port_u16().unwrap_or(self.default_port)),
            status: self.status,
            failure,
        };
        let histogram = self.meter.client.duration.get(&attributes, || {
            let key = ClientKey {
                method: attributes.method,
                address: attributes.address.map(Arc::from),
                port: attributes.port,
                status: attributes.status,
                failure: attributes.failure.map(Arc::from),
            };
            (key, Histogram::new(DURATION_BOUNDS))
        });
        let stamp = self
            .exemplar
            .map(|(trace_id, span_id)| Stamp::new(self.meter.unix_nanos(end), trace_id, span_id));
        let seconds = nanos as f64 / NANOS_PER_SECOND;
        histogram.record(nanos, stamp.as_ref().map(|stamp| (seconds, stamp)));
    }
}

impl Drop for ClientMeasure {
    /// A call dropped before its end (its future or body dropped): measured
    /// with what came back.
    fn drop(&mut self) {
        if !*self.ended.get_mut() {
            self.end(None);
        }
    }
}
