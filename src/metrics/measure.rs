//! [`Measure`]: a request measured from its arrival. When it arrives it finds
//! its route's series (what the attributes know then: the method, scheme,
//! protocol version and route), which counts it as active; when it ends it
//! records its measurements there: with its record for a recorded request,
//! with its response body (or its future, if it never had one) otherwise.
//!
//! A measure is small and held inline, by the record or by the future and
//! then the body: a request allocates nothing for its metrics once its series
//! exist (`benches/peers`: `callgrind.py ours_rate0_metrics`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use http::{header, HeaderMap, Request, Version};
use opentelemetry::trace::{SpanId, TraceId};

use super::exemplar::Stamp;
use super::route_cache::{Borrowed, RouteHandle};
use super::series_table::Place;
use super::server::Ending;
use super::HttpMetrics;
use crate::clock::{tick, Tick};
use crate::config::ExemplarFilter;
use crate::conventions::grpc;
use crate::conventions::legacy::protocol_version;
use crate::conventions::naming::sanitize_method;

/// A request being measured.
pub(crate) struct Measure {
    meter: Arc<HttpMetrics>,
    start: Tick,
    /// Its route's series.
    route: Place,
    /// `Content-Length`, for a request whose body is not counted.
    content_length: Option<u64>,
    /// A gRPC call: its status is its `grpc-status`.
    grpc: bool,
    /// What an unrecorded request's response has sent: its status (none
    /// before its head; a gRPC call's code, once sent) and body bytes.
    status: Option<u16>,
    sent: u64,
    /// The trace and span of an unrecorded request, kept for the `always_on`
    /// exemplar filter only (so boxed: other filters never fill it).
    traced: Option<Box<(TraceId, SpanId)>>,
    /// Only the first end counts (a record and its body may both try).
    ended: AtomicBool,
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
        // gRPC runs over HTTP/2 only: other requests skip the header lookup.
        let grpc = req.version() == Version::HTTP_2 && grpc::is_grpc_headers(req.headers());
        let rpc = grpc.then(|| grpc::rpc_name(req.uri().path()).unwrap_or("_OTHER"));
        let route = meter.server.arrive(
            &Borrowed {
                route: req.extensions().get::<RouteHandle>(),
                method: sanitize_method(req.method()),
                scheme,
                version: protocol_version(req.version()),
            },
            server.as_ref().map(|(a, p)| (&**a, *p)),
            rpc,
        );
        Measure {
            meter: meter.clone(),
            start,
            route,
            content_length: None,
            grpc,
            status: None,
            sent: 0,
            traced: None,
            ended: AtomicBool::new(false),
        }
    }

    /// `req` is not recorded: its body's bytes go uncounted, so its
    /// `Content-Length` stands for them (a recorded request counts them, and
    /// skips this header lookup).
    pub(crate) fn unrecorded<B>(mut self, req: &Request<B>) -> Self {
        self.content_length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        self
    }

    /// An unrecorded request's response head went out with `status` and
    /// `headers`; `traced` gives its trace and span (read only for an `always_on`
    /// exemplar).
    pub(crate) fn responded(
        &mut self,
        status: u16,
        headers: &HeaderMap,
        traced: impl FnOnce() -> Option<(TraceId, SpanId)>,
    ) {
        self.status = if self.grpc {
            // A trailers-only answer: the status is in the head.
            grpc_code(headers)
        } else {
            Some(status)
        };
        if self.meter.exemplar_filter == ExemplarFilter::AlwaysOn {
            self.traced = traced().map(Box::new);
        }
    }

    /// The response's trailers went out: a gRPC call's status is there.
    pub(crate) fn trailers(&mut self, trailers: &HeaderMap) {
        if self.grpc {
            self.status = grpc_code(trailers).or(self.status);
        }
    }

    /// Whether this is a gRPC call (its outcome is a `grpc-status` code).
    pub(crate) fn is_grpc(&self) -> bool {
        self.grpc
    }

    /// `bytes` more of the response body went out.
    #[inline]
    pub(crate) fn sent(&mut self, bytes: u64) {
        self.sent += bytes;
    }

    /// The unrecorded request's response is over (or was dropped before it
    /// was): it ends with what was sent; `failure`, when its body failed.
    pub(crate) fn end_sent(self, failure: Option<&str>) {
        self.end(&Outcome {
            status: self.status,
            failure,
            response_bytes: (self.grpc || self.status.is_some()).then_some(self.sent),
            traced: self.traced.as_deref().copied(),
            ..Outcome::default()
        });
    }

    /// The request ended now: its measurements are recorded, and it is no
    /// longer active. Only the first end counts.
    pub(crate) fn end(&self, outcome: &Outcome<'_>) {
        self.end_at(tick(), outcome);
    }

    /// The request ended at `end`.
    pub(crate) fn end_at(&self, end: Tick, outcome: &Outcome<'_>) {
        if self.ended.swap(true, Ordering::AcqRel) {
            return;
        }
        let meter = &*self.meter;
        let duration = end.duration_since(self.start);
        let exemplar = match meter.exemplar_filter {
            ExemplarFilter::TraceBased => outcome.exported,
            ExemplarFilter::AlwaysOn => outcome.exported.or(outcome.traced),
            ExemplarFilter::AlwaysOff => None,
        };
        let exemplar = exemplar.map(|(trace, span)| Stamp::new(meter.unix_nanos(end), trace, span));
        meter.server.record(
            self.route,
            &Ending {
                status: outcome.status,
                failure: outcome.failure,
                duration_nanos: u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX),
                request_bytes: outcome.request_bytes.or(self.content_length),
                response_bytes: outcome.response_bytes,
                exemplar,
            },
        );
        meter.server.depart(self.route);
    }
}

impl Drop for Measure {
    /// A measure dropped without an end (its future or body dropped in a way
    /// that skipped it) still ends: as a request without a response.
    fn drop(&mut self) {
        if !*self.ended.get_mut() {
            self.end(&Outcome::default());
        }
    }
}

/// The `grpc-status` of these headers or trailers, as a measure keeps it.
fn grpc_code(headers: &HeaderMap) -> Option<u16> {
    grpc::status(headers).and_then(|code| u16::try_from(code).ok())
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
