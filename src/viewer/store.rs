//! [`TraceStore`]: the bounded in-process store behind the viewer. The tee feeds
//! it finished spans on the batch processor's thread; the viewer reads snapshots.
//!
//! Spans arrive one by one as they end, in export batches that may split a trace.
//! A trace's spans wait in a pending area until its local root (the span whose
//! parent is absent or remote: the layer's server span) arrives; the root ends
//! last, after its send/receive children and the handler's spans, so the trace is
//! complete then. Spans that end after their root (a task the handler spawned and
//! did not await) are not shown.
//!
//! Complete traces are kept three ways, sharing one copy each (`Arc`):
//! - the last `max_traces`, newest first;
//! - per root name, as zPages' `tracez` does: the [`SLOWEST_PER_NAME`] slowest,
//!   the [`FAILED_PER_NAME`] latest failures and the latest of each latency bucket;
//! - per root name, counts per latency bucket with errors, and the last
//!   [`LATENCY_WINDOW`] durations for p50/p99.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use crate::record::SpanView;
use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::Resource;

use super::span::{text, view_span, ViewSpan};

/// Complete traces kept newest first unless the viewer says otherwise.
pub(crate) const DEFAULT_MAX_TRACES: usize = 300;
/// Root names with statistics; later names are counted in `names_dropped`, so a
/// service naming spans after raw paths cannot grow the store without bound.
pub(crate) const MAX_NAMES: usize = 32;
/// The slowest traces kept per root name.
pub(crate) const SLOWEST_PER_NAME: usize = 3;
/// The latest failed traces kept per root name.
pub(crate) const FAILED_PER_NAME: usize = 3;
/// Spans kept per trace; later ones are counted on the trace.
pub(crate) const MAX_SPANS_PER_TRACE: usize = 128;
/// Spans of all traces whose root has not ended yet; the oldest trace goes first.
pub(crate) const MAX_PENDING_SPANS: usize = 4096;
/// Durations per root name that p50 and p99 are computed over.
pub(crate) const LATENCY_WINDOW: usize = 1024;

/// zPages' latency buckets: lower bounds in decades from 10 µs to 100 s.
pub(crate) const BUCKETS: [(Duration, &str); 9] = [
    (Duration::ZERO, "<10µs"),
    (Duration::from_micros(10), "≥10µs"),
    (Duration::from_micros(100), "≥100µs"),
    (Duration::from_millis(1), "≥1ms"),
    (Duration::from_millis(10), "≥10ms"),
    (Duration::from_millis(100), "≥100ms"),
    (Duration::from_secs(1), "≥1s"),
    (Duration::from_secs(10), "≥10s"),
    (Duration::from_secs(100), "≥100s"),
];

/// The bucket a duration falls in.
pub(crate) fn bucket_of(d: Duration) -> usize {
    BUCKETS.iter().rposition(|(low, _)| d >= *low).unwrap_or(0)
}

/// A complete trace: its local root and everything that ended before it.
#[derive(Debug)]
pub(crate) struct Trace {
    pub(crate) trace_id: TraceId,
    /// Completion order: larger is newer.
    pub(crate) seq: u64,
    /// Index of the local root in `spans`.
    pub(crate) root: usize,
    pub(crate) spans: Vec<ViewSpan>,
    /// Spans beyond [`MAX_SPANS_PER_TRACE`].
    pub(crate) spans_dropped: usize,
}

impl Trace {
    pub(crate) fn root(&self) -> &ViewSpan {
        &self.spans[self.root]
    }

    pub(crate) fn name(&self) -> &str {
        &self.root().name
    }

    pub(crate) fn duration(&self) -> Duration {
        self.root().duration()
    }

    /// A trace fails when its root does (a 5xx, an inner error, a panic).
    pub(crate) fn is_error(&self) -> bool {
        self.root().is_error()
    }
}

/// Which traces a list shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Filter {
    pub(crate) name: Option<String>,
    pub(crate) bucket: Option<usize>,
    pub(crate) errors: bool,
}

impl Filter {
    fn matches(&self, t: &Trace) -> bool {
        self.name.as_deref().is_none_or(|n| n == t.name())
            && self.bucket.is_none_or(|b| b == bucket_of(t.duration()))
            && (!self.errors || t.is_error())
    }
}

