//! The pull endpoint's text: the Prometheus text format 0.0.4, or OpenMetrics
//! 1.0 with exemplars, as OpenTelemetry's Prometheus mapping names things
//! (<https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/>):
//! attribute keys with `_` for `.`, the unit appended to the name, the
//! resource as `target_info`, the scope as `otel_scope_*` labels.
//!
//! Written by hand: the Prometheus project's `prometheus-client` encodes
//! exemplars only of its own (lock-taking) histograms, not of ours. An
//! independent, strict parser holds both formats to the grammar
//! (`tests/exporters/metrics.rs`), so the text stays within what every parser
//! takes: each series of a family carries the family's every label (empty
//! when a series has none: Prometheus reads an empty label as an absent one),
//! and the unit is in the name, without a `# UNIT` line.
//!
//! - this file: which families and series there are;
//! - `text.rs`: how each is written.

mod text;

use opentelemetry::KeyValue;

use super::attributes;
use super::histogram::HistogramSnapshot;
use super::instruments::{
    Instrument, CLIENT_DURATION, RPC_SERVER_DURATION, SERVER_ACTIVE, SERVER_DURATION,
    SERVER_REQUEST_SIZE, SERVER_RESPONSE_SIZE,
};
use super::server::ServerSeries;
use super::HttpMetrics;
use text::{descriptor, histogram, labels, sample, target_info, Labels, Scale};

/// Which text a scraper asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// `text/plain; version=0.0.4`: no exemplars.
    Prometheus,
    /// `application/openmetrics-text; version=1.0.0`: with exemplars.
    OpenMetrics,
}

impl Format {
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// The labels a family's series may have, in the order they are written.
const LABEL_ORDER: [&str; 14] = [
    "http_request_method",
    "url_scheme",
    "http_route",
    "rpc_system_name",
    "rpc_method",
    "http_response_status_code",
    "rpc_status_code",
    "error_type",
    "network_protocol_version",
    "server_address",
    "server_port",
    "otel_metric_overflow",
    "otel_scope_name",
    "otel_scope_version",
];

/// One family's series: the attributes of each, and what it holds.
struct Family<T> {
    series: Vec<(Vec<KeyValue>, T)>,
}

impl<T> Family<T> {
    fn new() -> Self {
        Family { series: Vec::new() }
    }

    fn push(&mut self, attributes: Vec<KeyValue>, value: T) {
        self.series.push((attributes, value));
    }

    /// Each series with the family's every label (an empty value where a
    /// series lacks one) in [`LABEL_ORDER`], the scope's labels last.
    fn uniform(self) -> Vec<(Labels, T)> {
        let scope = [
            ("otel_scope_name", env!("CARGO_PKG_NAME")),
            ("otel_scope_version", env!("CARGO_PKG_VERSION")),
        ];
        let series: Vec<(Labels, T)> = self
            .series
            .into_iter()
            .map(|(attributes, value)| {
                let mut l = labels(&attributes);
                l.extend(
                    scope
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
                );
                (l, value)
            })
            .collect();
        let present: Vec<&str> = LABEL_ORDER
            .iter()
            .copied()
            .filter(|name| series.iter().any(|(l, _)| l.iter().any(|(k, _)| k == name)))
            .collect();
        series
            .into_iter()
            .map(|(l, value)| {
                let ordered = present
                    .iter()
                    .map(|name| {
                        let v = l.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
                        ((*name).to_owned(), v.unwrap_or_default())
                    })
                    .collect();
                (ordered, value)
            })
            .collect()
    }
}

/// Everything the metrics hold now, in `format`.
pub(crate) fn render(metrics: &HttpMetrics, format: Format) -> String {
    let mut out = String::with_capacity(4096);
    let mut http = Family::<&ServerSeries>::new();
    let mut rpc = Family::<&ServerSeries>::new();
    metrics.server.for_each_series(|key, series| match key {
        Some((route, outcome)) if route.grpc => rpc.push(attributes::rpc(route, outcome), series),
        Some((route, outcome)) => http.push(attributes::server(route, outcome), series),
        // The overflow series only when something overflowed.
        None if series.duration.snapshot().count == 0 => {}
        None => http.push(attributes::overflow(), series),
    });
    let http = http.uniform();
    let histograms: [(&Instrument, Read, Scale); 3] = [
        (&SERVER_DURATION, |s| s.duration.snapshot(), Scale::Seconds),
        (
            &SERVER_REQUEST_SIZE,
            |s| s.request_size.snapshot(),
            Scale::Unit,
        ),
        (
            &SERVER_RESPONSE_SIZE,
            |s| s.response_size.snapshot(),
            Scale::Unit,
        ),
    ];
    for (instrument, read, scale) in histograms {
        let snapshots = http.iter().map(|(l, s)| (l.clone(), read(s))).collect();
        histogram_family(&mut out, format, metrics, instrument, scale, snapshots);
    }
    let rpc = rpc
        .uniform()
        .into_iter()
        .map(|(l, s)| (l, s.duration.snapshot()))
        .collect();
    histogram_family(
        &mut out,
        format,
        metrics,
        &RPC_SERVER_DURATION,
        Scale::Seconds,
        rpc,
    );
    let mut client = Family::new();
    metrics.client.duration.for_each(|key, h| {
        let snapshot = h.snapshot();
        if snapshot.count > 0 {
            client.push(
                key.map_or_else(attributes::overflow, attributes::client),
                snapshot,
            );
        }
    });
    histogram_family(
        &mut out,
        format,
        metrics,
        &CLIENT_DURATION,
        Scale::Seconds,
        client.uniform(),
    );
    active_requests(&mut out, metrics);
    target_info(&mut out, format, metrics);
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

/// Reads one histogram of a series.
type Read = fn(&ServerSeries) -> HistogramSnapshot;

/// A histogram family's series with a count; a family with none is left out
/// whole.
fn histogram_family(
    out: &mut String,
    format: Format,
    metrics: &HttpMetrics,
    instrument: &Instrument,
    scale: Scale,
    snapshots: Vec<(Labels, HistogramSnapshot)>,
) {
    let snapshots: Vec<_> = snapshots.into_iter().filter(|(_, s)| s.count > 0).collect();
    if snapshots.is_empty() {
        return;
    }
    descriptor(out, instrument, "histogram");
    for (labels, snapshot) in &snapshots {
        histogram(
            out,
            format,
            instrument.prometheus,
            labels,
            snapshot,
            scale,
            metrics.started,
        );
    }
}

/// `http.server.active_requests`, summed over the routes.
fn active_requests(out: &mut String, metrics: &HttpMetrics) {
    let sums = attributes::active_requests(&metrics.server);
    if sums.is_empty() {
        return;
    }
    let mut family = Family::new();
    for (attributes, count) in sums {
        family.push(attributes, count);
    }
    descriptor(out, &SERVER_ACTIVE, "gauge");
    for (labels, count) in family.uniform() {
        sample(
            out,
            SERVER_ACTIVE.prometheus,
            "",
            &labels,
            None,
            &count.to_string(),
        );
        out.push('\n');
    }
}
