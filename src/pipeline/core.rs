//! [`PipelineCore`]: the pipeline as the layer's requests use it: its tracer
//! and scope, the batch processor records are handed to, the keep buffer, the
//! counters; and [`ExportSide`], what every exporter it builds is wrapped with.

use std::sync::Arc;

use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider, SpanProcessor as _};

use super::batch::BatchProcessor;
use super::keep_buffer::KeepBuffer;
use super::stats::Counters;
use super::stats::TracingStats;
use crate::exporter::InMemoryExporter;
use crate::record::{EndedRecord, KeptFor, RecordSink};

/// The pipeline as the layer's requests use it: clones share it without
/// keeping it from shutting down (see [`Pipeline::core`]).
#[derive(Clone)]
pub(crate) struct PipelineCore {
    inner: Arc<Inner>,
}

struct Inner {
    provider: SdkTracerProvider,
    /// Built by the layer (not a user's provider): the layer shuts it down.
    owned: bool,
    tracer: SdkTracer,
    /// The tracer's scope, for spans made without the tracer (a record's);
    /// shared, so that all of them have one scope at one address
    /// (`record/spans/request_spans.rs`).
    scope: Arc<InstrumentationScope>,
    /// The batch processor of a pipeline the layer built with an exporter
    /// (`None` for a user's provider, whose processors only the SDK can reach).
    batch: Option<Arc<BatchProcessor>>,
    counters: Arc<Counters>,
    /// The store the viewer reads, fed by the tee beside the exporter.
    #[cfg(feature = "viewer")]
    viewer: Arc<crate::viewer::TraceStore>,
    in_memory: Option<InMemoryExporter>,
    /// Holds the spans of requests that may still be kept (`keep_detail: full`).
    keep_buffer: Option<Arc<KeepBuffer>>,
}

impl PipelineCore {
    pub(super) fn force_flush(&self) -> OTelSdkResult {
        self.inner.provider.force_flush()
    }

    pub(super) fn stats(&self) -> TracingStats {
        self.inner.counters.snapshot()
    }

    pub(super) fn shutdown(&self) -> OTelSdkResult {
        self.inner.provider.shutdown()
    }

    pub(super) fn owned(&self) -> bool {
        self.inner.owned
    }

    /// The layer's tracer (its scope is this crate's name and version).
    pub(super) fn provider(&self) -> &SdkTracerProvider {
        &self.inner.provider
    }

    pub(super) fn in_memory(&self) -> Option<&InMemoryExporter> {
        self.inner.in_memory.as_ref()
    }

    pub(crate) fn layer_tracer(&self) -> &SdkTracer {
        &self.inner.tracer
    }

    /// The layer tracer's scope, shared: every request's spans read it at one
    /// address.
    pub(crate) fn scope(&self) -> &Arc<InstrumentationScope> {
        &self.inner.scope
    }

    /// Where the layer hands its records, when it built the pipeline.
    pub(crate) fn batch(&self) -> Option<&BatchProcessor> {
        self.inner.batch.as_deref()
    }

    #[cfg(feature = "viewer")]
    pub(crate) fn viewer_store(&self) -> &Arc<crate::viewer::TraceStore> {
        &self.inner.viewer
    }

    /// Whether every span of a request that may still be kept is held
    /// (`keep_detail: full` on a pipeline the layer built).
    pub(crate) fn holds_traces(&self) -> bool {
        self.inner.keep_buffer.is_some()
    }

    /// Starts holding the record-only spans of `trace`.
    pub(crate) fn hold_trace(&self, trace: opentelemetry::trace::TraceId) {
        if let Some(buffer) = &self.inner.keep_buffer {
            buffer.hold(trace);
        }
    }

    /// The request of `trace` is over: export its held spans if it is kept, drop
    /// them otherwise.
    fn release_trace(&self, trace: opentelemetry::trace::TraceId, keep: bool) {
        let (Some(buffer), Some(batch)) = (&self.inner.keep_buffer, &self.inner.batch) else {
            return;
        };
        // Sampled now: past the keep buffer, straight to the queue.
        for span in buffer.release(trace, keep) {
            batch.on_end(span);
        }
    }

    pub(super) fn from_parts(
        provider: SdkTracerProvider,
        owned: bool,
        batch: Option<Arc<BatchProcessor>>,
        side: ExportSide,
        in_memory: Option<InMemoryExporter>,
        keep_buffer: Option<Arc<KeepBuffer>>,
    ) -> Self {
        let scope = InstrumentationScope::builder(env!("CARGO_PKG_NAME"))
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        let tracer = provider.tracer_with_scope(scope.clone());
        PipelineCore {
            inner: Arc::new(Inner {
                provider,
                owned,
                tracer,
                scope: Arc::new(scope),
                batch,
                counters: side.counters,
                #[cfg(feature = "viewer")]
                viewer: side.viewer,
                in_memory,
                keep_buffer,
            }),
        }
    }
}

/// The layer's own pipeline takes its records into the batch processor's queue.
impl RecordSink for PipelineCore {
    fn export(&self, record: Arc<dyn EndedRecord>, spans: usize, kept: Option<KeptFor>) {
        let kept = kept.map(|reason| (reason, record.context().span().span_context().trace_id()));
        if let Some(batch) = self.batch() {
            batch.hand_over(record, spans);
        }
        if let Some((reason, trace)) = kept {
            self.inner.counters.kept(reason);
            self.release_trace(trace, true);
        }
    }

    fn discard(&self, trace: opentelemetry::trace::TraceId) {
        if self.holds_traces() {
            self.release_trace(trace, false);
        }
    }
}

/// What every exporter the pipeline builds is wrapped with: the span counters
/// and, with the `viewer` feature, the viewer's store, teed beside the exporter.
#[derive(Clone, Default)]
pub(crate) struct ExportSide {
    pub(super) counters: Arc<Counters>,
    #[cfg(feature = "viewer")]
    pub(super) viewer: Arc<crate::viewer::TraceStore>,
}
