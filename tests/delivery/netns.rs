//! A slow link made by the test itself: a network namespace (`ip netns`) whose
//! loopback is rate-limited to 100 kbit/s by a `tbf` qdisc. The test binary runs
//! itself again inside it (`ip netns exec`, the child mode chosen by an
//! environment variable), with only this test selected (its full name and
//! `--exact`: the binary holds other tests); the child serves the traced app
//! and a Zipkin receiver on that loopback, sends requests over it, and checks
//! that they are answered as by the bare service, that the accounting invariant
//! holds and that every span arrived, once. The namespace is always deleted.
//!
//! Needs root and iproute2. Without them the test prints
//! `netns test: skipped (<reason>)` and passes; when it ran it prints
//! `netns test: ran in namespace <name>` (CI fails unless it sees that line).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::accounting::{assert_exactly_once, settle_async, Delivery};
use crate::common::receiver::Receiver;
use crate::common::{layer_with_env, serve_loopback, wire};
use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use http_body_util::BodyExt;
use tower_otel_tracing::config::ExporterType;
use tower_otel_tracing::TracingConfig;

/// Set (to the namespace's name) in the child that runs inside the namespace.
const CHILD: &str = "TOWER_OTEL_NETNS_CHILD";
const TEST_FN: &str = "rate_limited_loopback_in_a_namespace";
const REQUESTS: usize = 10;
/// What the child prints when every check passed.
const CHILD_OK: &str = "netns child: ok";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_loopback_in_a_namespace() {
    if let Ok(name) = std::env::var(CHILD) {
        child(&name).await;
        println!("{CHILD_OK}");
        return;
    }
    let ns = match Namespace::create() {
        Ok(ns) => ns,
        Err(reason) => {
            println!("netns test: skipped ({reason})");
            return;
        }
    };
    let exe = std::env::current_exe().unwrap();
    let child = Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(&exe)
        .args(crate::common::only_this_test(module_path!(), TEST_FN))
        .env(CHILD, &ns.name)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the test binary inside the namespace");
    let output = wait_bounded(child, Duration::from_secs(180));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains(CHILD_OK),
        "the child in namespace {} failed ({}):\n{stdout}\n{stderr}",
        ns.name,
        output.status
    );
    // The harness may print a test's output after its own `test ... ` on a line.
    for line in stdout
        .lines()
        .filter_map(|l| l.find("netns child").map(|at| &l[at..]))
    {
        println!("{line}");
    }
    println!("netns test: ran in namespace {}", ns.name);
}

