//! The queue bound under concurrent span ends (found while writing the memory
//! bound test, the `memory_bound` module).
//!
//! The counting processor's `on_end` used to read `queued` (a snapshot of four
//! counters), then count the span ended, then hand it to the SDK's batch
//! processor, whose channel holds `max_queue_size` spans and drops what does not
//! fit without telling us. Threads that ended spans at once could all read "one
//! slot left" and all go in: the queue overshot its bound, the SDK dropped the
//! overshoot silently, and those spans stayed counted `queued` for good (before
//! the fix this failed 4 runs in 5 here: queued 19 to 57 against a bound of 16).
//! Now a slot is checked and taken in one compare-and-swap and given back when
//! its export ends.

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::layer_with_env;
use opentelemetry::trace::{Span, Tracer};
use tower_otel_tracing::config::ExporterType;
use tower_otel_tracing::TracingConfig;

#[test]
fn concurrent_span_ends_never_lose_a_span_silently() {
    // A black hole: every export waits out its timeout, holding its (one-span) batch.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let st = stop.clone();
    let hole = std::thread::spawn(move || {
        let mut held: Vec<TcpStream> = Vec::new();
        while !st.load(Ordering::SeqCst) {
            match listener.accept() {
                Ok((s, _)) => held.push(s),
                Err(_) => std::thread::sleep(Duration::from_millis(2)),
            }
        }
    });

    let mut cfg = TracingConfig {
        exporter_type: Some(ExporterType::Zipkin),
        sample_rate: Some(1.0),
        timeout: Some(0.3),
        ..Default::default()
    };
    cfg.zipkin.endpoint = Some(format!("http://127.0.0.1:{port}/api/v2/spans"));
    let layer = layer_with_env(
        cfg,
        &[
            ("OTEL_BSP_MAX_QUEUE_SIZE", "16"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "1"),
        ],
    );
    let tracer = layer.pipeline().tracer("race");
    let threads = 16;
    let deadline = Instant::now() + Duration::from_secs(10);
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let tracer = tracer.clone();
            std::thread::spawn(move || {
                let mut n = 0u64;
                while Instant::now() < deadline && n < 5_000_000 {
                    let mut span = tracer.start("race");
                    span.end();
                    n += 1;
                }
                n
            })
        })
        .collect();
    let ended: u64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
    let before = layer.pipeline().stats();
    println!("queue race: {ended} spans ended by {threads} threads: {before:?}");
    // Every span the queue took in fails at the black hole within a few seconds
    // (4 exports of one span at a time, 0.3 s each); a span the SDK dropped stays
    // `queued` for good.
    let give_up = Instant::now() + Duration::from_secs(20);
    let mut after = layer.pipeline().stats();
    while after.queued > 0 && Instant::now() < give_up {
        let _ = layer.pipeline().force_flush();
        std::thread::sleep(Duration::from_millis(50));
        after = layer.pipeline().stats();
    }
    println!("queue race: 20 s later {after:?}");
    stop.store(true, Ordering::SeqCst);
    hole.join().unwrap();
    assert!(
        before.queued <= 16,
        "the queue went over its bound of 16: {before:?}"
    );
    assert_eq!(
        after.queued, 0,
        "spans counted queued that no export will ever end (lost in the SDK's full channel): \
         {after:?}"
    );
}
