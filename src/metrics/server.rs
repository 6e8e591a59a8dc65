//! The HTTP server's instruments, kept in two levels so that a request hashes
//! its attributes once: when it arrives it finds its route's series (its
//! method, scheme, protocol version, route template and, opted in, server:
//! what is known then), which counts it as active; when it ends it adds to the
//! outcome series under that route (its status and failure), found by a
//! short scan (`benches/peers`: `callgrind.py ours_rate0_metrics`).
//!
//! Both levels share the cardinality limit: at most that many routes, and at
//! most that many attribute sets of the histograms; what does not fit goes to
//! one overflow series.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use super::budget::Budget;
use super::exemplar::Stamp;
use super::histogram::Histogram;
use super::instruments::{DURATION_BOUNDS, NANOS_PER_SECOND, SIZE_BOUNDS};
use super::outcome_list::{OutcomeKey, OutcomeList};
use super::route_cache::{template, Borrowed, RouteCache};
use super::series_table::{Place, SeriesTable};

/// What the conventions' attributes know of a request when it arrives,
/// borrowed from it: hashed and compared to find its route's series.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Arrival<'a> {
    /// `http.request.method`: a known method or `_OTHER`.
    pub(crate) method: &'static str,
    /// `url.scheme`.
    pub(crate) scheme: &'static str,
    /// `network.protocol.version`.
    pub(crate) version: Option<&'static str>,
    /// `http.route`: the route template, never a raw path; for a gRPC call,
    /// `rpc.method` (`pkg.Service/Method`).
    pub(crate) route: Option<&'a str>,
    /// `server.address` and `server.port` (opt-in).
    pub(crate) server: Option<(&'a str, u16)>,
    /// A gRPC call: measured as `rpc.server.call.duration`, its outcome a
    /// gRPC status code.
    pub(crate) grpc: bool,
}

impl Hash for Arrival<'_> {
    /// The short attributes packed in one word, then the route: equal
    /// arrivals hash the same; different ones mostly differ in the word or
    /// the route.
    fn hash<H: Hasher>(&self, state: &mut H) {
        let version = self.version.map_or(0, short_str);
        state.write_u64(
            short_str(self.method)
                | (self.scheme.len() as u64 & 0xFF) << 24
                | version << 32
                | u64::from(self.grpc) << 62
                | u64::from(self.server.is_some()) << 63,
        );
        if let Some(route) = self.route {
            state.write(route.as_bytes());
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

/// Two strings that are usually the same `&'static str`: compared by
/// address first.
fn same(a: &str, b: &str) -> bool {
    std::ptr::eq(a, b) || a == b
}

/// The same attributes, owned, as a route's series keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RouteKey {
    pub(crate) method: &'static str,
    pub(crate) scheme: &'static str,
    pub(crate) version: Option<&'static str>,
    pub(crate) route: Option<Arc<str>>,
    pub(crate) server: Option<(Arc<str>, u16)>,
    pub(crate) grpc: bool,
}

impl PartialEq<Arrival<'_>> for RouteKey {
    fn eq(&self, other: &Arrival<'_>) -> bool {
        same(self.method, other.method)
            && self.grpc == other.grpc
            && self.route.as_deref() == other.route
            && same(self.scheme, other.scheme)
            && match (self.version, other.version) {
                (Some(a), Some(b)) => same(a, b),
                (a, b) => a.is_none() && b.is_none(),
            }
            && self.server.as_ref().map(|(a, p)| (&**a, *p)) == other.server
    }
}

impl RouteKey {
    fn of(arrival: &Arrival<'_>) -> Self {
        RouteKey {
            method: arrival.method,
            scheme: arrival.scheme,
            version: arrival.version,
            route: arrival.route.map(Arc::from),
            server: arrival.server.map(|(a, p)| (Arc::from(a), p)),
            grpc: arrival.grpc,
        }
    }
}

