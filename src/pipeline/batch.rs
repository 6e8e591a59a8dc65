//! The batch processor: request threads hand finished work to one export
//! thread through a bounded, lock-free queue (crossbeam-queue's `ArrayQueue`),
//! and that thread builds, truncates and exports it in batches.
//!
//! Two kinds of work are queued:
//! - an ended record (`record/`), whose spans are built here, on the export
//!   thread, not on the request's: for our own exporters as one item whose
//!   children share their names and attributes, for an SDK exporter as a
//!   [`SpanData`] each ([`Collect`]);
//! - a finished SDK span (a handler's), as [`SpanData`].
//!
//! It follows the SDK specification's batching processor
//! (<https://opentelemetry.io/docs/specs/otel/trace/sdk/#batching-processor>):
//! an export every `schedule_delay`, or as soon as `max_export_batch_size`
//! spans wait; at most `max_export_batch_size` spans an export; a full queue
//! drops (and counts) what no longer fits; a flush exports all that ended
//! before it; a shutdown exports all and then refuses more.
//!
//! Every span is accounted for (`stats.rs`): queue slots are taken when a
//! span ends, all of a request's at once, and given back when its export
//! ends. A push racing with shutdown either lands before the last drain or is
//! counted as dropped; the gate below makes sure there is no third way.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;
use opentelemetry::Context;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use opentelemetry_sdk::Resource;

use super::block_on::block_on;
use super::stats::Counters;
use super::truncate::{truncate_request, truncate_span};
use crate::exporter::Export;
use crate::record::{BatchItem, EndedRecord, FinishedSpans};
use crate::settings::BatchSettings;

/// What the export thread makes of queued work, for an exporter whose batches
/// are made of `Self`: every value cut to `max_chars` (`max_tag_value_length`),
/// here, before any exporter sees it.
pub(crate) trait Collect: BatchItem + Sized {
    /// A handler's span, boxed as it was queued.
    fn span(span: Box<SpanData>, max_chars: Option<usize>) -> Self;

    /// A record's `spans` spans, onto `out`; `batch_size` is the most spans an
    /// export takes.
    fn request(
        record: &dyn EndedRecord,
        spans: usize,
        max_chars: Option<usize>,
        batch_size: usize,
        out: &mut Vec<Self>,
    );
}

/// `span`, its values cut to `max_chars`.
fn truncated(mut span: Box<SpanData>, max_chars: Option<usize>) -> Box<SpanData> {
    if let Some(max) = max_chars {
        truncate_span(&mut span, max);
    }
    span
}

impl Collect for SpanData {
    fn span(span: Box<SpanData>, max_chars: Option<usize>) -> Self {
        *truncated(span, max_chars)
    }

    fn request(
        record: &dyn EndedRecord,
        spans: usize,
        max_chars: Option<usize>,
        _batch_size: usize,
        out: &mut Vec<Self>,
    ) {
        let from = out.len();
        record.build_span_data(spans, out);
        if let Some(max) = max_chars {
            for span in &mut out[from..] {
                truncate_span(span, max);
            }
        }
    }
}

impl Collect for FinishedSpans {
    fn span(span: Box<SpanData>, max_chars: Option<usize>) -> Self {
        FinishedSpans::One(truncated(span, max_chars))
    }

    fn request(
        record: &dyn EndedRecord,
        spans: usize,
        max_chars: Option<usize>,
        batch_size: usize,
        out: &mut Vec<Self>,
    ) {
        if spans > batch_size {
            // More than one export takes (a long stream): as single spans,
            // which batches can split.
            let mut single = Vec::with_capacity(spans);
            SpanData::request(record, spans, max_chars, batch_size, &mut single);
            out.extend(
                single
                    .into_iter()
                    .map(|span| FinishedSpans::One(Box::new(span))),
            );
            return;
        }
        let mut request = record.build(spans);
        if let Some(max) = max_chars {
            truncate_request(&mut request, max);
        }
        out.push(FinishedSpans::Request(Box::new(request)));
    }
}

/// A queue slot: a handler's span is boxed, so that every slot is small and a
/// request's hand-over writes a pointer and a count, not a whole `SpanData`.
enum Item {
    Span(Box<SpanData>),
    Request {
        record: Arc<dyn EndedRecord>,
        spans: usize,
    },
}

