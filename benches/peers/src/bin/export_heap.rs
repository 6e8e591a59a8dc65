//! Live heap vs RSS on the export side: is growth a leak or the allocator keeping
//! memory? N requests through this crate's layer (sample rate 1.0, the full tree,
//! four spans a request) exported by one of our network exporters (up to four
//! exports at once on worker threads) to `export_loop sink`, a loopback collector
//! in its own process that answers 200.
//!
//! ```text
//! cargo build --release -p peers --bin export_heap --bin export_loop
//! export_heap <exporter> <port> <phases>      # zipkin | otlp | jaeger_collector
//! export_heap zipkin 4318 50000,50000,100000,200000
//! export_heap zipkin 4318 50000,50000,20000d,50000,20000d,50000
//! MALLOC_ARENA_MAX=2 export_heap zipkin 4318 ...
//! ```
//!
//! `phases` is the number of requests of each phase; a phase ending in `d` runs
//! with the sink down (killed: connections refused, every export fails). The sink
//! is `export_loop sink <port>`, started from the directory of this binary. After
//! each phase: a flush (no span waits in the queue or in an export), then one row
//! with the live heap (bytes allocated and not freed, counted by the global
//! allocator below), its peak during the phase, the live blocks, RSS, threads, and
//! glibc's own view (`mallinfo2`: bytes its heaps took from the OS, in use, free in
//! them). At the end, the change of live blocks by size class from the first row
//! to the last, glibc's `malloc_stats` per arena on stderr, and RSS before and
//! after `malloc_trim(0)` (the allocator's free memory given back to the OS).
//!
//! A live heap flat from row to row with RSS growing is memory freed by our code
//! and kept by the allocator (the arenas of the export threads, fragmentation),
//! not a leak.
//!
//! The batch settings are the SDK's defaults (a queue of 2,048 spans, 512 a batch,
//! 5 s delay), those of the soak: the request loop outruns the exporter, so
//! batches are full, the queue drops some spans, and all four workers export.

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use tower_otel_tracing::TracingLayer;

struct Counting;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);
static LIVE_BLOCKS: AtomicIsize = AtomicIsize::new(0);
/// The highest live heap since the last row (the spans queued and in export).
static PEAK_BYTES: AtomicIsize = AtomicIsize::new(0);
/// Live blocks by size class: class `k` holds sizes in `[2^(k-1), 2^k)`.
static BY_CLASS: [AtomicIsize; 40] = [const { AtomicIsize::new(0) }; 40];

fn class(size: usize) -> usize {
    (usize::BITS - size.leading_zeros()).min(39) as usize
}

fn count(size: usize, blocks: isize) {
    let bytes = blocks * size as isize;
    let live = LIVE_BYTES.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK_BYTES.fetch_max(live, Ordering::Relaxed);
    LIVE_BLOCKS.fetch_add(blocks, Ordering::Relaxed);
    BY_CLASS[class(size)].fetch_add(blocks, Ordering::Relaxed);
}