/// A route's requests under way and its outcome series.
#[derive(Debug, Default)]
pub(crate) struct RouteSeries {
    pub(crate) active: AtomicI64,
    pub(crate) outcomes: OutcomeList<ServerSeries>,
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

/// One ended request, measured.
#[derive(Debug)]
pub(crate) struct Ending<'a> {
    /// The response status, if a response head was sent; for a gRPC call,
    /// its `grpc-status` code, if one was sent.
    pub(crate) status: Option<u16>,
    /// `error.type` of a failure (an inner error's type, `panic`); a 5xx is
    /// its status code, derived on export.
    pub(crate) failure: Option<&'a str>,
    pub(crate) duration_nanos: u64,
    /// Request and response body bytes, when known.
    pub(crate) request_bytes: Option<u64>,
    pub(crate) response_bytes: Option<u64>,
    /// The trace, server span and end the exemplars name, when its trace is
    /// exported (or the filter is `always_on`).
    pub(crate) exemplar: Option<Stamp>,
}

/// The server's instruments.
#[derive(Debug)]
pub(crate) struct ServerMeter {
    routes: SeriesTable<RouteKey, RouteSeries>,
    /// The routes found by address first.
    cache: RouteCache,
    /// Room for the histograms' attribute sets, over every route.
    budget: Budget,
    /// The histograms' overflow series.
    overflow: ServerSeries,
}

impl ServerMeter {
    /// At most `limit` attribute sets an instrument.
    pub(crate) fn new(limit: usize) -> Self {
        ServerMeter {
            routes: SeriesTable::new(limit, RouteSeries::default()),
            cache: RouteCache::new(limit),
            budget: Budget::new(limit),
            overflow: ServerSeries::default(),
        }
    }

    /// A request arrived, borrowing `borrowed`, addressed to `server`
    /// (opt-in), and calling `rpc` when it is a gRPC call: it is counted as
    /// active. Where its route's series is comes back, for
    /// [`record`](Self::record) and [`depart`](Self::depart).
    #[inline]
    pub(crate) fn arrive(
        &self,
        borrowed: &Borrowed<'_>,
        server: Option<(&str, u16)>,
        rpc: Option<&str>,
    ) -> Place {
        let lookup = || {
            let arrival = Arrival {
                method: borrowed.method,
                scheme: borrowed.scheme,
                version: borrowed.version,
                route: rpc.or(borrowed.route.map(template)),
                server,
                grpc: rpc.is_some(),
            };
            self.routes.find(&arrival, || {
                (RouteKey::of(&arrival), RouteSeries::default())
            })
        };
        let place = match (server, rpc) {
            (None, None) => self.cache.get(borrowed, lookup),
            // A server's name and a call's method are the request's own text:
            // no address to cache.
            _ => lookup(),
        };
        self.routes.at(place).active.fetch_add(1, Ordering::Relaxed);
        place
    }

    /// The request that arrived at `place` is no longer active.
    #[inline]
    pub(crate) fn depart(&self, place: Place) {
        self.routes.at(place).active.fetch_sub(1, Ordering::Relaxed);
    }

    /// The measurements of a request that arrived at `place` and ended.
    #[inline]
    pub(crate) fn record(&self, place: Place, m: &Ending<'_>) {
        let series = match place {
            Place::OVERFLOW => &self.overflow,
            _ => self
                .routes
                .at(place)
                .outcomes
                .get(m.status, m.failure, &self.budget, ServerSeries::default)
                .unwrap_or(&self.overflow),
        };
        let exemplar = |value: f64| m.exemplar.as_ref().map(|stamp| (value, stamp));
        let seconds = m.duration_nanos as f64 / NANOS_PER_SECOND;
        series.duration.record(m.duration_nanos, exemplar(seconds));
        if let Some(bytes) = m.request_bytes {
            series.request_size.record(bytes, exemplar(bytes as f64));
        }
        if let Some(bytes) = m.response_bytes {
            series.response_size.record(bytes, exemplar(bytes as f64));
        }
    }

    /// Each histogram series with its attributes (none: the overflow series,
    /// last).
    pub(crate) fn for_each_series<'a>(
        &'a self,
        mut f: impl FnMut(Option<(&'a RouteKey, &'a OutcomeKey)>, &'a ServerSeries),
    ) {
        self.routes.for_each(|route, series| {
            if let Some(route) = route {
                series
                    .outcomes
                    .for_each(|outcome, series| f(Some((route, outcome)), series));
            }
        });
        f(None, &self.overflow);
    }

    /// Each route's requests under way (none: the overflow routes', last).
    pub(crate) fn for_each_route<'a>(&'a self, mut f: impl FnMut(Option<&'a RouteKey>, i64)) {
        self.routes
            .for_each(|route, series| f(route, series.active.load(Ordering::Relaxed)));
    }
}
