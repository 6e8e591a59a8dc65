//! The HTML pages, as maud templates: every value from a request (paths, header
//! values, attributes, names) goes through maud's escaping, and nothing is marked
//! pre-escaped except the doctype. No scripts: span details are `<details>`
//! elements and bars are SVG shapes (presentation attributes, not inline styles),
//! so the Content-Security-Policy allows only the viewer's own stylesheet.

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use maud::{html, Markup, DOCTYPE};
use opentelemetry::trace::TraceId;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

use super::span::{SpanStatus, ViewSpan};
use super::store::{Filter, Overview, Trace, BUCKETS, MAX_NAMES};

/// Where the viewer is mounted, for links (pages link absolutely, so they work
/// whether the router strips the prefix or not).
pub(crate) struct Links<'a>(pub(crate) &'a str);

impl Links<'_> {
    pub(crate) fn home(&self) -> String {
        format!("{}/", self.0)
    }

    pub(crate) fn css(&self) -> String {
        format!("{}/assets/viewer.css", self.0)
    }

    pub(crate) fn list(&self, f: &Filter) -> String {
        format!("{}/traces{}", self.0, query(f))
    }

    pub(crate) fn trace(&self, t: &Trace) -> String {
        self.trace_id(t.trace_id)
    }

    pub(crate) fn trace_id(&self, id: TraceId) -> String {
        format!("{}/trace/{id}", self.0)
    }

    pub(crate) fn json(&self, page: &str) -> String {
        format!("{}/api/{page}", self.0)
    }
}

/// A list filter as a query string (`?name=...&bucket=...&errors=1`, or empty).
fn query(f: &Filter) -> String {
    let mut out = String::new();
    let mut sep = '?';
    if let Some(name) = &f.name {
        let _ = write!(
            out,
            "{sep}name={}",
            utf8_percent_encode(name, NON_ALPHANUMERIC)
        );
        sep = '&';
    }
    if let Some(b) = f.bucket {
        let _ = write!(out, "{sep}bucket={b}");
        sep = '&';
    }
    if f.errors {
        let _ = write!(out, "{sep}errors=1");
    }
    out
}