/// The gate's closed bit; the rest of it counts pushes under way, in twos.
const CLOSED: usize = 1;
const PUSHING: usize = 2;

/// Queue items (requests or spans) the export thread takes between yields of
/// its core. It sleeps between batches, so the scheduler favours it over a
/// busy request thread when it wakes, and building a 512-span batch in one go
/// held a shared core for milliseconds: the yields keep the requests' tail
/// latency on a server pinned to one core (`benches/peers`: `loopback.py`,
/// exporting). With a core to spare, a yield returns at once.
const ITEMS_PER_YIELD: usize = 32;

/// How long a flush waits for the exports under way (each is bounded by the
/// exporter's own timeout).
const FLUSH_WAIT: Duration = Duration::from_secs(30);

/// The queue, the export thread's handle and the counters.
pub(crate) struct BatchProcessor {
    shared: Arc<Shared>,
    /// The export thread, to wake it; `None` if the OS gave no thread.
    thread: Option<Thread>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

struct Shared {
    queue: ArrayQueue<Item>,
    /// Closed after shutdown, with the pushes under way counted: the export
    /// thread's last drain waits for them, and later pushes see it closed.
    gate: AtomicUsize,
    /// Spans in the queue (a request's count as all its spans).
    waiting: AtomicUsize,
    /// A wake-up for a full batch is on its way: later pushes need not send one.
    wake_sent: AtomicBool,
    control: Mutex<Control>,
    answered: Condvar,
    counters: Arc<Counters>,
    max_queue: u64,
    batch_size: usize,
    delay: Duration,
    max_chars: Option<usize>,
}

/// Flushes asked for and done, and the outcome of shutdown.
#[derive(Default)]
struct Control {
    flushes_asked: u64,
    flushes_done: u64,
    flush_result: Option<OTelSdkError>,
    /// The export thread has ended.
    stopped: bool,
    shutdown_result: Option<OTelSdkResult>,
}

impl Shared {
    fn control(&self) -> MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits (at most `timeout`) until the export thread's answer makes `done`
    /// true.
    fn answer<'a>(
        &self,
        control: MutexGuard<'a, Control>,
        timeout: Duration,
        done: impl Fn(&Control) -> bool,
    ) -> Result<MutexGuard<'a, Control>, OTelSdkError> {
        let (control, waited) = self
            .answered
            .wait_timeout_while(control, timeout, |c| !done(c))
            .unwrap_or_else(PoisonError::into_inner);
        if waited.timed_out() && !done(&control) {
            return Err(OTelSdkError::Timeout(timeout));
        }
        Ok(control)
    }
}

impl BatchProcessor {
    /// Starts the export thread for `exporter`, whose resource is set already.
    /// `max_chars` is `max_tag_value_length`.
    pub(crate) fn new<E: Export>(
        exporter: E,
        batch: &BatchSettings,
        max_chars: Option<usize>,
        counters: Arc<Counters>,
    ) -> Self
    where
        E::Item: Collect,
    {
        let shared = Arc::new(Shared {
            queue: ArrayQueue::new(batch.max_queue_size.max(1)),
            gate: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            wake_sent: AtomicBool::new(false),
            control: Mutex::default(),
            answered: Condvar::new(),
            counters,
            max_queue: batch.max_queue_size as u64,
            batch_size: batch.max_export_batch_size.max(1),
            delay: batch.schedule_delay,
            max_chars,
        });
        let spawned = thread::Builder::new()
            .name("tower-otel-batch".into())
            .spawn({
                let shared = shared.clone();
                move || work(&shared, &exporter)
            });
        let (thread, worker) = match spawned {
            Ok(worker) => (Some(worker.thread().clone()), Some(worker)),
            Err(e) => {
                // Nothing could ever export: refuse (and count) every span.
                tracing::warn!(
                    "tower-otel-tracing: no batch export thread ({e}); spans are dropped"
                );
                shared.gate.store(CLOSED, Ordering::Release);
                (None, None)
            }
        };
        BatchProcessor {
            shared,
            thread,
            worker: Mutex::new(worker),
        }
    }

    /// Queues an ended record of `spans` spans, all or none of them.
    pub(crate) fn hand_over(&self, record: Arc<dyn EndedRecord>, spans: usize) {
        let counters = &self.shared.counters;
        counters.spans_started(spans as u64);
        self.push(Item::Request { record, spans }, spans as u64);
    }

