//! [`Recorder`]: what every record of a layer shares: how its spans are
//! described, which of them to record, where records go when their request
//! ends, and the ids and scope their spans get. Built once by the layer's
//! builder from the resolved settings.

use std::sync::Arc;

use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::trace::RandomIdGenerator;

use super::handoff::RecordSink;
use crate::conventions::Conventions;
use crate::settings::KeepSettings;

/// Shared by every record of a layer, on both threads.
pub(crate) struct Recorder {
    /// How spans are named and described.
    pub(crate) conventions: Conventions,
    pub(crate) ids: RandomIdGenerator,
    /// Whether to record the `http send` children (ASGI's `exclude_spans`).
    pub(crate) send_spans: bool,
    /// Whether to record the `http receive` children.
    pub(crate) receive_spans: bool,
    /// Which unsampled requests are exported anyway.
    pub(crate) keep: KeepSettings,
    /// Frame spans per request and direction (`max_frame_spans`), with
    /// unlimited as `u64::MAX` so that each frame costs one compare.
    pub(crate) frame_span_cap: u64,
    /// Where records go when their request ends: `None` when nothing exports
    /// (no exporter), and records end there. It does not keep the pipeline
    /// alive: the layer's service does, and a record queued for export must
    /// not (see `Pipeline::core`).
    pub(crate) sink: Option<Arc<dyn RecordSink>>,
    /// The scope of the layer's own spans, shared: every request's spans read
    /// it at one address.
    pub(crate) scope: Arc<InstrumentationScope>,
}

/// `max_frame_spans` as [`Recorder::frame_span_cap`] holds it.
pub(crate) fn frame_span_cap(max_frame_spans: usize) -> u64 {
    match max_frame_spans {
        0 => u64::MAX,
        n => u64::try_from(n).unwrap_or(u64::MAX),
    }
}
