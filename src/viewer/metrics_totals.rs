//! What one reading of the layer's metrics gives the charts: for each span
//! name, the cumulative totals of its `http.server.request.duration` (or
//! `rpc.server.call.duration`) series added up, since the metrics began.
//!
//! A route's series are keyed by their attributes (method, scheme, protocol
//! version, route template, server, outcome); the viewer lists requests by
//! server span name. So each route is named as the layer names its server
//! spans ([`Naming`], the rules of `conventions/describe.rs`), and every
//! series of one name is summed: its requests, its failed requests (the
//! series `error.type` is written on), its bucket counts, and each bucket's
//! latest exemplar.

use std::collections::BTreeMap;

use crate::conventions::naming::{span_name, stable_span_name};
use crate::conventions::Conventions;
use crate::metrics::{is_error, Exemplar, HttpMetrics, RouteKey, DURATION_BOUNDS};

/// Buckets of a duration histogram: one a bound, and one above them all.
pub(crate) const BUCKETS: usize = DURATION_BOUNDS.len() + 1;

/// How the layer names its server spans, so that a route's series are
/// charted under the name its traces carry in the viewer's list.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Naming {
    /// BentoML's naming, `{METHOD} {path}`: a route's template stands for the
    /// path (they are the same text for a route without parameters).
    legacy: bool,
    /// A gRPC call is named after its method alone (`pkg.Service/Method`),
    /// else `POST /pkg.Service/Method`.
    rpc_by_method: bool,
}

impl Naming {
    pub(crate) fn of(conventions: &Conventions) -> Self {
        Naming {
            legacy: conventions.semconv.legacy(),
            rpc_by_method: !conventions.semconv.legacy() || !conventions.rpc.legacy(),
        }
    }

    /// The server span name of a route's requests. A route with no template
    /// (no router named it) is `{METHOD}`, as the stable conventions name it:
    /// its requests' paths are not in the metrics, by design.
    pub(crate) fn name(&self, route: &RouteKey) -> String {
        match route.route.as_deref() {
            Some(method) if route.grpc => {
                if self.rpc_by_method {
                    method.to_owned()
                } else {
                    span_name(route.method, &format!("/{method}"))
                }
            }
            Some(template) if self.legacy => span_name(route.method, template),
            template => stable_span_name(route.method, template),
        }
    }
}

/// One name's totals since the metrics began.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Totals {
    /// Requests ended.
    pub(crate) count: u64,
    /// Of them, those that failed (a failure, a 5xx; for gRPC a server fault).
    pub(crate) errors: u64,
    /// Requests by duration bucket ([`DURATION_BOUNDS`]), not cumulative.
    pub(crate) buckets: [u64; BUCKETS],
    /// Each bucket's latest exemplar over the name's series.
    pub(crate) exemplars: [Option<Exemplar>; BUCKETS],
}

impl Default for Totals {
    fn default() -> Self {
        Totals {
            count: 0,
            errors: 0,
            buckets: [0; BUCKETS],
            exemplars: [None; BUCKETS],
        }
    }
}

/// One reading of every server series.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Reading {
    pub(crate) names: BTreeMap<String, Totals>,
    /// Requests in the overflow series (beyond the cardinality limit), which
    /// have no name.
    pub(crate) overflow: u64,
}

