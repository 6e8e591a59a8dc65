//! The overview's metrics section over HTTP: a layer with its pull endpoint
//! and its viewer behind one router, real requests (one failing, one slow),
//! the history's readings taken at times the test gives
//! (`TraceViewer::sample_metrics_at`, no sleeping), and the section parsed
//! as XML: a row of charts per name with the rates and latencies in their
//! text, and exemplars linking to held traces. The arithmetic (rates,
//! interpolated quantiles, bounds) is unit-tested in `src/viewer/`.

use std::time::{Duration, SystemTime};

use axum::routing::get;
use axum::Router;
use opentelemetry::trace::TracerProvider as _;
use tower_otel_tracing::viewer::TraceViewer;

use crate::common::{self, get_req, post_summarize, sample_all, send, Harness};
use crate::viewer::{json, page};

/// The summarize app plus a slow route, the metrics at `/metrics` and the
/// viewer at `/_traces`.
fn app(h: &Harness, viewer: &TraceViewer) -> Router {
    let tracer = h.layer.pipeline().tracer_provider().tracer("test.handler");
    common::app(tracer)
        .route(
            "/slow",
            get(|| async {
                // 300 ms: well inside the (250 ms, 500 ms] bucket however slow the machine.
                tokio::time::sleep(Duration::from_millis(300)).await;
                "slow"
            }),
        )
        .route_service("/metrics", h.layer.metrics())
        .nest_service("/_traces", viewer.clone())
        .layer(h.layer.clone())
}

/// The metrics section of the overview, parsed: it must be well-formed XML.
fn section(html: &str) -> String {
    let start = html
        .find(r#"<section class="metrics""#)
        .unwrap_or_else(|| panic!("no metrics section: {html}"));
    let end = start + html[start..].find("</section>").expect("the section ends") + 10;
    html[start..end].to_owned()
}

/// The text of the `<title>` of the chart of `class` in `row`.
fn chart_title(row: roxmltree::Node<'_, '_>, class: &str) -> String {
    let svg = row
        .descendants()
        .find(|n| n.has_tag_name("svg") && n.attribute("class") == Some(&*format!("chart {class}")))
        .unwrap_or_else(|| panic!("no {class} chart"));
    assert_eq!(svg.attribute("viewBox"), Some("0 0 260 80"));
    let title = svg
        .children()
        .find(|n| n.has_tag_name("title"))
        .expect("a title");
    title.text().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn the_overview_charts_each_names_rates_and_latency_with_exemplars() {
    let h = Harness::new(sample_all());
    let viewer = h.layer.viewer();
    let app = app(&h, &viewer);
    let t0 = SystemTime::now();
    viewer.sample_metrics_at(t0);
    for text in ["one", "two", "three"] {
        assert_eq!(send(app.clone(), post_summarize(text)).await.0, 200);
    }
    assert_eq!(send(app.clone(), get_req("/fail")).await.0, 500);
    assert_eq!(send(app.clone(), get_req("/slow")).await.0, 200);
    h.layer.pipeline().force_flush().unwrap();
    viewer.sample_metrics_at(t0 + Duration::from_secs(10));

    let (status, _, html) = page(&app, "/_traces").await;
    assert_eq!(status, 200);
    let section = section(&html);
    let doc = roxmltree::Document::parse(&section)
        .unwrap_or_else(|e| panic!("the section is well-formed: {e}: {section}"));
    let rows: Vec<roxmltree::Node<'_, '_>> = doc
        .descendants()
        .filter(|n| n.has_tag_name("tr") && n.attribute("data-name").is_some())
        .collect();
    let names: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.attribute("data-name"))
        .collect();
    assert_eq!(names, ["GET /fail", "GET /slow", "POST /summarize"]);
    // The same names as the overview's table of traces.
    let mut listed: Vec<String> = json(&app, "/_traces/api/overview").await["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    assert_eq!(listed, names);
    let row = |name: &str| {
        *rows
            .iter()
            .find(|r| r.attribute("data-name") == Some(name))
            .unwrap()
    };

    // Three requests and one failure over the 10 s between the readings.
    let summarize = row("POST /summarize");
    assert!(chart_title(summarize, "requests")
        .ends_with("requests/s over the last 15 minutes, last 0.30/s"));
    assert!(chart_title(summarize, "errors").ends_with("last 0.00/s"));
    let fail = row("GET /fail");
    assert!(chart_title(fail, "requests").ends_with("last 0.10/s"));
    assert!(
        chart_title(fail, "errors").ends_with("last 0.10/s"),
        "a 500 is an error"
    );
    // One request in (250 ms, 500 ms]: p50 and p99 interpolated inside it.
    let slow = row("GET /slow");
    assert_eq!(
        chart_title(slow, "latency"),
        "GET /slow: latency over the last 15 minutes, last p50 375.0ms · p99 497.5ms"
    );
    let captions: Vec<&str> = slow
        .descendants()
        .filter(|n| n.attribute("class") == Some("caption"))
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(
        captions,
        ["last 0.10/s", "last 0.00/s", "p50 375.0ms · p99 497.5ms"]
    );

    // The slow request's exemplar: marked on the latency chart and listed,
    // both linking to its trace, which the viewer holds.
    let slow_trace = json(&app, "/_traces/api/traces?name=GET%20%2Fslow").await["traces"][0]
        ["trace_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let href = format!("/_traces/trace/{slow_trace}");
    let links: Vec<roxmltree::Node<'_, '_>> = slow
        .descendants()
        .filter(|n| n.has_tag_name("a") && n.attribute("href") == Some(&*href))
        .collect();
    assert_eq!(links.len(), 2, "a marker and a list entry: {section}");
    let marker = links[0].first_element_child().expect("a marker");
    assert_eq!(marker.attribute("class"), Some("marker"));
    assert!(
        links[1].text().is_some_and(|t| t.ends_with("ms")),
        "its duration"
    );
    assert!(links[1]
        .attribute("title")
        .is_some_and(|t| t.contains(&slow_trace)));
    let (status, _, trace_page) = page(&app, &href).await;
    assert_eq!(status, 200);
    assert!(trace_page.contains("GET /slow"));
}

#[tokio::test]
async fn without_metrics_the_section_says_how_to_turn_them_on() {
    let h = Harness::new(sample_all());
    let viewer = h.layer.viewer();
    let tracer = h.layer.pipeline().tracer_provider().tracer("test.handler");
    let app = common::app(tracer)
        .nest_service("/_traces", viewer.clone())
        .layer(h.layer.clone());
    send(app.clone(), post_summarize("one")).await;
    viewer.sample_metrics_at(SystemTime::now());
    let (_, _, html) = page(&app, "/_traces").await;
    let section = section(&html);
    roxmltree::Document::parse(&section).unwrap();
    assert!(section.contains("Metrics are off"), "{section}");
    assert!(
        section.contains("<code>layer.metrics()</code>")
            && section.contains("<code>metrics.exporter</code>")
    );
    assert!(!section.contains("<svg"));

    // Turned on after the viewer was made: collecting until two readings.
    let _metrics = h.layer.metrics();
    let (_, _, html) = page(&app, "/_traces").await;
    let later = self::section(&html);
    assert!(later.contains("Collecting"), "{later}");
}
