//! [`Recording`]: what the response future and the bodies of a recorded request
//! report to. A sampled request on the layer's own pipeline is a record whose
//! spans are built at its end ([`SampledRecord`]); under a user's tracer
//! provider it is an SDK span recorded as it goes ([`RequestSpan`]); a request
//! the sample rate did not pick that may still be kept is a record described
//! at its end only if it is ([`DeferredSpan`]).
//!
//! Separate types behind one handle rather than one type with optional parts:
//! each record is one allocation of its own layout, and carries nothing of
//! the others. Measured with callgrind (rate 0 with
//! `keep_errors`), the separate box cost ~130 instructions a request, and
//! every sampled span copied the empty space.

use std::sync::Arc;

use opentelemetry::Context;

use super::clock::Tick;
use super::deferred::{DeferredSpan, SampledRecord};
use super::failure::Failure;
use super::message::Message;
use super::request_span::RequestSpan;

/// A recorded request, shared by its future and bodies (clones share it).
#[derive(Clone)]
pub(crate) enum Recording {
    /// Sampled, on the layer's own pipeline: a record, spans built at the end.
    Record(Arc<SampledRecord>),
    /// Sampled, under a tracer provider the user supplied: SDK spans.
    Sampled(Arc<RequestSpan>),
    /// Not sampled, kept at the end if the keep rules say so.
    Deferred(Arc<DeferredSpan>),
}

impl Recording {
    /// The context the inner service runs under.
    #[inline]
    pub(crate) fn cx(&self) -> &Context {
        match self {
            Recording::Sampled(s) => &s.cx,
            Recording::Record(r) => &r.cx,
            Recording::Deferred(d) => &d.cx,
        }
    }

    /// `grpc-status` (and `grpc-message`) from these headers or trailers.
    #[inline]
    pub(crate) fn grpc_status(&self, headers: &http::HeaderMap) {
        match self {
            Recording::Sampled(s) => s.grpc_status(headers),
            Recording::Record(r) => r.grpc_status(headers),
            Recording::Deferred(d) => d.grpc_status(headers),
        }
    }

    /// The response head, and its `http.response.start` frame. A `start` of
    /// `None` in these methods means the frame began as it ended: it was ready
    /// at once, so one clock read serves as both ends.
    #[inline]
    pub(crate) fn response_started(
        &self,
        status: u16,
        headers: &http::HeaderMap,
        start: Option<Tick>,
    ) {
        match self {
            Recording::Sampled(s) => s.response_started(status, headers, start),
            Recording::Record(r) => r.response_started(status, headers, start),
            Recording::Deferred(d) => d.response_started(status, headers, start),
        }
    }

    /// A request body data frame of `bytes`, read from `start` to now.
    #[inline]
    pub(crate) fn received(&self, start: Option<Tick>, bytes: usize) {
        match self {
            Recording::Sampled(s) => s.received(start, bytes),
            Recording::Record(r) => r.received(start, bytes),
            Recording::Deferred(d) => d.received(start, bytes),
        }
    }

    /// A response body data frame of `bytes`, sent from `start` to now.
    #[inline]
    pub(crate) fn sent(&self, start: Option<Tick>, status: u16, bytes: usize) {
        match self {
            Recording::Sampled(s) => s.sent(start, status, bytes),
            Recording::Record(r) => r.sent(start, bytes),
            Recording::Deferred(d) => d.sent(start, bytes),
        }
    }

    /// Any other message (trailers, an empty body), from `start` to now.
    #[inline]
    pub(crate) fn child(&self, message: Message, start: Option<Tick>, status: Option<u16>) {
        match self {
            Recording::Sampled(s) => s.child(message, start, status),
            Recording::Record(r) => r.frame(message, start),
            Recording::Deferred(d) => d.frame(message, start),
        }
    }

    /// The exchange failed: an inner error, a panic, a body error.
    pub(crate) fn fail(&self, failure: Failure<'_>) {
        match self {
            Recording::Sampled(s) => s.fail(failure),
            Recording::Record(r) => r.fail(failure),
            Recording::Deferred(d) => d.fail(failure),
        }
    }

    /// The exchange is complete.
    #[inline]
    pub(crate) fn end(&self) {
        match self {
            Recording::Sampled(s) => s.end(),
            Recording::Record(r) => r.end(false),
            Recording::Deferred(d) => d.end(false),
        }
    }

    /// The exchange was abandoned before its body was sent.
    pub(crate) fn end_cancelled(&self) {
        match self {
            Recording::Sampled(s) => s.end_cancelled(),
            Recording::Record(r) => r.end(true),
            Recording::Deferred(d) => d.end(true),
        }
    }
}
