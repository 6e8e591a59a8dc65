//! A request recorded as facts while it runs (the response status, a failure,
//! the frame times as clock ticks), its spans built only at its end:
//!
//! - **sampled**, on the layer's own pipeline: its request parts kept (reference
//!   counts, not attributes), its server span and children built at the end. No
//!   SDK span is built for it; the handler's context holds a [`ServerSpan`]
//!   handle that writes into this record.
//! - **not picked by the sample rate**, but kept if it ends as an error or
//!   slowly: only its request parts are kept, and attributes are made only for
//!   the requests that are kept, exported exactly as a sampled request would
//!   have been: same trace id and span id its handler, logs and `TraceInfo` saw,
//!   flags sampled, `sampling.reason` saying why.
//!
//! At its end, a request that is exported is handed to the batch processor's
//! queue as it is (`pipeline/batch.rs`), and its spans are built there, on the
//! export thread: the request thread only decides and counts.
//!
//! Measured with callgrind against an SDK server span plus children handed over
//! one by one (BENCHMARKS.md, "Fourth round"), the sampled record saves the SDK
//! span's build, its locked attribute writes and a clock read per frame.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::SystemTime;

use http::HeaderMap;

use opentelemetry::trace::{
    Event, Link, SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags, TraceId,
};
use opentelemetry::{Context, Key, KeyValue};
use opentelemetry_sdk::trace::{IdGenerator, SpanData, SpanEvents, SpanLinks};

use super::attributes::HTTP_CANCELLED;
use super::clock::{tick, Anchor, Tick};
use super::describe::server_attribute_capacity;
use super::facts::{
    child_attributes, child_context, child_span_data, child_status, failure_facts, grpc_facts,
    push_child_attributes, response_facts,
};
use super::failure::Failure;
use super::frame_log::FrameLog;
use super::grpc;
use super::message::Message;
use super::naming::{child_name, push_child_name};
use super::recorder::Recorder;
use super::request_parts::{Keep, RequestParts};
use super::server_span::{merge_status, ServerSpan};
use super::totals::Totals;
use crate::config::Semconv;
use crate::exporter::attributes::{AttributeList, AttributeSink};
use crate::exporter::finished::{ChildShape, ChildSpan, RequestSpans};
use crate::pipeline::{FinishedRequest, KeptFor};

/// Why a request the sample rate did not pick was exported.
const SAMPLING_REASON: Key = Key::from_static_str("sampling.reason");

/// A request whose spans are built at its end: sampled, or kept if it ends as
/// an error or slowly. Shared (behind an `Arc`) by the response future, the
/// request body and the response body, like a [`RequestSpan`](super::RequestSpan).
pub(crate) struct DeferredSpan<S = RequestParts> {
    recorder: Arc<Recorder>,
    /// The context the inner service runs under: the trace the handler, its
    /// logs and its calls see (with a [`ServerSpan`] when sampled).
    pub(crate) cx: Context,
    /// The request's start. Only a request that is kept needs wall-clock
    /// times, so the wall clock is read at its end, not at every start.
    start: Tick,
    /// What the bodies carried.
    totals: Totals,
    /// What the server span is described from.
    source: S,
    /// The parent's span id (invalid for a root) and whether it is remote:
    /// all the server span needs of it.
    parent: (SpanId, bool),
    /// The caller's context when it was not trusted to parent (rare: boxed).
    link: Option<Box<SpanContext>>,
    /// The response status once the head is sent; 0 before.
    status_code: AtomicU16,
    frames: FrameLog,
    /// What most requests never have, behind a lock only they take, and on
    /// the heap only for them.
    rare: Mutex<Option<Box<Rare>>>,
    /// A failure or a gRPC server fault was recorded (so the end need not lock).
    faulted: AtomicBool,
    done: AtomicBool,
    /// How it ended, once it is exported.
    ending: OnceLock<Ending>,
}

/// What the end of an exported request adds to its record.
struct Ending {
    end: Tick,
    cancelled: bool,
    reason: Export,
}

