//! [`Recorder`]: what a request span needs from the layer to record itself:
//! the pipeline (its tracer, and its processors for child spans handed over as
//! finished data), an id generator, and which children to record.

use opentelemetry_sdk::trace::RandomIdGenerator;

use super::recorded_headers::RecordedHeader;
use crate::config::Semconv;
use crate::pipeline::Pipeline;

/// Shared by every request span of a layer. Holding the pipeline keeps it alive
/// until the last in-flight request has ended its spans.
pub(crate) struct Recorder {
    pub(crate) pipeline: Pipeline,
    pub(crate) ids: RandomIdGenerator,
    /// Whether to record the `http send` children (ASGI's `exclude_spans`).
    pub(crate) send_spans: bool,
    /// Whether to record the `http receive` children.
    pub(crate) receive_spans: bool,
    /// Opted-in response headers, recorded when the response starts.
    pub(crate) response_headers: Vec<RecordedHeader>,
    /// Which HTTP conventions the spans carry.
    pub(crate) semconv: Semconv,
}