fn page(links: &Links<'_>, title: &str, json: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " · traces" }
                link rel="stylesheet" href=(links.css());
            }
            body {
                header {
                    a.home href=(links.home()) { "Traces" }
                    nav {
                        a href=(links.list(&Filter::default())) { "All held traces" }
                        a href=(links.list(&Filter { errors: true, ..Filter::default() })) { "Errors" }
                        a href=(json) { "JSON" }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// The overview: the table of names, then `metrics` (the metrics section).
pub(crate) fn overview(links: &Links<'_>, o: &Overview, metrics: Markup) -> Markup {
    let body = html! {
        h1 { "Requests by name" }
        @if !o.fed {
            p.notice {
                "Nothing reaches this viewer: the layer exports nothing (exporter_type none) or uses \
                 a tracer provider of your own. Set an exporter (console, zipkin, jaeger, otlp, \
                 in_memory) to see traces here."
            }
        }
        p.summary {
            (o.held) " traces held (the last " (o.max_traces) ", plus per name the slowest, \
            the latest failures and the latest of each latency bucket)."
            @if o.dropped.names > 0 {
                " " (o.dropped.names) " traces of names beyond the first " (MAX_NAMES) " are only in the last traces."
            }
            @if o.dropped.spans > 0 { " " (o.dropped.spans) " spans dropped (too many in one trace)." }
            @if o.dropped.pending > 0 { " " (o.dropped.pending) " spans dropped (their root never ended)." }
        }
        @if o.rows.is_empty() {
            p.empty { "No traces yet. Send a sampled request." }
        } @else {
            table.overview {
                thead { tr {
                    th { "Name" } th { "Kind" } th.num { "Count" } th.num { "Errors" }
                    th.num { "p50" } th.num { "p99" }
                    @for (_, label) in BUCKETS { th.num { (label) } }
                } }
                tbody {
                    @for row in &o.rows {
                        @let name = Some(row.name.clone());
                        tr {
                            td { a href=(links.list(&Filter { name: name.clone(), ..Filter::default() })) { (row.name) } }
                            td { (row.kind) }
                            td.num { a href=(links.list(&Filter { name: name.clone(), ..Filter::default() })) { (row.count) } }
                            td.num {
                                @if row.errors > 0 {
                                    a.err href=(links.list(&Filter { name: name.clone(), errors: true, ..Filter::default() })) { (row.errors) }
                                } @else { "0" }
                            }
                            td.num { (duration(row.p50)) }
                            td.num { (duration(row.p99)) }
                            @for (i, (count, errors)) in row.buckets.iter().enumerate() {
                                td.num {
                                    @if *count > 0 {
                                        a href=(links.list(&Filter { name: name.clone(), bucket: Some(i), ..Filter::default() })) { (count) }
                                        @if *errors > 0 { " " span.err title="errors" { "(" (errors) ")" } }
                                    } @else { span.zero { "0" } }
                                }
                            }
                        }
                    }
                }
            }
            p.hint { "p50 and p99 are over each name's last 1,024 requests; bucket cells link to the held traces of that latency, errors in parentheses." }
        }
        (metrics)
    };
    page(links, "Overview", &links.json("overview"), body)
}

pub(crate) fn list(links: &Links<'_>, filter: &Filter, traces: &[std::sync::Arc<Trace>]) -> Markup {
    let json = links.json(&format!("traces{}", query(filter)));
    let body = html! {
        h1 {
            "Traces"
            @if let Some(name) = &filter.name { " named " q { (name) } }
            @if let Some(b) = filter.bucket { @if let Some((_, label)) = BUCKETS.get(b) { " " (label) } }
            @if filter.errors { " with errors" }
        }
        p.summary { (traces.len()) " held, newest first." }
        @if traces.is_empty() {
            p.empty { "No held trace matches." }
        } @else {
            table.traces {
                thead { tr {
                    th { "Ended (UTC)" } th { "Name" } th.num { "Duration" } th { "Status" } th.num { "Spans" } th { "Trace id" }
                } }
                tbody {
                    @for t in traces {
                        tr.error[t.is_error()] {
                            td.time { (time(t.root().end)) }
                            td { a href=(links.trace(t)) { (t.name()) } }
                            td.num { (duration(t.duration())) }
                            td { (status_text(t.root())) }
                            td.num { (t.spans.len()) }
                            td.id { a href=(links.trace(t)) { (t.trace_id) } }
                        }
                    }
                }
            }
        }
    };
    page(links, "Traces", &json, body)
}

pub(crate) fn trace(links: &Links<'_>, t: &Trace, resource: &[(String, String)]) -> Markup {
    let t0 = t.start();
    let total = t.span_of_time().max(Duration::from_nanos(1));
    let json = links.json(&format!("trace/{}", t.trace_id));
    let body = html! {
        h1 { (t.name()) }
        p.summary {
            "Trace " code { (t.trace_id) } " · " (duration(t.duration())) " · started " (time(t0))
            " · " (t.spans.len()) " spans"
            @if t.spans_dropped > 0 { " (" (t.spans_dropped) " more dropped)" }
        }
        div.waterfall {
            div.axis {
                span.label { "Span" } span.dur { "Duration" }
                span.ticks { @for q in 0..=4u32 { span { (duration(total * q / 4)) } } }
            }
            @for (depth, s) in t.tree() {
                details class={"span " (s.status.as_str())} id={"span-" (s.span_id)} data-depth=(depth) {
                    summary {
                        span class={"label d" (depth.min(MAX_INDENT))} {
                            span.kind { (s.kind) } " " span.name { (s.name) }
                        }
                        span.dur { (duration(s.duration())) }
                        (bar(s, t0, total))
                    }
                    (details(s, resource))
                }
            }
        }
    };
    page(links, t.name(), &json, body)
}

/// Deeper spans share the last indentation step.
const MAX_INDENT: usize = 15;

/// The span's bar on the trace's time axis, in thousandths of the axis.
fn bar(s: &ViewSpan, t0: SystemTime, total: Duration) -> Markup {
    let at = |t: SystemTime| {
        let d = t.duration_since(t0).unwrap_or_default();
        (d.as_nanos() * 1000 / total.as_nanos()).min(1000) as u32
    };
    let x = at(s.start);
    // Zero-length spans still get a visible sliver.
    let w = at(s.end).saturating_sub(x).max(2).min(1000 - x.min(998));
    html! {
        svg.bar viewBox="0 0 1000 10" preserveAspectRatio="none" role="img" aria-label=(duration(s.duration())) {
            rect x=(x) y="0" width=(w) height="10" {}
        }
    }
}

fn details(s: &ViewSpan, resource: &[(String, String)]) -> Markup {
    html! {
        div.info {
            table.kv {
                tr { th { "Span id" } td.id { (s.span_id) } }
                tr { th { "Parent id" } td.id {
                    @match s.parent_id { Some(p) => { (p) @if s.parent_remote { " (remote)" } }, None => "none (root)" }
                } }
                tr { th { "Kind" } td { (s.kind) } }
                tr { th { "Start (UTC)" } td { (time(s.start)) } }
                tr { th { "Duration" } td { (duration(s.duration())) } }
                tr { th { "Status" } td { (status_text(s)) } }
                tr { th { "Scope" } td { (s.scope) } }
            }
            h3 { "Attributes" }
            (kv_table(&s.attributes))
            @if !s.events.is_empty() {
                h3 { "Events" }
                ul.events {
                    @for e in &s.events {
                        li {
                            strong { (e.name) } " at +" (duration(e.time.duration_since(s.start).unwrap_or_default()))
                            (kv_table(&e.attributes))
                        }
                    }
                }
            }
            @if !s.links.is_empty() {
                h3 { "Links" }
                ul { @for (trace, span) in &s.links { li.id { (trace) " / " (span) } } }
            }
            h3 { "Resource" }
            (kv_table(resource))
        }
    }
}

fn kv_table(pairs: &[(String, String)]) -> Markup {
    html! {
        @if pairs.is_empty() {
            p.empty { "none" }
        } @else {
            table.kv { @for (k, v) in pairs { tr { th { (k) } td { (v) } } } }
        }
    }
}

fn status_text(s: &ViewSpan) -> String {
    let code = s
        .attributes
        .iter()
        .find(|(k, _)| k == "http.status_code" || k == "http.response.status_code")
        .map(|(_, v)| v.as_str());
    match (&s.status, code) {
        (SpanStatus::Error(msg), _) if !msg.is_empty() => format!("error: {msg}"),
        (status, Some(code)) => format!("{} ({code})", status.as_str()),
        (status, None) => status.as_str().to_owned(),
    }
}

/// A duration the way people read latencies: µs below a millisecond, ms below a second.
pub(crate) fn duration(d: Duration) -> String {
    let us = d.as_micros();
    if us < 1_000 {
        format!("{us}µs")
    } else if us < 1_000_000 {
        format!("{:.1}ms", us as f64 / 1e3)
    } else {
        format!("{:.2}s", us as f64 / 1e6)
    }
}

/// `YYYY-MM-DD hh:mm:ss.mmm` in UTC.
pub(crate) fn time(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (y, m, day) = crate::civil_date::civil_from_days((secs / 86_400) as i64);
    let s = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{day:02} {:02}:{:02}:{:02}.{:03}",
        s / 3600,
        s / 60 % 60,
        s % 60,
        d.subsec_millis()
    )
}

/// The stylesheet: static rules plus one indentation class per depth.
pub(crate) fn css() -> &'static str {
    static CSS: OnceLock<String> = OnceLock::new();
    CSS.get_or_init(|| {
        let mut css = String::from(STYLE);
        for d in 0..=MAX_INDENT {
            let _ = writeln!(css, ".d{d}{{padding-left:{:.1}em}}", 0.4 + d as f32 * 1.1);
        }
        css
    })
}

const STYLE: &str = "\
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--alt:#f6f8fa;--link:#0550ae;\
--ok:#1a7f37;--unset:#5a7fbf;--err:#cf222e}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;gap:2em;align-items:center;padding:.6em 1.2em;border-bottom:1px solid var(--line);background:var(--alt)}
header .home{font-weight:600;font-size:1.1em;color:var(--fg);text-decoration:none}
header nav{display:flex;gap:1.2em}
main{padding:0 1.2em 2em}
h1{font-size:1.3em;margin:.8em 0 .3em;word-break:break-all}
h3{font-size:.95em;margin:.8em 0 .2em}
a{color:var(--link)}
.summary,.hint,.empty{color:var(--muted)}
.notice{border:1px solid var(--err);padding:.5em .8em;border-radius:4px}
table{border-collapse:collapse}
th,td{padding:.25em .6em;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{background:var(--alt);font-weight:600}
.num{text-align:right;font-variant-numeric:tabular-nums}
.zero{color:#aab}
.err,tr.error td:nth-child(4){color:var(--err);font-weight:600}
.id,code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.92em}
.waterfall{border:1px solid var(--line);border-radius:4px;margin-top:.6em}
.axis,summary{display:grid;grid-template-columns:minmax(18em,32%) 6em 1fr;align-items:center;gap:.6em}
.axis{background:var(--alt);border-bottom:1px solid var(--line);padding:.3em 0;font-weight:600}
.axis .ticks{display:flex;justify-content:space-between;padding-right:.6em;font-weight:400;color:var(--muted)}
details.span{border-bottom:1px solid #eef1f4}
details.span[open]{background:#fbfcfd}
summary{cursor:pointer;list-style:none;padding:.2em 0}
summary::-webkit-details-marker{display:none}
summary:hover{background:#f0f4f9}
summary .label{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
summary .dur{text-align:right;font-variant-numeric:tabular-nums;color:var(--muted)}
.kind{display:inline-block;min-width:4.8em;font-size:.78em;text-transform:uppercase;color:var(--muted)}
svg.bar{width:calc(100% - .6em);height:12px;display:block}
.ok rect{fill:var(--ok)}.unset rect{fill:var(--unset)}.error rect{fill:var(--err)}
details.error .name{color:var(--err);font-weight:600}
.info{padding:.4em 1em 1em 2.4em;border-top:1px dashed var(--line)}
.info table.kv th{font-weight:500;color:var(--muted);white-space:nowrap}
.info table.kv td{word-break:break-all}
ul.events{margin:.2em 0;padding-left:1.2em}
h2{font-size:1.1em;margin:1.6em 0 .3em}
table.metrics td{vertical-align:middle}
td.chart{padding:.1em .3em}
svg.chart{width:260px;height:80px;display:block}
svg.chart .frame{fill:none;stroke:var(--line)}
svg.chart text{font-size:9px;fill:var(--muted)}
svg.chart .line{fill:none;stroke-width:1.5}
svg.chart .line.requests{stroke:var(--link)}.dot.requests{fill:var(--link)}
svg.chart .line.errors{stroke:var(--err)}.dot.errors{fill:var(--err)}
svg.chart .line.p50{stroke:var(--ok)}.dot.p50{fill:var(--ok)}
svg.chart .line.p99{stroke:#8250df}.dot.p99{fill:#8250df}
svg.chart .marker{fill:#fff;stroke:var(--fg);stroke-width:1.2}
svg.chart a:hover .marker{fill:var(--link)}
ul.exemplars{margin:0;padding-left:1em;font-variant-numeric:tabular-nums}
ul.exemplars .time{color:var(--muted)}
";
