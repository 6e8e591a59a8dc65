//! Bounded concurrent exports, so delivery survives a flaky link: exports stuck
//! on a collector that hangs do not hold back the batches after them. The
//! network exporters run up to four exports at once, so with three stalled the
//! fourth still goes out, is answered and counted; once the stalls end, every
//! span is exported exactly once and the accounting is exact.
//! Nothing here asserts on timing: every wait is only bounded.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::accounting::{assert_exactly_once, settle_async, Delivery};
use crate::common::wire::{self, WireSpan};
use crate::common::{layer_with_env, post_summarize, sample_all, send, traced};
use tower_otel_tracing::config::ExporterType;
use tower_otel_tracing::TracingLayer;

/// Exports held by the collector: one less than the exporters' bound of four.
const STALLED: usize = 3;

/// An OTLP/HTTP collector on loopback that holds the first `stall` requests
/// unanswered until released (a collector that hangs), answers every other one
/// 200 at once, and records the spans of each request it answered.
struct StallingCollector {
    addr: SocketAddr,
    held: Arc<AtomicUsize>,
    release: Arc<AtomicBool>,
    answered: Arc<Mutex<Vec<WireSpan>>>,
}

impl StallingCollector {
    fn start(stall: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let collector = StallingCollector {
            addr,
            held: Arc::default(),
            release: Arc::default(),
            answered: Arc::default(),
        };
        let arrived = Arc::new(AtomicUsize::new(0));
        let (held, release, answered) = (
            collector.held.clone(),
            collector.release.clone(),
            collector.answered.clone(),
        );
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let (arrived, held, release, answered) = (
                    arrived.clone(),
                    held.clone(),
                    release.clone(),
                    answered.clone(),
                );
                std::thread::spawn(move || {
                    serve(conn, stall, &arrived, &held, &release, &answered);
                });
            }
        });
        collector
    }

    fn url(&self) -> String {
        format!("http://{}/v1/traces", self.addr)
    }

    fn held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }

    fn answered(&self) -> Vec<WireSpan> {
        self.answered.lock().unwrap().clone()
    }

    fn release(&self) {
        self.release.store(true, Ordering::SeqCst);
    }
}

impl Drop for StallingCollector {
    fn drop(&mut self) {
        self.release();
    }
}

/// One connection's requests (keep-alive), each read whole by its Content-Length.
fn serve(
    mut conn: TcpStream,
    stall: usize,
    arrived: &AtomicUsize,
    held: &AtomicUsize,
    release: &AtomicBool,
    answered: &Mutex<Vec<WireSpan>>,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            match conn.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse().unwrap());
        while buf.len() < end + 4 + length {
            match conn.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body: Vec<u8> = buf.drain(..end + 4 + length).skip(end + 4).collect();
        if arrived.fetch_add(1, Ordering::SeqCst) < stall {
            held.fetch_add(1, Ordering::SeqCst);
            while !release.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        answered
            .lock()
            .unwrap()
            .extend(wire::otlp(&body, head.contains("content-encoding: gzip")));
        let ok =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n";
        if conn.write_all(ok).is_err() {
            return;
        }
    }
}

/// Waits (bounded) until `done`, or fails saying `what` never happened.
fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// One request through the layer, its spans exported by the batch timer.
async fn one_request(layer: &TracingLayer, i: usize) {
    let text = format!("request {i}");
    let (status, body) = send(traced(layer), post_summarize(&text)).await;
    assert_eq!((status.as_u16(), &body[..]), (200, text.as_bytes()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_exports_do_not_hold_back_the_batches_after_them() {
    let collector = StallingCollector::start(STALLED);
    let mut cfg = sample_all();
    cfg.exporter_type = Some(ExporterType::Otlp);
    cfg.otlp.endpoint = Some(collector.url());
    // Longer than any wait here: a stalled export ends only when released.
    cfg.timeout = Some(60.0);
    let layer = layer_with_env(cfg, &[("OTEL_BSP_SCHEDULE_DELAY", "10")]);

    // Each request's batch goes out on its own and hangs at the collector.
    for i in 0..STALLED {
        one_request(&layer, i).await;
        let c = &collector;
        tokio::task::block_in_place(|| {
            wait_until(
                &format!(
                    "export {} reached the collector while {i} hung (one stall held back the rest)",
                    i + 1
                ),
                || c.held() == i + 1,
            )
        });
    }
    let stalled = layer.pipeline().stats();
    assert_eq!(stalled.exported + stalled.failed, 0, "{stalled:?}");

    // The next one is exported, answered and counted while they still hang.
    one_request(&layer, STALLED).await;
    let c = &collector;
    let pipeline = layer.pipeline().clone();
    tokio::task::block_in_place(|| {
        wait_until(
            &format!("a batch exported past {STALLED} hung exports"),
            || !c.answered().is_empty() && pipeline.stats().exported > 0,
        )
    });
    assert_eq!(collector.held(), STALLED, "still hung");
    let moving = layer.pipeline().stats();
    assert_eq!(
        moving.exported as usize,
        collector.answered().len(),
        "exported counts what the collector answered: {moving:?}"
    );
    assert_eq!(moving.failed, 0, "{moving:?}");

    // The stalls end: everything is exported, once, and the counts are exact.
    collector.release();
    let stats = settle_async(layer.pipeline(), "after the stalls").await;
    assert_eq!(
        (stats.exported, stats.failed, stats.dropped),
        (stats.started, 0, 0),
        "{stats:?}"
    );
    let got = Delivery::of(wire::ids(&collector.answered()));
    assert_exactly_once(&stats, &got, "after the stalls");
}

/// A flush waits for the exports still under way and reports their outcome:
/// after it, the counters hold the answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flush_waits_for_the_exports_under_way() {
    let collector = StallingCollector::start(0);
    let mut cfg = sample_all();
    cfg.exporter_type = Some(ExporterType::Otlp);
    cfg.otlp.endpoint = Some(collector.url());
    let layer = layer_with_env(cfg, &[]);
    for i in 0..20 {
        one_request(&layer, i).await;
    }
    let pipeline = layer.pipeline().clone();
    tokio::task::spawn_blocking(move || pipeline.force_flush())
        .await
        .unwrap()
        .unwrap();
    let stats = layer.pipeline().stats();
    assert_eq!(
        (stats.exported, stats.queued),
        (stats.started, 0),
        "{stats:?}"
    );
    assert_eq!(collector.answered().len() as u64, stats.exported);
}
