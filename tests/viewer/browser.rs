//! The trace viewer in a real browser: headless Chromium driven through its
//! WebDriver (Debian's `chromium` and `chromium-driver`) with fantoccini. It loads
//! the overview, checks its metrics charts and follows an exemplar to its trace,
//! follows links to a trace, checks the waterfall's nesting and order, opens a
//! span's details, checks that nothing injected became an element, and takes the
//! README's screenshot.
//!
//! Opt-in: `TRACE_VIEWER_BROWSER=1 cargo test --all-features --test viewer --
//! --nocapture browser::`. Without the variable it prints that it skipped, so
//! the plain test command passes on machines without Chromium. `.ci/run` sets
//! it and checks for the line [`RAN`]. `TRACE_VIEWER_SCREENSHOT=docs/viewer.png` also writes the
//! screenshot there (CI does not, so it leaves the tree clean).

use crate::common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use crate::common::{post_summarize, send, serve_loopback, Harness};
use axum::body::Body;
use axum::Router;
use fantoccini::{Client, ClientBuilder, Locator};
use opentelemetry::trace::TracerProvider as _;

/// Printed when the browser test really ran (`.ci/run` looks for it).
const RAN: &str = "viewer browser test: ran in Chromium";

/// The flags this machine needs: no sandbox (containers), and nothing that
/// reaches for the network, where Chromium would otherwise wait.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,860",
];

/// chromedriver, killed however the test ends.
struct Driver {
    child: Child,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts chromedriver on a loopback port and waits (bounded) until it listens.
fn start_driver() -> (Driver, u16) {
    let port = free_port();
    let binary = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned());
    let child = Command::new(&binary)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {binary} (apt-get install chromium-driver): {e}"));
    let profile =
        std::env::temp_dir().join(format!("viewer-browser-{}-{port}", std::process::id()));
    let driver = Driver { child, profile };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen within 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (driver, port)
}