/// Bytes of the server span's texts a record's list starts with: the target,
/// URL, user agent and peer address of a usual request fit, so the buffer is
/// one allocation (it grows for longer ones).
const SERVER_TEXT_CAPACITY: usize = 256;

/// Why a request's spans are exported.
#[derive(Clone, Copy)]
enum Export {
    Sampled,
    Kept(KeptFor),
}

/// What a record's server span is described from: one type per way a
/// request is recorded, so that each record has its own layout (an enum of
/// both moved the ~300 bytes of request parts once more, ~30 instructions a
/// request of the keep budget, callgrind).
pub(crate) trait Source: Send + Sync + 'static {
    /// Exported whatever happens (sampled), not by the keep rules.
    const SAMPLED: bool;
    /// A gRPC call: its status comes from `grpc-status`.
    fn is_grpc(&self) -> bool;
    /// The server span's name, its attributes written to `attributes`;
    /// called once, at the end.
    fn describe(&self, recorder: &Recorder, attributes: &mut impl AttributeSink) -> String;
}

/// Not sampled: the request's parts, described at the end if kept.
impl Source for RequestParts {
    const SAMPLED: bool = false;

    fn is_grpc(&self) -> bool {
        RequestParts::is_grpc(self)
    }

    fn describe(&self, recorder: &Recorder, attributes: &mut impl AttributeSink) -> String {
        recorder.describe_into(self, attributes).0
    }
}

/// Sampled (with a [`ServerSpan`] in the handler's context): the same parts,
/// described at its end on the export thread, like a kept request's. Describing
/// it as it arrived cost the request thread five allocations and ~900
/// instructions (callgrind, BENCHMARKS.md "Sixth round").
pub(crate) struct Sampled(RequestParts);

impl Source for Sampled {
    const SAMPLED: bool = true;

    fn is_grpc(&self) -> bool {
        self.0.is_grpc()
    }

    fn describe(&self, recorder: &Recorder, attributes: &mut impl AttributeSink) -> String {
        self.0.describe(recorder, attributes)
    }
}

/// A sampled request on the layer's own pipeline.
pub(crate) type SampledRecord = DeferredSpan<Sampled>;

#[derive(Default)]
struct Rare {
    /// Opted-in response header values.
    response_headers: Vec<(http::HeaderName, http::HeaderValue)>,
    /// `grpc-status`, and `grpc-message` for a server fault.
    grpc: Option<(i64, Option<String>)>,
    /// What failed, and when.
    failure: Option<(String, String, SystemTime)>,
    /// What the handler wrote to the server span through its context.
    pub(super) user: UserWrites,
}

/// Writes to a sampled request's server span through [`ServerSpan`], applied
/// at its end after the layer's own.
#[derive(Default)]
pub(super) struct UserWrites {
    pub(super) name: Option<Cow<'static, str>>,
    pub(super) attributes: Vec<KeyValue>,
    pub(super) events: Vec<Event>,
    pub(super) links: Vec<Link>,
    pub(super) status: Option<Status>,
}

/// What the server span needs of its parent: its span id (invalid for a
/// root) and whether it is remote.
fn parent_of(parent: &SpanContext) -> (SpanId, bool) {
    if parent.is_valid() {
        (parent.span_id(), parent.is_remote())
    } else {
        (SpanId::INVALID, false)
    }
}

impl DeferredSpan<RequestParts> {
    /// `cx` carries the request's (unsampled) span context; `parent` is the
    /// span it continues, if any, and `link` a caller it was not trusted to
    /// continue.
    pub(crate) fn start<B>(
        recorder: Arc<Recorder>,
        cx: Context,
        req: &http::Request<B>,
        parent: &SpanContext,
        link: Option<SpanContext>,
    ) -> Arc<Self> {
        // Allocated before it is built (`new_cyclic`, its weak handle unused)
        // so that the record is written in place, not built on the stack and
        // copied: the copy of its ~530 bytes was ~150 instructions a request.
        Arc::new_cyclic(|_| {
            Self::new(recorder, cx, parent, link, |recorder| {
                RequestParts::capture(req, recorder, Keep::Clones)
            })
        })
    }
}

