//! [`Recorder`]: what a request span needs from the layer to record itself:
//! the pipeline (its tracer, and its processors for spans handed over as
//! finished data), an id generator, which children to record, and how a request
//! is described (`describe.rs`).

use opentelemetry_sdk::trace::RandomIdGenerator;

use std::net::SocketAddr;

use super::address::TextCache;
use super::recorded_headers::RecordedHeader;
use crate::config::Semconv;
use crate::pipeline::PipelineCore;
use crate::settings::KeepSettings;

/// Shared by every request span of a layer. It does not keep the pipeline
/// alive: the layer's service does, and a finished request queued for export
/// must not (see `Pipeline::core`).
pub(crate) struct Recorder {
    pub(crate) pipeline: PipelineCore,
    pub(crate) ids: RandomIdGenerator,
    /// Whether to record the `http send` children (ASGI's `exclude_spans`).
    pub(crate) send_spans: bool,
    /// Whether to record the `http receive` children.
    pub(crate) receive_spans: bool,
    /// Opted-in request headers, recorded on the server span.
    pub(crate) request_headers: Vec<RecordedHeader>,
    /// Opted-in response headers, recorded when the response starts.
    pub(crate) response_headers: Vec<RecordedHeader>,
    /// Which HTTP conventions the spans carry.
    pub(crate) semconv: Semconv,
    /// The server's own address when requests carry no `ConnectionInfo`.
    pub(crate) local_addr: Option<SocketAddr>,
    /// Name server spans after the matched route template (legacy conventions).
    pub(crate) route_names: bool,
    /// Attribute texts nearly every request repeats.
    pub(crate) texts: TextCache,
    /// Which unsampled requests are exported anyway.
    pub(crate) keep: KeepSettings,
    /// Frame spans per request and direction (`max_frame_spans`), with
    /// unlimited as `u64::MAX` so that each frame costs one compare.
    pub(crate) frame_span_cap: u64,
}

/// `max_frame_spans` as [`Recorder::frame_span_cap`] holds it.
pub(crate) fn frame_span_cap(max_frame_spans: usize) -> u64 {
    match max_frame_spans {
        0 => u64::MAX,
        n => u64::try_from(n).unwrap_or(u64::MAX),
    }
}
