//! The console push (`metrics.exporter: console`): each interval, a block of
//! text on stdout, a few lines a series (its instrument, attributes, count,
//! sum and the median and 99th percentile estimated from its buckets), to see
//! the metrics without a collector. Always cumulative: a reader compares
//! blocks by eye.

use std::fmt::Write as _;
use std::io::Write;

use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;

use super::collect::{Collection, Family};
use super::{PushError, PushExporter};
use crate::exporter::Timestamp;
use crate::metrics::histogram::HistogramSnapshot;
use crate::metrics::instruments::SERVER_ACTIVE;

/// Writes each collection as text.
pub(crate) struct ConsolePush {
    out: Box<dyn Write + Send>,
    /// `service.name`, to tell apart the blocks of several services.
    service: String,
}

impl ConsolePush {
    pub(crate) fn stdout(resource: &Resource) -> Self {
        ConsolePush {
            out: Box::new(std::io::stdout()),
            service: resource
                .get(&opentelemetry::Key::from_static_str("service.name"))
                .map(|v| v.as_str().into_owned())
                .unwrap_or_default(),
        }
    }
}

impl std::fmt::Debug for ConsolePush {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsolePush")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl PushExporter for ConsolePush {
    fn export(&mut self, collection: &Collection) -> Result<(), PushError> {
        let text = render(&self.service, collection);
        // One write for the block: lines of other threads' prints do not
        // land inside it.
        self.out
            .write_all(text.as_bytes())
            .and_then(|()| self.out.flush())
            .map_err(|e| PushError {
                kind: "stdout".to_owned(),
                message: e.to_string(),
            })
    }

    fn target(&self) -> String {
        "console".to_owned()
    }
}

/// One block:
///
/// ```text
/// Metrics of my-service at 2024-05-10 06:14:04.614485867 +0000 UTC (cumulative since 2024-05-10 06:13:04.000000000 +0000 UTC)
/// http.server.request.duration (s) {http.request.method=GET, url.scheme=http, http.route=/users/{id}, http.response.status_code=200, network.protocol.version=1.1}
///     count=2 sum=0.003 p50=0.0025 p99=0.00495
/// http.server.active_requests ({request}) {http.request.method=GET, url.scheme=http}
///     value=0
/// ```
pub(crate) fn render(service: &str, c: &Collection) -> String {
    let mut out = String::with_capacity(1024);
    let _ = writeln!(
        out,
        "Metrics of {} at {} ({} since {})",
        if service.is_empty() {
            "this service"
        } else {
            service
        },
        Timestamp(c.time),
        c.temporality.as_str(),
        Timestamp(c.start)
    );
    for family in &c.histograms {
        for point in &family.points {
            let s = &point.snapshot;
            let _ = writeln!(
                out,
                "{} ({}) {}",
                family.instrument.name,
                family.instrument.unit,
                braces(&point.attributes)
            );
            let _ = writeln!(
                out,
                "    count={} sum={} p50={} p99={}",
                s.count,
                family.value(s.sum),
                quantile(family, s, 0.5),
                quantile(family, s, 0.99)
            );
        }
    }
    for (attributes, count) in &c.active {
        let _ = writeln!(
            out,
            "{} ({}) {}\n    value={count}",
            SERVER_ACTIVE.name,
            SERVER_ACTIVE.unit,
            braces(attributes)
        );
    }
    out
}

fn braces(attributes: &[KeyValue]) -> String {
    let inner: Vec<String> = attributes
        .iter()
        .map(|kv| format!("{}={}", kv.key, kv.value))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// The `q` quantile estimated from the buckets (`metrics/quantile.rs`, as
/// Prometheus' `histogram_quantile` does), in the instrument's unit; a rank
/// in the last, unbounded bucket says only "at least the last bound".
fn quantile(family: &Family, s: &HistogramSnapshot, q: f64) -> String {
    let Some(estimate) = crate::metrics::quantile::quantile(s.bounds, &s.counts, q) else {
        return "-".to_owned();
    };
    let above_every_bound = s.counts.last().copied().unwrap_or(0);
    let at_least =
        above_every_bound > 0 && ((s.count - above_every_bound) as f64) < q * s.count as f64;
    // To a millionth of the unit: an estimate, not a measurement.
    let shown = (estimate / family.per_unit * 1e6).round() / 1e6;
    if at_least {
        format!(">={shown}")
    } else {
        format!("{shown}")
    }
}

#[cfg(test)]
mod tests {
    use super::super::collect::Point;
    use super::*;
    use crate::config::Temporality;
    use crate::metrics::attributes;
    use crate::metrics::instruments::{
        CLIENT_DURATION, DURATION_BOUNDS, NANOS_PER_SECOND, RPC_SERVER_DURATION, SERVER_DURATION,
        SERVER_REQUEST_SIZE, SERVER_RESPONSE_SIZE,
    };
    use std::time::{Duration, UNIX_EPOCH};

    fn family(instrument: &'static crate::metrics::instruments::Instrument) -> Family {
        Family {
            instrument,
            per_unit: 1.0,
            points: Vec::new(),
        }
    }

    #[test]
    fn a_block_names_each_series_with_its_count_sum_and_percentiles() {
        // 4 requests in (0, 5 ms], 6 in (5 ms, 10 ms]: the median is in the
        // second bucket, 1/6 of the way; the 99th near its top.
        let mut counts = vec![0; DURATION_BOUNDS.len() + 1];
        counts[0] = 4;
        counts[1] = 6;
        let snapshot = HistogramSnapshot {
            bounds: DURATION_BOUNDS,
            counts,
            count: 10,
            sum: 62_000_000,
            exemplars: vec![None; DURATION_BOUNDS.len() + 1],
        };
        let mut duration = family(&SERVER_DURATION);
        duration.per_unit = NANOS_PER_SECOND;
        duration.points.push(Point {
            attributes: vec![
                KeyValue::new("http.request.method", "GET"),
                KeyValue::new("http.response.status_code", 200),
            ],
            snapshot,
        });
        let c = Collection {
            temporality: Temporality::Cumulative,
            start: UNIX_EPOCH,
            started: UNIX_EPOCH,
            time: UNIX_EPOCH + Duration::from_secs(60),
            histograms: [
                duration,
                family(&SERVER_REQUEST_SIZE),
                family(&SERVER_RESPONSE_SIZE),
                family(&RPC_SERVER_DURATION),
                family(&CLIENT_DURATION),
            ],
            active: vec![(attributes::overflow(), 3)],
        };
        let text = render("metered", &c);
        assert_eq!(
            text,
            "Metrics of metered at 1970-01-01 00:01:00.000000000 +0000 UTC \
             (cumulative since 1970-01-01 00:00:00.000000000 +0000 UTC)\n\
             http.server.request.duration (s) {http.request.method=GET, \
             http.response.status_code=200}\n    \
             count=10 sum=0.062 p50=0.005833 p99=0.009917\n\
             http.server.active_requests ({request}) {otel.metric.overflow=true}\n    \
             value=3\n"
        );
    }

    #[test]
    fn a_quantile_in_the_last_bucket_is_only_above_the_last_bound() {
        let bounds: &'static [u64] = &[10, 20];
        let s = HistogramSnapshot {
            bounds,
            counts: vec![4, 0, 1],
            count: 5,
            sum: 1_000,
            exemplars: vec![None; 3],
        };
        let f = family(&SERVER_REQUEST_SIZE);
        assert_eq!(quantile(&f, &s, 0.5), "6.25");
        assert_eq!(quantile(&f, &s, 0.99), ">=20");
    }
}
