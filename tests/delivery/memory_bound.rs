//! Memory stays bounded while the collector is down: 1,000,000 sampled
//! requests through the layer while the Zipkin exporter talks to a black hole
//! (a listener that accepts and never answers).
//!
//! The bound: peak RSS (`VmHWM`) during the run stays within the RSS before it
//! plus `max_queue_size × SPAN_BYTES_BOUND + CONSTANT_BOUND`. `SPAN_BYTES_BOUND` is
//! checked too: the live heap per queued span is measured with a counting
//! allocator at two queue sizes (the difference of the two full queues divided by
//! the difference of their sizes, so the fixed costs cancel), and must stay
//! under it.
//!
//! The accounting, derived from the queue's admission (`Counters::enqueue`): a
//! request's spans are dropped (all of them) only when `queued` (started -
//! exported - failed - dropped) leaves fewer than its spans free of
//! `max_queue_size`, and every span the queue took in fails at the black hole.
//! Requests run one at a time here, so one thread ends spans and the check is
//! exact (with many threads it is not: the `queue_race` module). So, with `A`
//! the stats when the last request has ended and `F` after settling:
//! - `A.queued <= max_queue_size` (and at every sample during the run);
//! - `F.failed == A.failed + A.queued`, `F.dropped == A.dropped`: nothing is
//!   dropped or taken in once the requests stop;
//! - `F.dropped == F.started - F.failed`: the dropped count is exactly the
//!   overflow, every span the queue could not take;
//! - `F.failed >= max_queue_size`: nothing was dropped while there was room;
//! - `F.exported == 0`, `F.queued == 0`, and the invariant holds.
//!
//! The heap and RSS are the whole process's, and the binary holds other tests
//! that run in parallel: the test runs the binary again with only itself
//! selected (its full name and `--exact`, the child mode chosen by an
//! environment variable), and the checks run in that child, alone in its
//! process. The parent passes on the child's report and fails if the child
//! failed or did not run the test.
//!
//! Linux only (RSS from /proc/self/status); elsewhere it prints why it skipped.
//! Runs in `cargo test` in the debug profile; no timing is asserted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::convert::Infallible;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::accounting::{assert_invariant, settle_async};
use crate::common::layer_with_env;
use axum::body::Body;
use tower::{Layer, ServiceExt};
use tower_otel_tracing::config::ExporterType;
use tower_otel_tracing::pipeline::TracingStats;
use tower_otel_tracing::{TracingConfig, TracingLayer};

/// Set in the child that runs the test alone in its process.
const CHILD: &str = "TOWER_OTEL_MEMORY_BOUND_CHILD";
const TEST_FN: &str = "memory_stays_bounded_while_the_collector_is_down";
/// What the child prints when every check passed.
const CHILD_OK: &str = "memory bound child: ok";
/// What the test prints when it cannot measure.
const SKIPPED: &str = "memory bound test: skipped";

/// Requests in the long run (`MEMORY_BOUND_REQUESTS` overrides it, for a quick
/// look; the bound is stated for this many).
const REQUESTS: usize = 1_000_000;
/// The queue of the long run: the default `max_queue_size`.
const QUEUE: usize = 2048;
/// The larger queue the per-span cost is measured against.
const QUEUE_LARGE: usize = 8192;
/// Bytes a queued span may cost at most: the stated span size of the bound.
/// Measured: 600-800 bytes of live heap when the queue held `SpanData` (352
/// bytes itself); since it holds requests as records, 270-940 bytes
/// in three runs, as the full queue is a changing mix of records (a quarter of
/// a ~1 KiB record a span) and `SpanData` in the exports under way.
const SPAN_BYTES_BOUND: usize = 1280;
/// What the process may grow by beyond the queue: the layer and its exporter
/// (HTTP client, TLS roots, compiled patterns), the export batch under way and its
/// encoded body, thread stacks, allocator slack. Measured: about 9 MiB.
const CONSTANT_BOUND: usize = 16 << 20;
/// RSS growth allowed from 100,000 requests to the end: 4 bytes a request.
const FLAT_BOUND: usize = 4 << 20;

/// The global allocator, counting live bytes (for the per-span measurement).
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on to the system allocator unchanged; only a
// counter is updated beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc`, passed on.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc_zeroed`, passed on.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract for `realloc`, passed on.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(new_size, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A field of /proc/self/status in bytes (`VmRSS`, `VmHWM`); `None` off Linux.
fn proc_status(field: &str) -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: usize = line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

