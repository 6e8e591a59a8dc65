//! Bounded concurrent exports (the specification's `maxConcurrentExports`) for
//! our batch processor (`batch.rs`), whose thread exports one batch at a time.
//!
//! One export stuck on a stalled collector used to stop the whole pipeline for
//! up to `timeout`: the queue filled behind it and every span ending meanwhile
//! was dropped. Here the processor's thread only hands each batch to one of at
//! most [`MAX_CONCURRENT_EXPORTS`] worker threads and goes back to batching, so
//! a stall holds one batch while the others keep going out. With every worker
//! busy, the hand-off waits for one: never more exports at once than the bound.
//!
//! The accounting stays exact because the counting exporter sits inside, on the
//! workers: a batch is `exported` or `failed` when its export really ended, and
//! `queued` until then (so the queue bound covers the batches in flight too).
//! A flush waits for the exports in flight (`in_flight.rs`) and reports their
//! failure, as the serial processor's flush did.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::Resource;

use super::block_on::block_on;
use super::stats::Counters;
use crate::exporter::Export;

/// Exports under way at once, at most, for the network exporters: one stalled
/// export (a hung collector, a black-holed connection) leaves three to carry the
/// load (`scripts/flaky_link.py` measures it; BENCHMARKS.md has the figures).
pub(crate) const MAX_CONCURRENT_EXPORTS: usize = 4;

/// Hands each batch to a worker thread (started as needed, up to `limit`) that
/// runs the inner exporter's export.
#[derive(Debug)]
pub(crate) struct ConcurrentExporter<E: Export> {
    inner: Arc<RwLock<E>>,
    counters: Arc<Counters>,
    limit: usize,
    /// A rendezvous channel: a send succeeds when an idle worker takes the batch.
    handoff: Mutex<Option<Handoff<E::Item>>>,
}

#[derive(Debug)]
struct Handoff<I> {
    tx: SyncSender<Vec<I>>,
    rx: Arc<Mutex<Receiver<Vec<I>>>>,
    workers: Vec<JoinHandle<()>>,
}

impl<E: Export> ConcurrentExporter<E> {
    pub(crate) fn new(inner: E, counters: Arc<Counters>, limit: usize) -> Self {
        let (tx, rx) = mpsc::sync_channel(0);
        ConcurrentExporter {
            inner: Arc::new(RwLock::new(inner)),
            counters,
            limit: limit.max(1),
            handoff: Mutex::new(Some(Handoff {
                tx,
                rx: Arc::new(Mutex::new(rx)),
                workers: Vec::new(),
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Handoff<E::Item>>> {
        self.handoff.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Gives `batch` to an idle worker, or to a new one while there are fewer
    /// than the limit, or waits for one to be free.
    fn hand_off(&self, batch: Vec<E::Item>) {
        let in_flight = &self.counters.exports;
        in_flight.started();
        let mut guard = self.lock();
        let Some(handoff) = guard.as_mut() else {
            // Shut down: export here, so the batch is still counted.
            drop(guard);
            in_flight.ended(run(&self.inner, batch));
            return;
        };
        let batch = match handoff.tx.try_send(batch) {
            Ok(()) => return,
            Err(TrySendError::Full(batch) | TrySendError::Disconnected(batch)) => batch,
        };
        handoff.workers.retain(|w| !w.is_finished());
        if handoff.workers.len() < self.limit {
            let (inner, rx, counters) = (
                self.inner.clone(),
                handoff.rx.clone(),
                self.counters.clone(),
            );
            let spawned = thread::Builder::new()
                .name("tower-otel-export".into())
                .spawn(move || work(&inner, &rx, &counters));
            // Without a new thread, the workers there are take it in turn.
            if let Ok(worker) = spawned {
                handoff.workers.push(worker);
            }
        }
        if handoff.workers.is_empty() {
            // No worker at all (the OS refused threads): export here.
            drop(guard);
            in_flight.ended(run(&self.inner, batch));
            return;
        }
        let tx = handoff.tx.clone();
        drop(guard);
        if let Err(mpsc::SendError(batch)) = tx.send(batch) {
            in_flight.ended(run(&self.inner, batch));
        }
    }
}

/// A worker: whatever batch the hand-off gives it, until the exporter shuts down.
fn work<E: Export>(inner: &RwLock<E>, rx: &Mutex<Receiver<Vec<E::Item>>>, counters: &Counters) {
    loop {
        let next = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
        match next {
            Ok(batch) => counters.exports.ended(run(inner, batch)),
            Err(_) => return,
        }
    }
}

/// One export, to its end; a panic in the exporter is its failure, and the
/// worker lives on.
fn run<E: Export>(inner: &RwLock<E>, batch: Vec<E::Item>) -> OTelSdkResult {
    let exporter = inner.read().unwrap_or_else(PoisonError::into_inner);
    std::panic::catch_unwind(AssertUnwindSafe(|| block_on(exporter.export(batch))))
        .unwrap_or_else(|_| Err(OTelSdkError::InternalFailure("export panicked".into())))
}

impl<E: Export> Export for ConcurrentExporter<E> {
    type Item = E::Item;

    /// Hands the batch over and returns: the outcome is counted when the export
    /// ends, and a flush waits for it.
    fn export(
        &self,
        batch: Vec<E::Item>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        self.hand_off(batch);
        std::future::ready(Ok(()))
    }

    /// Lets the exports under way end (within `timeout`), then shuts the inner
    /// exporter down. Idle workers end with the hand-off.
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let started = Instant::now();
        let handoff = self.lock().take();
        let idle = self.counters.exports.wait_idle(timeout);
        if let Some(handoff) = handoff {
            drop(handoff.tx);
            if idle.is_ok() {
                for worker in handoff.workers {
                    let _ = worker.join();
                }
            }
        }
        let left = timeout.saturating_sub(started.elapsed());
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        inner.shutdown_with_timeout(left)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.counters.exports.wait_idle(Duration::from_secs(5))?;
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .set_resource(resource);
    }
}
