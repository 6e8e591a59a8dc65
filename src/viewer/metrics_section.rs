//! The overview's metrics section: for each name, its requests/s, errors/s
//! and latency (p50 and p99) over the last 15 minutes as small charts, and
//! its exemplars, each linking to its trace while the viewer holds it.
//!
//! Without metrics it is one line saying how to turn them on. Its markup
//! is well-formed XML (no void elements), so tests can parse it as such.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use maud::{html, Markup};
use opentelemetry::trace::TraceId;

use super::charts::{chart, Chart, Line, Marker};
use super::metrics_history::{HistoryView, NameHistory, Point, INTERVAL, WINDOW};
use super::pages::{duration, time, Links};
use super::store::{Filter, MAX_NAMES};
use crate::metrics::Exemplar;

/// The label under the charts' left edge.
const START_LABEL: &str = "−15m";

/// The section, after the table of names.
pub(crate) fn section(links: &Links<'_>, view: &HistoryView, held: &HashSet<TraceId>) -> Markup {
    html! {
        section.metrics id="metrics" {
            h2 { "HTTP metrics, last 15 minutes" }
            @if !view.enabled {
                p.hint {
                    "Metrics are off: mount " code { "layer.metrics()" } " or set "
                    code { "metrics.exporter" } " to chart each name's requests/s, errors/s and latency here."
                }
            } @else if let (Some(end), false) = (view.last_at, view.names.is_empty()) {
                (summary(view, end))
                table.metrics {
                    thead { tr {
                        th { "Name" } th { "Requests/s" } th { "Errors/s" } th { "Latency p50, p99" } th { "Exemplars" }
                    } }
                    tbody {
                        @for n in &view.names { (row(links, n, end, held)) }
                    }
                }
            } @else {
                p.empty {
                    "Collecting: a point a name every " (INTERVAL.as_secs())
                    " s, from the second reading on, once requests have ended."
                }
            }
        }
    }
}

fn summary(view: &HistoryView, end: SystemTime) -> Markup {
    html! {
        p.summary {
            "From the layer's request duration histograms, read every " (INTERVAL.as_secs())
            " s; last reading " (clock(end)) " UTC. p50 and p99 are estimated within the \
            histogram's buckets (5 ms to 10 s); exemplars link to their traces while they are held."
            @if view.names_beyond_cap > 0 {
                " " (view.names_beyond_cap) " names beyond the first " (MAX_NAMES) " are not charted."
            }
            @if view.overflow > 0 {
                " " (view.overflow) " requests over the cardinality limit have no name."
            }
        }
    }
}

fn row(links: &Links<'_>, n: &NameHistory, end: SystemTime, held: &HashSet<TraceId>) -> Markup {
    let window = WINDOW.as_secs_f64();
    let start = end.checked_sub(WINDOW).unwrap_or(end);
    let x = |t: SystemTime| t.duration_since(start).unwrap_or_default().as_secs_f64();
    let series = |f: &dyn Fn(&Point) -> Option<f64>| -> Vec<(f64, Option<f64>)> {
        n.points.iter().map(|p| (x(p.at), f(p))).collect()
    };
    let last = n.points.last();
    let end_label = clock(end);
    // Exemplars in the window whose trace is still held: a link never 404s.
    // One a little newer than the last reading (a clock step) is drawn at
    // the right edge.
    let shown: Vec<&Exemplar> = n
        .exemplars
        .iter()
        .filter(|e| e.time >= start && held.contains(&e.trace_id))
        .collect();
    let requests = Chart {
        class: "requests",
        title: format!(
            "{}: requests/s over the last 15 minutes, last {}",
            n.name,
            last.map_or("none".into(), |p| per_sec(p.requests_per_sec))
        ),
        window,
        start_label: START_LABEL,
        end_label: &end_label,
        caption: format!(
            "last {}",
            last.map_or("–".into(), |p| per_sec(p.requests_per_sec))
        ),
        lines: vec![Line {
            class: "requests",
            points: series(&|p| Some(p.requests_per_sec)),
        }],
        markers: Vec::new(),
        format: per_sec,
    };
    let errors = Chart {
        class: "errors",
        title: format!(
            "{}: errors/s over the last 15 minutes, last {}",
            n.name,
            last.map_or("none".into(), |p| per_sec(p.errors_per_sec))
        ),
        caption: format!(
            "last {}",
            last.map_or("–".into(), |p| per_sec(p.errors_per_sec))
        ),
        lines: vec![Line {
            class: "errors",
            points: series(&|p| Some(p.errors_per_sec)),
        }],
        ..requests.clone()
    };
    let latency_text = format!(
        "p50 {} · p99 {}",
        latency(last.and_then(|p| p.p50)),
        latency(last.and_then(|p| p.p99))
    );
    let latency = Chart {
        class: "latency",
        title: format!(
            "{}: latency over the last 15 minutes, last {latency_text}",
            n.name
        ),
        caption: latency_text,
        lines: vec![
            Line {
                class: "p50",
                points: series(&|p| p.p50.map(|d| d.as_secs_f64())),
            },
            Line {
                class: "p99",
                points: series(&|p| p.p99.map(|d| d.as_secs_f64())),
            },
        ],
        markers: shown
            .iter()
            .map(|e| Marker {
                x: x(e.time),
                y: e.value,
                href: links.trace_id(e.trace_id),
                title: exemplar_text(e),
            })
            .collect(),
        format: seconds,
        ..requests.clone()
    };
    html! {
        tr data-name=(n.name) {
            td.name { a href=(links.list(&Filter { name: Some(n.name.clone()), ..Filter::default() })) { (n.name) } }
            td.chart { (chart(&requests)) }
            td.chart { (chart(&errors)) }
            td.chart { (chart(&latency)) }
            td.exemplars {
                @if shown.is_empty() {
                    span.zero { "none held" }
                } @else {
                    ul.exemplars {
                        @for e in &shown {
                            li { a href=(links.trace_id(e.trace_id)) title=(exemplar_text(e)) { (seconds(e.value)) } " " span.time { (clock(e.time)) } }
                        }
                    }
                }
            }
        }
    }
}

/// A rate as the charts label it.
pub(crate) fn per_sec(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}/s")
    } else if v >= 10.0 {
        format!("{v:.1}/s")
    } else {
        format!("{v:.2}/s")
    }
}

/// A latency in seconds, written as the rest of the viewer writes durations.
fn seconds(v: f64) -> String {
    duration(Duration::from_secs_f64(v.max(0.0)))
}

fn latency(d: Option<Duration>) -> String {
    d.map_or_else(|| "–".to_owned(), duration)
}

fn exemplar_text(e: &Exemplar) -> String {
    format!(
        "{} at {} UTC, trace {}",
        seconds(e.value),
        clock(e.time),
        e.trace_id
    )
}

/// `hh:mm:ss` in UTC.
fn clock(t: SystemTime) -> String {
    let full = time(t);
    full.get(11..19).unwrap_or(&full).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(per_sec(0.3), "0.30/s");
        assert_eq!(per_sec(12.34), "12.3/s");
        assert_eq!(per_sec(1234.4), "1234/s");
        assert_eq!(seconds(0.375), "375.0ms");
        let t = std::time::UNIX_EPOCH + Duration::from_millis(3_723_500);
        assert_eq!(clock(t), "01:02:03");
    }
}
