//! [`Record`]: a request recorded as facts while it runs (the response status,
//! a failure, the frame times as clock ticks), its spans built only when it is
//! exported, from its request parts:
//!
//! - **sampled** ([`Sampled`]): exported whatever happens. No SDK span is made
//!   for it: the handler's context holds a [`HandlerSpan`] that writes into the
//!   record.
//! - **sampled by a user's provider** ([`UserProvider`]): the context holds
//!   that provider's SDK server span, described at its start; the record adds
//!   what the exchange brings, and its children.
//! - **keepable** ([`Keepable`]): not picked by the sample rate, exported if it
//!   ends as an error or slowly, exactly as a sampled request would have been:
//!   the same trace id and span id its handler, logs and `TraceInfo` saw, flags
//!   sampled, `sampling.reason` saying why.
//!
//! This file is the request side: what the response future and the bodies
//! write, from whichever threads they run on, without locks on the common path.
//! At its end an exported record goes to the recorder's sink (`handoff.rs`),
//! and its spans are built there (`record/build/`): the request thread only
//! decides and counts.

use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::SystemTime;

use http::HeaderMap;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId};
use opentelemetry::Context;
use opentelemetry_sdk::trace::IdGenerator;

use super::frame_log::FrameLog;
use super::handler_span::{HandlerSpan, HandlerWritesTarget};
use super::handler_writes::HandlerWrites;
use super::kind::{Keepable, RecordKind, Sampled, UserProvider};
use super::totals::Totals;
use crate::clock::{tick, Tick};
use crate::conventions::failure::Failure;
use crate::conventions::grpc::{self, GrpcStatus};
use crate::conventions::message::Message;
use crate::conventions::request_parts::{Keep, RequestParts};
use crate::metrics::{Measure, Outcome};
use crate::record::handoff::KeptFor;
use crate::record::recorder::Recorder;

/// A request whose spans are built when it is exported. Shared (behind an
/// `Arc`) by the response future, the request body and the response body.
pub(crate) struct Record<K> {
    pub(in crate::record) recorder: Arc<Recorder>,
    /// The context the inner service runs under: the trace the handler, its
    /// logs and its calls see.
    pub(crate) cx: Context,
    /// The request's start. Only an exported request needs wall-clock times,
    /// so the wall clock is read at its end, not at every start.
    pub(in crate::record) start: Tick,
    /// What the bodies carried.
    pub(in crate::record) totals: Totals,
    /// What the server span is described from.
    pub(in crate::record) kind: K,
    pub(in crate::record) parent: Parent,
    /// The caller's context when it was not trusted to parent (rare: boxed).
    pub(in crate::record) link: Option<Box<SpanContext>>,
    /// The response status once the head is sent; 0 before.
    pub(in crate::record) status_code: AtomicU16,
    pub(in crate::record) frames: FrameLog,
    /// What most requests never have, behind a lock only they take, and on
    /// the heap only for them.
    rare: Mutex<Option<Box<Rare>>>,
    /// A failure or a gRPC server fault was recorded (so the end need not lock).
    faulted: AtomicBool,
    done: AtomicBool,
    /// How it ended, once it is exported.
    pub(in crate::record) ending: OnceLock<Ending>,
    /// Its metrics, when the layer measures requests.
    measure: Option<Measure>,
}

/// What the server span needs of its parent.
#[derive(Clone, Copy)]
pub(crate) struct Parent {
    /// Invalid for a root.
    pub(crate) span_id: SpanId,
    pub(crate) remote: bool,
}

impl Parent {
    fn of(parent: &SpanContext) -> Self {
        if parent.is_valid() {
            Parent {
                span_id: parent.span_id(),
                remote: parent.is_remote(),
            }
        } else {
            Parent {
                span_id: SpanId::INVALID,
                remote: false,
            }
        }
    }
}

/// What the end of an exported request adds to its record.
pub(crate) struct Ending {
    pub(crate) end: Tick,
    /// Abandoned before its body was sent.
    pub(crate) cancelled: bool,
    /// Why the keep rules exported it; `None` for a sampled request.
    pub(crate) kept: Option<KeptFor>,
}

/// The facts of a record that most requests never have.
#[derive(Default)]
pub(crate) struct Rare {
    /// Opted-in response header values.
    pub(crate) response_headers: Vec<(http::HeaderName, http::HeaderValue)>,
    pub(crate) grpc: Option<GrpcStatus>,
    pub(crate) failure: Option<Failed>,
    /// What the handler wrote to the server span through its context.
    pub(crate) handler: HandlerWrites,
}

/// What failed, and when.
pub(crate) struct Failed {
    pub(crate) kind: String,
    pub(crate) message: String,
    pub(crate) at: SystemTime,
}

