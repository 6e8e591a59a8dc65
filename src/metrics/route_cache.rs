//! [`RouteCache`]: a request's route series found by the addresses of what
//! it borrows, before its attributes are hashed by content. Every request of
//! a route brings the same router-owned route template (axum's
//! `MatchedPath`, one shared string a route) and the same `&'static` method,
//! scheme and version names; hashing four addresses and comparing them is a
//! fraction of hashing and comparing the text (`benches/peers`:
//! `callgrind.py ours_rate0_metrics`).
//!
//! An entry holds its template, so that its address is never reused for
//! other text while the entry exists: equal addresses are equal text. Two
//! entries may lead to one series (the same text at two addresses, a router
//! built twice); the cache only ever shortcuts the content lookup, and when
//! it is full requests take the content lookup alone.

use std::hash::{Hash, Hasher};

use super::series_table::{Place, SeriesTable};

/// The route template a router gives a request.
#[cfg(feature = "axum")]
pub(crate) type RouteHandle = axum::extract::MatchedPath;
/// Without a router that names routes, no request has a template.
#[cfg(not(feature = "axum"))]
pub(crate) type RouteHandle = std::convert::Infallible;

/// The template's text.
pub(crate) fn template(handle: &RouteHandle) -> &str {
    #[cfg(feature = "axum")]
    {
        handle.as_str()
    }
    #[cfg(not(feature = "axum"))]
    {
        match *handle {}
    }
}

/// What a request borrows, by address.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Borrowed<'a> {
    pub(crate) route: Option<&'a RouteHandle>,
    pub(crate) method: &'static str,
    pub(crate) scheme: &'static str,
    pub(crate) version: Option<&'static str>,
}

/// An address (0 for none), and a string's length beside it.
fn address(s: Option<&str>) -> (usize, usize) {
    s.map_or((0, 0), |s| (s.as_ptr() as usize, s.len()))
}

impl Hash for Borrowed<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(address(self.route.map(template)).0);
        state.write_usize(self.method.as_ptr() as usize);
        state.write_usize(address(self.version).0 ^ self.scheme.len());
    }
}

/// The same, owned: the entry keeps its template alive.
#[derive(Debug)]
pub(crate) struct Held {
    route: Option<RouteHandle>,
    method: &'static str,
    scheme: &'static str,
    version: Option<&'static str>,
}

impl PartialEq<Borrowed<'_>> for Held {
    fn eq(&self, other: &Borrowed<'_>) -> bool {
        address(self.route.as_ref().map(template)) == address(other.route.map(template))
            && address(Some(self.method)) == address(Some(other.method))
            && address(Some(self.scheme)) == address(Some(other.scheme))
            && address(self.version) == address(other.version)
    }
}

/// Route series by the addresses of what requests borrow.
#[derive(Debug)]
pub(crate) struct RouteCache {
    entries: SeriesTable<Held, Place>,
}

impl RouteCache {
    /// Room for `limit` entries.
    pub(crate) fn new(limit: usize) -> Self {
        RouteCache {
            entries: SeriesTable::new(limit, Place::OVERFLOW),
        }
    }

    /// The route series of `borrowed`: cached, or found by `lookup` (by
    /// content) and cached, room permitting.
    #[inline]
    pub(crate) fn get(&self, borrowed: &Borrowed<'_>, lookup: impl FnOnce() -> Place) -> Place {
        let mut lookup = Some(lookup);
        let mut found = None;
        let entry = self.entries.find(borrowed, || {
            let place = (lookup.take().expect("looked up once"))();
            found = Some(place);
            let held = Held {
                route: borrowed.route.cloned(),
                method: borrowed.method,
                scheme: borrowed.scheme,
                version: borrowed.version,
            };
            (held, place)
        });
        match (entry, found) {
            (_, Some(place)) => place,
            (Place::OVERFLOW, None) => (lookup.take().expect("looked up once"))(),
            (entry, None) => *self.entries.at(entry),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::server::ServerMeter;

    fn arrive(meter: &ServerMeter, method: &'static str, version: Option<&'static str>) -> Place {
        let borrowed = Borrowed {
            route: None,
            method,
            scheme: "http",
            version,
        };
        meter.arrive(&borrowed, None, None)
    }

    /// The same text at another address is the same series; other text is
    /// another series, however the cache is hit.
    #[test]
    fn addresses_shortcut_the_content_never_replace_it() {
        let meter = ServerMeter::new(10);
        let get: &'static str = "GET";
        let other_get: &'static str = String::from("GET").leak();
        assert_ne!(get.as_ptr(), other_get.as_ptr());
        let first = arrive(&meter, get, Some("1.1"));
        assert_eq!(arrive(&meter, get, Some("1.1")), first);
        assert_eq!(arrive(&meter, other_get, Some("1.1")), first);
        assert_ne!(arrive(&meter, get, Some("2")), first);
        assert_ne!(arrive(&meter, "POST", Some("1.1")), first);
        let mut active = Vec::new();
        meter.for_each_route(|route, count| {
            if let Some(route) = route {
                active.push((route.method, route.version, count));
            }
        });
        active.sort();
        assert_eq!(
            active,
            [
                ("GET", Some("1.1"), 3),
                ("GET", Some("2"), 1),
                ("POST", Some("1.1"), 1)
            ]
        );
    }
}