impl DeferredSpan<Sampled> {
    /// A sampled request `req` of trace `trace_id` (the one the sampling
    /// decision was made on) on the layer's own pipeline. Its span context is the
    /// one an SDK span continuing `parent_cx` would get; the handler's context
    /// holds a [`ServerSpan`] writing into the record.
    pub(crate) fn sampled<B>(
        recorder: Arc<Recorder>,
        parent_cx: &Context,
        trace_id: TraceId,
        req: &http::Request<B>,
        link: Option<SpanContext>,
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
            let cx = parent_cx.with_span(ServerSpan::new(record.clone(), sc));
            Self::new(recorder, cx, parent, link, |recorder| {
                Sampled(RequestParts::capture(req, recorder, Keep::Copies))
            })
        })
    }
}

impl<S: Source> DeferredSpan<S> {
    /// `source` is made in the record's own place: moving the ~300 bytes of
    /// request parts cost ~30 instructions a request of the keep budget.
    #[inline(always)]
    fn new(
        recorder: Arc<Recorder>,
        cx: Context,
        parent: &SpanContext,
        link: Option<SpanContext>,
        source: impl FnOnce(&Recorder) -> S,
    ) -> Self {
        DeferredSpan {
            source: source(&recorder),
            recorder,
            cx,
            start: tick(),
            totals: Totals::default(),
            parent: parent_of(parent),
            link: link.map(Box::new),
            status_code: AtomicU16::new(0),
            frames: FrameLog::default(),
            rare: Mutex::default(),
            faulted: AtomicBool::new(false),
            done: AtomicBool::new(false),
            ending: OnceLock::new(),
        }
    }

    /// Applies `f` to the handler's writes, unless the spans are built already.
    pub(super) fn user_write(&self, f: impl FnOnce(&mut UserWrites)) {
        if !self.done.load(Ordering::Acquire) {
            self.rare(|rare| f(&mut rare.user));
        }
    }

    /// Whether the exchange is still going (its spans not yet built).
    pub(super) fn is_open(&self) -> bool {
        !self.done.load(Ordering::Acquire)
    }

    fn rare<T>(&self, f: impl FnOnce(&mut Rare) -> T) -> T {
        let mut rare = self.rare.lock().unwrap_or_else(PoisonError::into_inner);
        f(rare.get_or_insert_with(Box::default))
    }

    /// The response head: its status, the opted-in headers' values, and the
    /// `http.response.start` frame from `start`.
    pub(crate) fn response_started(&self, status: u16, headers: &HeaderMap, start: Option<Tick>) {
        self.status_code.store(status, Ordering::Relaxed);
        self.frame(Message::ResponseStart, start);
        let recorder = &*self.recorder;
        if recorder.response_headers.is_empty() {
            return;
        }
        self.rare(|rare| {
            for h in &recorder.response_headers {
                for v in headers.get_all(h.name()) {
                    rare.response_headers.push((h.name().clone(), v.clone()));
                }
            }
        });
    }

    /// `grpc-status` (and `grpc-message`) from these headers or trailers.
    #[inline]
    pub(crate) fn grpc_status(&self, headers: &HeaderMap) {
        if self.source.is_grpc() {
            self.grpc_status_of(headers);
        }
    }

    fn grpc_status_of(&self, headers: &HeaderMap) {
        let Some((code, message)) = grpc::status_and_message(headers) else {
            return;
        };
        if grpc::is_server_fault(code) {
            self.faulted.store(true, Ordering::Relaxed);
        }
        self.rare(|rare| rare.grpc = Some((code, message)));
    }

