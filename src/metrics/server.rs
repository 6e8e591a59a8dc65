//! The HTTP server's instruments: a request's duration and body sizes by
//! its attribute set, and the requests under way.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use opentelemetry::trace::{SpanId, TraceId};

use super::exemplar::Exemplar;
use super::histogram::Histogram;
use super::instruments::{DURATION_BOUNDS, NANOS_PER_SECOND, SIZE_BOUNDS};
use super::series_table::{Place, SeriesTable};

/// The attributes of a server request's measurements, as the stable HTTP
/// conventions require them, borrowed from the request: hashed and compared
/// to find its series.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServerAttributes<'a> {
    /// `http.request.method`: a known method or `_OTHER`.
    pub(crate) method: &'static str,
    /// `url.scheme`.
    pub(crate) scheme: &'static str,
    /// `network.protocol.version`.
    pub(crate) version: Option<&'static str>,
    /// `http.route`: the route template, never a raw path.
    pub(crate) route: Option<&'a str>,
    /// `http.response.status_code`: none when the exchange ended before its
    /// response head.
    pub(crate) status: Option<u16>,
    /// `error.type` of a failure (an inner error's type, `panic`); a 5xx is
    /// its status code, derived on export.
    pub(crate) failure: Option<&'a str>,
    /// `server.address` and `server.port` (opt-in).
    pub(crate) server: Option<(&'a str, u16)>,
}

impl Hash for ServerAttributes<'_> {
    /// The short attributes packed in two words, then the route: a request
    /// hashes its attributes once, at its end (`benches/peers`:
    /// `callgrind.py ours_rate0_metrics`). Equal sets hash the same; sets
    /// that differ mostly differ in the word or the route.
    fn hash<H: Hasher>(&self, state: &mut H) {
        let version = self.version.map_or(0, short_str);
        state.write_u64(short_word(self.method, self.scheme) | version << 32);
        state.write_u64(
            self.status.map_or(0, |s| u64::from(s) + 1)
                | u64::from(self.failure.is_some()) << 62
                | u64::from(self.server.is_some()) << 63,
        );
        if let Some(route) = self.route {
            state.write(route.as_bytes());
        }
        if let Some(failure) = self.failure {
            state.write(failure.as_bytes());
        }
        if let Some((address, port)) = self.server {
            state.write(address.as_bytes());
            state.write_u16(port);
        }
    }
}

/// A short string's length, first and last bytes, in 24 bits: they tell
/// apart each method and protocol version there is.
fn short_str(s: &str) -> u64 {
    let bytes = s.as_bytes();
    let first = bytes.first().copied().unwrap_or(0);
    let last = bytes.last().copied().unwrap_or(0);
    (s.len() as u64 & 0xFF) | u64::from(first) << 8 | u64::from(last) << 16
}

/// The method and the scheme (by length: `http` or `https`) in 32 bits.
fn short_word(method: &str, scheme: &str) -> u64 {
    short_str(method) | (scheme.len() as u64 & 0xFF) << 24
}

/// Two strings that are usually the same `&'static str`: compared by
/// address first.
fn same(a: &str, b: &str) -> bool {
    std::ptr::eq(a, b) || a == b
}

/// The same attributes, owned, as a series keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerKey {
    pub(crate) method: &'static str,
    pub(crate) scheme: &'static str,
    pub(crate) version: Option<&'static str>,
    pub(crate) route: Option<Arc<str>>,
    pub(crate) status: Option<u16>,
    pub(crate) failure: Option<Arc<str>>,
    pub(crate) server: Option<(Arc<str>, u16)>,
}

impl PartialEq<ServerAttributes<'_>> for ServerKey {
    fn eq(&self, other: &ServerAttributes<'_>) -> bool {
        self.status == other.status
            && same(self.method, other.method)
            && self.route.as_deref() == other.route
            && same(self.scheme, other.scheme)
            && match (self.version, other.version) {
                (Some(a), Some(b)) => same(a, b),
                (a, b) => a.is_none() && b.is_none(),
            }
            && self.failure.as_deref() == other.failure
            && self.server.as_ref().map(|(a, p)| (&**a, *p)) == other.server
    }
}

impl ServerKey {
    fn of(attributes: &ServerAttributes<'_>) -> Self {
        ServerKey {
            method: attributes.method,
            scheme: attributes.scheme,
            version: attributes.version,
            route: attributes.route.map(Arc::from),
            status: attributes.status,
            failure: attributes.failure.map(Arc::from),
            server: attributes.server.map(|(a, p)| (Arc::from(a), p)),
        }
    }
}

