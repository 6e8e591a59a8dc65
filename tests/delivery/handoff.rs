//! The hand-off from request threads to the batch processor: many threads end
//! requests (records whose spans are built on the export thread) and handler
//! spans (SDK spans) at once through a small queue, while the pipeline shuts
//! down under them. Every span is accounted for: what was exported reached the
//! exporter exactly once, a request's spans go all or none, and what ended
//! after the shutdown was counted as dropped, not lost.

use crate::common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http_body_util::BodyExt;
use opentelemetry::trace::{SpanKind, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use tower::ServiceExt;
use tower_otel_tracing::{TracingConfig, TracingLayer};

/// Keeps every span it is given; each export takes a little while, so the
/// small queue fills and drops too.
#[derive(Clone, Debug, Default)]
struct Keeper(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Keeper {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        std::thread::sleep(Duration::from_micros(200));
        self.0.lock().unwrap().extend(batch);
        Ok(())
    }
}

const THREADS: usize = 8;

/// A layer sampling every request into `exporter`, with these batch settings.
fn sampled_layer(exporter: impl SpanExporter + 'static, batch: &[(&str, &str)]) -> TracingLayer {
    TracingLayer::builder(TracingConfig {
        sample_rate: Some(1.0),
        ..Default::default()
    })
    .install_global(false)
    .env_vars(batch.iter().copied())
    .exporter(exporter)
    .build()
    .unwrap()
}

#[test]
fn every_span_is_accounted_for_when_shutdown_races_span_ends() {
    let keeper = Keeper::default();
    let layer = sampled_layer(
        keeper.clone(),
        &[
            ("OTEL_BSP_MAX_QUEUE_SIZE", "64"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "16"),
            ("OTEL_BSP_SCHEDULE_DELAY", "5"),
        ],
    );
    let tracer = layer.pipeline().tracer("handoff");
    let app = Router::new()
        .route(
            "/work",
            get(move || {
                // A handler span (an SDK span, queued as `SpanData`) under the
                // request's server span, and a write to the server span itself.
                let cx = Context::current();
                cx.span()
                    .set_attribute(KeyValue::new("handler.wrote", true));
                drop(tracer.start_with_context("handler", &cx));
                async { "done" }
            }),
        )
        .layer(layer.clone());

    let stop = Arc::new(AtomicBool::new(false));
    // Requests served: the test waits on it, not on the clock.
    let total = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (app, stop, total) = (app.clone(), stop.clone(), total.clone());
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap();
                let mut served = 0u64;
                // Bounded: the stop flag ends it well before this.
                while !stop.load(Ordering::Relaxed) && served < 2_000_000 {
                    rt.block_on(async {
                        let req = http::Request::get("/work").body(Body::empty()).unwrap();
                        let resp = app.clone().oneshot(req).await.unwrap();
                        assert_eq!(resp.status(), 200);
                        resp.into_body().collect().await.unwrap();
                    });
                    served += 1;
                    total.fetch_add(1, Ordering::Relaxed);
                }
                served
            })
        })
        .collect();

    // Until some requests have been exported (bounded: 20 s).
    let wait = |at_least: u64| {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while total.load(Ordering::Relaxed) < at_least && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    wait(200);
    let before = layer.pipeline().stats();
    let shutdown = layer.guard().shutdown();
    // Requests go on ending after the shutdown: their spans must be refused
    // and counted, not left in a queue nobody drains.
    let at_shutdown = total.load(Ordering::Relaxed);
    wait(at_shutdown + 2 * THREADS as u64);
    stop.store(true, Ordering::Relaxed);
    let served: u64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
    let stats = layer.pipeline().stats();
    let spans = keeper.0.lock().unwrap().clone();
    println!("handoff: {served} requests on {THREADS} threads; before shutdown {before:?}; after {stats:?}; the exporter got {}", spans.len());
    shutdown.expect("shutdown");

    common::accounting::assert_invariant(&stats, "after shutdown");
    assert_eq!(
        stats.queued, 0,
        "spans left queued after shutdown: {stats:?}"
    );
    assert_eq!(stats.failed, 0, "{stats:?}");
    assert_eq!(
        spans.len() as u64,
        stats.exported,
        "the exporter got other than the spans counted exported: {stats:?}"
    );
    let ids: HashSet<_> = spans.iter().map(|s| s.span_context.span_id()).collect();
    assert_eq!(ids.len(), spans.len(), "a span was exported twice");
    assert!(
        stats.exported >= 4 * THREADS as u64,
        "too little was exported before the shutdown for the test to mean anything: {stats:?}"
    );
    assert!(
        stats.dropped > 0,
        "requests ended after the shutdown, and none was counted dropped: {stats:?}"
    );

    // A request's own spans are handed over whole: every exported server span
    // has all its frame spans, and every frame span its server span.
    let mut children: HashMap<_, usize> = HashMap::new();
    for span in spans
        .iter()
        .filter(|s| s.name.ends_with(" http send") || s.name.ends_with(" http receive"))
    {
        *children.entry(span.parent_span_id).or_default() += 1;
    }
    let servers: Vec<_> = spans
        .iter()
        .filter(|s| s.span_kind == SpanKind::Server)
        .collect();
    assert!(!servers.is_empty());
    for server in &servers {
        let id = server.span_context.span_id();
        // `http send` for the response start and its one body frame (a GET
        // has no request body, so no `http receive`).
        assert_eq!(
            children.remove(&id),
            Some(2),
            "server span {id:?} exported without all its frame spans"
        );
        assert!(
            server
                .attributes
                .iter()
                .any(|kv| kv.key.as_str() == "handler.wrote"),
            "the handler's write is missing from {id:?}"
        );
    }
    assert!(
        children.is_empty(),
        "frame spans exported without their server span: {children:?}"
    );
    for handler in spans.iter().filter(|s| s.name == "handler") {
        assert!(handler.parent_span_id != opentelemetry::trace::SpanId::INVALID);
    }
}