/// Accepts connections and never answers (nor reads): the exporter's every
/// attempt waits out its timeout. Holds at most a few hundred connections.
struct BlackHole {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BlackHole {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut held: Vec<TcpStream> = Vec::new();
            while !st.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((s, _)) => {
                        // Oldest first out past a few hundred: the exporter has
                        // given up on those long ago.
                        if held.len() >= 256 {
                            held.remove(0);
                        }
                        held.push(s);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        BlackHole {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn black_holed_layer(hole: &BlackHole, queue: usize, timeout: f64) -> TracingLayer {
    let mut cfg = TracingConfig {
        exporter_type: Some(ExporterType::Zipkin),
        sample_rate: Some(1.0),
        timeout: Some(timeout),
        ..Default::default()
    };
    cfg.zipkin.endpoint = Some(format!("http://127.0.0.1:{}/api/v2/spans", hole.port));
    let queue = queue.to_string();
    layer_with_env(
        cfg,
        &[
            ("OTEL_BSP_MAX_QUEUE_SIZE", &queue),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "512"),
        ],
    )
}

/// The bare service: answers with the request's own body, streamed back.
async fn echo<B>(req: http::Request<B>) -> Result<http::Response<B>, Infallible> {
    Ok(http::Response::new(req.into_body()))
}

/// One request through the layer, in process; checks the answer is the bare
/// service's. Bounded: a request that waited on the exporter would hit it.
async fn request<S, B>(svc: &S, i: usize)
where
    S: tower::Service<http::Request<Body>, Response = http::Response<B>, Error = Infallible>
        + Clone,
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let text = format!("request {i}");
    let req = http::Request::post("/summarize")
        .header("host", "svc.local:3000")
        .header("content-type", "text/plain")
        .body(Body::from(text.clone()))
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(10), svc.clone().oneshot(req))
        .await
        .expect("a request never waits on the exporter")
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(body, text.as_bytes());
}

/// Sends requests until the queue is full and spilling over, then as many again
/// while it stays full; the stats and the largest live heap seen while full (the
/// export under way holds a batch and its encoded body, and it is not always
/// under way at the same instant: the largest is the honest figure).
async fn fill<S, B>(svc: &S, layer: &TracingLayer, queue: usize) -> (TracingStats, usize)
where
    S: tower::Service<http::Request<Body>, Response = http::Response<B>, Error = Infallible>
        + Clone,
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let mut full = None;
    let mut heap = 0;
    for i in 0..queue * 4 {
        request(svc, i).await;
        let stats = layer.pipeline().stats();
        if stats.queued as usize >= queue && stats.dropped > 0 {
            heap = heap.max(LIVE.load(Ordering::SeqCst));
            full = Some(stats);
            if i >= queue {
                break;
            }
        }
    }
    let full = full.unwrap_or_else(|| {
        panic!(
            "the queue of {queue} never filled: {:?}",
            layer.pipeline().stats()
        )
    });
    (full, heap)
}

/// Runs this binary again with only this test selected, the child mode on, and
/// passes on what it printed; fails unless the child's checks all passed (or it
/// could not measure and said so).
fn run_alone_in_a_child() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(crate::common::only_this_test(module_path!(), TEST_FN))
        .env(CHILD, "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run the test binary again for the memory bound test alone");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The harness may print a test's output after its own `test ... ` on a line.
    for line in stdout
        .lines()
        .filter_map(|l| l.find("memory bound").map(|at| &l[at..]))
    {
        println!("{line}");
    }
    assert!(
        output.status.success() && (stdout.contains(CHILD_OK) || stdout.contains(SKIPPED)),
        "the memory bound test in a child process failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
}

