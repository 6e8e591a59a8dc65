//! The batch processor's invariant, held directly: every span handed to it is
//! accounted for once, as exported, dropped or failed; a record's spans go all
//! or none; what the exporter was given is what was counted as exported. With
//! a full queue, with concurrent exports, and with shutdown racing hand-overs.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Context, InstrumentationScope};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks, SpanProcessor};

use super::BatchProcessor;
use crate::exporter::Export;
use crate::pipeline::concurrent::ConcurrentExporter;
use crate::pipeline::stats::{Counters, CountingExporter};
use crate::record::{BatchItem, ChildSpan, EndedRecord, FinishedSpans, RequestSpans};
use crate::settings::BatchSettings;

/// A record of `spans` spans whose server span's id is its number.
struct Numbered {
    id: u64,
    cx: Context,
}

impl EndedRecord for Numbered {
    fn build_span_data(&self, _: usize, _: &mut Vec<SpanData>) {
        unreachable!("only our own exporters' batches here")
    }

    fn build(&self, spans: usize) -> RequestSpans {
        let sc = |id: u64| {
            SpanContext::new(
                TraceId::from(u128::from(self.id) + 1),
                SpanId::from(id + 1),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            )
        };
        let scope = Arc::new(InstrumentationScope::builder("test").build());
        let mut children = Vec::new();
        for child in 1..spans {
            children.push(ChildSpan {
                context: sc(1_000_000 + self.id * 100 + child as u64),
                start: std::time::UNIX_EPOCH,
                end: std::time::UNIX_EPOCH,
                shape: 0,
            });
        }
        RequestSpans {
            server: SpanData {
                span_context: sc(self.id),
                parent_span_id: SpanId::INVALID,
                parent_span_is_remote: false,
                span_kind: SpanKind::Server,
                name: "server".into(),
                start_time: std::time::UNIX_EPOCH,
                end_time: std::time::UNIX_EPOCH,
                attributes: Vec::new(),
                dropped_attributes_count: 0,
                events: SpanEvents::default(),
                links: SpanLinks::default(),
                status: Status::Unset,
                instrumentation_scope: (*scope).clone(),
            },
            server_attributes: 0,
            attributes: Default::default(),
            children,
            shapes: Default::default(),
            scope,
        }
    }

    fn context(&self) -> &Context {
        &self.cx
    }
}

/// What the exporter was given: spans per record id, from the batches it
/// accepted and from those it failed.
#[derive(Debug, Default)]
struct Received {
    accepted: HashMap<u64, usize>,
    failed: HashMap<u64, usize>,
}

/// An exporter that keeps what it is given, can be held closed (its export
/// waits until it opens), and fails every `fail_every`-th batch.
#[derive(Debug, Clone)]
struct Keeper {
    received: Arc<Mutex<Received>>,
    open: Arc<(Mutex<bool>, Condvar)>,
    batches: Arc<AtomicU64>,
    fail_every: u64,
}

impl Keeper {
    fn new(open: bool, fail_every: u64) -> Self {
        Keeper {
            received: Arc::default(),
            open: Arc::new((Mutex::new(open), Condvar::new())),
            batches: Arc::default(),
            fail_every,
        }
    }

    fn open(&self) {
        *self.open.0.lock().unwrap() = true;
        self.open.1.notify_all();
    }
}

impl Export for Keeper {
    type Item = FinishedSpans;

    fn export(
        &self,
        batch: Vec<FinishedSpans>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let (open, wake) = &*self.open;
        let mut guard = open.lock().unwrap();
        while !*guard {
            guard = wake.wait(guard).unwrap();
        }
        drop(guard);
        let n = self.batches.fetch_add(1, Ordering::Relaxed) + 1;
        let failed = self.fail_every > 0 && n % self.fail_every == 0;
        let mut received = self.received.lock().unwrap();
        let into = if failed {
            &mut received.failed
        } else {
            &mut received.accepted
        };
        for item in &batch {
            let FinishedSpans::Request(request) = item else {
                panic!("only records were handed over");
            };
            let id = u64::from_be_bytes(request.server.span_context.span_id().to_bytes()) - 1;
            *into.entry(id).or_default() += item.spans();
        }
        std::future::ready(if failed {
            Err(OTelSdkError::InternalFailure("refused".into()))
        } else {
            Ok(())
        })
    }
}

fn settings(queue: usize, batch: usize, delay_ms: u64) -> BatchSettings {
    BatchSettings {
        schedule_delay: Duration::from_millis(delay_ms),
        max_queue_size: queue,
        max_export_batch_size: batch,
    }
}

/// Spans of record `id`: 1 to 3.
fn spans_of(id: u64) -> usize {
    1 + (id % 3) as usize
}

