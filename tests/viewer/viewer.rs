//! The trace viewer over HTTP: its pages and JSON after real requests through the
//! layer, its headers, its own requests left untraced, redaction, and hostile
//! input escaped. The store's bounds are unit tests in `src/viewer/store.rs`; a
//! real browser drives it in the `browser` module beside this one.

use crate::common;

use crate::common::{get_req, post_summarize, sample_all, send, Harness};
use axum::body::Body;
use axum::Router;
use http::StatusCode;
use opentelemetry::trace::TracerProvider as _;
use serde_json::Value;

/// The summarize app with the viewer mounted where the example mounts it.
fn viewed(h: &Harness) -> Router {
    let tracer = h.layer.pipeline().tracer_provider().tracer("test.handler");
    common::app(tracer)
        .nest_service("/_traces", h.layer.viewer())
        .layer(h.layer.clone())
}

fn harness() -> Harness {
    Harness::with(sample_all(), |b| b.request_headers(["authorization"]))
}

pub(crate) async fn page(app: &Router, uri: &str) -> (StatusCode, http::HeaderMap, String) {
    let resp = tower::ServiceExt::oneshot(app.clone(), get_req(uri))
        .await
        .unwrap();
    let (parts, body) = resp.into_parts();
    let body = http_body_util::BodyExt::collect(body)
        .await
        .unwrap()
        .to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

pub(crate) async fn json(app: &Router, uri: &str) -> Value {
    let (status, headers, body) = page(app, uri).await;
    assert_eq!(status, 200, "{uri}: {body}");
    assert_eq!(headers["content-type"], "application/json");
    serde_json::from_str(&body).unwrap()
}

/// Sends one summarize request and one failing request, and waits until the
/// batch processor has exported (and so teed) their spans.
async fn traffic(h: &Harness, app: &Router) {
    let (status, _) = send(app.clone(), post_summarize("one two three four")).await;
    assert_eq!(status, 200);
    let (status, _) = send(app.clone(), get_req("/fail")).await;
    assert_eq!(status, 500);
    h.layer.pipeline().force_flush().unwrap();
}

#[tokio::test]
async fn overview_lists_each_server_span_name_with_links_to_its_traces() {
    let h = harness();
    let app = viewed(&h);
    traffic(&h, &app).await;

    let (status, headers, html) = page(&app, "/_traces").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(html.contains(">POST /summarize<"), "{html}");
    assert!(html.contains(">GET /fail<"), "{html}");
    assert!(
        html.contains(r#"href="/_traces/traces?name=POST%20%2Fsummarize""#),
        "{html}"
    );
    assert!(
        html.contains(r#"href="/_traces/traces?name=GET%20%2Ffail&amp;errors=1""#),
        "{html}"
    );
    assert!(html.contains(r#"<link rel="stylesheet" href="/_traces/assets/viewer.css">"#));

    let o = json(&app, "/_traces/api/overview").await;
    let names = o["names"].as_array().unwrap();
    let row = |n: &str| names.iter().find(|r| r["name"] == n).unwrap().clone();
    let (ok, fail) = (row("POST /summarize"), row("GET /fail"));
    assert_eq!(
        (ok["count"].as_u64(), ok["errors"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(
        (fail["count"].as_u64(), fail["errors"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(ok["kind"], "server");
    assert_eq!(o["buckets"].as_array().unwrap().len(), 9);
    let bucket_total: u64 = ok["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!(bucket_total, 1);
    assert!(ok["p50_ns"].as_u64().unwrap() > 0);
    assert_eq!(
        (o["held"].as_u64(), o["fed"].as_bool()),
        (Some(2), Some(true))
    );
}

#[tokio::test]
async fn trace_list_filters_by_name_bucket_and_errors_newest_first() {
    let h = harness();
    let app = viewed(&h);
    traffic(&h, &app).await;
    let (status, _) = send(app.clone(), post_summarize("again")).await;
    assert_eq!(status, 200);
    h.layer.pipeline().force_flush().unwrap();

    let all = json(&app, "/_traces/api/traces").await;
    let names: Vec<&str> = all["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["POST /summarize", "GET /fail", "POST /summarize"],
        "newest first"
    );

    let errors = json(&app, "/_traces/api/traces?errors=1").await;
    let errors = errors["traces"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0]["name"].as_str(), errors[0]["error"].as_bool()),
        (Some("GET /fail"), Some(true))
    );

    let named = json(&app, "/_traces/api/traces?name=POST+%2Fsummarize").await;
    assert_eq!(named["traces"].as_array().unwrap().len(), 2);

    // Every bucket's traces add up to all of them.
    let mut total = 0;
    for b in 0..9 {
        total += json(&app, &format!("/_traces/api/traces?bucket={b}")).await["traces"]
            .as_array()
            .unwrap()
            .len();
    }
    assert_eq!(total, 3);

    let (status, _, html) = page(&app, "/_traces/traces?errors=1").await;
    assert_eq!(status, 200);
    assert!(html.contains("with errors"));
    assert!(
        html.contains(">GET /fail<") && !html.contains(">POST /summarize<"),
        "{html}"
    );
}

#[tokio::test]
async fn trace_page_shows_the_waterfall_nested_in_order_with_details() {
    let h = harness();
    let app = viewed(&h);
    traffic(&h, &app).await;
    let list = json(&app, "/_traces/api/traces?name=POST%20%2Fsummarize").await;
    let id = list["traces"][0]["trace_id"].as_str().unwrap().to_owned();

    let t = json(&app, &format!("/_traces/api/trace/{id}")).await;
    let tree: Vec<(u64, &str)> = t["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["depth"].as_u64().unwrap(), s["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        tree,
        [
            (0, "POST /summarize"),
            (1, "POST /summarize http receive"),
            (1, "summarize.model"),
            (1, "POST /summarize http send"),
            (1, "POST /summarize http send"),
        ],
        "the server span, then its children by start time"
    );
    let server = &t["spans"][0];
    assert_eq!(server["kind"], "server");
    assert_eq!(server["attributes"]["http.status_code"], "200");
    assert_eq!(server["parent_span_id"], Value::Null);
    assert_eq!(t["spans"][3]["attributes"]["type"], "http.response.start");
    assert_eq!(t["spans"][3]["parent_span_id"], server["span_id"]);
    assert!(t["resource"]["service.name"].is_string());

    let (status, _, html) = page(&app, &format!("/_traces/trace/{id}")).await;
    assert_eq!(status, 200);
    let server_id = server["span_id"].as_str().unwrap();
    assert!(
        html.contains(&format!(r#"id="span-{server_id}" data-depth="0""#)),
        "{html}"
    );
    assert!(html.contains("<summary>"));
    assert!(html.contains("http.response.start"));
    assert!(html.contains("<svg class=\"bar\""));

    let failed = json(&app, "/_traces/api/traces?errors=1").await;
    let id = failed["traces"][0]["trace_id"].as_str().unwrap().to_owned();
    let (_, _, html) = page(&app, &format!("/_traces/trace/{id}")).await;
    assert!(
        html.contains(r#"class="span error""#),
        "error spans are coloured: {html}"
    );
}

#[tokio::test]
async fn every_response_sets_a_strict_policy_and_unknown_paths_are_refused() {
    let h = harness();
    let app = viewed(&h);
    for uri in [
        "/_traces",
        "/_traces/api/overview",
        "/_traces/assets/viewer.css",
        "/_traces/nope",
    ] {
        let (_, headers, _) = page(&app, uri).await;
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("default-src 'none'"), "{uri}: {csp}");
        assert!(!csp.contains("unsafe"), "{uri}: {csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["cache-control"], "no-store");
    }
    let (status, headers, css) = page(&app, "/_traces/assets/viewer.css").await;
    assert_eq!(
        (status, &headers["content-type"]),
        (StatusCode::OK, &"text/css; charset=utf-8".parse().unwrap())
    );
    assert!(css.contains(".d3{"));
    let (status, _, _) = page(&app, "/_traces/trace/00000000000000000000000000000001").await;
    assert_eq!(status, 404);
    let (status, _, _) = page(&app, "/_traces/trace/not-hex").await;
    assert_eq!(status, 404);
    let post = http::Request::post("/_traces").body(Body::empty()).unwrap();
    let resp = tower::ServiceExt::oneshot(app.clone(), post).await.unwrap();
    assert_eq!(resp.status(), 405);
}

#[tokio::test]
async fn the_viewers_own_requests_are_never_traced() {
    let h = harness();
    let app = viewed(&h);
    traffic(&h, &app).await;
    let before = h.spans().len();
    for uri in [
        "/_traces",
        "/_traces/",
        "/_traces/traces",
        "/_traces/api/overview",
        "/_traces/nope",
    ] {
        page(&app, uri).await;
    }
    let spans = h.spans();
    assert_eq!(spans.len(), before, "no span for the viewer's requests");
    assert!(spans.iter().all(|s| !s.name.contains("_traces")));
    let o = json(&app, "/_traces/api/overview").await;
    assert_eq!(o["names"].as_array().unwrap().len(), 2);
    // A sibling path that only starts alike is still traced.
    page(&app, "/_tracesX").await;
    assert!(h.spans().iter().any(|s| s.name.contains("/_tracesX")));
}

#[tokio::test]
async fn the_viewer_shows_spans_as_redacted_as_the_exporter_gets_them() {
    let h = harness();
    let app = viewed(&h);
    let req = http::Request::get("http://user:hunter2@svc.local:3000/readyz?sig=s3cret&x=1")
        .header("authorization", "Bearer hunter2")
        .body(Body::empty())
        .unwrap();
    send(app.clone(), req).await;
    h.layer.pipeline().force_flush().unwrap();
    let list = json(&app, "/_traces/api/traces").await;
    let id = list["traces"][0]["trace_id"].as_str().unwrap().to_owned();
    let t = json(&app, &format!("/_traces/api/trace/{id}")).await;
    let text = t.to_string();
    assert!(text.contains("[REDACTED]"), "{text}");
    assert!(
        !text.contains("hunter2") && !text.contains("s3cret"),
        "{text}"
    );
    let (_, _, html) = page(&app, &format!("/_traces/trace/{id}")).await;
    assert!(!html.contains("hunter2") && !html.contains("s3cret"));
}

/// What an attacker controls (the path and the user agent) is shown as text:
/// escaped, never markup, never an attribute break-out.
#[tokio::test]
async fn hostile_paths_and_user_agents_are_escaped_on_every_page() {
    let h = harness();
    let app = viewed(&h);
    let ua = r#""><script>alert('ua')</script><img src=x onerror="alert(1)">"#;
    // A request target cannot hold `<` or `>` (servers refuse them), but quotes
    // and braces pass, and percent-encoded markup stays encoded in span names.
    let path = r#"/x"'/onmouseover="alert(1)"/{}/%3Cscript%3E"#;
    let req = http::Request::get(path)
        .header("user-agent", ua)
        .header("host", "svc.local:3000")
        .body(Body::empty())
        .unwrap();
    send(app.clone(), req).await;
    h.layer.pipeline().force_flush().unwrap();

    let list = json(&app, "/_traces/api/traces").await;
    let trace = &list["traces"][0];
    assert_eq!(
        trace["name"],
        format!("GET {path}"),
        "the JSON carries the raw value"
    );
    let id = trace["trace_id"].as_str().unwrap();
    let mut pages = vec![
        "/_traces".to_owned(),
        "/_traces/traces".to_owned(),
        format!("/_traces/trace/{id}"),
    ];
    pages.push(format!(
        "/_traces/traces?name={}",
        percent_encoding::utf8_percent_encode(
            &format!("GET {path}"),
            percent_encoding::NON_ALPHANUMERIC
        )
    ));
    for uri in &pages {
        let (status, _, html) = page(&app, uri).await;
        assert_eq!(status, 200, "{uri}");
        assert!(!html.to_lowercase().contains("<script"), "{uri}: {html}");
        assert!(!html.contains("<img"), "{uri}: {html}");
        assert!(
            !html.contains(r#"onerror="alert"#),
            "{uri}: no attribute break-out: {html}"
        );
        assert!(!html.contains(r#"onmouseover="alert"#), "{uri}: {html}");
        assert!(
            html.contains("onmouseover=&quot;alert(1)&quot;"),
            "{uri}: shown escaped: {html}"
        );
    }
    let (_, _, html) = page(&app, &format!("/_traces/trace/{id}")).await;
    assert!(html.contains("&quot;&gt;&lt;script&gt;alert('ua')&lt;/script&gt;&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"), "{html}");
}

/// Mounted elsewhere (a path that itself holds `/traces`), every page's JSON link
/// points under that mount, and the linked JSON answers.
#[tokio::test]
async fn json_links_follow_a_mount_path_of_its_own() {
    let h = harness();
    let tracer = h.layer.pipeline().tracer_provider().tracer("test.handler");
    let app = common::app(tracer)
        .nest_service("/debug/traces", h.layer.viewer_at("/debug/traces"))
        .layer(h.layer.clone());
    traffic(&h, &app).await;
    let trace_id = json(&app, "/debug/traces/api/traces").await["traces"][0]["trace_id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (page_uri, json_uri) in [
        (
            "/debug/traces/traces?errors=1".to_owned(),
            "/debug/traces/api/traces?errors=1".to_owned(),
        ),
        (
            format!("/debug/traces/trace/{trace_id}"),
            format!("/debug/traces/api/trace/{trace_id}"),
        ),
    ] {
        let (status, _, body) = page(&app, &page_uri).await;
        assert_eq!(status, 200, "{page_uri}");
        assert!(
            body.contains(&format!("href=\"{json_uri}\"")),
            "{page_uri} links its JSON at {json_uri}: {body}"
        );
        json(&app, &json_uri).await;
    }
}