#[tokio::test]
async fn memory_stays_bounded_while_the_collector_is_down() {
    if std::env::var_os(CHILD).is_none() {
        run_alone_in_a_child();
        return;
    }
    if proc_status("VmRSS:").is_none() {
        println!("{SKIPPED}: no /proc/self/status (RSS is read from Linux's procfs)");
        return;
    }
    let requests = std::env::var("MEMORY_BOUND_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(REQUESTS);
    let hole = BlackHole::start();

    // The long run: 1,000,000 requests, the default queue.
    let rss_base = proc_status("VmRSS:").unwrap();
    let heap_base = LIVE.load(Ordering::SeqCst);
    let layer = black_holed_layer(&hole, QUEUE, 1.0);
    let svc = layer.layer(tower::service_fn(echo));
    request(&svc, 0).await;
    let rss_start = proc_status("VmRSS:").unwrap();
    let started_at = Instant::now();
    let mut samples = Vec::new();
    let mut heap_samples = Vec::new();
    for i in 1..=requests {
        request(&svc, i).await;
        if i % 50_000 == 0 {
            let stats = layer.pipeline().stats();
            assert!(
                stats.queued as usize <= QUEUE,
                "queue over its bound: {stats:?}"
            );
            samples.push(proc_status("VmRSS:").unwrap());
            heap_samples.push(LIVE.load(Ordering::SeqCst));
        }
    }
    let elapsed = started_at.elapsed();
    let after_loop = layer.pipeline().stats();
    let peak = proc_status("VmHWM:").unwrap();
    // Topped up, so the heap is measured with the queue full.
    let (at_end, heap_full) = fill(&svc, &layer, QUEUE).await;
    drop(svc);
    let settled = settle_async(layer.pipeline(), "1,000,000 requests, black hole").await;

    // The same pipeline with a larger queue, after the long run (so its memory is
    // not in the peak): what a queued span costs is the difference of the two.
    let large_base = LIVE.load(Ordering::SeqCst);
    let large = black_holed_layer(&hole, QUEUE_LARGE, 0.5);
    let large_svc = large.layer(tower::service_fn(echo));
    let (large_full, large_heap_full) = fill(&large_svc, &large, QUEUE_LARGE).await;
    drop(large_svc);
    settle_async(large.pipeline(), "larger queue, black hole").await;
    drop(layer);
    drop(large);
    drop(hole);

    let small = heap_full.saturating_sub(heap_base) as f64;
    let big = large_heap_full.saturating_sub(large_base) as f64;
    let per_span = (big - small) / (QUEUE_LARGE - QUEUE) as f64;
    let fixed = small - per_span * QUEUE as f64;
    let spans_per_request = after_loop.started as f64 / (requests + 1) as f64;
    println!(
        "memory bound: {requests} requests ({spans_per_request:.1} spans each) in {:.1} s, \
         queue {QUEUE}",
        elapsed.as_secs_f64()
    );
    println!(
        "memory bound: RSS before the layer {:.1} MiB, after its first request {:.1} MiB, \
         peak (VmHWM) {:.1} MiB",
        mib(rss_base),
        mib(rss_start),
        mib(peak)
    );
    println!(
        "memory bound: RSS every 50,000 requests (MiB): {:?}",
        samples
            .iter()
            .map(|rss| (mib(*rss) * 10.0).round() / 10.0)
            .collect::<Vec<_>>()
    );
    println!("memory bound: stats when the requests ended: {at_end:?}");
    println!("memory bound: stats settled: {settled:?}");
    println!(
        "memory bound: live heap of the pipeline with its queue full: {:.2} MiB with {QUEUE} queued, \
         {:.2} MiB with {QUEUE_LARGE} queued: {per_span:.0} bytes per queued span \
         (size_of::<SpanData>() = {}), {:.2} MiB fixed",
        mib(small as usize),
        mib(big as usize),
        std::mem::size_of::<opentelemetry_sdk::trace::SpanData>(),
        mib(fixed.max(0.0) as usize)
    );
    let bound = rss_base + QUEUE * SPAN_BYTES_BOUND + CONSTANT_BOUND;
    println!(
        "memory bound: peak {:.1} MiB <= {:.1} MiB before the layer + {QUEUE} x \
         {SPAN_BYTES_BOUND} B + {:.0} MiB = {:.1} MiB",
        mib(peak),
        mib(rss_base),
        mib(CONSTANT_BOUND),
        mib(bound)
    );
    // A queued request is its record, not finished `SpanData`: its
    // spans share the record, so a span costs less than a `SpanData`, but never
    // less than a few words (its share of the record's ids, times and slot).
    assert!(
        per_span >= 64.0,
        "a queued span cannot cost under 64 bytes: the measurement is off ({per_span:.0})"
    );
    assert!(
        per_span <= SPAN_BYTES_BOUND as f64,
        "a queued span costs {per_span:.0} bytes, over the stated {SPAN_BYTES_BOUND}"
    );
    assert!(
        peak <= bound,
        "peak RSS {:.1} MiB over the bound {:.1} MiB",
        mib(peak),
        mib(bound)
    );

    // Flat after warm-up: from 100,000 requests on, the live heap grows by no
    // more than a leak of a few bytes per request would add. It is the live
    // heap that is checked, not RSS: since requests are built into spans on the
    // export thread, glibc's arena for that thread grows in steps
    // for a few hundred thousand requests (+3 to +4 MiB of RSS, measured, then
    // flat) while the live heap stays level; the peak bound above covers RSS.
    if samples.len() >= 4 {
        let growth = samples.last().unwrap().saturating_sub(samples[1]);
        let heap_growth = heap_samples.last().unwrap().saturating_sub(heap_samples[1]);
        println!(
            "memory bound: from 100,000 requests to the end, RSS grew {:.2} MiB and the live \
             heap {:.3} MiB (at most {:.0})",
            mib(growth),
            mib(heap_growth),
            mib(FLAT_BOUND)
        );
        assert!(
            heap_growth <= FLAT_BOUND,
            "the live heap grew {:.2} MiB after warm-up",
            mib(heap_growth)
        );
    }

    // The accounting.
    assert!(large_full.queued as usize <= QUEUE_LARGE, "{large_full:?}");
    assert!(at_end.started > requests as u64, "{at_end:?}");
    assert!(at_end.queued as usize <= QUEUE, "{at_end:?}");
    assert_eq!(
        settled.exported, 0,
        "a black hole accepts nothing: {settled:?}"
    );
    assert_eq!(settled.queued, 0, "{settled:?}");
    assert_eq!(settled.started, at_end.started, "{settled:?}");
    assert_eq!(
        settled.dropped, at_end.dropped,
        "nothing is dropped once the requests stop: {settled:?}"
    );
    assert_eq!(
        settled.failed,
        at_end.failed + at_end.queued,
        "what was queued when the requests stopped failed, nothing more: {at_end:?} {settled:?}"
    );
    assert_eq!(
        settled.dropped,
        settled.started - settled.failed,
        "the dropped count is the overflow: {settled:?}"
    );
    assert!(
        settled.failed >= QUEUE as u64,
        "nothing is dropped while the queue has room: {settled:?}"
    );
    assert_invariant(&settled, "1,000,000 requests, black hole");
    println!("{CHILD_OK}");
}
