//! The two text formats' grammar: descriptors, samples with their label
//! sets and exemplars, histograms as cumulative buckets, and `target_info`.

use std::fmt::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::{KeyValue, Value};

use super::Format;
use crate::metrics::exemplar::Exemplar;
use crate::metrics::histogram::HistogramSnapshot;
use crate::metrics::instruments::{Instrument, NANOS_PER_SECOND};
use crate::metrics::HttpMetrics;

/// The labels of one series, as `(name, value)` pairs.
pub(super) type Labels = Vec<(String, String)>;

/// Attributes as labels: keys with `_` for what a label name cannot hold.
pub(super) fn labels(attributes: &[KeyValue]) -> Labels {
    attributes
        .iter()
        .map(|kv| (prometheus_label(kv.key.as_str()), value_text(&kv.value)))
        .collect()
}

/// How a histogram's integer counts read in its unit.
#[derive(Clone, Copy)]
pub(super) enum Scale {
    /// Nanoseconds counted, seconds shown.
    Seconds,
    /// As counted (bytes).
    Unit,
}

impl Scale {
    pub(super) fn value(self, v: u64) -> f64 {
        match self {
            Scale::Seconds => v as f64 / NANOS_PER_SECOND,
            Scale::Unit => v as f64,
        }
    }
}

pub(super) fn descriptor(out: &mut String, instrument: &Instrument, kind: &str) {
    let name = instrument.prometheus;
    let _ = writeln!(out, "# HELP {name} {}", escape_help(instrument.description));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

#[allow(clippy::too_many_arguments)]
pub(super) fn histogram(
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
        with_le.push(("le".to_owned(), le));
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
pub(super) fn sample(
    out: &mut String,
    name: &str,
    suffix: &str,
    labels: &[(String, String)],
    exemplar: Option<&Exemplar>,
    value: &str,
) {
    out.push_str(name);
    out.push_str(suffix);
    label_set(out, labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
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
pub(super) fn float(v: f64) -> String {
    format!("{v:?}")
}

/// Seconds since the epoch, as OpenMetrics timestamps are.
pub(super) fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

/// The resource as `target_info`, an info metric.
pub(super) fn target_info(out: &mut String, format: Format, metrics: &HttpMetrics) {
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
