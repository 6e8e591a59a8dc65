//! A failing collector never slows or breaks a request, memory stays bounded,
//! loss is counted, and nothing finished before shutdown is lost.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::accounting::{
    assert_delivery, assert_exactly_once, assert_invariant, settle, settle_async, Delivery,
    Guarantee,
};
use crate::common::receiver::{dead_addr, Receiver};
use crate::common::*;
use axum::routing::post;
use axum::Router;
use tower::ServiceExt;
use tower_otel_tracing::config::ExporterType;
use tower_otel_tracing::{TracingConfig, TracingLayer};

/// Accepts connections and never answers: the worst collector there is.
struct BlackHole {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl BlackHole {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            while !st.load(Ordering::SeqCst) {
                if let Ok((mut s, _)) = listener.accept() {
                    let _ = s.set_read_timeout(Some(Duration::from_millis(1)));
                    let mut buf = [0u8; 4096];
                    let _ = s.read(&mut buf);
                    held.push(s);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        BlackHole { port, stop }
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn layer(ty: ExporterType, endpoint: &str, vars: &[(&str, &str)]) -> TracingLayer {
    let mut cfg = TracingConfig {
        exporter_type: Some(ty),
        sample_rate: Some(1.0),
        timeout: Some(1.0),
        ..Default::default()
    };
    cfg.zipkin.endpoint = Some(endpoint.to_owned());
    cfg.otlp.endpoint = Some(endpoint.to_owned());
    layer_with_env(cfg, vars)
}

fn plain_app(layer: &TracingLayer) -> Router {
    Router::new()
        .route("/summarize", post(|text: String| async move { text }))
        .layer(layer.clone())
}

/// Requests through the layer, each bounded: a request that waited on export
/// would hit the bound.
async fn serve_requests(layer: &TracingLayer, n: usize) {
    let app = plain_app(layer);
    for i in 0..n {
        let body = format!("request {i}");
        let resp = tokio::time::timeout(
            Duration::from_secs(5),
            app.clone().oneshot(post_summarize(&body)),
        )
        .await
        .expect("a request never waits on the exporter")
        .unwrap();
        assert_eq!(resp.status(), 200);
        let got = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes();
        assert_eq!(got, body.as_bytes());
    }
}

#[tokio::test]
async fn every_kind_of_broken_collector_leaves_requests_alone() {
    let hole = BlackHole::start();
    let slow = Receiver::start();
    slow.delay(Duration::from_secs(3));
    let failing = Receiver::start();
    failing.respond_with(500);
    let throttling = Receiver::start();
    throttling.respond_with(429);
    let cases = [
        (
            ExporterType::Zipkin,
            format!("http://{}/api/v2/spans", dead_addr()),
            None,
            "refused",
        ),
        (
            ExporterType::Zipkin,
            format!("http://127.0.0.1:{}/api/v2/spans", hole.port),
            None,
            "black hole",
        ),
        (
            ExporterType::Otlp,
            format!("http://127.0.0.1:{}/v1/traces", hole.port),
            None,
            "black hole",
        ),
        (
            ExporterType::Zipkin,
            slow.url("/api/v2/spans"),
            Some(&slow),
            "slow",
        ),
        (
            ExporterType::Zipkin,
            failing.url("/api/v2/spans"),
            Some(&failing),
            "500",
        ),
        (
            ExporterType::Otlp,
            throttling.url("/v1/traces"),
            Some(&throttling),
            "429",
        ),
    ];
    for (ty, endpoint, receiver, what) in cases {
        let layer = layer(ty, &endpoint, &[("OTEL_BSP_SCHEDULE_DELAY", "10")]);
        serve_requests(&layer, 30).await;
        // Flushes from a blocking thread: it waits for the (failing) export.
        let stats = settle_async(layer.pipeline(), what).await;
        assert_eq!(stats.started, 30 * 4, "{what}");
        assert!(stats.failed > 0, "{what}: failures are counted: {stats:?}");
        assert_eq!(stats.exported, 0, "{what}");
        // What a receiver that answered with an error got is still accounted for:
        // never more than was sent, never twice from a transport without retries.
        let got = Delivery::of(
            receiver.map_or_else(Vec::new, |r| wire::ids(&wire::captured(&r.requests()))),
        );
        let guarantee = match ty {
            ExporterType::Otlp => Guarantee::AtLeastOnce,
            _ => Guarantee::ExactlyOnce,
        };
        assert_delivery(&stats, &got, guarantee, what);
    }
}

#[tokio::test]
async fn jaeger_agent_port_with_nothing_listening() {
    let mut cfg = TracingConfig {
        exporter_type: Some(ExporterType::Jaeger),
        sample_rate: Some(1.0),
        ..Default::default()
    };
    cfg.jaeger.thrift.agent_host_name = Some("127.0.0.1".into());
    cfg.jaeger.thrift.agent_port = Some(dead_addr().port());
    let layer = TracingLayer::builder(cfg)
        .install_global(false)
        .build()
        .unwrap();
    serve_requests(&layer, 20).await;
    // UDP is fire-and-forget: the datagrams leave, nothing waits or fails.
    let stats = settle_async(layer.pipeline(), "jaeger agent, nothing listening").await;
    assert_eq!(stats.started, 80);
    assert_eq!((stats.exported, stats.failed), (80, 0), "{stats:?}");
}

#[tokio::test]
async fn a_full_queue_drops_and_counts_instead_of_growing() {
    let hole = BlackHole::start();
    let layer = layer(
        ExporterType::Zipkin,
        &format!("http://127.0.0.1:{}/api/v2/spans", hole.port),
        &[
            ("OTEL_BSP_MAX_QUEUE_SIZE", "16"),
            ("OTEL_BSP_SCHEDULE_DELAY", "60000"),
        ],
    );
    serve_requests(&layer, 50).await;
    let stats = layer.pipeline().stats();
    assert_eq!(stats.started, 200);
    assert!(stats.dropped >= 200 - 16, "{stats:?}");
    assert!(stats.queued <= 16, "the queue is bounded: {stats:?}");
    assert_invariant(&stats, "full queue");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_delivers_the_complete_tree_of_10000_requests_exactly_once() {
    const N: usize = 10_000;
    let rx = Receiver::start();
    let layer = layer(
        ExporterType::Zipkin,
        &rx.url("/api/v2/spans"),
        &[("OTEL_BSP_MAX_QUEUE_SIZE", "100000")],
    );
    let guard = layer.guard();
    let app = plain_app(&layer);
    for i in 0..N {
        let resp = app
            .clone()
            .oneshot(post_summarize(&format!("r{i}")))
            .await
            .unwrap();
        http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap();
    }
    drop(app);
    let stats_before = layer.pipeline().stats();
    assert_invariant(&stats_before, "before shutdown");
    let pipeline = layer.pipeline().clone();
    drop(layer);
    tokio::task::spawn_blocking(move || guard.shutdown())
        .await
        .unwrap()
        .unwrap();
    let stats = pipeline.stats();

    let mut by_trace: HashMap<String, Vec<serde_json::Value>> = HashMap::new();
    let mut ids = HashSet::new();
    for post in rx.requests() {
        let spans: Vec<serde_json::Value> = serde_json::from_slice(&post.body).unwrap();
        for s in spans {
            assert!(
                ids.insert(s["id"].as_str().unwrap().to_owned()),
                "span exported twice"
            );
            by_trace
                .entry(s["traceId"].as_str().unwrap().to_owned())
                .or_default()
                .push(s);
        }
    }
    assert_eq!(stats_before.dropped, 0);
    assert_eq!(stats.started, 4 * N as u64);
    let got = Delivery::of(wire::ids(&wire::captured(&rx.requests())));
    assert_exactly_once(&stats, &got, "10000 requests");
    assert_eq!(by_trace.len(), N, "one trace per request");
    for spans in by_trace.values() {
        assert_eq!(spans.len(), 4, "server, receive, start, body: {spans:#?}");
        let server = spans.iter().find(|s| s["kind"] == "SERVER").unwrap();
        for child in spans.iter().filter(|s| s["kind"] != "SERVER") {
            assert_eq!(child["parentId"], server["id"]);
        }
    }
}

#[tokio::test]
async fn shutdown_with_a_dead_collector_returns_and_counts_the_loss() {
    let hole = BlackHole::start();
    let layer = layer(
        ExporterType::Zipkin,
        &format!("http://127.0.0.1:{}/api/v2/spans", hole.port),
        &[("OTEL_BSP_SCHEDULE_DELAY", "60000")],
    );
    serve_requests(&layer, 10).await;
    let guard = layer.guard();
    let stats = layer.clone();
    drop(layer);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(guard.shutdown());
    });
    // Bounded wait, far above the 1 s export timeout: it must not hang.
    let result = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("shutdown returned");
    assert!(
        result.is_err() || stats.pipeline().stats().failed == 40,
        "{result:?}"
    );
    assert_eq!(
        stats.pipeline().stats().failed,
        40,
        "{:?}",
        stats.pipeline().stats()
    );
    let stats = stats.pipeline().stats();
    assert_invariant(&stats, "shutdown, dead collector");
    assert_eq!((stats.started, stats.queued), (40, 0), "{stats:?}");
}

/// A writer that keeps what the subscriber logs.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn export_failures_are_logged_once_not_per_batch() {
    // Exports run on the batch processor's own thread: only a global subscriber
    // sees them. Other tests in this binary may log too; lines are told apart by
    // this test's collector address.
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let failing = Receiver::start();
    failing.respond_with(500);
    let endpoint = failing.url("/api/v2/spans");
    let layer = layer(ExporterType::Zipkin, &endpoint, &[]);
    let tracer =
        opentelemetry::trace::TracerProvider::tracer(layer.pipeline().tracer_provider(), "t");
    for _ in 0..5 {
        opentelemetry::trace::Tracer::in_span(&tracer, "work", |_| {});
        let _ = layer.pipeline().force_flush();
    }
    let stats = settle(layer.pipeline(), "logged failures");
    assert_eq!((stats.started, stats.failed), (5, 5), "{stats:?}");
    assert_delivery(
        &stats,
        &Delivery::of(wire::ids(&wire::captured(&failing.requests()))),
        Guarantee::ExactlyOnce,
        "logged failures",
    );
    assert_eq!(failing.requests().len(), 5);
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("export of") && l.contains(&endpoint))
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].contains("HTTP 500"), "{text}");
}
