//! [`Collector`]: what one push reports, read from the layer's instruments
//! into [`Collection`], a model every push exporter encodes from (OTLP
//! protobuf, the console's text): each histogram series with its attributes
//! (`attributes.rs`, as the pull endpoint has them), cumulative or, under
//! delta temporality, changed since the last push that arrived (`delta.rs`),
//! and the active requests.

use std::time::SystemTime;

use opentelemetry::KeyValue;

use super::delta::{self, Baselines, SeriesKey};
use crate::config::Temporality;
use crate::metrics::attributes;
use crate::metrics::histogram::HistogramSnapshot;
use crate::metrics::instruments::{
    Instrument, CLIENT_DURATION, NANOS_PER_SECOND, RPC_SERVER_DURATION, SERVER_DURATION,
    SERVER_REQUEST_SIZE, SERVER_RESPONSE_SIZE,
};
use crate::metrics::HttpMetrics;

/// The histogram families, in the order of [`Collection::histograms`].
const HTTP_DURATION: usize = 0;
const HTTP_REQUEST_SIZE: usize = 1;
const HTTP_RESPONSE_SIZE: usize = 2;
const RPC_DURATION: usize = 3;
const CLIENT: usize = 4;

/// What one push reports.
#[derive(Debug, Clone)]
pub(crate) struct Collection {
    pub(crate) temporality: Temporality,
    /// Since when the histograms count: when measuring began (cumulative),
    /// or the last push that arrived (delta).
    pub(crate) start: SystemTime,
    /// When measuring began: the start of the up-down counter, cumulative
    /// whatever the temporality (which only OTLP says).
    #[cfg_attr(not(feature = "otlp"), allow(dead_code))]
    pub(crate) started: SystemTime,
    /// When the instruments were read.
    pub(crate) time: SystemTime,
    /// `http.server.request.duration`, the request and response body
    /// sizes, `rpc.server.call.duration`, `http.client.request.duration`; a
    /// family without points has nothing to report.
    pub(crate) histograms: [Family; 5],
    /// `http.server.active_requests` by attribute set.
    pub(crate) active: Vec<(Vec<KeyValue>, i64)>,
}

impl Collection {
    /// Nothing measured yet: no series, no route.
    pub(crate) fn is_empty(&self) -> bool {
        self.active.is_empty() && self.histograms.iter().all(|f| f.points.is_empty())
    }
}

/// One histogram instrument's points.
#[derive(Debug, Clone)]
pub(crate) struct Family {
    pub(crate) instrument: &'static Instrument,
    /// The histogram's integer units in one of the instrument's (1e9
    /// nanoseconds a second; a byte is a byte).
    pub(crate) per_unit: f64,
    pub(crate) points: Vec<Point>,
}

impl Family {
    /// A count of the histogram's integer units, in the instrument's unit.
    pub(crate) fn value(&self, v: u64) -> f64 {
        v as f64 / self.per_unit
    }
}

/// One series of a histogram: its attributes and its counts (only points
/// with a count are collected).
#[derive(Debug, Clone)]
pub(crate) struct Point {
    pub(crate) attributes: Vec<KeyValue>,
    pub(crate) snapshot: HistogramSnapshot,
}

/// Reads the instruments for each push; under delta temporality it keeps
/// what the last push that arrived reported. Lives on the push thread: the
/// request path's atomics are only ever read.
#[derive(Debug)]
pub(crate) struct Collector {
    temporality: Temporality,
    started: SystemTime,
    baselines: Baselines,
}

/// A collection, and what it read cumulatively: the baselines of the next
/// delta, should it arrive.
#[derive(Debug)]
pub(crate) struct Collected {
    pub(crate) collection: Collection,
    read: Vec<(SeriesKey, HistogramSnapshot)>,
}

impl Collector {
    pub(crate) fn new(temporality: Temporality, started: SystemTime) -> Self {
        Collector {
            temporality,
            started,
            baselines: Baselines::new(started),
        }
    }

    /// Reads every series now.
    pub(crate) fn collect(&self, metrics: &HttpMetrics) -> Collected {
        // Read before the counts: an exemplar recorded while they are read is
        // newer than this time, and counts as the next delta's too (at most
        // repeated, never lost).
        let time = SystemTime::now();
        let mut read = Reading {
            delta: self.temporality == Temporality::Delta,
            baselines: &self.baselines,
            histograms: [
                family(&SERVER_DURATION, NANOS_PER_SECOND),
                family(&SERVER_REQUEST_SIZE, 1.0),
                family(&SERVER_RESPONSE_SIZE, 1.0),
                family(&RPC_SERVER_DURATION, NANOS_PER_SECOND),
                family(&CLIENT_DURATION, NANOS_PER_SECOND),
            ],
            read: Vec::new(),
        };
        metrics.server.for_each_series(|key, series| match key {
            Some((route, outcome)) if route.grpc => read.add(
                RPC_DURATION,
                attributes::rpc(route, outcome),
                series.duration.snapshot(),
            ),
            _ => {
                let attributes = key.map_or_else(attributes::overflow, |(route, outcome)| {
                    attributes::server(route, outcome)
                });
                read.add(
                    HTTP_REQUEST_SIZE,
                    attributes.clone(),
                    series.request_size.snapshot(),
                );
                read.add(
                    HTTP_RESPONSE_SIZE,
                    attributes.clone(),
                    series.response_size.snapshot(),
                );
                read.add(HTTP_DURATION, attributes, series.duration.snapshot());
            }
        });
        metrics.client.duration.for_each(|key, histogram| {
            let attributes = key.map_or_else(attributes::overflow, attributes::client);
            read.add(CLIENT, attributes, histogram.snapshot());
        });
        let delta = read.delta;
        Collected {
            collection: Collection {
                temporality: self.temporality,
                start: if delta {
                    self.baselines.since()
                } else {
                    self.started
                },
                started: self.started,
                time,
                histograms: read.histograms,
                active: attributes::active_requests(&metrics.server),
            },
            read: read.read,
        }
    }

    /// `collected` arrived: the next delta counts from it. (A push that did
    /// not arrive leaves the baselines, so the next one reports its
    /// measurements again.)
    pub(crate) fn arrived(&mut self, collected: Collected) {
        if self.temporality == Temporality::Delta {
            self.baselines
                .advance(collected.collection.time, collected.read);
        }
    }
}

fn family(instrument: &'static Instrument, per_unit: f64) -> Family {
    Family {
        instrument,
        per_unit,
        points: Vec::new(),
    }
}

/// One collection being read.
struct Reading<'a> {
    delta: bool,
    baselines: &'a Baselines,
    histograms: [Family; 5],
    /// What was read, cumulatively (delta only).
    read: Vec<(SeriesKey, HistogramSnapshot)>,
}

impl Reading<'_> {
    /// A series of histogram `index`: as read (cumulative), or what changed
    /// since its baseline (delta); left out when that is nothing.
    fn add(&mut self, index: usize, attributes: Vec<KeyValue>, snapshot: HistogramSnapshot) {
        // Never measured (a body size not known, the overflow series while
        // nothing overflowed): not reported, no baseline.
        if snapshot.count == 0 {
            return;
        }
        let points = &mut self.histograms[index].points;
        if !self.delta {
            points.push(Point {
                attributes,
                snapshot,
            });
            return;
        }
        let key = (index, delta::identity(&attributes));
        let change = self.baselines.change(&key, &snapshot);
        if change.count > 0 {
            points.push(Point {
                attributes,
                snapshot: change,
            });
        }
        self.read.push((key, snapshot));
    }
}