/// One root name's statistics.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NameRow {
    pub(crate) name: String,
    pub(crate) kind: &'static str,
    pub(crate) count: u64,
    pub(crate) errors: u64,
    /// Over the last [`LATENCY_WINDOW`] traces of this name.
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
    /// (count, errors) per bucket of [`BUCKETS`].
    pub(crate) buckets: [(u64, u64); BUCKETS.len()],
}

/// What the overview shows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Overview {
    pub(crate) rows: Vec<NameRow>,
    /// Distinct complete traces held.
    pub(crate) held: usize,
    pub(crate) max_traces: usize,
    pub(crate) pending_spans: usize,
    pub(crate) dropped: Dropped,
    /// Whether the pipeline feeds the store at all (not with `exporter_type:
    /// none` or a tracer provider of the user's).
    pub(crate) fed: bool,
}

/// What the bounds threw away.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Dropped {
    /// Traces of root names beyond [`MAX_NAMES`] (still in the last traces).
    pub(crate) names: u64,
    /// Spans beyond [`MAX_SPANS_PER_TRACE`].
    pub(crate) spans: u64,
    /// Spans whose root never arrived before [`MAX_PENDING_SPANS`] pushed them out.
    pub(crate) pending: u64,
}

/// The store. Cheap until enabled: the tee checks one flag per export batch.
#[derive(Debug)]
pub(crate) struct TraceStore {
    enabled: AtomicBool,
    fed: AtomicBool,
    max_traces: AtomicUsize,
    state: Mutex<State>,
}

impl Default for TraceStore {
    fn default() -> Self {
        TraceStore {
            enabled: AtomicBool::new(false),
            fed: AtomicBool::new(false),
            max_traces: AtomicUsize::new(DEFAULT_MAX_TRACES),
            state: Mutex::default(),
        }
    }
}

#[derive(Debug, Default)]
struct State {
    resource: Vec<(String, String)>,
    pending: HashMap<TraceId, Pending>,
    /// Arrival order of pending traces, oldest first; may hold ids already
    /// completed, skipped when evicting.
    pending_order: VecDeque<TraceId>,
    pending_spans: usize,
    recent: VecDeque<Arc<Trace>>,
    names: BTreeMap<String, NameStats>,
    next_seq: u64,
    dropped: Dropped,
}

#[derive(Debug, Default)]
struct Pending {
    spans: Vec<ViewSpan>,
    dropped: usize,
}

#[derive(Debug)]
struct NameStats {
    kind: &'static str,
    count: u64,
    errors: u64,
    buckets: [(u64, u64); BUCKETS.len()],
    latencies: VecDeque<Duration>,
    slowest: Vec<Arc<Trace>>,
    failed: VecDeque<Arc<Trace>>,
    latest_in_bucket: [Option<Arc<Trace>>; BUCKETS.len()],
}

impl NameStats {
    fn new(kind: &'static str) -> Self {
        NameStats {
            kind,
            count: 0,
            errors: 0,
            buckets: [(0, 0); BUCKETS.len()],
            latencies: VecDeque::new(),
            slowest: Vec::new(),
            failed: VecDeque::new(),
            latest_in_bucket: Default::default(),
        }
    }

    fn add(&mut self, trace: &Arc<Trace>) {
        let d = trace.duration();
        let bucket = bucket_of(d);
        let error = trace.is_error();
        self.count += 1;
        self.buckets[bucket].0 += 1;
        if error {
            self.errors += 1;
            self.buckets[bucket].1 += 1;
            if self.failed.len() == FAILED_PER_NAME {
                self.failed.pop_front();
            }
            self.failed.push_back(trace.clone());
        }
        if self.latencies.len() == LATENCY_WINDOW {
            self.latencies.pop_front();
        }
        self.latencies.push_back(d);
        self.latest_in_bucket[bucket] = Some(trace.clone());
        // Slowest first; a tie keeps the older one.
        let at = self.slowest.partition_point(|t| t.duration() >= d);
        if at < SLOWEST_PER_NAME {
            self.slowest.insert(at, trace.clone());
            self.slowest.truncate(SLOWEST_PER_NAME);
        }
    }

    /// The row, with the latency window copied out unsorted: sorting happens
    /// after the store's lock is released, so a page view never holds up the
    /// export thread for it.
    fn row(&self, name: &str) -> (NameRow, Vec<Duration>) {
        let row = NameRow {
            name: name.to_owned(),
            kind: self.kind,
            count: self.count,
            errors: self.errors,
            p50: Duration::ZERO,
            p99: Duration::ZERO,
            buckets: self.buckets,
        };
        (row, self.latencies.iter().copied().collect())
    }