/// Hands over `per_thread` records from each of `threads` threads; the spans
/// handed over, by record id.
fn hand_over_from_threads(
    processor: &Arc<BatchProcessor>,
    threads: u64,
    per_thread: u64,
) -> HashMap<u64, usize> {
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let processor = processor.clone();
            thread::spawn(move || {
                let mut handed = HashMap::new();
                for i in 0..per_thread {
                    let id = t * per_thread + i;
                    let record = Arc::new(Numbered {
                        id,
                        cx: Context::new(),
                    });
                    processor.hand_over(record, spans_of(id));
                    handed.insert(id, spans_of(id));
                }
                handed
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect()
}

/// The invariant, once the processor has shut down.
fn assert_accounted(counters: &Counters, handed: &HashMap<u64, usize>, keeper: &Keeper) {
    let stats = counters.snapshot();
    let total: usize = handed.values().sum();
    assert_eq!(stats.started, total as u64, "{stats:?}");
    assert_eq!(stats.queued, 0, "{stats:?}");
    assert_eq!(
        stats.exported + stats.dropped + stats.failed,
        stats.started,
        "{stats:?}"
    );
    let received = keeper.received.lock().unwrap();
    let sum = |m: &HashMap<u64, usize>| m.values().sum::<usize>() as u64;
    assert_eq!(sum(&received.accepted), stats.exported, "{stats:?}");
    assert_eq!(sum(&received.failed), stats.failed, "{stats:?}");
    // A record's spans arrive whole, once, and only records that were handed over.
    for (id, spans) in received.accepted.iter().chain(&received.failed) {
        assert_eq!(handed.get(id), Some(spans), "record {id}");
        assert!(
            !(received.accepted.contains_key(id) && received.failed.contains_key(id)),
            "record {id} exported twice"
        );
    }
}

#[test]
fn a_full_queue_drops_whole_records_and_counts_them() {
    let counters = Arc::new(Counters::default());
    // Held closed: the first batch's export waits, and the queue fills.
    let keeper = Keeper::new(false, 0);
    let exporter = CountingExporter::new(keeper.clone(), counters.clone());
    let processor = Arc::new(BatchProcessor::new(
        exporter,
        &settings(16, 8, 3_600_000),
        None,
        counters.clone(),
    ));
    let handed = hand_over_from_threads(&processor, 4, 50);
    let stats = counters.snapshot();
    assert!(stats.dropped > 0, "the queue never filled: {stats:?}");
    keeper.open();
    processor
        .shutdown_with_timeout(Duration::from_secs(30))
        .unwrap();
    assert_accounted(&counters, &handed, &keeper);
    assert!(counters.snapshot().exported > 0);
}

#[test]
fn concurrent_exports_account_for_every_record() {
    let counters = Arc::new(Counters::default());
    let keeper = Keeper::new(true, 5);
    let exporter = ConcurrentExporter::new(
        CountingExporter::new(keeper.clone(), counters.clone()),
        counters.clone(),
        4,
    );
    let processor = Arc::new(BatchProcessor::new(
        exporter,
        &settings(64, 8, 1),
        None,
        counters.clone(),
    ));
    let handed = hand_over_from_threads(&processor, 8, 200);
    processor.force_flush().unwrap_or(());
    processor
        .shutdown_with_timeout(Duration::from_secs(30))
        .unwrap();
    assert_accounted(&counters, &handed, &keeper);
    let stats = counters.snapshot();
    assert!(stats.failed > 0 && stats.exported > 0, "{stats:?}");
}

#[test]
fn shutdown_racing_hand_overs_leaves_nothing_unaccounted() {
    let counters = Arc::new(Counters::default());
    let keeper = Keeper::new(true, 0);
    let exporter = CountingExporter::new(keeper.clone(), counters.clone());
    let processor = Arc::new(BatchProcessor::new(
        exporter,
        &settings(128, 16, 1),
        None,
        counters.clone(),
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (processor, stop, next) = (processor.clone(), stop.clone(), next.clone());
            thread::spawn(move || {
                let mut handed = HashMap::new();
                // Hand-overs go on past the shutdown, up to a bound.
                for _ in 0..20_000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let id = next.fetch_add(1, Ordering::Relaxed);
                    processor.hand_over(
                        Arc::new(Numbered {
                            id,
                            cx: Context::new(),
                        }),
                        spans_of(id),
                    );
                    handed.insert(id, spans_of(id));
                }
                handed
            })
        })
        .collect();
    // Shut down once hand-overs are under way.
    while counters.snapshot().started < 500 {
        thread::yield_now();
    }
    processor
        .shutdown_with_timeout(Duration::from_secs(30))
        .unwrap();
    let after = counters.snapshot().started;
    while counters.snapshot().started < after + 200 {
        thread::yield_now();
    }
    stop.store(true, Ordering::Relaxed);
    let handed: HashMap<u64, usize> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert_accounted(&counters, &handed, &keeper);
    // What came after the shutdown was refused and counted.
    assert!(counters.snapshot().dropped > 0);
}
