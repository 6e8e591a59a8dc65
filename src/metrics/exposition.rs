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

use std::fmt::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::Value;

use super::client::ClientKey;
use super::histogram::HistogramSnapshot;
use super::instruments::{
    Instrument, CLIENT_DURATION, NANOS_PER_SECOND, SERVER_ACTIVE, SERVER_DURATION,
    SERVER_REQUEST_SIZE, SERVER_RESPONSE_SIZE,
};
use super::outcome_list::OutcomeKey;
use super::server::{RouteKey, ServerSeries};
use super::HttpMetrics;

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

/// The labels of one series, as `(name, value)` pairs.
type Labels = Vec<(&'static str, String)>;

/// The labels a family's series may have, in the order they are written.
const LABEL_ORDER: [&str; 11] = [
    "http_request_method",
    "url_scheme",
    "http_route",
    "http_response_status_code",
    "error_type",
    "network_protocol_version",
    "server_address",
    "server_port",
    "otel_metric_overflow",
    "otel_scope_name",
    "otel_scope_version",
];

/// Every series of a family with the family's every label (an empty value
/// where a series lacks one), in [`LABEL_ORDER`].
fn uniform(series: Vec<Labels>) -> Vec<Labels> {
    let present: Vec<&'static str> = LABEL_ORDER
        .iter()
        .copied()
        .filter(|name| series.iter().any(|l| l.iter().any(|(k, _)| k == name)))
        .collect();
    series
        .into_iter()
        .map(|labels| {
            present
                .iter()
                .map(|name| {
                    let value = labels
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default();
                    (*name, value)
                })
                .collect()
        })
        .collect()
}

/// Everything the metrics hold now, in `format`.
pub(crate) fn render(metrics: &HttpMetrics, format: Format) -> String {
    let mut out = String::with_capacity(4096);
    let scope = [
        ("otel_scope_name", env!("CARGO_PKG_NAME").to_owned()),
        ("otel_scope_version", env!("CARGO_PKG_VERSION").to_owned()),
    ];
    let mut labels = Vec::new();
    let mut values: Vec<&ServerSeries> = Vec::new();
    metrics.server.for_each_series(|key, value| {
        // The overflow series only when something overflowed.
        if key.is_none() && value.duration.snapshot().count == 0 {
            return;
        }
        let mut l = match key {
            Some((route, outcome)) => server_labels(route, outcome),
            None => vec![("otel_metric_overflow", "true".to_owned())],
        };
        l.extend(scope.iter().cloned());
        labels.push(l);
        values.push(value);
    });
    let series: Vec<(Labels, &ServerSeries)> = uniform(labels).into_iter().zip(values).collect();
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
    for (instrument, snapshot, scale) in histograms {
        let snapshots: Vec<_> = series
            .iter()
            .map(|(labels, value)| (labels, snapshot(value)))
            .filter(|(_, s)| s.count > 0)
            .collect();
        // A family with no sample is left out whole.
        if snapshots.is_empty() {
            continue;
        }
        descriptor(&mut out, instrument, "histogram");
        for (labels, snapshot) in snapshots {
            histogram(
                &mut out,
                format,
                instrument.prometheus,
                labels,
                &snapshot,
                scale,
                metrics.started,
            );
        }
    }
    client_durations(&mut out, format, metrics, &scope);
    // Summed over the routes: the active requests' attributes are those of a
    // route but its template and protocol version.
    let mut active: Vec<(Option<ActiveKey>, i64)> = Vec::new();
    metrics.server.for_each_route(|route, count| {
        let key = route.map(|r| (r.method, r.scheme, r.server.clone()));
        match active.iter_mut().find(|(k, _)| *k == key) {
            Some((_, sum)) => *sum += count,
            None => active.push((key, count)),
        }
    });
    let mut active_labels = Vec::new();
    let mut active_values = Vec::new();
    for (key, count) in active {
        let mut labels: Labels = match &key {
            Some((method, scheme, server)) => {
                let mut l = vec![
                    ("http_request_method", (*method).to_owned()),
                    ("url_scheme", (*scheme).to_owned()),
                ];
                if let Some((address, port)) = server {
                    l.push(("server_address", address.to_string()));
                    l.push(("server_port", port.to_string()));
                }
                l
            }
            None => vec![("otel_metric_overflow", "true".to_owned())],
        };
        if key.is_none() && count == 0 {
            continue;
        }
        labels.extend(scope.iter().cloned());
        active_labels.push(labels);
        active_values.push(count);
    }
    if !active_labels.is_empty() {
        descriptor(&mut out, &SERVER_ACTIVE, "gauge");
    }
    for (labels, active) in uniform(active_labels).iter().zip(active_values) {
        sample(
            &mut out,
            SERVER_ACTIVE.prometheus,
            "",
            labels,
            None,
            &active.to_string(),
        );
        out.push('\n');
    }
    target_info(&mut out, format, metrics);
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

/// Reads one histogram of a series.
type Read = fn(&ServerSeries) -> HistogramSnapshot;

/// How a histogram's integer counts read in its unit.
#[derive(Clone, Copy)]
enum Scale {
    /// Nanoseconds counted, seconds shown.
    Seconds,
    /// As counted (bytes).
    Unit,
}

impl Scale {
    fn value(self, v: u64) -> f64 {
        match self {
            Scale::Seconds => v as f64 / NANOS_PER_SECOND,
            Scale::Unit => v as f64,
        }
    }
}

/// The attributes of `http.server.active_requests`: a route's method,
/// scheme and server.
type ActiveKey = (
    &'static str,
    &'static str,
    Option<(std::sync::Arc<str>, u16)>,
);

/// The attributes of a server series as labels, in the conventions' order.
fn server_labels(route: &RouteKey, outcome: &OutcomeKey) -> Labels {
    let mut labels: Labels = vec![
        ("http_request_method", route.method.to_owned()),
        ("url_scheme", route.scheme.to_owned()),
    ];
    if let Some(template) = &route.route {
        labels.push(("http_route", template.to_string()));
    }
    if let Some(status) = outcome.status {
        labels.push(("http_response_status_code", status.to_string()));
    }
    if let Some(error) = error_type(outcome) {
        labels.push(("error_type", error));
    }
    if let Some(version) = route.version {
        labels.push(("network_protocol_version", version.to_owned()));
    }
    if let Some((address, port)) = &route.server {
        labels.push(("server_address", address.to_string()));
        labels.push(("server_port", port.to_string()));
    }
    labels
}

/// `http.client.request.duration`, when any call was measured.
fn client_durations(
    out: &mut String,
    format: Format,
    metrics: &HttpMetrics,
    scope: &[(&'static str, String)],
) {
    let mut labels = Vec::new();
    let mut snapshots = Vec::new();
    metrics.client.duration.for_each(|key, histogram| {
        let snapshot = histogram.snapshot();
        if snapshot.count == 0 {
            return;
        }
        let mut l: Labels = match key {
            Some(key) => client_labels(key),
            None => vec![("otel_metric_overflow", "true".to_owned())],
        };
        l.extend(scope.iter().cloned());
        labels.push(l);
        snapshots.push(snapshot);
    });
    if snapshots.is_empty() {
        return;
    }
    descriptor(out, &CLIENT_DURATION, "histogram");
    for (labels, snapshot) in uniform(labels).iter().zip(snapshots) {
        histogram(
            out,
            format,
            CLIENT_DURATION.prometheus,
            labels,
            &snapshot,
            Scale::Seconds,
            metrics.started,
        );
    }
}

/// The attributes of a client series as labels.
fn client_labels(key: &ClientKey) -> Labels {
    let mut labels: Labels = vec![("http_request_method", key.method.to_owned())];
    if let Some(status) = key.status {
        labels.push(("http_response_status_code", status.to_string()));
    }
    if let Some(error) = client_error_type(key) {
        labels.push(("error_type", error));
    }
    if let (Some(address), Some(port)) = (&key.address, key.port) {
        labels.push(("server_address", address.to_string()));
        labels.push(("server_port", port.to_string()));
    }
    labels
}

/// A client's `error.type`: a failure's type, or a status of 400 or more
/// (an error from the caller's side).
pub(crate) fn client_error_type(key: &ClientKey) -> Option<String> {
    match (&key.failure, key.status) {
        (Some(failure), _) => Some(failure.to_string()),
        (None, Some(status)) if status >= 400 => Some(status.to_string()),
        _ => None,
    }
}

/// `error.type`: a failure's type, or a 5xx status code; none for a success
/// (or a request the client cancelled).
pub(crate) fn error_type(key: &OutcomeKey) -> Option<String> {
    match (&key.failure, key.status) {
        (Some(failure), _) => Some(failure.to_string()),
        (None, Some(status)) if status >= 500 => Some(status.to_string()),
        _ => None,
    }
}

fn descriptor(out: &mut String, instrument: &Instrument, kind: &str) {
    let name = instrument.prometheus;
    let _ = writeln!(out, "# HELP {name} {}", escape_help(instrument.description));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

#[allow(clippy::too_many_arguments)]
fn histogram(
    out: &mut String,
    format: Format,
    name: &str,
    labels: &Labels,
    snapshot: &HistogramSnapshot,
    scale: Scale,
    started: SystemTime,
) {
    let mut cumulative = 0;
    for (i, count) in snapshot.counts.iter().enumerate() {
        cumulative += count;
        let le = match snapshot.bounds.get(i) {
            Some(&bound) => float(scale.value(bound)),
            None => "+Inf".to_owned(),
        };
        let mut with_le = labels.clone();
        with_le.push(("le", le));
        let exemplar = (format == Format::OpenMetrics)
            .then(|| snapshot.exemplars[i])
            .flatten();
        sample(
            out,
            name,
            "_bucket",
            &with_le,
            exemplar.as_ref(),
            &cumulative.to_string(),
        );
        out.push('\n');
    }
    sample(
        out,
        name,
        "_sum",
        labels,
        None,
        &float(scale.value(snapshot.sum)),
    );
    out.push('\n');
    sample(
        out,
        name,
        "_count",
        labels,
        None,
        &snapshot.count.to_string(),
    );
    out.push('\n');
    if format == Format::OpenMetrics {
        sample(out, name, "_created", labels, None, &timestamp(started));
        out.push('\n');
    }
}

/// `name{labels} value`, with an exemplar after it (OpenMetrics).
fn sample(
    out: &mut String,
    name: &str,
    suffix: &str,
    labels: &[(&'static str, String)],
    exemplar: Option<&super::exemplar::Exemplar>,
    value: &str,
) {
    out.push_str(name);
    out.push_str(suffix);
    label_set(out, labels.iter().map(|(k, v)| (*k, v.as_str())));
    out.push(' ');
    out.push_str(value);
    if let Some(e) = exemplar {
        out.push_str(" # ");
        let trace = e.trace_id.to_string();
        let span = e.span_id.to_string();
        label_set(
            out,
            [("trace_id", trace.as_str()), ("span_id", span.as_str())].into_iter(),
        );
        let _ = write!(out, " {} {}", float(e.value), timestamp(e.time));
    }
}

fn label_set<'a>(out: &mut String, labels: impl Iterator<Item = (&'a str, &'a str)>) {
    let mut first = true;
    for (key, value) in labels {
        out.push(if first { '{' } else { ',' });
        first = false;
        out.push_str(key);
        out.push_str("=\"");
        escape_value(out, value);
        out.push('"');
    }
    if !first {
        out.push('}');
    }
}

/// A label value with `\`, `"` and newlines escaped, as both formats ask.
fn escape_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A float as both formats accept it, integers with a `.0` (`10.0`).
fn float(v: f64) -> String {
    format!("{v:?}")
}

/// Seconds since the epoch, as OpenMetrics timestamps are.
fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

/// The resource as `target_info`, an info metric.
fn target_info(out: &mut String, format: Format, metrics: &HttpMetrics) {
    let mut labels: Vec<(String, String)> = metrics
        .resource
        .iter()
        .map(|(k, v)| (prometheus_label(k.as_str()), value_text(v)))
        .collect();
    labels.sort();
    match format {
        Format::Prometheus => {
            out.push_str("# HELP target_info Target metadata\n# TYPE target_info gauge\n");
        }
        Format::OpenMetrics => {
            out.push_str("# TYPE target info\n# HELP target Target metadata\n");
        }
    }
    out.push_str("target_info");
    label_set(out, labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    out.push_str(" 1\n");
}

/// A resource attribute's key as a label name: anything outside
/// `[a-zA-Z0-9_]` becomes `_`, and a leading digit gets a `key_` prefix.
fn prometheus_label(key: &str) -> String {
    let mut name: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "key_");
    }
    name
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.as_str().to_owned(),
        other => other.to_string(),
    }
}