    pub(crate) fn fail(&self, failure: Failure<'_>) {
        self.faulted.store(true, Ordering::Relaxed);
        let failure = (
            failure.kind.into_owned(),
            failure.message.into_owned(),
            SystemTime::now(),
        );
        self.rare(|rare| rare.failure = Some(failure));
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
    /// hand the request to the batch processor (its spans are built there) or
    /// forget it. Only the first call counts.
    pub(crate) fn end(self: &Arc<Self>, cancelled: bool) {
        if self.done.swap(true, Ordering::AcqRel) {
            return;
        }
        let recorder = &*self.recorder;
        // The clock is read only when a rule needs it or the request is kept.
        let mut end = None;
        let mut now = || *end.get_or_insert_with(tick);
        let keep = &recorder.keep;
        let reason = if S::SAMPLED {
            Some(Export::Sampled)
        } else if keep.errors && self.failed() {
            Some(Export::Kept(KeptFor::Error))
        } else if keep
            .slower_than
            .is_some_and(|limit| now().duration_since(self.start) > limit)
        {
            Some(Export::Kept(KeptFor::Slow))
        } else {
            None
        };
        let pipeline = &recorder.pipeline;
        let (Some(reason), Some(batch)) = (reason, pipeline.batch()) else {
            if pipeline.holds_traces() {
                pipeline.release_trace(self.cx.span().span_context().trace_id(), false);
            }
            return;
        };
        let ending = Ending {
            end: now(),
            cancelled,
            reason,
        };
        // `done` lets only one call get here.
        let _ = self.ending.set(ending);
        // Its frames, counted now: frames logged later get no span.
        let spans = 1 + self.frames.written();
        batch.hand_over(self.clone(), spans);
        if let Export::Kept(reason) = reason {
            pipeline.counters().kept(reason);
            pipeline.release_trace(self.cx.span().span_context().trace_id(), true);
        }
    }
}

/// A child frame as its span needs it: the server span's context and
/// (described) name, the message, its times, and the response status if one
/// was sent.
struct ChildFrame<'a> {
    server: &'a SpanContext,
    name: &'a str,
    message: Message,
    start: SystemTime,
    end: SystemTime,
    status: Option<u16>,
}

impl<S: Source> DeferredSpan<S> {
    /// On the export thread: the server span, with each of its first
    /// `children` frames handed to `child` on the way, after all of the
    /// server span's attributes went to `attributes` (not into the `SpanData`;
    /// `child` gets them too, to write after them).
    fn finish<A: AttributeSink>(
        &self,
        ending: &Ending,
        children: usize,
        attributes: &mut A,
        mut child: impl FnMut(ChildFrame<'_>, &mut A),
    ) -> SpanData {
        let (recorder, totals) = (&*self.recorder, &self.totals);
        let span = self.cx.span();
        let sc = span.span_context();
        let anchor = Anchor::now();
        let server = SpanContext::new(
            sc.trace_id(),
            sc.span_id(),
            sc.trace_flags().with_sampled(true),
            false,
            sc.trace_state().clone(),
        );
        let name = self.source.describe(recorder, attributes);
        let rare = self
            .rare
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .map(|rare| *rare)
            .unwrap_or_default();
        // The same facts, in the same order, as an SDK server span records
        // them: the handler's writes (made while it ran) before the response's,
        // and every status merged by the SDK's rule.
        let user = rare.user;
        attributes.extend_from(user.attributes);
        let mut status = user.status.unwrap_or(Status::Unset);
        let mut events = SpanEvents::default();
        events.events.extend(user.events);
        let code = self.status_code.load(Ordering::Relaxed);
        if code != 0 {
            let headers = &rare.response_headers[..];
            if let Some(error) = response_facts(recorder, code, headers, attributes) {
                status = merge_status(status, error);
            }
        }
        if let Some((code, message)) = rare.grpc {
            let (attr, error) = grpc_facts(code, message);
            attributes.push(attr);
            if let Some(error) = error {
                status = merge_status(status, error);
            }
        }
        if let Some((kind, message, at)) = rare.failure {
            let (error_type, event, error) = failure_facts(
                recorder.semconv,
                Failure {
                    kind: Cow::Owned(kind),
                    message: Cow::Owned(message),
                },
            );
            attributes.extend_from(error_type);
            events.events.push(Event::new("exception", at, event, 0));
            status = merge_status(status, error);
        }
        if ending.cancelled {
            attributes.push(KeyValue::new(HTTP_CANCELLED, true));
        }
        attributes.extend_from(totals.attributes());
        if let Export::Kept(reason) = ending.reason {
            attributes.push(KeyValue::new(SAMPLING_REASON, reason.as_str()));
        }
        // Only the frames whose spans are on were logged (`frame`).
        self.frames.for_each(children, |frame| {
            child(
                ChildFrame {
                    server: &server,
                    name: &name,
                    message: frame.message,
                    start: anchor.at(frame.start),
                    end: anchor.at(frame.end),
                    status: (code != 0).then_some(code),
                },
                attributes,
            );
        });
        let mut links = SpanLinks::default();
        if let Some(link) = &self.link {
            links.links.push(Link::with_context((**link).clone()));
        }
        links.links.extend(user.links);
        let name = match user.name {
            Some(renamed) => renamed,
            None => Cow::Owned(name),
        };
        SpanData {
            span_context: server,
            parent_span_id: self.parent.0,
            parent_span_is_remote: self.parent.1,
            span_kind: SpanKind::Server,
            name,
            start_time: anchor.at(self.start),
            end_time: anchor.at(ending.end),
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            events,
            links,
            status,
            instrumentation_scope: recorder.pipeline.scope().clone(),
        }
    }
}

/// On the export thread: the request's children (its first `spans - 1`
/// frames), then its server span.
impl<S: Source> FinishedRequest for DeferredSpan<S> {
    fn build_spans(&self, spans: usize, out: &mut Vec<SpanData>) {
        let Some(ending) = self.ending.get() else {
            return;
        };
        let recorder = &*self.recorder;
        // Each child's name is made once, as its own `String`.
        let mut attributes = Vec::with_capacity(server_attribute_capacity(recorder.semconv));
        let mut server = self.finish(ending, spans - 1, &mut attributes, |frame, _| {
            let (attrs, failed) = child_attributes(recorder.semconv, frame.message, frame.status);
            out.push(child_span_data(
                recorder,
                frame.server,
                child_name(frame.name, frame.message),
                frame.start,
                frame.end,
                attrs,
                failed,
            ));
        });
        server.attributes = attributes;
        out.push(server);
    }