/// The histograms of one attribute set.
#[derive(Debug)]
pub(crate) struct ServerSeries {
    pub(crate) duration: Histogram,
    pub(crate) request_size: Histogram,
    pub(crate) response_size: Histogram,
}

impl Default for ServerSeries {
    fn default() -> Self {
        ServerSeries {
            duration: Histogram::new(DURATION_BOUNDS),
            request_size: Histogram::new(SIZE_BOUNDS),
            response_size: Histogram::new(SIZE_BOUNDS),
        }
    }
}

/// The attributes of `http.server.active_requests`: those known when a
/// request arrives, borrowed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ActiveAttributes<'a> {
    pub(crate) method: &'static str,
    pub(crate) scheme: &'static str,
    pub(crate) server: Option<(&'a str, u16)>,
}

impl Hash for ActiveAttributes<'_> {
    /// As [`ServerAttributes`]' hash.
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(short_word(self.method, self.scheme));
        if let Some((address, port)) = self.server {
            state.write(address.as_bytes());
            state.write_u16(port);
        }
    }
}

/// The same, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ActiveKey {
    pub(crate) method: &'static str,
    pub(crate) scheme: &'static str,
    pub(crate) server: Option<(Arc<str>, u16)>,
}

impl PartialEq<ActiveAttributes<'_>> for ActiveKey {
    fn eq(&self, other: &ActiveAttributes<'_>) -> bool {
        same(self.method, other.method)
            && same(self.scheme, other.scheme)
            && self.server.as_ref().map(|(a, p)| (&**a, *p)) == other.server
    }
}

/// One ended request, measured.
#[derive(Debug)]
pub(crate) struct ServerMeasurement<'a> {
    pub(crate) attributes: ServerAttributes<'a>,
    pub(crate) duration_nanos: u64,
    /// Request and response body bytes, when known.
    pub(crate) request_bytes: Option<u64>,
    pub(crate) response_bytes: Option<u64>,
    /// The trace and server span the exemplars point at, when its trace is
    /// exported (or the filter is `always_on`).
    pub(crate) exemplar: Option<(TraceId, SpanId)>,
}

/// The server's instruments.
#[derive(Debug)]
pub(crate) struct ServerMeter {
    pub(crate) series: SeriesTable<ServerKey, ServerSeries>,
    pub(crate) active: SeriesTable<ActiveKey, AtomicI64>,
}

impl ServerMeter {
    /// At most `limit` attribute sets an instrument.
    pub(crate) fn new(limit: usize) -> Self {
        ServerMeter {
            series: SeriesTable::new(limit, ServerSeries::default()),
            active: SeriesTable::new(limit, AtomicI64::new(0)),
        }
    }

    /// A request arrived: it is counted as active. Where its count is
    /// comes back, for [`depart`](Self::depart).
    #[inline]
    pub(crate) fn arrive(&self, attributes: &ActiveAttributes<'_>) -> Place {
        let place = self.active.find(attributes, || {
            let key = ActiveKey {
                method: attributes.method,
                scheme: attributes.scheme,
                server: attributes.server.map(|(a, p)| (Arc::from(a), p)),
            };
            (key, AtomicI64::new(0))
        });
        self.active.at(place).fetch_add(1, Ordering::Relaxed);
        place
    }

    /// The request that arrived at `place` ended.
    #[inline]
    pub(crate) fn depart(&self, place: Place) {
        self.active.at(place).fetch_sub(1, Ordering::Relaxed);
    }

    /// An ended request's measurements.
    #[inline]
    pub(crate) fn record(&self, m: &ServerMeasurement<'_>) {
        let series = self.series.get(&m.attributes, || {
            (ServerKey::of(&m.attributes), ServerSeries::default())
        });
        // The clock is read for an exemplar only.
        let time = m.exemplar.map(|_| SystemTime::now());
        let exemplar = |value: f64| {
            m.exemplar.zip(time).map(|((trace_id, span_id), time)| {
                move || Exemplar {
                    value,
                    time,
                    trace_id,
                    span_id,
                }
            })
        };
        let seconds = m.duration_nanos as f64 / NANOS_PER_SECOND;
        series.duration.record(m.duration_nanos, exemplar(seconds));
        if let Some(bytes) = m.request_bytes {
            series.request_size.record(bytes, exemplar(bytes as f64));
        }
        if let Some(bytes) = m.response_bytes {
            series.response_size.record(bytes, exemplar(bytes as f64));
        }
    }
}
