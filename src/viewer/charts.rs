//! Small inline SVG charts (sparklines with their scale written as text):
//! one or two lines over a time window, a gap where a value is missing, and
//! markers that link elsewhere. No script and no inline style: colours come
//! from the viewer's stylesheet by class, so the Content-Security-Policy
//! stays as strict as for the rest of the pages, and every label is text a
//! reader (or a test) can find in the markup.

use std::fmt::Write as _;

use maud::{html, Markup};

/// The drawing's size in its own units (the stylesheet scales it).
const WIDTH: f64 = 260.0;
const HEIGHT: f64 = 80.0;
/// The plot area: room on the left for the scale, below for the times.
const LEFT: f64 = 46.0;
const RIGHT: f64 = 254.0;
const TOP: f64 = 8.0;
const BOTTOM: f64 = 60.0;
/// The baseline of the time labels and the caption.
const LABELS: f64 = 74.0;

/// One line: values at times (seconds from the window's start), `None`
/// where there is none (the line breaks there).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Line {
    /// Its class in the stylesheet (`p50`, `p99`, ...).
    pub(crate) class: &'static str,
    pub(crate) points: Vec<(f64, Option<f64>)>,
}

/// A point to mark and link, such as an exemplar.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Marker {
    /// Seconds from the window's start.
    pub(crate) x: f64,
    pub(crate) y: f64,
    pub(crate) href: String,
    /// What hovering it says.
    pub(crate) title: String,
}

/// A chart of one quantity over a window.
#[derive(Debug, Clone)]
pub(crate) struct Chart<'a> {
    /// Its class in the stylesheet besides `chart` (`requests`, ...).
    pub(crate) class: &'static str,
    /// The accessible description: the SVG's `<title>` and `aria-label`.
    pub(crate) title: String,
    /// The window's length in seconds.
    pub(crate) window: f64,
    /// The labels under its start and end (`−15m`, the last reading's time).
    pub(crate) start_label: &'a str,
    pub(crate) end_label: &'a str,
    /// Under the middle: the latest values.
    pub(crate) caption: String,
    pub(crate) lines: Vec<Line>,
    pub(crate) markers: Vec<Marker>,
    /// Writes a value of the scale (`0.30/s`, `12.5ms`).
    pub(crate) format: fn(f64) -> String,
}

/// Draws `c`: the plot's frame, its scale (0 and the highest value drawn),
/// its time labels, its caption, its lines, then its markers on top.
pub(crate) fn chart(c: &Chart<'_>) -> Markup {
    let highest = c
        .lines
        .iter()
        .flat_map(|l| l.points.iter().filter_map(|(_, y)| *y))
        .chain(c.markers.iter().map(|m| m.y))
        .fold(0.0_f64, f64::max);
    // A flat zero still gets a scale (and a line along the bottom).
    let top = if highest > 0.0 { highest } else { 1.0 };
    let x = |t: f64| LEFT + (RIGHT - LEFT) * (t / c.window.max(1.0)).clamp(0.0, 1.0);
    let y = |v: f64| BOTTOM - (BOTTOM - TOP) * (v / top).clamp(0.0, 1.0);
    let middle = (LEFT + RIGHT) / 2.0;
    html! {
        svg class={"chart " (c.class)} viewBox={"0 0 " (WIDTH) " " (HEIGHT)} role="img" aria-label=(c.title) {
            title { (c.title) }
            path.frame d={"M" (LEFT) " " (TOP) "V" (BOTTOM) "H" (RIGHT)} {}
            text.scale.high x=(LEFT - 4.0) y=(TOP + 3.0) text-anchor="end" { ((c.format)(highest)) }
            text.scale.low x=(LEFT - 4.0) y=(BOTTOM) text-anchor="end" { "0" }
            text.time.start x=(LEFT) y=(LABELS) text-anchor="start" { (c.start_label) }
            text.caption x=(middle) y=(LABELS) text-anchor="middle" { (c.caption) }
            text.time.end x=(RIGHT) y=(LABELS) text-anchor="end" { (c.end_label) }
            @for line in &c.lines {
                @for run in runs(&line.points) {
                    @if let [(t, v)] = run.as_slice() {
                        // One point alone is no line: a dot.
                        circle class={"dot " (line.class)} cx=(round(x(*t))) cy=(round(y(*v))) r="1.5" {}
                    } @else {
                        polyline class={"line " (line.class)} points=(polyline(&run, x, y)) {}
                    }
                }
            }
            @for m in &c.markers {
                a href=(m.href) {
                    circle.marker cx=(round(x(m.x))) cy=(round(y(m.y))) r="3" {
                        title { (m.title) }
                    }
                }
            }
        }
    }
}

