//! How much a request's bodies carried, whatever the frame span cap let through:
//! with `max_frame_spans` a long stream's spans stop at the cap, so the server
//! span says how long the stream really was (`tower_otel_tracing.*`, ours).

use std::sync::atomic::{AtomicU64, Ordering};

use opentelemetry::KeyValue;

use crate::conventions::ours::{REQUEST_BYTES, REQUEST_FRAMES, RESPONSE_BYTES, RESPONSE_FRAMES};
use crate::conventions::sink::AttributeSink;

/// One direction's data frames and bytes. Atomic because the request body, the
/// response body and the future that ends the span may each run on any thread;
/// relaxed, because only the totals matter, read once the exchange is over.
#[derive(Default)]
pub(crate) struct Direction {
    frames: AtomicU64,
    bytes: AtomicU64,
}

impl Direction {
    /// Counts one data frame of `bytes`; whether it still gets a span under
    /// `cap` (see `recorder::frame_span_cap`). Both ways a request is recorded
    /// count and cap their frames here.
    pub(crate) fn count_under(&self, bytes: usize, cap: u64) -> bool {
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        self.frames.fetch_add(1, Ordering::Relaxed) < cap
    }

    /// Data frames counted so far, and their bytes.
    pub(crate) fn counted(&self) -> (u64, u64) {
        (
            self.frames.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }

    fn read(&self) -> (i64, i64) {
        let signed = |n: &AtomicU64| i64::try_from(n.load(Ordering::Relaxed)).unwrap_or(i64::MAX);
        (signed(&self.frames), signed(&self.bytes))
    }
}

/// Both directions of one exchange.
#[derive(Default)]
pub(crate) struct Totals {
    pub(crate) received: Direction,
    pub(crate) sent: Direction,
}

impl Totals {
    /// The server span's totals attributes, request side first, onto
    /// `attributes`.
    #[inline]
    pub(crate) fn push_attributes(&self, attributes: &mut impl AttributeSink) {
        let (request_frames, request_bytes) = self.received.read();
        let (response_frames, response_bytes) = self.sent.read();
        attributes.push(KeyValue::new(REQUEST_FRAMES, request_frames));
        attributes.push(KeyValue::new(REQUEST_BYTES, request_bytes));
        attributes.push(KeyValue::new(RESPONSE_FRAMES, response_frames));
        attributes.push(KeyValue::new(RESPONSE_BYTES, response_bytes));
    }
}