    fn request_spans(&self, spans: usize) -> Option<Box<RequestSpans>> {
        let ending = self.ending.get()?;
        let recorder = &*self.recorder;
        let mut children = Vec::with_capacity(spans - 1);
        // A kind's shape is made with its first child (its name is never empty).
        let mut shapes = <[ChildShape; Message::KINDS]>::default();
        // Two names at most (`http send` is the head's and the body's), each
        // written once.
        let mut named: [Option<Range<usize>>; 2] = [None, None];
        // Sized for the usual request: the server span's attributes and
        // texts (target, URL, user agent, peer address), then two kinds of
        // children's attributes and names; growing was one `realloc`.
        let child_attributes = match recorder.semconv {
            Semconv::Legacy => 4,
            Semconv::Stable => 5,
            Semconv::Dup => 9,
        };
        let mut attributes = AttributeList::with_capacity(
            server_attribute_capacity(recorder.semconv) + child_attributes,
            SERVER_TEXT_CAPACITY,
        );
        let mut server_attributes = None;
        // Children of one kind share a name, attributes and a status: made
        // once a kind, not once a frame.
        let server = self.finish(ending, spans - 1, &mut attributes, |frame, list| {
            // Every server attribute is written before the first child.
            server_attributes.get_or_insert(list.len());
            let shape = frame.message as usize;
            if shapes[shape].name.is_empty() {
                let which = usize::from(matches!(frame.message, Message::Request));
                let name = named[which].get_or_insert_with(|| {
                    list.write_text(|text| push_child_name(text, frame.name, frame.message))
                });
                let from = list.len();
                let failed =
                    push_child_attributes(recorder.semconv, frame.message, frame.status, list);
                shapes[shape] = ChildShape {
                    name: name.clone(),
                    attributes: from..list.len(),
                    status: child_status(failed),
                };
            }
            children.push(ChildSpan {
                context: child_context(recorder, frame.server),
                start: frame.start,
                end: frame.end,
                shape,
            });
        });
        let server_attributes = server_attributes.unwrap_or(attributes.len());
        Some(Box::new(RequestSpans {
            server,
            server_attributes,
            attributes,
            children,
            shapes,
            scope: recorder.pipeline.shared_scope().clone(),
        }))
    }
}
