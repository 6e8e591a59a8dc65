//! HTTP metrics from every request, read the way Prometheus reads them: the
//! pull endpoint's text parsed with an independent parser (openmetrics-parser,
//! which follows the OpenMetrics test suite), in the Prometheus text format
//! 0.0.4 and in OpenMetrics 1.0 with exemplars that point at exported traces.

use std::collections::HashSet;

use axum::body::Body;
use axum::routing::{any, get, post};
use axum::Router;
use openmetrics_parser::{
    openmetrics::parse_openmetrics, prometheus::parse_prometheus, HistogramValue,
    MetricsExposition, OpenMetricsType, OpenMetricsValue, PrometheusType, PrometheusValue,
};

use crate::common::*;
use tower_otel_tracing::{TracingConfig, TracingLayer};

fn layer(sample_rate: f64) -> Harness {
    Harness::new(TracingConfig {
        sample_rate: Some(sample_rate),
        service_name: Some("metered".into()),
        ..Default::default()
    })
}

pub(crate) fn app(layer: &TracingLayer) -> Router {
    Router::new()
        .route("/summarize", post(|text: String| async move { text }))
        .route("/users/{id}", get(|| async { "a user" }))
        .route(
            "/fail",
            get(|| async { (http::StatusCode::BAD_GATEWAY, "upstream down") }),
        )
        .route(
            "/status",
            any(
                |q: axum::extract::Query<std::collections::HashMap<String, u16>>| async move {
                    http::StatusCode::from_u16(q.get("code").copied().unwrap_or(200)).unwrap()
                },
            ),
        )
        .route_service("/metrics", layer.metrics())
        .layer(layer.clone())
}