// SAFETY: every call is passed on to the system allocator unchanged; the counters
// only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size(), 1);
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size(), 1);
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(layout.size(), -1);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(layout.size(), -1);
        count(new_size, 1);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// glibc's allocator statistics (`mallinfo2`, glibc 2.33+), summed over its arenas.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod glibc {
    #[repr(C)]
    #[derive(Default)]
    pub struct MallInfo2 {
        pub arena: usize,
        pub ordblks: usize,
        pub smblks: usize,
        pub hblks: usize,
        pub hblkhd: usize,
        pub usmblks: usize,
        pub fsmblks: usize,
        pub uordblks: usize,
        pub fordblks: usize,
        pub keepcost: usize,
    }

    extern "C" {
        fn mallinfo2() -> MallInfo2;
        fn malloc_stats();
        fn malloc_trim(pad: usize) -> i32;
    }

    /// (bytes the arenas took from the OS, including mmapped blocks; in use; free
    /// inside the arenas).
    pub fn info() -> Option<(usize, usize, usize)> {
        // SAFETY: mallinfo2 takes no arguments and returns a plain struct.
        let m = unsafe { mallinfo2() };
        Some((m.arena + m.hblkhd, m.uordblks + m.hblkhd, m.fordblks))
    }

    pub fn stats() {
        // SAFETY: malloc_stats only prints to stderr.
        unsafe { malloc_stats() }
    }

    /// Gives the free memory of every arena back to the OS.
    pub fn trim() {
        // SAFETY: malloc_trim only releases free memory.
        unsafe { malloc_trim(0) };
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod glibc {
    pub fn info() -> Option<(usize, usize, usize)> {
        None
    }

    pub fn stats() {}

    pub fn trim() {}
}

fn status_field(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn mib(bytes: f64) -> f64 {
    bytes / (1024.0 * 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [exporter, port, phases] = args.as_slice() else {
        panic!("usage: export_heap <zipkin|otlp|jaeger_collector> <port> <requests[d],...>");
    };
    let port: u16 = port.parse().expect("port");
    let phases: Vec<(u64, bool)> = phases
        .split(',')
        .map(|p| match p.strip_suffix('d') {
            Some(n) => (n.parse().expect("requests"), true),
            None => (p.parse().expect("requests"), false),
        })
        .collect();

    let mut sink = Some(start_sink(port));
    let layer = layer(exporter, port);
    let app = peers::router().layer(layer.clone());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    println!(
        "| requests | sink | live heap MiB | peak live MiB | live blocks | RSS MiB | threads | glibc system MiB | glibc in use MiB | glibc free MiB | exported | failed | dropped | s |"
    );
    println!("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut first: Option<Vec<isize>> = None;
    let mut total = 0u64;
    for (requests, down) in phases {
        match (&mut sink, down) {
            (Some(child), true) => {
                stop_sink(child);
                sink = None;
            }
            (None, false) => sink = Some(start_sink(port)),
            _ => {}
        }
        let t = Instant::now();
        rt.block_on(peers::drive(&app, requests));
        // A failed export (sink down) makes the flush report it: not an error here.
        let _ = layer.pipeline().force_flush();
        total += requests;
        let stats = layer.pipeline().stats();
        let (system, in_use, free) = glibc::info().unwrap_or_default();
        println!(
            "| {total} | {} | {:.3} | {:.1} | {} | {:.1} | {} | {:.1} | {:.1} | {:.1} | {} | {} | {} | {:.1} |",
            if down { "down" } else { "up" },
            mib(LIVE_BYTES.load(Ordering::Relaxed) as f64),
            mib(PEAK_BYTES.swap(LIVE_BYTES.load(Ordering::Relaxed), Ordering::Relaxed) as f64),
            LIVE_BLOCKS.load(Ordering::Relaxed),
            status_field("VmRSS:") as f64 / 1024.0,
            status_field("Threads:"),
            mib(system as f64),
            mib(in_use as f64),
            mib(free as f64),
            stats.exported,
            stats.failed,
            stats.dropped,
            t.elapsed().as_secs_f64(),
        );
        let now: Vec<isize> = BY_CLASS.iter().map(|c| c.load(Ordering::Relaxed)).collect();
        first.get_or_insert(now);
    }
    if let Some(first) = first {
        let changed: Vec<String> = BY_CLASS
            .iter()
            .enumerate()
            .filter_map(|(k, c)| {
                let d = c.load(Ordering::Relaxed) - first[k];
                let lo = if k == 0 { 0 } else { 1usize << (k - 1) };
                (d != 0).then(|| format!("[{lo}, {}): {d:+}", 1usize << k))
            })
            .collect();
        println!(
            "live blocks by size, last row minus first: {}",
            if changed.is_empty() {
                "no change".to_owned()
            } else {
                changed.join(", ")
            }
        );
    }
    eprintln!("glibc malloc_stats (per arena):");
    glibc::stats();
    // Memory freed by our code and kept by the allocator goes back to the OS here;
    // a leak would not.
    let before = status_field("VmRSS:");
    glibc::trim();
    println!(
        "malloc_trim(0): RSS {:.1} -> {:.1} MiB, live heap {:.3} MiB",
        before as f64 / 1024.0,
        status_field("VmRSS:") as f64 / 1024.0,
        mib(LIVE_BYTES.load(Ordering::Relaxed) as f64),
    );
    if let Some(mut child) = sink {
        stop_sink(&mut child);
    }
}

/// The layer exporting to the sink on `port` with the SDK's default batch settings.
fn layer(exporter: &str, port: u16) -> TracingLayer {
    peers::export_layer(
        exporter,
        port,
        [
            ("OTEL_BSP_MAX_QUEUE_SIZE", "2048"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "512"),
            ("OTEL_BSP_SCHEDULE_DELAY", "5000"),
        ],
    )
}

/// `export_loop sink <port>`, next to this binary, once it accepts connections.
fn start_sink(port: u16) -> Child {
    let exe = std::env::current_exe().expect("current_exe");
    let child = Command::new(exe.with_file_name("export_loop"))
        .args(["sink", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("export_loop sink (build it: cargo build --release -p peers --bin export_loop)");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the sink did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn stop_sink(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}