/// Waits for the child, killing it after `bound`.
fn wait_bounded(mut child: std::process::Child, bound: Duration) -> std::process::Output {
    let deadline = Instant::now() + bound;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// A namespace of our own, deleted on drop.
struct Namespace {
    name: String,
}

impl Namespace {
    /// The namespace with `lo` up and rate-limited, or why it cannot be made.
    fn create() -> Result<Self, String> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return Err("not root".into());
        }
        match Command::new("ip").arg("-V").output() {
            Ok(out) if out.status.success() => {}
            Ok(out) => return Err(format!("`ip -V` failed: {}", out.status)),
            Err(e) => return Err(format!("no `ip` command: {e}")),
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("totel-{}-{nanos:x}", std::process::id());
        run(&["ip", "netns", "add", &name])?;
        // From here on, drop deletes it whatever fails.
        let ns = Namespace { name };
        // An Ethernet MTU: the bucket (burst 16 kbit, 2000 bytes) can never pass
        // a packet larger than itself, and loopback's own 64 kB MTU makes such
        // packets (tbf drops them, and the connection times out).
        run(&[
            "ip", "-n", &ns.name, "link", "set", "lo", "mtu", "1500", "up",
        ])?;
        run(&[
            "ip", "netns", "exec", &ns.name, "tc", "qdisc", "add", "dev", "lo", "root", "tbf",
            "rate", "100kbit", "burst", "16kbit", "latency", "400ms",
        ])?;
        Ok(ns)
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn run(args: &[&str]) -> Result<(), String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("`{}`: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn routes() -> Router {
    Router::new().route("/echo", post(|body: String| async move { body }))
}

/// One POST over the (rate-limited) loopback, bounded.
async fn post_over_loopback(addr: std::net::SocketAddr, body: String) -> (StatusCode, Bytes) {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Body>();
    let req = http::Request::post(format!("http://{addr}/echo"))
        .header("content-type", "text/plain")
        .body(Body::from(body))
        .unwrap();
    tokio::time::timeout(Duration::from_secs(30), async move {
        let resp = client.request(req).await.expect("an answer");
        let status = resp.status();
        (status, resp.into_body().collect().await.unwrap().to_bytes())
    })
    .await
    .expect("a request never waits on the exporter")
}

/// Inside the namespace: the traced app and the receiver on the slow loopback.
async fn child(name: &str) {
    let qdisc = Command::new("tc")
        .args(["qdisc", "show", "dev", "lo"])
        .output()
        .expect("tc");
    let qdisc = String::from_utf8_lossy(&qdisc.stdout);
    assert!(
        qdisc.contains("tbf"),
        "the child runs behind the rate limit: {qdisc}"
    );
    let rx = Receiver::start();
    let mut cfg = TracingConfig {
        exporter_type: Some(ExporterType::Zipkin),
        sample_rate: Some(1.0),
        ..Default::default()
    };
    cfg.zipkin.endpoint = Some(rx.url("/api/v2/spans"));
    let layer = layer_with_env(cfg, &[("OTEL_BSP_SCHEDULE_DELAY", "100")]);
    let (traced, traced_task) = serve_loopback(routes().layer(layer.clone())).await;
    let (bare, bare_task) = serve_loopback(routes()).await;
    let started = Instant::now();
    for i in 0..REQUESTS {
        // Bodies of a kB, several packets each on the slow link.
        let body = format!("request {i} ") + &"x".repeat(1000);
        let got = post_over_loopback(traced, body.clone()).await;
        let want = post_over_loopback(bare, body).await;
        assert_eq!(got, want, "request {i} answered as by the bare service");
        assert_eq!(got.0, StatusCode::OK);
    }
    let stats = settle_async(layer.pipeline(), "netns").await;
    let posts = rx.requests();
    let spans = wire::captured(&posts);
    assert_exactly_once(&stats, &Delivery::of(wire::ids(&spans)), "netns");
    // One tree per request: the server span, and under it a receive span per
    // body frame (a slow link may cut a body in several), start and body.
    let servers: Vec<_> = spans.iter().filter(|s| s.name == "POST /echo").collect();
    assert_eq!(servers.len(), REQUESTS);
    for server in &servers {
        assert_eq!(server.parent_id, None, "{server:?}");
        let mut children: Vec<&str> = spans
            .iter()
            .filter(|s| s.parent_id.as_deref() == Some(server.span_id.as_str()))
            .map(|s| s.name.as_str())
            .collect();
        children.sort_unstable();
        children.dedup();
        assert_eq!(
            children,
            ["POST /echo http receive", "POST /echo http send"],
            "{server:?}"
        );
    }
    let in_trees = spans
        .iter()
        .filter(|s| {
            s.parent_id.is_none()
                || servers
                    .iter()
                    .any(|p| s.parent_id.as_deref() == Some(p.span_id.as_str()))
        })
        .count();
    assert_eq!(in_trees, spans.len(), "every span is in a request's tree");
    let bytes: usize = posts.iter().map(|p| p.body.len()).sum();
    println!(
        "netns child: in {name}, {} requests answered as bare, {} spans exported in {} posts \
         ({bytes} bytes of JSON), {:.1} s in all over 100 kbit/s",
        REQUESTS,
        stats.exported,
        posts.len(),
        started.elapsed().as_secs_f64()
    );
    traced_task.abort();
    bare_task.abort();
    // The spans are in; nothing the layer holds may keep the child alive.
    let _ = tokio::task::spawn_blocking(move || drop(layer)).await;
}
