//! HTTP metrics from every request, with exemplars that open the trace: the
//! stable HTTP semantic conventions' server instruments
//! (`http.server.request.duration`, `http.server.active_requests`,
//! `http.server.request.body.size`, `http.server.response.body.size`),
//! recorded from what the layer already knows of each request (its start, its
//! real end, its status, its route, its body bytes), sampled or not.
//!
//! - `measure.rs`: a request measured from its arrival to its end;
//! - `client.rs`: `http.client.request.duration`, a call through a client
//!   layer measured the same way;
//! - `server.rs`: the server's instruments and their attribute sets, a
//!   route's series found once when a request arrives, its outcome's when it
//!   ends;
//! - `series_table.rs` and `outcome_list.rs`: those two levels, found without
//!   a lock; `budget.rs`: the cardinality limit they share; `route_cache.rs`:
//!   a route's series found by address before content;
//! - `histogram.rs` and `exemplar.rs`: atomic bucket counts, and each bucket's
//!   last exemplar;
//! - `quantile.rs`: p50/p99 and per-interval counts from bucket counts (the
//!   viewer's charts, the console push);
//! - `instruments.rs`: names, units and bucket boundaries; `attributes.rs`:
//!   each series' attributes, as the conventions name them;
//! - `exposition.rs` and `service.rs`: the pull endpoint
//!   ([`TracingLayer::metrics`](crate::TracingLayer::metrics)), in the
//!   Prometheus text format or OpenMetrics with exemplars;
//!
//! The push exporters (`metrics.exporter: otlp` or `console`) read these
//! instruments from `exporter/metrics_push/`, on a thread of their own,
//! flushed and stopped with the layer's pipeline.
//!
//! Nothing is recorded until metrics are wanted (the pull endpoint is made,
//! or a push exporter is configured): until then a request pays one load.

pub(crate) mod attributes;
mod budget;
mod client;
pub(crate) mod exemplar;
mod exposition;
mod fold_hash;
pub(crate) mod histogram;
pub(crate) mod instruments;
mod measure;
mod outcome_list;
pub(crate) mod quantile;
mod route_cache;
mod series_table;
mod server;
mod service;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use opentelemetry_sdk::Resource;

use crate::config::ExemplarFilter;
pub(crate) use client::ClientMeasure;
use client::ClientMeter;
pub(crate) use measure::{Measure, Outcome};
pub(crate) use series_table::CARDINALITY_LIMIT;
use server::ServerMeter;
// What the viewer's charts read of the server's histograms.
#[cfg(feature = "viewer")]
pub(crate) use attributes::is_error;
#[cfg(feature = "viewer")]
pub(crate) use exemplar::Exemplar;
#[cfg(feature = "viewer")]
pub(crate) use instruments::DURATION_BOUNDS;
#[cfg(feature = "viewer")]
pub(crate) use server::RouteKey;
pub use service::MetricsService;
#[cfg(all(feature = "viewer", test))]
pub(crate) use {exemplar::Stamp, route_cache::Borrowed, server::Ending};

/// A layer's metrics: its instruments, shared by the layer, its client
/// layers, the pull endpoint and a push exporter.
pub(crate) struct HttpMetrics {
    /// Whether requests are measured.
    enabled: AtomicBool,
    pub(crate) server: ServerMeter,
    pub(crate) client: ClientMeter,
    exemplar_filter: ExemplarFilter,
    /// Write `server.address` and `server.port` (opt-in).
    server_address: bool,
    /// When the cumulative counts began.
    pub(crate) started: SystemTime,
    /// The request path's clock against the wall clock, for exemplars' times:
    /// a tick turned into Unix time is a multiply, a wall-clock read is a
    /// clock call and a conversion (`benches/peers`: `callgrind.py
    /// ours_rate1_metrics`). Over a long uptime the two clocks drift apart by
    /// the TSC's error, a few parts per million: an exemplar's time is where
    /// on the chart it sits, never a duration.
    anchor: fastant::Anchor,
    pub(crate) resource: Resource,
}

impl std::fmt::Debug for HttpMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpMetrics")
            .field("enabled", &self.enabled())
            .field("exemplar_filter", &self.exemplar_filter)
            .finish_non_exhaustive()
    }
}

impl HttpMetrics {
    pub(crate) fn new(
        exemplar_filter: ExemplarFilter,
        server_address: bool,
        cardinality_limit: usize,
        resource: Resource,
    ) -> Self {
        HttpMetrics {
            enabled: AtomicBool::new(false),
            server: ServerMeter::new(cardinality_limit),
            client: ClientMeter::new(cardinality_limit),
            exemplar_filter,
            server_address,
            started: SystemTime::now(),
            anchor: fastant::Anchor::new(),
            resource,
        }
    }

    /// Whether requests are measured: one load on every request's path.
    #[inline]
    pub(crate) fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// `at` in nanoseconds since the Unix epoch.
    #[inline]
    pub(crate) fn unix_nanos(&self, at: crate::clock::Tick) -> u64 {
        at.as_unix_nanos(&self.anchor)
    }

    /// Requests are measured from now.
    pub(crate) fn enable(&self) {
        self.enabled.store(true, Ordering::Relaxed);
    }
}
