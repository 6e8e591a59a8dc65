//! [`Measure`]: a request measured from its arrival. It holds what the
//! metrics' attributes need that is known then (the method, scheme, protocol
//! version and route), counts the request as active, and records the request's
//! measurements when it ends: with its record for a recorded request, with
//! its response body (or its future, if it never had one) otherwise.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use http::{header, Request};
use opentelemetry::trace::{SpanId, TraceId};

use super::series_table::Place;
use super::server::{ActiveAttributes, ServerAttributes, ServerMeasurement};
use super::HttpMetrics;
use crate::conventions::legacy::protocol_version;
use crate::conventions::naming::sanitize_method;
use crate::record::live::clock::{tick, Tick};

/// The route template the router matched, where the stack knows one.
#[cfg(feature = "axum")]
type Route = axum::extract::MatchedPath;

/// A request being measured: a handle, one pointer wide, so that a future
/// or body that carries one (or none) grows by a word only (`benches/peers`:
/// `callgrind.py ours_rate0`, metrics off).
pub(crate) struct Measure(Box<Measuring>);

/// What a measure knows.
struct Measuring {
    meter: Arc<HttpMetrics>,
    start: Tick,
    method: &'static str,
    scheme: &'static str,
    version: Option<&'static str>,
    #[cfg(feature = "axum")]
    route: Option<Route>,
    /// `Content-Length`, for a request whose body is not counted.
    content_length: Option<u64>,
    /// `server.address` and `server.port`, when opted in.
    server: Option<(Box<str>, u16)>,
    /// Where the request is counted as active.
    active: Place,
    /// Only the first end counts (a record and its body may both try).
    ended: AtomicBool,
    /// What an unrecorded request's response has sent so far.
    sent: Sent,
}

/// An unrecorded request's response, as its body goes by.
#[derive(Debug, Default)]
struct Sent {
    status: Option<u16>,
    bytes: u64,
    traced: Option<(TraceId, SpanId)>,
}

/// How a measured request ended.
#[derive(Debug, Default)]
pub(crate) struct Outcome<'a> {
    /// The response status, if a response head was sent.
    pub(crate) status: Option<u16>,
    /// The type of a failure (an inner error, a panic).
    pub(crate) failure: Option<&'a str>,
    /// Body bytes counted as they went by; otherwise the request's
    /// `Content-Length` stands for its body.
    pub(crate) request_bytes: Option<u64>,
    pub(crate) response_bytes: Option<u64>,
    /// The trace and server span of a request whose trace is exported.
    pub(crate) exported: Option<(TraceId, SpanId)>,
    /// The same of any request, for the `always_on` exemplar filter.
    pub(crate) traced: Option<(TraceId, SpanId)>,
}

impl Measure {
    /// `req` arrived at `start`: it is counted as active from now.
    pub(crate) fn start<B>(meter: &Arc<HttpMetrics>, req: &Request<B>, start: Tick) -> Self {
        let scheme = match req.uri().scheme_str() {
            Some("https") => "https",
            _ => "http",
        };
        let server = meter.server_address.then(|| server_of(req)).flatten();
        let method = sanitize_method(req.method());
        let active = meter.server.arrive(&ActiveAttributes {
            method,
            scheme,
            server: server.as_ref().map(|(a, p)| (&**a, *p)),
        });
        Measure(Box::new(Measuring {
            meter: meter.clone(),
            start,
            method,
            scheme,
            version: protocol_version(req.version()),
            #[cfg(feature = "axum")]
            route: req
                .extensions()
                .get::<axum::extract::MatchedPath>()
                .cloned(),
            content_length: req
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok()),
            server,
            active,
            ended: AtomicBool::new(false),
            sent: Sent::default(),
        }))
    }

    /// An unrecorded request's response head went out with `status`;
    /// `traced`, its trace and span (for an `always_on` exemplar).
    pub(crate) fn responded(&mut self, status: u16, traced: Option<(TraceId, SpanId)>) {
        self.0.sent.status = Some(status);
        self.0.sent.traced = traced;
    }

    /// `bytes` more of the response body went out.
    #[inline]
    pub(crate) fn sent(&mut self, bytes: u64) {
        self.0.sent.bytes += bytes;
    }

    /// The unrecorded request's response is over (or was dropped before it
    /// was): it ends with what was sent; `failure`, when its body failed.
    pub(crate) fn end_sent(self, failure: Option<&str>) {
        let sent = &self.0.sent;
        self.end(&Outcome {
            status: sent.status,
            failure,
            response_bytes: sent.status.map(|_| sent.bytes),
            traced: sent.traced,
            ..Outcome::default()
        });
    }
}

impl Measuring {
    fn route(&self) -> Option<&str> {
        #[cfg(feature = "axum")]
        {
            self.route.as_ref().map(axum::extract::MatchedPath::as_str)
        }
        #[cfg(not(feature = "axum"))]
        {
            None
        }
    }
}

impl Measure {
    /// The request ended now: its measurements are recorded, and it is no
    /// longer active. Only the first end counts.
    pub(crate) fn end(&self, outcome: &Outcome<'_>) {
        self.end_at(tick(), outcome);
    }

    /// The request ended at `end`.
    pub(crate) fn end_at(&self, end: Tick, outcome: &Outcome<'_>) {
        let this = &*self.0;
        if this.ended.swap(true, Ordering::AcqRel) {
            return;
        }
        let meter = &*this.meter;
        let duration = end.duration_since(this.start);
        let exemplar = match meter.exemplar_filter {
            crate::config::ExemplarFilter::TraceBased => outcome.exported,
            crate::config::ExemplarFilter::AlwaysOn => outcome.exported.or(outcome.traced),
            crate::config::ExemplarFilter::AlwaysOff => None,
        };
        meter.server.record(&ServerMeasurement {
            attributes: ServerAttributes {
                method: this.method,
                scheme: this.scheme,
                version: this.version,
                route: this.route(),
                status: outcome.status,
                failure: outcome.failure,
                server: this.server.as_ref().map(|(a, p)| (&**a, *p)),
            },
            duration_nanos: u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX),
            request_bytes: outcome.request_bytes.or(this.content_length),
            response_bytes: outcome.response_bytes,
            exemplar,
        });
        meter.server.depart(this.active);
    }
}

impl Drop for Measure {
    /// A measure dropped without an end (its future or body dropped in a way
    /// that skipped it) still ends: as a request without a response.
    fn drop(&mut self) {
        self.end(&Outcome::default());
    }
}

/// The host and port the client addressed (`Host`, or the authority of the
/// target), the port defaulting to the scheme's.
fn server_of<B>(req: &Request<B>) -> Option<(Box<str>, u16)> {
    let authority = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))?;
    let authority: http::uri::Authority = authority.parse().ok()?;
    let port = authority
        .port_u16()
        .unwrap_or(match req.uri().scheme_str() {
            Some("https") => 443,
            _ => 80,
        });
    Some((authority.host().into(), port))
}