    fn held(&self) -> impl Iterator<Item = &Arc<Trace>> {
        self.slowest
            .iter()
            .chain(&self.failed)
            .chain(self.latest_in_bucket.iter().flatten())
    }
}

/// The nearest-rank percentile of sorted durations (zero when there are none).
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

impl TraceStore {
    /// Starts recording (the viewer was mounted).
    pub(crate) fn enable(&self) {
        self.enabled.store(true, Ordering::Release);
    }

    pub(crate) fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Acquire)
    }

    /// The pipeline tees its exports into this store.
    pub(crate) fn mark_fed(&self) {
        self.fed.store(true, Ordering::Release);
    }

    pub(crate) fn set_max_traces(&self, n: usize) {
        let n = n.max(1);
        self.max_traces.store(n, Ordering::Release);
        let mut st = self.lock();
        while st.recent.len() > n {
            st.recent.pop_front();
        }
    }

    pub(crate) fn max_traces(&self) -> usize {
        self.max_traces.load(Ordering::Acquire)
    }

    pub(crate) fn set_resource(&self, resource: &Resource) {
        let mut attrs: Vec<(String, String)> = resource
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), text(v)))
            .collect();
        attrs.sort();
        self.lock().resource = attrs;
    }

    pub(crate) fn resource(&self) -> Vec<(String, String)> {
        self.lock().resource.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere never leaves the state half-updated in a way that
        // matters to a debugging page: keep serving it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes a batch of finished spans, in the order they ended.
    pub(crate) fn record(&self, batch: &[SpanView<'_>]) {
        // Converted before locking, so readers wait only for the bookkeeping.
        let spans: Vec<(TraceId, bool, ViewSpan)> = batch
            .iter()
            .map(|s| (s.span_context.trace_id(), is_local_root(s), view_span(s)))
            .collect();
        let max_traces = self.max_traces();
        let mut st = self.lock();
        for (trace_id, root, span) in spans {
            if root {
                st.complete(trace_id, span, max_traces);
            } else {
                st.add_pending(trace_id, span);
            }
        }
    }

    /// [`record`](Self::record) for SDK spans.
    #[cfg(test)]
    pub(crate) fn record_spans(&self, batch: &[opentelemetry_sdk::trace::SpanData]) {
        self.record(&crate::record::batch_views(batch));
    }

    pub(crate) fn overview(&self) -> Overview {
        let st = self.lock();
        let rows: Vec<(NameRow, Vec<Duration>)> =
            st.names.iter().map(|(name, s)| s.row(name)).collect();
        let mut overview = Overview {
            rows: Vec::with_capacity(rows.len()),
            held: st.held().len(),
            max_traces: self.max_traces(),
            pending_spans: st.pending_spans,
            dropped: st.dropped,
            fed: self.fed.load(Ordering::Acquire),
        };
        drop(st);
        for (mut row, mut latencies) in rows {
            latencies.sort_unstable();
            row.p50 = percentile(&latencies, 50);
            row.p99 = percentile(&latencies, 99);
            overview.rows.push(row);
        }
        overview
    }

    /// The held traces `filter` matches, newest first.
    pub(crate) fn traces(&self, filter: &Filter) -> Vec<Arc<Trace>> {
        let st = self.lock();
        let mut found: Vec<Arc<Trace>> = st
            .held()
            .into_values()
            .filter(|t| filter.matches(t))
            .collect();
        found.sort_unstable_by_key(|t| std::cmp::Reverse(t.seq));
        found
    }

    /// The ids of every complete trace held: links to them do not 404.
    pub(crate) fn held_ids(&self) -> HashSet<TraceId> {
        let st = self.lock();
        st.recent
            .iter()
            .chain(st.names.values().flat_map(NameStats::held))
            .map(|t| t.trace_id)
            .collect()
    }

    pub(crate) fn trace(&self, id: TraceId) -> Option<Arc<Trace>> {
        let st = self.lock();
        st.recent
            .iter()
            .chain(st.names.values().flat_map(NameStats::held))
            .filter(|t| t.trace_id == id)
            .max_by_key(|t| t.seq)
            .cloned()
    }
}

impl State {
    /// Every distinct complete trace held, by completion number.
    fn held(&self) -> HashMap<u64, Arc<Trace>> {
        self.recent
            .iter()
            .chain(self.names.values().flat_map(NameStats::held))
            .map(|t| (t.seq, t.clone()))
            .collect()
    }

    fn add_pending(&mut self, trace_id: TraceId, span: ViewSpan) {
        let pending = self.pending.entry(trace_id).or_insert_with(|| {
            self.pending_order.push_back(trace_id);
            Pending::default()
        });
        if pending.spans.len() >= MAX_SPANS_PER_TRACE {
            pending.dropped += 1;
            self.dropped.spans += 1;
            return;
        }
        pending.spans.push(span);
        self.pending_spans += 1;
        while self.pending_spans > MAX_PENDING_SPANS {
            let Some(oldest) = self.pending_order.pop_front() else {
                break;
            };
            if let Some(evicted) = self.pending.remove(&oldest) {
                self.pending_spans -= evicted.spans.len();
                self.dropped.pending += evicted.spans.len() as u64;
            }
        }
        // Completed ids linger in the order; compact it before it outgrows the map.
        if self.pending_order.len() > 2 * self.pending.len() + 64 {
            let pending = &self.pending;
            self.pending_order.retain(|id| pending.contains_key(id));
        }
    }

    fn complete(&mut self, trace_id: TraceId, root: ViewSpan, max_traces: usize) {
        let Pending {
            mut spans,
            mut dropped,
        } = self.pending.remove(&trace_id).unwrap_or_default();
        self.pending_spans -= spans.len();
        if spans.len() >= MAX_SPANS_PER_TRACE {
            // The root matters more than any child: it names and times the trace.
            spans.pop();
            dropped += 1;
            self.dropped.spans += 1;
        }
        spans.push(root);
        let kind = spans[spans.len() - 1].kind;
        self.next_seq += 1;
        let trace = Arc::new(Trace {
            trace_id,
            seq: self.next_seq,
            root: spans.len() - 1,
            spans,
            spans_dropped: dropped,
        });
        self.recent.push_back(trace.clone());
        while self.recent.len() > max_traces {
            self.recent.pop_front();
        }
        let names = self.names.len();
        match self.names.get_mut(trace.name()) {
            Some(stats) => stats.add(&trace),
            None if names < MAX_NAMES => {
                let mut stats = NameStats::new(kind);
                stats.add(&trace);
                self.names.insert(trace.name().to_owned(), stats);
            }
            None => self.dropped.names += 1,
        }
    }
}

/// The span that completes a trace in this process: no parent, or a parent in
/// another process.
fn is_local_root(span: &SpanView<'_>) -> bool {
    span.parent_span_id == SpanId::INVALID || span.parent_span_is_remote
}

impl Trace {
    /// The spans in waterfall order with their depth: depth first from the roots
    /// (the local root, and any span whose parent is not in the trace), siblings
    /// by start time, then by the order they ended.
    pub(crate) fn tree(&self) -> Vec<(usize, &ViewSpan)> {
        let ids: HashMap<SpanId, usize> = self
            .spans
            .iter()
            .enumerate()
            .map(|(i, s)| (s.span_id, i))
            .collect();
        let mut roots = Vec::new();
        let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
        for (i, s) in self.spans.iter().enumerate() {
            match s.parent_id.and_then(|p| ids.get(&p)) {
                Some(&parent) if parent != i => children.entry(parent).or_default().push(i),
                _ => roots.push(i),
            }
        }
        let by_start = |v: &mut Vec<usize>| v.sort_by_key(|&i| (self.spans[i].start, i));
        by_start(&mut roots);
        children.values_mut().for_each(by_start);
        let mut out = Vec::with_capacity(self.spans.len());
        let mut seen = vec![false; self.spans.len()];
        let mut stack: Vec<(usize, usize)> = roots.iter().rev().map(|&i| (0, i)).collect();
        while let Some((depth, i)) = stack.pop() {
            // Two spans sharing an id could make a cycle; show each span once.
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            out.push((depth, &self.spans[i]));
            if let Some(kids) = children.get(&i) {
                stack.extend(kids.iter().rev().map(|&k| (depth + 1, k)));
            }
        }
        out
    }

    /// When the first span of the trace started.
    pub(crate) fn start(&self) -> SystemTime {
        self.spans
            .iter()
            .map(|s| s.start)
            .min()
            .unwrap_or(self.root().start)
    }

    /// From the first start to the last end.
    pub(crate) fn span_of_time(&self) -> Duration {
        let end = self
            .spans
            .iter()
            .map(|s| s.end)
            .max()
            .unwrap_or(self.root().end);
        end.duration_since(self.start()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