/// An export that waits by parking its thread, as a blocking client or a busy
/// hand-off to the export workers does.
#[derive(Clone, Debug, Default)]
struct Parker(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Parker {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let until = std::time::Instant::now() + Duration::from_millis(200);
        while std::time::Instant::now() < until {
            std::thread::park_timeout(until - std::time::Instant::now());
        }
        self.0.lock().unwrap().extend(batch);
        Ok(())
    }
}

/// A flush asked for while an export parks the batch thread is not lost: the
/// export may use up the flush's wake-up, and before the fix the batch thread
/// then slept out its whole schedule delay (here ten minutes) and the flush
/// failed with a timeout after 30 s.
#[test]
fn a_flush_during_an_export_that_parks_is_not_lost() {
    let parker = Parker::default();
    let layer = sampled_layer(
        parker.clone(),
        &[
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "1"),
            ("OTEL_BSP_SCHEDULE_DELAY", "600000"),
        ],
    );
    let tracer = layer.pipeline().tracer("parked");
    // A full batch: the batch thread wakes and its export parks for 200 ms.
    drop(tracer.start("first"));
    std::thread::sleep(Duration::from_millis(50));
    drop(tracer.start("second"));
    layer
        .pipeline()
        .force_flush()
        .expect("the flush was lost while the export parked");
    let names: Vec<_> = parker
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.name.to_string())
        .collect();
    assert_eq!(names, ["first", "second"]);
}

/// A sampled request's record, waiting in the queue after its request is done,
/// holds nothing of the buffer the request head was parsed from (a server
/// reuses that buffer only once every slice of it is gone): its text is
/// copied. Holding clones instead fails it (checked by hand).
#[tokio::test]
async fn a_queued_record_holds_no_slice_of_the_request_buffer() {
    let keeper = Keeper::default();
    let layer = sampled_layer(keeper.clone(), &[("OTEL_BSP_SCHEDULE_DELAY", "600000")]);
    let app = Router::new()
        .route("/summarize", get(|| async { "ok" }))
        .layer(layer.clone());
    // One buffer for the whole head, sliced as hyper slices it; only the
    // request holds the slices.
    let head = bytes::Bytes::from(b"/summarize?q=1svc.local:3000bench/1.0".to_vec());
    let value = |range| http::HeaderValue::from_maybe_shared(head.slice(range)).unwrap();
    let mut req = http::Request::new(Body::empty());
    *req.uri_mut() = http::Uri::from_maybe_shared(head.slice(0..14)).unwrap();
    req.headers_mut().insert(http::header::HOST, value(14..28));
    req.headers_mut()
        .insert(http::header::USER_AGENT, value(28..37));
    assert!(!head.is_unique());
    let resp = app.oneshot(req).await.unwrap();
    resp.into_body().collect().await.unwrap();

    assert!(
        layer.pipeline().stats().queued > 0,
        "the record is still queued"
    );
    assert!(
        head.is_unique(),
        "the queued record holds a slice of the request's head"
    );
    layer.pipeline().force_flush().unwrap();
    let spans = keeper.0.lock().unwrap();
    let server = spans
        .iter()
        .find(|s| s.span_kind == SpanKind::Server)
        .unwrap();
    let attr = |k: &str| {
        server
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == k)
            .map(|kv| kv.value.to_string())
    };
    assert_eq!(attr("http.target").as_deref(), Some("/summarize?q=1"));
    assert_eq!(attr("http.user_agent").as_deref(), Some("bench/1.0"));
    assert_eq!(
        attr("http.url").as_deref(),
        Some("http://svc.local:3000/summarize?q=1")
    );
}