async fn browser(driver: &Driver, port: u16) -> Client {
    let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| f.to_string()).collect();
    args.push(format!("--user-data-dir={}", driver.profile.display()));
    let mut options = serde_json::json!({ "args": args });
    if let Ok(binary) = std::env::var("CHROMIUM") {
        options["binary"] = binary.into();
    } else if std::path::Path::new("/usr/bin/chromium").exists() {
        options["binary"] = "/usr/bin/chromium".into();
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), options);
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_viewer_in_a_real_browser() {
    if std::env::var("TRACE_VIEWER_BROWSER").as_deref() != Ok("1") {
        println!("viewer browser test: skipped (set TRACE_VIEWER_BROWSER=1; needs chromium and chromium-driver)");
        return;
    }
    let h = Harness::new(tower_otel_tracing::TracingConfig {
        service_name: Some("Summarization".to_owned()),
        ..common::sample_all()
    });
    let tracer = h.layer.pipeline().tracer_provider().tracer("summarize");
    let viewer = h.layer.viewer();
    let app: Router = common::app(tracer)
        .route_service("/metrics", h.layer.metrics())
        .nest_service("/_traces", viewer.clone())
        .layer(h.layer.clone());
    // The metrics charts' readings, 10 s apart on the test's clock.
    let t0 = SystemTime::now();
    viewer.sample_metrics_at(t0);
    for text in [
        "Tracing shows where time goes. It also shows errors.",
        "A second request, so the overview has numbers.",
    ] {
        send(app.clone(), post_summarize(text)).await;
    }
    send(app.clone(), common::get_req("/fail")).await;
    let hostile = http::Request::get("/stream?n=2")
        .header("user-agent", r#""><script>document.title='pwned'</script><img src=x onerror="document.title='pwned'">"#)
        .body(Body::empty())
        .unwrap();
    send(app.clone(), hostile).await;
    h.layer.pipeline().force_flush().unwrap();
    viewer.sample_metrics_at(t0 + Duration::from_secs(10));
    let (addr, server) = serve_loopback(app).await;

    let (driver, port) = start_driver();
    let client = browser(&driver, port).await;
    // Every step is bounded: a hung browser fails the test instead of CI.
    let result = tokio::time::timeout(Duration::from_secs(90), drive(&client, addr)).await;
    let _ = client.close().await;
    drop(driver);
    server.abort();
    match result {
        Ok(Ok(png)) => {
            assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG screenshot");
            let out = std::env::var("TRACE_VIEWER_SCREENSHOT")
                .map(PathBuf::from)
                // Cargo's scratch directory for integration tests: it exists
                // wherever the target directory is (a clone with CARGO_TARGET_DIR
                // set elsewhere has no `target/` of its own).
                .unwrap_or_else(|_| {
                    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("viewer-browser.png")
                });
            std::fs::write(&out, &png).unwrap();
            println!("{RAN} (screenshot: {})", out.display());
        }
        Ok(Err(e)) => panic!("browser step failed: {e}"),
        Err(_) => panic!("the browser test took longer than 90 s"),
    }
}

/// The user's path through the viewer; returns the screenshot.
async fn drive(
    c: &Client,
    addr: std::net::SocketAddr,
) -> Result<Vec<u8>, fantoccini::error::CmdError> {
    c.goto(&format!("http://{addr}/_traces")).await?;
    assert_eq!(c.title().await?, "Overview · traces");
    let names: Vec<String> = texts(c, "table.overview tbody tr td:first-child").await?;
    assert!(names.contains(&"POST /summarize".to_owned()), "{names:?}");
    assert!(names.contains(&"GET /fail".to_owned()), "{names:?}");

    // The metrics section: a row of three charts a name, drawn at the size
    // the stylesheet gives them, and an exemplar that opens its trace.
    let mut charted = Vec::new();
    for row in c
        .find_all(Locator::Css("section.metrics table.metrics tbody tr"))
        .await?
    {
        charted.push(row.attr("data-name").await?.unwrap_or_default());
    }
    assert_eq!(charted, ["GET /fail", "GET /stream", "POST /summarize"]);
    let summarize = c
        .find(Locator::Css(
            r#"section.metrics tr[data-name="POST /summarize"]"#,
        ))
        .await?;
    let charts = summarize.find_all(Locator::Css("svg.chart")).await?;
    assert_eq!(charts.len(), 3, "requests/s, errors/s, latency");
    let (_, _, width, height) = charts[0].rectangle().await?;
    assert!(width > 100.0 && height > 30.0, "{width}×{height}");
    let label = charts[0].attr("aria-label").await?.unwrap_or_default();
    assert!(
        label.ends_with("requests/s over the last 15 minutes, last 0.20/s"),
        "{label}"
    );
    summarize
        .find(Locator::Css("ul.exemplars a"))
        .await?
        .click()
        .await?;
    assert!(c.current_url().await?.path().starts_with("/_traces/trace/"));
    assert_eq!(c.title().await?, "POST /summarize · traces");
    c.goto(&format!("http://{addr}/_traces")).await?;

    // Overview -> the name's traces -> the newest trace.
    c.find(Locator::LinkText("POST /summarize"))
        .await?
        .click()
        .await?;
    assert!(c
        .current_url()
        .await?
        .as_str()
        .contains("/_traces/traces?name="));
    let rows = c.find_all(Locator::Css("table.traces tbody tr")).await?;
    assert_eq!(rows.len(), 2);
    c.find(Locator::Css("table.traces tbody tr td.id a"))
        .await?
        .click()
        .await?;
    assert!(c.current_url().await?.path().starts_with("/_traces/trace/"));

    // The waterfall: the server span, then its children in the order they started.
    let spans = c.find_all(Locator::Css("details.span")).await?;
    let mut tree = Vec::new();
    for s in &spans {
        let depth = s.attr("data-depth").await?.unwrap_or_default();
        let name = s.find(Locator::Css("summary .name")).await?.text().await?;
        tree.push(format!("{depth} {name}"));
    }
    assert_eq!(
        tree,
        [
            "0 POST /summarize",
            "1 POST /summarize http receive",
            "1 summarize.model",
            "1 POST /summarize http send",
            "1 POST /summarize http send",
        ]
    );
    // Children are indented under the server span, and their bars start within its bar.
    let label_x = |i: usize| {
        let s = &spans[i];
        async move {
            s.find(Locator::Css("summary .name"))
                .await?
                .rectangle()
                .await
                .map(|r| r.0)
        }
    };
    assert!(label_x(1).await? > label_x(0).await?);

    // Details are closed until the span is clicked.
    let send_span = &spans[3];
    let info = send_span.find(Locator::Css(".info")).await?;
    assert!(!info.is_displayed().await?);
    send_span
        .find(Locator::Css("summary"))
        .await?
        .click()
        .await?;
    assert!(info.is_displayed().await?);
    let details = info.text().await?;
    for expected in [
        "Span id",
        "Parent id",
        "Duration",
        "http.response.start",
        "Resource",
        "service.name",
    ] {
        assert!(details.contains(expected), "{expected} in {details}");
    }

    // The hostile user agent: shown as text, no element made from it, no script ran.
    c.goto(&format!(
        "http://{addr}/_traces/traces?name=GET%20%2Fstream"
    ))
    .await?;
    c.find(Locator::Css("table.traces tbody tr td.id a"))
        .await?
        .click()
        .await?;
    spans_summary(c, 0).await?.click().await?;
    let text = c
        .find(Locator::Css("details.span .info"))
        .await?
        .text()
        .await?;
    assert!(
        text.contains("<script>document.title='pwned'</script>"),
        "{text}"
    );
    assert!(c.find_all(Locator::Css("script, img")).await?.is_empty());
    assert_ne!(c.title().await?, "pwned");

    // The README's screenshot: the summarize trace with its last span open.
    c.goto(&format!(
        "http://{addr}/_traces/traces?name=POST%20%2Fsummarize"
    ))
    .await?;
    let link = c
        .find(Locator::Css("table.traces tbody tr:last-child td.id a"))
        .await?;
    link.click().await?;
    spans_summary(c, 4).await?.click().await?;
    c.screenshot().await
}

async fn spans_summary(
    c: &Client,
    i: usize,
) -> Result<fantoccini::elements::Element, fantoccini::error::CmdError> {
    let spans = c.find_all(Locator::Css("details.span")).await?;
    spans[i].find(Locator::Css("summary")).await
}

async fn texts(c: &Client, css: &str) -> Result<Vec<String>, fantoccini::error::CmdError> {
    let mut out = Vec::new();
    for e in c.find_all(Locator::Css(css)).await? {
        out.push(e.text().await?);
    }
    Ok(out)
}
