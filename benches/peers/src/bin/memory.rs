//! Memory per stack: heap allocations per request, and whether the live heap or the
//! RSS grows once warm.
//!
//! ```text
//! cargo run --release -p peers --bin memory [requests] [stack ...]
//! ```
//!
//! For each stack: 20,000 warm-up requests, a flush (so no span waits in a queue),
//! then `requests` more and another flush. A stack that keeps nothing per request
//! ends with the live heap where it started.
//!
//! Requests go in rounds of 256 with a flush after each, and every span is checked
//! to have reached the exporter: with the SDK's default queue (2,048 spans) a
//! stack whose export thread falls behind would otherwise drop spans, and count
//! fewer allocations for the work it never did.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is passed on to the system allocator unchanged; the counters
// only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        LIVE_BYTES.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let requests: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(200_000);
    let mut stacks: Vec<String> = args.collect();
    if stacks.is_empty() {
        stacks = peers::STACKS.iter().map(|s| s.to_string()).collect();
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    println!(
        "| stack | allocations/request | live heap change after {requests} requests | RSS change |"
    );
    println!("| --- | ---: | ---: | ---: |");
    for name in &stacks {
        let options = peers::Options {
            queue: 2048,
            ..Default::default()
        };
        let stack = peers::build_with(name, &options);
        let guard = stack
            .dispatch
            .as_ref()
            .map(tracing::dispatcher::set_default);
        const ROUND: usize = 256;
        let run = |n: usize| {
            for round in (0..n).step_by(ROUND) {
                rt.block_on(async {
                    for _ in round..n.min(round + ROUND) {
                        let (status, body) = stack.app.call(peers::request()).await;
                        assert!(status.is_success());
                        std::hint::black_box(body);
                    }
                });
                stack.flush();
            }
        };
        run(20_000);
        stack.check(20_000);
        let (allocs0, live0, rss0) = (
            ALLOCATIONS.load(Ordering::Relaxed),
            LIVE_BYTES.load(Ordering::Relaxed),
            rss_kib(),
        );
        run(requests);
        stack.check(20_000 + requests as u64);
        let (allocs1, live1, rss1) = (
            ALLOCATIONS.load(Ordering::Relaxed),
            LIVE_BYTES.load(Ordering::Relaxed),
            rss_kib(),
        );
        println!(
            "| {name} | {:.1} | {:+} bytes | {:+} KiB |",
            (allocs1 - allocs0) as f64 / requests as f64,
            live1 - live0,
            rss1 as i64 - rss0 as i64,
        );
        drop(guard);
        stack.shutdown();
    }
}