impl Record<Keepable> {
    /// A request the sample rate did not pick: `cx` carries its (unsampled)
    /// span context; `parent` is the span it continues, if any, and `link` a
    /// caller it was not trusted to continue.
    pub(crate) fn keepable<B>(
        recorder: Arc<Recorder>,
        cx: Context,
        req: &http::Request<B>,
        parent: &SpanContext,
        link: Option<SpanContext>,
        measure: Option<Measure>,
    ) -> Arc<Self> {
        // Allocated before it is built (`new_cyclic`, its weak handle unused)
        // so that the record is written in place, not built on the stack and
        // copied (`benches/peers`: `callgrind.py ours_rate0_keep`).
        Arc::new_cyclic(|_| {
            Self::new(recorder, cx, parent, link, measure, |recorder| {
                Keepable(RequestParts::capture(
                    req,
                    &recorder.conventions,
                    Keep::Clones,
                ))
            })
        })
    }
}

impl Record<Sampled> {
    /// A sampled request `req` of trace `trace_id` (the one the sampling
    /// decision was made on) on the layer's own pipeline. Its span context is
    /// the one an SDK span continuing `parent_cx` would get; the handler's
    /// context holds a [`HandlerSpan`] writing into the record.
    pub(crate) fn sampled<B>(
        recorder: Arc<Recorder>,
        parent_cx: &Context,
        trace_id: TraceId,
        req: &http::Request<B>,
        link: Option<SpanContext>,
        measure: Option<Measure>,
    ) -> Arc<Self> {
        let parent_span = parent_cx.span();
        let parent = parent_span.span_context();
        // As the SDK makes a sampled span's context: the parent's flags and
        // state, a root's default flags.
        let flags = if parent.is_valid() {
            parent.trace_flags()
        } else {
            TraceFlags::default()
        };
        let sc = SpanContext::new(
            trace_id,
            recorder.ids.new_span_id(),
            flags.with_sampled(true),
            false,
            parent.trace_state().clone(),
        );
        // The handle in the handler's context points back at the record
        // without owning it (the record owns the context).
        Arc::new_cyclic(|record| {
            let cx = parent_cx.with_span(HandlerSpan::new(record.clone(), sc));
            Self::new(recorder, cx, parent, link, measure, |recorder| {
                Sampled(RequestParts::capture(
                    req,
                    &recorder.conventions,
                    Keep::Copies,
                ))
            })
        })
    }
}

impl Record<UserProvider> {
    /// A request sampled by a tracer provider the user supplied: `cx` holds
    /// that provider's server span, described already, which the handler
    /// writes to directly and the replay ends.
    pub(crate) fn user_provider(
        recorder: Arc<Recorder>,
        cx: Context,
        kind: UserProvider,
        parent: &SpanContext,
        measure: Option<Measure>,
    ) -> Arc<Self> {
        Arc::new(Self::new(recorder, cx, parent, None, measure, |_| kind))
    }
}

impl<K: RecordKind> Record<K> {
    /// `kind` is made in the record's own place: moving the request parts
    /// showed in the keep rules' per-request count (`benches/peers`:
    /// `callgrind.py ours_rate0_keep`).
    #[inline(always)]
    fn new(
        recorder: Arc<Recorder>,
        cx: Context,
        parent: &SpanContext,
        link: Option<SpanContext>,
        measure: Option<Measure>,
        kind: impl FnOnce(&Recorder) -> K,
    ) -> Self {
        Record {
            kind: kind(&recorder),
            recorder,
            cx,
            start: tick(),
            totals: Totals::default(),
            parent: Parent::of(parent),
            link: link.map(Box::new),
            status_code: AtomicU16::new(0),
            frames: FrameLog::default(),
            rare: Mutex::default(),
            faulted: AtomicBool::new(false),
            done: AtomicBool::new(false),
            ending: OnceLock::new(),
            measure,
        }
    }

    fn rare<T>(&self, f: impl FnOnce(&mut Rare) -> T) -> T {
        let mut rare = self.rare.lock().unwrap_or_else(PoisonError::into_inner);
        f(rare.get_or_insert_with(Box::default))
    }

    /// The rare facts, taken out (empty if it had none); for the build.
    #[inline]
    pub(in crate::record) fn take_rare(&self) -> Rare {
        self.rare
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .map(|rare| *rare)
            .unwrap_or_default()
    }

    /// The response head: its status, the opted-in headers' values, and the
    /// `http.response.start` frame from `start`.
    pub(crate) fn response_started(&self, status: u16, headers: &HeaderMap, start: Option<Tick>) {
        self.status_code.store(status, Ordering::Relaxed);
        self.frame(Message::ResponseStart, start);
        let wanted = &self.recorder.conventions.response_headers;
        if wanted.is_empty() {
            return;
        }
        self.rare(|rare| {
            for h in wanted {
                for v in headers.get_all(h.name()) {
                    rare.response_headers.push((h.name().clone(), v.clone()));
                }
            }
        });
    }

    /// `grpc-status` (and `grpc-message`) from these headers or trailers.
    #[inline]
    pub(crate) fn grpc_status(&self, headers: &HeaderMap) {
        if self.kind.is_grpc() {
            self.grpc_status_of(headers);
        }
    }

    fn grpc_status_of(&self, headers: &HeaderMap) {
        let Some(status) = grpc::status_and_message(headers) else {
            return;
        };
        if grpc::is_server_fault(status.code) {
            self.faulted.store(true, Ordering::Relaxed);
        }
        self.rare(|rare| rare.grpc = Some(status));
    }