/// The stretches of `points` with a value, split where one is missing.
fn runs(points: &[(f64, Option<f64>)]) -> Vec<Vec<(f64, f64)>> {
    let mut runs = Vec::new();
    let mut run = Vec::new();
    for (t, v) in points {
        match v {
            Some(v) => run.push((*t, *v)),
            None if !run.is_empty() => runs.push(std::mem::take(&mut run)),
            None => {}
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

fn polyline(run: &[(f64, f64)], x: impl Fn(f64) -> f64, y: impl Fn(f64) -> f64) -> String {
    let mut out = String::with_capacity(run.len() * 12);
    for (i, (t, v)) in run.iter().enumerate() {
        let sep = if i == 0 { "" } else { " " };
        let _ = write!(out, "{sep}{},{}", round(x(*t)), round(y(*v)));
    }
    out
}

/// A coordinate to a tenth of a unit: enough on a 260-unit drawing, and
/// short markup.
fn round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn per_sec(v: f64) -> String {
        format!("{v:.2}/s")
    }

    fn chart_of(lines: Vec<Line>, markers: Vec<Marker>) -> String {
        chart(&Chart {
            class: "requests",
            title: "requests/s of GET /a".into(),
            window: 100.0,
            start_label: "−15m",
            end_label: "12:00:00",
            caption: "last 2.00/s".into(),
            lines,
            markers,
            format: per_sec,
        })
        .into_string()
    }

    #[test]
    fn lines_break_at_missing_values_and_a_lone_point_is_a_dot() {
        let svg = chart_of(
            vec![Line {
                class: "p50",
                points: vec![
                    (0.0, Some(1.0)),
                    (50.0, Some(2.0)),
                    (60.0, None),
                    (100.0, Some(0.0)),
                ],
            }],
            vec![],
        );
        // x: 46 + 208 × t/100; y: 60 − 52 × v/2.
        assert!(
            svg.contains(r#"<polyline class="line p50" points="46,34 150,8"></polyline>"#),
            "{svg}"
        );
        assert!(
            svg.contains(r#"<circle class="dot p50" cx="254" cy="60" r="1.5"></circle>"#),
            "{svg}"
        );
        assert!(svg.contains(r#"text-anchor="end">2.00/s</text>"#), "{svg}");
        assert!(svg.contains("<title>requests/s of GET /a</title>"));
        assert!(svg.contains(">last 2.00/s</text>") && svg.contains(">−15m</text>"));
    }

    #[test]
    fn markers_link_and_count_in_the_scale() {
        let svg = chart_of(
            vec![Line {
                class: "p99",
                points: vec![(0.0, Some(1.0)), (100.0, Some(1.0))],
            }],
            vec![Marker {
                x: 50.0,
                y: 4.0,
                href: "/_traces/trace/ab".into(),
                title: "4 s <slow>".into(),
            }],
        );
        assert!(
            svg.contains(r#"<a href="/_traces/trace/ab"><circle class="marker" cx="150" cy="8" r="3"><title>4 s &lt;slow&gt;</title></circle></a>"#),
            "{svg}"
        );
        assert!(
            svg.contains(">4.00/s</text>"),
            "the marker sets the scale: {svg}"
        );
        // Nothing at all: a scale of 0 and no line.
        let empty = chart_of(vec![], vec![]);
        assert!(empty.contains(">0.00/s</text>") && !empty.contains("polyline"));
    }
}