async fn scrape(app: &Router, openmetrics: bool) -> String {
    let mut req = http::Request::get("/metrics");
    if openmetrics {
        req = req.header(
            "accept",
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
        );
    }
    let resp = tower::ServiceExt::oneshot(app.clone(), req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with(if openmetrics {
            "application/openmetrics-text; version=1.0.0"
        } else {
            "text/plain; version=0.0.4"
        }),
        "{content_type}"
    );
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

pub(crate) async fn traffic(app: &Router) {
    for text in ["one", "two two", "three three three"] {
        // As a server hands it over: with its Content-Length.
        let req = http::Request::post("/summarize")
            .header("host", "svc.local:3000")
            .header("content-length", text.len())
            .body(Body::from(text))
            .unwrap();
        send(app.clone(), req).await;
    }
    send(app.clone(), get_req("/users/7")).await;
    send(app.clone(), get_req("/users/8")).await;
    send(app.clone(), get_req("/fail")).await;
    send(app.clone(), get_req("/no/such/route")).await;
}

/// The histogram of `family` whose labels include every pair of `want`.
fn prometheus_histogram(
    text: &MetricsExposition<PrometheusType, PrometheusValue>,
    family: &str,
    want: &[(&str, &str)],
) -> Vec<HistogramValue> {
    let family = &text.families[family];
    family
        .iter_samples()
        .filter(|s| {
            let labels = s.get_labelset().unwrap();
            want.iter()
                .all(|(k, v)| labels.get_label_value(k) == Some(*v))
        })
        .map(|s| match &s.value {
            PrometheusValue::Histogram(h) => h.clone(),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn every_request_is_measured_with_the_conventions_attributes() {
    let h = layer(0.0);
    let app = app(&h.layer);
    traffic(&app).await;
    let text = scrape(&app, false).await;
    let parsed = parse_prometheus(&text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    assert!(
        !text.contains("otel_metric_overflow"),
        "nothing overflowed:\n{text}"
    );

    let duration = "http_server_request_duration_seconds";
    assert_eq!(
        parsed.families[duration].family_type,
        PrometheusType::Histogram
    );
    // Both users under one route template, never the raw paths.
    let users = prometheus_histogram(
        &parsed,
        duration,
        &[
            ("http_request_method", "GET"),
            ("http_route", "/users/{id}"),
            ("http_response_status_code", "200"),
            ("url_scheme", "http"),
            ("network_protocol_version", "1.1"),
        ],
    );
    assert_eq!(users.len(), 1, "{text}");
    assert_eq!(users[0].count, Some(2));
    assert!(!text.contains("/users/7"), "{text}");
    // A 5xx has its status code as error.type; the rest none.
    let fail = prometheus_histogram(&parsed, duration, &[("http_route", "/fail")]);
    assert_eq!(fail.len(), 1);
    assert!(text.contains("error_type=\"502\""), "{text}");
    // Only the 5xx series has a value for it (the others write it empty).
    let with_error = text
        .lines()
        .filter(|l| l.starts_with("http_server_request_duration") && l.contains("error_type=\"5"))
        .count();
    assert_eq!(with_error, fail[0].buckets.len() + 2, "{text}");
    // No route: the series has no http_route at all.
    let unrouted = prometheus_histogram(&parsed, duration, &[("http_response_status_code", "404")]);
    assert_eq!(unrouted.len(), 1);
    // Response bodies: "one" + "two two" + "three three three" = 27 bytes.
    let sizes = prometheus_histogram(
        &parsed,
        "http_server_response_body_size_bytes",
        &[("http_route", "/summarize")],
    );
    assert_eq!(sizes[0].count, Some(3));
    assert_eq!(sizes[0].sum.as_ref().map(|s| s.as_f64()), Some(27.0));
    let requests = prometheus_histogram(
        &parsed,
        "http_server_request_body_size_bytes",
        &[("http_route", "/summarize")],
    );
    assert_eq!(requests[0].sum.as_ref().map(|s| s.as_f64()), Some(27.0));
    // Cumulative buckets ending at +Inf = count.
    let last = users[0].buckets.last().unwrap();
    assert!(last.upper_bound.is_infinite());
    assert_eq!(last.count.as_f64(), 2.0);
    // Nothing is active once the responses are read.
    let active = &parsed.families["http_server_active_requests"];
    assert_eq!(active.family_type, PrometheusType::Gauge);
    for sample in active.iter_samples() {
        assert!(matches!(&sample.value, PrometheusValue::Gauge(n) if n.as_f64() == 0.0));
    }
    assert!(text.contains("target_info{"), "{text}");
    assert!(text.contains("service_name=\"metered\""), "{text}");
    // The scrapes themselves are not measured (nor traced).
    assert!(!text.contains("/metrics"), "{text}");
    // No exemplars in the Prometheus text format.
    assert!(!text.contains("trace_id"), "{text}");
}

#[tokio::test]
async fn openmetrics_exemplars_point_at_exported_traces() {
    let h = layer(1.0);
    let app = app(&h.layer);
    traffic(&app).await;
    let exported: HashSet<(String, String)> = h
        .spans()
        .iter()
        .filter(|s| s.span_kind == opentelemetry::trace::SpanKind::Server)
        .map(|s| {
            (
                s.span_context.trace_id().to_string(),
                s.span_context.span_id().to_string(),
            )
        })
        .collect();
    let text = scrape(&app, true).await;
    assert!(text.ends_with("# EOF\n"), "{text}");
    let parsed = parse_openmetrics(&text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    let family = &parsed.families["http_server_request_duration_seconds"];
    assert_eq!(family.family_type, OpenMetricsType::Histogram);
    let mut exemplars = 0;
    for sample in family.iter_samples() {
        let OpenMetricsValue::Histogram(h) = &sample.value else {
            panic!("{:?}", sample.value)
        };
        for bucket in &h.buckets {
            if let Some(e) = &bucket.exemplar {
                exemplars += 1;
                let ids = (e.labels["trace_id"].clone(), e.labels["span_id"].clone());
                assert!(
                    exported.contains(&ids),
                    "{ids:?} is no exported server span"
                );
                assert!(e.id <= bucket.upper_bound, "{e:?} above its bucket");
                assert!(e.timestamp.is_some());
            }
        }
    }
    assert!(exemplars >= 4, "{exemplars} exemplars:\n{text}");
}

#[tokio::test]
async fn unsampled_requests_have_no_exemplars() {
    let h = layer(0.0);
    let app = app(&h.layer);
    traffic(&app).await;
    let text = scrape(&app, true).await;
    parse_openmetrics(&text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    assert!(!text.contains("trace_id"), "{text}");
    assert!(
        text.contains("http_server_request_duration_seconds_count"),
        "{text}"
    );
}

/// Past the cardinality limit (set low here; 2000 by default, as the unit
/// tests of the table hold), measurements go to one series marked
/// `otel_metric_overflow="true"`; none is lost.
#[tokio::test]
async fn attribute_sets_past_the_limit_overflow_into_one_series() {
    let h = Harness::with(
        TracingConfig {
            sample_rate: Some(0.0),
            ..Default::default()
        },
        |b| b.metrics_cardinality_limit(100),
    );
    let app = app(&h.layer);
    let methods = ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"];
    let mut sent = 0;
    for code in 200..=239u16 {
        for method in methods {
            let req = http::Request::builder()
                .method(method)
                .uri(format!("/status?code={code}"))
                .body(Body::empty())
                .unwrap();
            send(app.clone(), req).await;
            sent += 1;
        }
    }
    let text = scrape(&app, false).await;
    let parsed = parse_prometheus(&text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    let family = &parsed.families["http_server_request_duration_seconds"];
    let (mut series, mut counted, mut overflow) = (0, 0, 0);
    for sample in family.iter_samples() {
        let PrometheusValue::Histogram(h) = &sample.value else {
            panic!()
        };
        let labels = sample.get_labelset().unwrap();
        counted += h.count.unwrap();
        if labels.get_label_value("otel_metric_overflow") == Some("true") {
            overflow = h.count.unwrap();
        } else {
            series += 1;
        }
    }
    assert_eq!(series, 100);
    assert_eq!(counted, sent);
    assert!(overflow > 0);
}

/// A request dropped before its response (the client went away) is measured
/// when it ends, without a status.
#[tokio::test]
async fn a_request_dropped_early_is_measured() {
    let h = layer(0.0);
    let app = Router::new()
        .route(
            "/slow",
            get(|| async {
                std::future::pending::<()>().await;
                "never"
            }),
        )
        .route_service("/metrics", h.layer.metrics())
        .layer(h.layer.clone());
    let call = tower::ServiceExt::oneshot(app.clone(), get_req("/slow"));
    let _ = tokio::time::timeout(std::time::Duration::from_millis(20), call).await;
    let text = scrape(&app, false).await;
    let parsed = parse_prometheus(&text).unwrap();
    let slow = prometheus_histogram(
        &parsed,
        "http_server_request_duration_seconds",
        &[("http_route", "/slow")],
    );
    assert_eq!(slow.len(), 1, "{text}");
    assert_eq!(slow[0].count, Some(1));
    assert!(
        !text.contains("http_response_status_code=\"200\""),
        "{text}"
    );
    let sum = slow[0].sum.as_ref().unwrap().as_f64();
    assert!(sum >= 0.015, "it lasted the 20 ms it was awaited: {sum}");
}

/// Excluded requests are neither traced nor measured; nothing is measured
/// before the endpoint exists.
#[tokio::test]
async fn excluded_requests_and_requests_before_the_endpoint_are_not_counted() {
    let h = Harness::new(TracingConfig {
        excluded_urls: Some(tower_otel_tracing::config::ExcludedUrls::new(["readyz"]).unwrap()),
        ..Default::default()
    });
    let app = |layer: &TracingLayer| {
        Router::new()
            .route("/readyz", get(|| async { "ok" }))
            .route("/work", get(|| async { "done" }))
            .layer(layer.clone())
    };
    send(app(&h.layer), get_req("/work")).await;
    let metrics = h.layer.metrics();
    send(app(&h.layer), get_req("/readyz")).await;
    send(app(&h.layer), get_req("/work")).await;
    let resp = tower::ServiceExt::oneshot(metrics, http::Request::get("/").body(()).unwrap())
        .await
        .unwrap();
    let text = resp.into_body();
    let parsed = parse_prometheus(&text).unwrap();
    let work = prometheus_histogram(
        &parsed,
        "http_server_request_duration_seconds",
        &[("http_route", "/work")],
    );
    assert_eq!(
        work[0].count,
        Some(1),
        "only the request after the endpoint: {text}"
    );
    assert!(!text.contains("/readyz"), "{text}");
}

/// Calls through the client layer: `http.client.request.duration` by method,
/// server address and port, status, and `error.type` for a status of 400 or
/// more or a failure; exemplars name the exported CLIENT spans.
#[tokio::test]
async fn client_calls_are_measured_with_exemplars_of_their_spans() {
    let h = layer(1.0);
    let metrics = h.layer.metrics();
    let client = tower::ServiceBuilder::new()
        .layer(h.layer.client())
        .service_fn(|req: http::Request<String>| async move {
            match req.uri().path() {
                "/down" => Err("connection refused"),
                "/missing" => Ok(http::Response::builder()
                    .status(404)
                    .body(String::new())
                    .unwrap()),
                _ => Ok(http::Response::new(String::from("a user"))),
            }
        });
    for path in ["/users/1", "/users/2", "/missing", "/down"] {
        let req = http::Request::get(format!("http://users.internal:8080{path}"))
            .body(String::new())
            .unwrap();
        if let Ok(resp) = tower::ServiceExt::oneshot(client.clone(), req).await {
            http_body_util::BodyExt::collect(resp.into_body())
                .await
                .unwrap();
        }
    }
    // A target without a port: the scheme's.
    let req = http::Request::get("https://billing.internal/")
        .body(String::new())
        .unwrap();
    let resp = tower::ServiceExt::oneshot(client.clone(), req)
        .await
        .unwrap();
    http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap();

    let app = Router::new().route_service("/metrics", metrics);
    let text = scrape(&app, false).await;
    let parsed = parse_prometheus(&text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    let family = "http_client_request_duration_seconds";
    let count = |want: &[(&str, &str)]| {
        prometheus_histogram(&parsed, family, want)
            .iter()
            .map(|h| h.count.unwrap())
            .sum::<u64>()
    };
    let users = [
        ("http_request_method", "GET"),
        ("server_address", "users.internal"),
        ("server_port", "8080"),
    ];
    let ok = [
        &users[..],
        &[("http_response_status_code", "200"), ("error_type", "")],
    ]
    .concat();
    assert_eq!(count(&ok), 2, "{text}");
    let missing = [
        &users[..],
        &[("http_response_status_code", "404"), ("error_type", "404")],
    ]
    .concat();
    assert_eq!(count(&missing), 1, "{text}");
    let down = [&users[..], &[("http_response_status_code", "")]].concat();
    let down = prometheus_histogram(&parsed, family, &down);
    assert_eq!(down.len(), 1, "{text}");
    assert!(
        text.contains("error_type=\"&str\""),
        "the failure's type names it:\n{text}"
    );
    assert_eq!(
        count(&[
            ("server_address", "billing.internal"),
            ("server_port", "443")
        ]),
        1,
        "{text}"
    );

    // Exemplars: the CLIENT spans that were exported.
    let exported: HashSet<(String, String)> = h
        .spans()
        .iter()
        .filter(|s| s.span_kind == opentelemetry::trace::SpanKind::Client)
        .map(|s| {
            (
                s.span_context.trace_id().to_string(),
                s.span_context.span_id().to_string(),
            )
        })
        .collect();
    assert_eq!(exported.len(), 5);
    let text = scrape(&app, true).await;
    let parsed = parse_openmetrics(&text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    let mut seen = 0;
    for sample in parsed.families[family].iter_samples() {
        let OpenMetricsValue::Histogram(h) = &sample.value else {
            panic!("{:?}", sample.value)
        };
        for e in h.buckets.iter().filter_map(|b| b.exemplar.as_ref()) {
            seen += 1;
            let ids = (e.labels["trace_id"].clone(), e.labels["span_id"].clone());
            assert!(
                exported.contains(&ids),
                "{ids:?} is no exported CLIENT span"
            );
        }
    }
    assert!(seen >= 4, "{seen} exemplars:\n{text}");
}

/// `exemplar_filter`: `always_off` keeps none even of exported traces;
/// `always_on` keeps them of unsampled requests too, naming the trace ids
/// those requests carried (their `TraceInfo`).
#[tokio::test]
async fn the_exemplar_filter_decides_which_requests_leave_exemplars() {
    use tower_otel_tracing::config::{ExemplarFilter, MetricsConfig};
    let with = |sample_rate: f64, filter: ExemplarFilter| {
        Harness::new(TracingConfig {
            sample_rate: Some(sample_rate),
            metrics: MetricsConfig {
                exemplar_filter: Some(filter),
                ..Default::default()
            },
            ..Default::default()
        })
    };
    let h = with(1.0, ExemplarFilter::AlwaysOff);
    let sampled = app(&h.layer);
    traffic(&sampled).await;
    assert!(!h.spans().is_empty(), "traces are exported");
    let text = scrape(&sampled, true).await;
    assert!(!text.contains("trace_id"), "{text}");

    // Unsampled: the trace and span ids each request carried, as the layer
    // writes them into its response.
    let h = Harness::with(
        TracingConfig {
            sample_rate: Some(0.0),
            metrics: MetricsConfig {
                exemplar_filter: Some(ExemplarFilter::AlwaysOn),
                ..Default::default()
            },
            ..Default::default()
        },
        |b| b.trace_id_headers("x-trace-id", "x-span-id"),
    );
    let app = app(&h.layer);
    let mut seen = HashSet::new();
    for path in ["/users/7", "/users/8", "/fail", "/status?code=404"] {
        let resp = tower::ServiceExt::oneshot(app.clone(), get_req(path))
            .await
            .unwrap();
        let id = |name: &str| resp.headers()[name].to_str().unwrap().to_owned();
        seen.insert((id("x-trace-id"), id("x-span-id")));
        http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap();
    }
    assert!(h.spans().is_empty(), "nothing is exported at rate 0");
    let text = scrape(&app, true).await;
    let parsed = parse_openmetrics(&text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    let mut exemplars = 0;
    for sample in parsed.families["http_server_request_duration_seconds"].iter_samples() {
        let OpenMetricsValue::Histogram(h) = &sample.value else {
            panic!("{:?}", sample.value)
        };
        for e in h.buckets.iter().filter_map(|b| b.exemplar.as_ref()) {
            exemplars += 1;
            let ids = (e.labels["trace_id"].clone(), e.labels["span_id"].clone());
            assert!(seen.contains(&ids), "{ids:?}: no request carried it");
        }
    }
    assert!(exemplars >= 3, "{exemplars} exemplars:\n{text}");
}