/// Reads every server series of `metrics`: a scan of atomics on the
/// sampler's thread, which requests never wait for.
pub(crate) fn read(metrics: &HttpMetrics, naming: Naming) -> Reading {
    let mut reading = Reading::default();
    metrics.server.for_each_series(|key, series| {
        let snapshot = series.duration.snapshot();
        let Some((route, outcome)) = key else {
            reading.overflow += snapshot.count;
            return;
        };
        if snapshot.count == 0 {
            // An outcome series is made when its first request ends; an empty
            // one adds nothing (and a route with no ended request has no name yet).
            return;
        }
        let totals = reading.names.entry(naming.name(route)).or_default();
        totals.count += snapshot.count;
        if is_error(route, outcome) {
            totals.errors += snapshot.count;
        }
        for (i, count) in snapshot.counts.iter().take(BUCKETS).enumerate() {
            totals.buckets[i] += count;
        }
        for (kept, offered) in totals.exemplars.iter_mut().zip(&snapshot.exemplars) {
            if let Some(offered) = offered {
                if kept.is_none_or(|k| k.time < offered.time) {
                    *kept = Some(*offered);
                }
            }
        }
    });
    reading
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Semconv;
    use crate::metrics::{Borrowed, Ending, Stamp, CARDINALITY_LIMIT};
    use opentelemetry::trace::{SpanId, TraceId};
    use std::sync::Arc;

    fn route(method: &'static str, template: Option<&str>, grpc: bool) -> RouteKey {
        RouteKey {
            method,
            scheme: "http",
            version: Some("1.1"),
            route: template.map(Arc::from),
            server: None,
            grpc,
        }
    }

    fn naming(semconv: Semconv, rpc: Semconv) -> Naming {
        let mut c = Conventions::legacy();
        c.semconv = semconv;
        c.rpc = rpc;
        Naming::of(&c)
    }

    /// The names `conventions/describe.rs` gives the server spans.
    #[test]
    fn routes_are_named_as_their_spans() {
        let legacy = naming(Semconv::Legacy, Semconv::Legacy);
        let stable = naming(Semconv::Stable, Semconv::Stable);
        let summarize = route("POST", Some("/summarize"), false);
        assert_eq!(legacy.name(&summarize), "POST /summarize");
        assert_eq!(stable.name(&summarize), "POST /summarize");
        assert_eq!(legacy.name(&route("GET", None, false)), "GET");
        assert_eq!(stable.name(&route("_OTHER", None, false)), "HTTP");
        assert_eq!(
            legacy.name(&route("_OTHER", Some("/pot"), false)),
            "HTTP /pot"
        );
        let call = route("POST", Some("pkg.Greeter/SayHello"), true);
        assert_eq!(legacy.name(&call), "POST /pkg.Greeter/SayHello");
        assert_eq!(stable.name(&call), "pkg.Greeter/SayHello");
        assert_eq!(
            naming(Semconv::Legacy, Semconv::Stable).name(&call),
            "pkg.Greeter/SayHello",
            "the stable RPC conventions alone name a call by its method"
        );
    }

    fn ending(status: u16, nanos: u64, exemplar: Option<u64>) -> Ending<'static> {
        Ending {
            status: Some(status),
            failure: None,
            duration_nanos: nanos,
            request_bytes: None,
            response_bytes: None,
            exemplar: exemplar
                .map(|n| Stamp::new(n, TraceId::from(u128::from(n)), SpanId::from(n))),
        }
    }

    /// Two gRPC methods: each name sums its series; a server fault counts
    /// as an error, a client's mistake does not; each bucket keeps the
    /// latest exemplar.
    #[test]
    fn a_reading_sums_the_series_of_each_name() {
        let metrics = HttpMetrics::new(
            Default::default(),
            false,
            CARDINALITY_LIMIT,
            opentelemetry_sdk::Resource::builder_empty().build(),
        );
        let borrowed = Borrowed {
            route: None,
            method: "POST",
            scheme: "http",
            version: Some("2"),
        };
        let a = metrics.server.arrive(&borrowed, None, Some("pkg.S/A"));
        let b = metrics.server.arrive(&borrowed, None, Some("pkg.S/B"));
        metrics.server.record(a, &ending(0, 1_000_000, Some(1)));
        metrics.server.record(a, &ending(0, 2_000_000, Some(2)));
        metrics.server.record(a, &ending(13, 30_000_000, None));
        metrics.server.record(a, &ending(3, 30_000_000, None));
        metrics.server.record(b, &ending(0, 600_000_000, None));
        let reading = read(&metrics, naming(Semconv::Stable, Semconv::Stable));
        assert_eq!(
            reading.names.keys().collect::<Vec<_>>(),
            ["pkg.S/A", "pkg.S/B"]
        );
        let a = &reading.names["pkg.S/A"];
        assert_eq!(
            (a.count, a.errors),
            (4, 1),
            "INTERNAL is a fault, INVALID_ARGUMENT is not"
        );
        assert_eq!((a.buckets[0], a.buckets[3]), (2, 2));
        assert_eq!(a.exemplars[0].map(|e| e.span_id), Some(SpanId::from(2)));
        assert!(a.exemplars[1..].iter().all(Option::is_none));
        assert_eq!(reading.names["pkg.S/B"].buckets[8], 1);
        assert_eq!(reading.overflow, 0);
    }
}