    fn push(&self, item: Item, spans: u64) {
        let shared = &*self.shared;
        if !shared.counters.enqueue(spans, shared.max_queue) {
            return;
        }
        let gate = shared.gate.fetch_add(PUSHING, Ordering::AcqRel);
        // The queue holds `max_queue_size` items and a slot was taken for each
        // span, so the push only fails once closed; counted either way.
        let refused = gate & CLOSED != 0 || shared.queue.push(item).is_err();
        let waiting = if refused {
            0
        } else {
            shared.waiting.fetch_add(spans as usize, Ordering::AcqRel) + spans as usize
        };
        shared.gate.fetch_sub(PUSHING, Ordering::AcqRel);
        if refused {
            shared.counters.refused(spans);
            return;
        }
        if waiting >= shared.batch_size
            && !shared.wake_sent.load(Ordering::Relaxed)
            && !shared.wake_sent.swap(true, Ordering::AcqRel)
        {
            if let Some(thread) = &self.thread {
                thread.unpark();
            }
        }
    }

    /// Asks the export thread to export everything queued so far and waits
    /// (at most `timeout`) until it has.
    fn flush_queue(&self, timeout: Duration) -> OTelSdkResult {
        let shared = &*self.shared;
        let (Some(thread), false) = (&self.thread, self.closed()) else {
            return Err(OTelSdkError::AlreadyShutdown);
        };
        if thread.id() == thread::current().id() {
            // Asked from inside an export: what it exports is the flush.
            return Ok(());
        }
        let mut control = shared.control();
        control.flushes_asked += 1;
        let asked = control.flushes_asked;
        thread.unpark();
        let mut control =
            shared.answer(control, timeout, |c| c.flushes_done >= asked || c.stopped)?;
        control.flush_result.take().map_or(Ok(()), Err)
    }

    fn closed(&self) -> bool {
        self.shared.gate.load(Ordering::Acquire) & CLOSED != 0
    }
}

impl SpanProcessor for BatchProcessor {
    // A handler's span is counted when it ends, not when it starts: the SDK
    // never hands over a span that ends after its provider shut down, so one
    // counted at its start could not be accounted for (`tests/delivery/handoff.rs`).
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        self.shared.counters.spans_started(1);
        self.push(Item::Span(Box::new(span)), 1);
    }

    /// With concurrent exports the batches handed over may still be under way;
    /// the flush waits for them too.
    fn force_flush(&self) -> OTelSdkResult {
        let exports = &self.shared.counters.exports;
        exports.flush_begins();
        let handed = self.flush_queue(FLUSH_WAIT);
        let ended = exports.wait_idle(FLUSH_WAIT);
        handed.and(ended)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let shared = &*self.shared;
        if shared.gate.fetch_or(CLOSED, Ordering::AcqRel) & CLOSED != 0 {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        let Some(thread) = &self.thread else {
            return Ok(());
        };
        if thread.id() == thread::current().id() {
            // The tracer provider's last reference dropped on the export thread
            // (a queued request holds the pipeline's core) shuts it down from
            // here: the thread sees the gate closed back in its loop, and
            // drains and shuts down then.
            return Ok(());
        }
        thread.unpark();
        let result = shared
            .answer(shared.control(), timeout, |c| c.stopped)
            .and_then(|mut c| c.shutdown_result.take().unwrap_or(Ok(())));
        if result.is_ok() {
            if let Some(worker) = self
                .worker
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
            {
                let _ = worker.join();
            }
        }
        let stats = shared.counters.snapshot();
        if stats.dropped > 0 || stats.failed > 0 {
            tracing::warn!(
                "tower-otel-tracing: at shutdown {} spans exported, {} dropped (queue full), {} failed to export",
                stats.exported,
                stats.dropped,
                stats.failed
            );
        }
        result
    }

    // The exporter got the resource before its thread started.
    fn set_resource(&mut self, _resource: &Resource) {}
}

impl Drop for BatchProcessor {
    fn drop(&mut self) {
        if !self.closed() {
            let _ = self.shutdown_with_timeout(Duration::from_secs(5));
        }
    }
}

impl std::fmt::Debug for BatchProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchProcessor")
            .field("queued", &self.shared.queue.len())
            .field("closed", &self.closed())
            .finish_non_exhaustive()
    }
}

