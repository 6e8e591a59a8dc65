//! [`Recording`]: what the response future and the bodies of a recorded
//! request report to: its record, of one of its kinds.

use std::sync::Arc;

use opentelemetry::Context;

use super::kind::{Keepable, Sampled, UserProvider};
use super::record::Record;
use crate::clock::Tick;
use crate::conventions::failure::Failure;
use crate::conventions::message::Message;

/// A recorded request, shared by its future and bodies (clones share it).
#[derive(Clone)]
pub(crate) enum Recording {
    /// Sampled: exported whatever happens.
    Sampled(Arc<Record<Sampled>>),
    /// Not picked by the sample rate: exported if the keep rules keep it.
    Keepable(Arc<Record<Keepable>>),
    /// Sampled by a tracer provider the user supplied.
    UserProvider(Arc<Record<UserProvider>>),
}

/// Calls the same method on either kind of record.
macro_rules! each {
    ($self:ident, $r:ident => $call:expr) => {
        match $self {
            Recording::Sampled($r) => $call,
            Recording::Keepable($r) => $call,
            Recording::UserProvider($r) => $call,
        }
    };
}

impl Recording {
    /// The context the inner service runs under.
    #[inline]
    pub(crate) fn cx(&self) -> &Context {
        each!(self, r => &r.cx)
    }

    /// `grpc-status` (and `grpc-message`) from these headers or trailers.
    #[inline]
    pub(crate) fn grpc_status(&self, headers: &http::HeaderMap) {
        each!(self, r => r.grpc_status(headers))
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
        each!(self, r => r.response_started(status, headers, start))
    }

    /// A request body data frame of `bytes`, read from `start` to now.
    #[inline]
    pub(crate) fn received(&self, start: Option<Tick>, bytes: usize) {
        each!(self, r => r.received(start, bytes))
    }

    /// A response body data frame of `bytes`, sent from `start` to now.
    #[inline]
    pub(crate) fn sent(&self, start: Option<Tick>, bytes: usize) {
        each!(self, r => r.sent(start, bytes))
    }

    /// Any other message (trailers, an empty body), from `start` to now.
    #[inline]
    pub(crate) fn frame(&self, message: Message, start: Option<Tick>) {
        each!(self, r => r.frame(message, start))
    }

    /// The exchange failed: an inner error, a panic, a body error.
    pub(crate) fn fail(&self, failure: Failure<'_>) {
        each!(self, r => r.fail(failure))
    }

    /// The exchange is complete.
    #[inline]
    pub(crate) fn end(&self) {
        each!(self, r => r.end(false))
    }

    /// The exchange was abandoned before its body was sent.
    pub(crate) fn end_cancelled(&self) {
        each!(self, r => r.end(true))
    }
}