    /// The exchange failed: an inner error, a panic, a body error.
    pub(crate) fn fail(&self, failure: Failure<'_>) {
        self.faulted.store(true, Ordering::Relaxed);
        let failed = Failed {
            kind: failure.kind.into_owned(),
            message: failure.message.into_owned(),
            at: SystemTime::now(),
        };
        self.rare(|rare| rare.failure = Some(failed));
    }

    /// A request body data frame of `bytes`, under the frame cap.
    #[inline]
    pub(crate) fn received(&self, start: Option<Tick>, bytes: usize) {
        if self
            .totals
            .received
            .count_under(bytes, self.recorder.frame_span_cap)
        {
            self.frame(Message::Request, start);
        }
    }

    /// A response body data frame of `bytes`, under the frame cap.
    #[inline]
    pub(crate) fn sent(&self, start: Option<Tick>, bytes: usize) {
        if self
            .totals
            .sent
            .count_under(bytes, self.recorder.frame_span_cap)
        {
            self.frame(Message::ResponseBody, start);
        }
    }

    /// A frame from `start` to now, unless its span is switched off (it would
    /// be dropped at the end anyway).
    #[inline]
    pub(crate) fn frame(&self, message: Message, start: Option<Tick>) {
        let wanted = match message {
            Message::Request => self.recorder.receive_spans,
            _ => self.recorder.send_spans,
        };
        if wanted {
            let end = tick();
            self.frames.push(message, start.unwrap_or(end), end);
        }
    }

    /// Whether it ended as an error: the status rules of a sampled request.
    fn failed(&self) -> bool {
        self.status_code.load(Ordering::Relaxed) >= 500 || self.faulted.load(Ordering::Relaxed)
    }

    /// The exchange is over (`cancelled`: abandoned before its body was sent):
    /// record its metrics, and hand the record to the recorder's sink or forget
    /// it. Only the first call counts.
    pub(crate) fn end(self: &Arc<Self>, cancelled: bool) {
        if self.done.swap(true, Ordering::AcqRel) {
            return;
        }
        let recorder = &*self.recorder;
        // The clock is read only when a rule or the metrics need it, or the
        // request is kept.
        let mut end = None;
        let mut now = || *end.get_or_insert_with(tick);
        let keep = &recorder.keep;
        let exported = if K::SAMPLED {
            Some(None)
        } else if keep.errors && self.failed() {
            Some(Some(KeptFor::Error))
        } else if keep
            .slower_than
            .is_some_and(|limit| now().duration_since(self.start) > limit)
        {
            Some(Some(KeptFor::Slow))
        } else {
            None
        };
        if let Some(measure) = &self.measure {
            self.measured(measure, now(), exported.is_some());
        }
        let Some(sink) = &recorder.sink else {
            return;
        };
        let Some(kept) = exported else {
            sink.discard(self.cx.span().span_context().trace_id());
            return;
        };
        // `done` lets only one call get here.
        let _ = self.ending.set(Ending {
            end: now(),
            cancelled,
            kept,
        });
        // Its frames, counted now: frames logged later get no span.
        let spans = 1 + self.frames.written();
        sink.export(self.clone(), spans, kept);
    }

    /// Its metrics, for a request that ended at `end`; its exemplars point at
    /// its trace when the trace is `exported`.
    fn measured(&self, measure: &Measure, end: Tick, exported: bool) {
        let span = self.cx.span();
        let sc = span.span_context();
        let ids = (sc.trace_id(), sc.span_id());
        let grpc = measure.is_grpc();
        let rare = (grpc || self.faulted.load(Ordering::Relaxed))
            .then(|| self.rare.lock().unwrap_or_else(PoisonError::into_inner));
        let rare = rare.as_ref().and_then(|rare| rare.as_ref());
        let failure = rare
            .and_then(|rare| rare.failure.as_ref())
            .map(|failed| failed.kind.as_str());
        let status = self.status_code.load(Ordering::Relaxed);
        let (frames, request_bytes) = self.totals.received.counted();
        measure.end_at(
            end,
            &Outcome {
                // A gRPC call's outcome is its `grpc-status`.
                status: if grpc {
                    rare.and_then(|rare| rare.grpc.as_ref())
                        .and_then(|g| u16::try_from(g.code).ok())
                } else {
                    (status != 0).then_some(status)
                },
                failure,
                request_bytes: (frames > 0).then_some(request_bytes),
                response_bytes: (status != 0).then(|| self.totals.sent.counted().1),
                exported: exported.then_some(ids),
                traced: Some(ids),
            },
        );
    }
}

impl<K: RecordKind> HandlerWritesTarget for Record<K> {
    fn write(&self, f: impl FnOnce(&mut HandlerWrites)) {
        if self.is_open() {
            self.rare(|rare| f(&mut rare.handler));
        }
    }

    fn is_open(&self) -> bool {
        !self.done.load(Ordering::Acquire)
    }
}
