//! The hand-off between a record's two halves. When its request ends, a record
//! that is exported goes to a [`RecordSink`] (the pipeline's batch processor, or
//! the replay into a tracer provider the user supplied), which later turns it
//! into spans through [`EndedRecord`], on whatever thread it exports from.

use std::sync::Arc;

use opentelemetry::trace::TraceId;
use opentelemetry::Context;

use opentelemetry_sdk::trace::SpanData;

use super::spans::RequestSpans;

/// A record whose request ended and is exported: what a [`RecordSink`] builds
/// its spans from.
///
/// - **Who calls:** the sink it was handed to, once, after the hand-off: the
///   batch processor's export thread, or the request's own thread for the
///   replay into a user's provider.
/// - **What may block:** nothing. Building reads only the record; the frames
///   written after the request ended are not read.
/// - **Errors:** none. A record is built into exactly the number of spans it
///   was handed over with.
pub(crate) trait EndedRecord: Send + Sync {
    /// Its `spans` spans (the number it was handed over with: the server span
    /// and the frames counted at its end), as our encoders read them.
    fn build(&self, spans: usize) -> RequestSpans;

    /// The same spans as SDK `SpanData`, children then the server span, onto
    /// `out`, for a consumer that takes only that.
    fn build_span_data(&self, spans: usize, out: &mut Vec<SpanData>);

    /// The context its handler ran under: it holds the server span a user's
    /// tracer provider started, for the replay to end.
    fn context(&self) -> &Context;
}

/// Where a record goes when its request ends.
///
/// - **Who calls:** a record, once, from the thread that ends its request (the
///   response future's, or a body's: any runtime thread).
/// - **How often:** once for every request recorded (sampled, or kept if it
///   ends as an error or slowly).
/// - **What may block:** nothing: this runs on a request's path. A sink
///   queues (and drops what does not fit, counted) or, for a user's provider,
///   replays through its tracer, whose processors decide.
/// - **Errors:** none reach the request: a record that cannot be taken is
///   counted as dropped.
pub(crate) trait RecordSink: Send + Sync {
    /// `record`, of `spans` spans, is exported; `kept` says why when the keep
    /// rules exported it (the sample rate did not pick it).
    fn export(&self, record: Arc<dyn EndedRecord>, spans: usize, kept: Option<KeptFor>);

    /// The request of `trace` ended and is not exported.
    fn discard(&self, trace: TraceId);
}

/// Why a request the sample rate did not pick was exported anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeptFor {
    /// It ended with a 5xx, an inner error, a panic or a gRPC server fault.
    Error,
    /// Its server span lasted longer than `keep_slower_than`.
    Slow,
}

impl KeptFor {
    /// The value of `sampling.reason`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            KeptFor::Error => "error",
            KeptFor::Slow => "slow",
        }
    }
}