/// The export thread: sleeps until a batch is full, the delay is up, a flush
/// is asked for or the processor shuts down, then exports all that waits.
fn work<E: Export>(shared: &Shared, exporter: &E)
where
    E::Item: Collect,
{
    let mut spans = Vec::with_capacity(shared.batch_size);
    let mut due = Instant::now() + shared.delay;
    let mut flushed = 0;
    loop {
        let closed = shared.gate.load(Ordering::Acquire) & CLOSED != 0;
        let asked = shared.control().flushes_asked;
        let now = Instant::now();
        let full = shared.waiting.load(Ordering::Acquire) >= shared.batch_size;
        if closed || asked > flushed || now >= due || full {
            shared.wake_sent.store(false, Ordering::Release);
            if closed {
                // Pushes that got past the gate before it closed are a few
                // instructions from done: wait for them, then drain for good.
                while shared.gate.load(Ordering::Acquire) >= PUSHING {
                    thread::yield_now();
                }
            }
            let exported = drain(shared, exporter, &mut spans);
            due = Instant::now() + shared.delay;
            if closed {
                let result = exported.and(exporter.shutdown());
                let mut control = shared.control();
                control.stopped = true;
                control.shutdown_result = Some(result);
                drop(control);
                shared.answered.notify_all();
                return;
            }
            if asked > flushed {
                let result = exported.and(exporter.force_flush());
                let mut control = shared.control();
                control.flushes_done = asked;
                control.flush_result = result.err();
                drop(control);
                shared.answered.notify_all();
                flushed = asked;
            }
            // Look again before sleeping: an export parks this thread too (its
            // future's wake-ups, a busy hand-off to the export workers) and so
            // may have used up a wake-up meant for the loop (a flush asked for
            // meanwhile waited out the whole schedule delay before).
            continue;
        }
        thread::park_timeout(due.saturating_duration_since(Instant::now()));
    }
}

/// Exports everything queued now, in batches of at most `batch_size` spans;
/// the last export error, if any.
fn drain<E: Export>(shared: &Shared, exporter: &E, items: &mut Vec<E::Item>) -> OTelSdkResult
where
    E::Item: Collect,
{
    let mut result = Ok(());
    let (max_chars, batch_size) = (shared.max_chars, shared.batch_size);
    // Spans in `items`.
    let mut pending = 0;
    // At most a queue's worth: under a steady stream of pushes the drain
    // still ends, and the next one takes the rest.
    for taken in 1..=shared.queue.capacity() {
        let Some(item) = shared.queue.pop() else {
            break;
        };
        if taken % ITEMS_PER_YIELD == 0 {
            thread::yield_now();
        }
        let n = match item {
            Item::Span(span) => {
                items.push(E::Item::span(span, max_chars));
                1
            }
            Item::Request { record, spans: n } => {
                E::Item::request(&*record, n, max_chars, batch_size, items);
                n
            }
        };
        shared.waiting.fetch_sub(n, Ordering::AcqRel);
        pending += n;
        while pending >= batch_size {
            let (batch, spans) = take_batch(items, batch_size);
            pending -= spans;
            result = result.and(block_on(exporter.export(batch)));
        }
    }
    if !items.is_empty() {
        let batch = std::mem::replace(items, Vec::with_capacity(batch_size));
        result = result.and(block_on(exporter.export(batch)));
    }
    result
}

/// The first items of `items` holding at most `limit` spans (at least one
/// item), and how many spans they hold. A request's spans stay in one batch,
/// so a batch may close below the limit.
fn take_batch<I: BatchItem>(items: &mut Vec<I>, limit: usize) -> (Vec<I>, usize) {
    let mut spans = 0;
    let mut taken = 0;
    for item in items.iter() {
        let n = item.spans();
        if taken > 0 && spans + n > limit {
            break;
        }
        spans += n;
        taken += 1;
    }
    // The rest moves to a list of full capacity: `split_off` left one only as
    // long as the rest, which then grew push by push (`benches/peers`:
    // `callgrind.py ours_rate1`).
    let mut rest = Vec::with_capacity(items.capacity());
    rest.extend(items.drain(taken..));
    (std::mem::replace(items, rest), spans)
}

#[cfg(test)]
#[path = "batch_tests.rs"]
mod tests;
