//! Where records and spans go: the layer's ended records, and the SDK spans of
//! handlers (sampler -> tracer provider -> keep buffer), go to one batch
//! processor -> (truncation) -> exporter; and the one handle to it,
//! [`Pipeline`]: flush, stats, the tracer provider.
//!
//! - `from_settings.rs`: the pipeline the [`Settings`] describe;
//! - `core.rs`: what the layer's requests use of it, and where records go
//!   (the record sink of the layer's own pipeline);
//! - `replay.rs`: where records go under a tracer provider the user supplied;
//! - `sampler.rs`: the sampling policy the layer decides with before any SDK span
//!   exists, and its SDK twin for spans handlers make;
//! - `batch.rs`: the batch processor, its lock-free queue and export thread,
//!   where an ended record's spans are built;
//! - `block_on.rs`: runs an exporter's future on an export thread;
//! - `keep_buffer.rs`: the spans of requests that may still be kept;
//! - `truncate.rs`: `max_tag_value_length`, the only place values are cut;
//! - `stats.rs`: span accounting (started, exported, dropped, failed, queued);
//! - `concurrent.rs`: up to four exports at once for the network exporters, the
//!   batch processor's thread handing each batch to a worker; `in_flight.rs`:
//!   the exports under way, which a flush waits for;
//! - `resource.rs`: `service.name` and the resource attributes;
//! - `guard.rs`: [`TracingGuard`], the pipeline's lifetime (and the metrics
//!   push's, which the pipeline holds: `exporter/metrics_push/`).
//!
//! With the `viewer` feature, every exporter is wrapped in the viewer's tee
//! (`viewer/tee.rs`), which copies each export batch into the viewer's store on
//! the batch processor's thread.
//!
//! ```
//! use opentelemetry::trace::Tracer;
//! use tower_otel_tracing::config::ExporterType;
//! use tower_otel_tracing::{TracingConfig, TracingLayer};
//!
//! let cfg = TracingConfig {
//!     exporter_type: Some(ExporterType::InMemory),
//!     sample_rate: Some(1.0),
//!     ..Default::default()
//! };
//! let pipeline = TracingLayer::from_config(cfg).pipeline().clone();
//! pipeline.tracer("jobs").in_span("nightly cleanup", |_cx| {});
//! // Spans leave on the export thread; flushing makes the counts final.
//! pipeline.force_flush()?;
//! let stats = pipeline.stats();
//! assert_eq!((stats.started, stats.exported, stats.queued), (1, 1, 0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// Only the network exporters export concurrently; without them only the
// in-flight count (always zero) is used.
mod batch;
mod block_on;
#[cfg_attr(
    not(any(feature = "zipkin", feature = "jaeger", feature = "otlp")),
    allow(dead_code)
)]
mod concurrent;
mod core;
mod from_settings;
mod guard;
mod in_flight;
mod keep_buffer;
mod replay;
mod resource;
pub(crate) mod sampler;
mod stats;
pub(crate) mod truncate;

use std::fmt;
use std::sync::{Arc, OnceLock};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

use self::core::ExportSide;
pub(crate) use self::core::PipelineCore;
use crate::config::ConfigError;
use crate::exporter::metrics_push::MetricsPush;
pub use crate::exporter::metrics_push::MetricsPushStats;
use crate::exporter::InMemoryExporter;
use crate::record::RecordSink;
use crate::settings::Settings;
pub(crate) use from_settings::Sink;
pub use guard::TracingGuard;
use replay::Replay;
pub(crate) use resource::resource;
use sampler::SamplingPolicy;
pub use stats::TracingStats;

/// The handle to a layer's export pipeline: flush it, read its span counts, or
/// reach its tracer provider (to make handler spans without the global one).
/// Clones share one pipeline, which shuts down (exporting what is queued) when
/// the last handle is dropped: the layer's, a guard's or a clone of this. Get it
/// with [`TracingLayer::pipeline`](crate::TracingLayer::pipeline), or through a
/// [`TracingGuard`], which derefs to it.
///
/// ```
/// use tower_otel_tracing::{TracingConfig, TracingLayer};
///
/// let layer = TracingLayer::from_config(TracingConfig::default());
/// let pipeline = layer.pipeline();
/// pipeline.force_flush().unwrap();
/// assert_eq!(pipeline.stats().dropped, 0);
/// let _tracer = pipeline.tracer("my.handler");
/// ```
#[derive(Clone)]
pub struct Pipeline {
    owner: Arc<Owner>,
}

/// Shuts an owned pipeline down when the last [`Pipeline`] handle goes, and
/// the metrics push (whoever owns the tracer provider: the push is ours).
struct Owner {
    core: PipelineCore,
    /// The layer's metrics push, when `metrics.exporter` asks for one.
    metrics_push: OnceLock<MetricsPush>,
}

impl Owner {
    /// Pushes the metrics a last time and stops their thread (once).
    fn stop_metrics_push(&self) {
        if let Some(push) = self.metrics_push.get() {
            push.shutdown();
        }
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.stop_metrics_push();
        if self.core.owned() {
            // Flushes what is queued; after a guard's shutdown this is a no-op error.
            let _ = self.core.shutdown();
        }
    }
}

impl Pipeline {
    /// Exports every span finished so far, waiting until the exporter has taken them,
    /// and pushes the metrics measured so far when `metrics.exporter` pushes.
    pub fn force_flush(&self) -> OTelSdkResult {
        let spans = self.core().force_flush();
        let metrics = self
            .owner
            .metrics_push
            .get()
            .map_or(Ok(()), MetricsPush::flush);
        spans.and(metrics)
    }

    /// How the metrics pushes went, when `metrics.exporter` pushes (`otlp`,
    /// `console`).
    pub fn metrics_push_stats(&self) -> Option<MetricsPushStats> {
        self.owner.metrics_push.get().map(MetricsPush::stats)
    }

    /// Spans started, exported, dropped (queue full), failed and queued so far, for
    /// a pipeline the layer built (all zero for a provider you supplied).
    pub fn stats(&self) -> TracingStats {
        self.core().stats()
    }

    /// The tracer provider behind the layer.
    ///
    /// ```
    /// use opentelemetry::trace::{Tracer, TracerProvider};
    /// use opentelemetry::InstrumentationScope;
    /// use tower_otel_tracing::config::ExporterType;
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// # let cfg = TracingConfig { exporter_type: Some(ExporterType::InMemory), sample_rate: Some(1.0), ..Default::default() };
    /// let pipeline = TracingLayer::from_config(cfg).pipeline().clone();
    /// // A versioned scope, which `tracer(name)` cannot give.
    /// let scope = InstrumentationScope::builder("billing").with_version("1.4.0").build();
    /// let tracer = pipeline.tracer_provider().tracer_with_scope(scope);
    /// tracer.in_span("charge card", |_cx| {});
    /// pipeline.force_flush()?;
    /// let spans = pipeline.in_memory_exporter().unwrap().finished_spans();
    /// assert_eq!(spans[0].instrumentation_scope.version(), Some("1.4.0"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tracer_provider(&self) -> &SdkTracerProvider {
        self.core().provider()
    }

    /// A tracer from the layer's provider.
    pub fn tracer(&self, name: &'static str) -> SdkTracer {
        self.core().provider().tracer(name)
    }

    /// The in-memory exporter, when `exporter_type` is `in_memory`.
    ///
    /// ```
    /// use tower_otel_tracing::config::ExporterType;
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// let cfg = TracingConfig {
    ///     exporter_type: Some(ExporterType::InMemory),
    ///     ..Default::default()
    /// };
    /// let layer = TracingLayer::from_config(cfg);
    /// let spans = layer.pipeline().in_memory_exporter().expect("exporter_type is in_memory");
    /// assert!(spans.finished_spans().is_empty());
    ///
    /// let layer = TracingLayer::from_config(TracingConfig::default());
    /// assert!(layer.pipeline().in_memory_exporter().is_none());
    /// ```
    pub fn in_memory_exporter(&self) -> Option<InMemoryExporter> {
        self.core().in_memory().cloned()
    }

    /// What the layer's requests record with. It does not keep the pipeline
    /// from shutting down: a record waiting in the export queue holds it, and
    /// must not stop the last handle's drop from flushing.
    pub(crate) fn core(&self) -> &PipelineCore {
        &self.owner.core
    }

    /// Hands the layer's metrics push to the pipeline, which flushes it with
    /// the spans and stops it when it shuts down. Once.
    pub(crate) fn attach_metrics_push(&self, push: MetricsPush) {
        // A pipeline belongs to one layer, which attaches at most one push.
        let _ = self.owner.metrics_push.set(push);
    }

    /// Pushes the metrics a last time and stops their thread, leaving the
    /// tracer provider as it is (a guard over a provider the user owns).
    pub(crate) fn stop_metrics_push(&self) {
        self.owner.stop_metrics_push();
    }

    /// Where the layer's records go when their request ends: the batch
    /// processor of a pipeline the layer built, the replay into a provider the
    /// user supplied, or nowhere when nothing exports.
    pub(crate) fn record_sink(&self) -> Option<Arc<dyn RecordSink>> {
        let core = self.core();
        if !core.owned() {
            return Some(Arc::new(Replay::new(core.layer_tracer().clone())));
        }
        core.batch()?;
        Some(Arc::new(core.clone()))
    }

    /// Pushes the metrics a last time, then flushes and stops the spans.
    pub(crate) fn shutdown(&self) -> OTelSdkResult {
        self.stop_metrics_push();
        self.core().shutdown()
    }

    pub(crate) fn owned(&self) -> bool {
        self.core().owned()
    }

    #[cfg(feature = "viewer")]
    pub(crate) fn viewer_store(&self) -> &Arc<crate::viewer::TraceStore> {
        self.core().viewer_store()
    }

    /// A pipeline around a provider the user built and owns.
    pub(crate) fn user_provider(provider: SdkTracerProvider) -> Self {
        Self::own(PipelineCore::from_parts(
            provider,
            false,
            None,
            ExportSide::default(),
            None,
            None,
        ))
    }

    /// A pipeline that records nothing (`OTEL_SDK_DISABLED`).
    pub(crate) fn disabled() -> Self {
        Self::own(PipelineCore::from_parts(
            SdkTracerProvider::builder().build(),
            true,
            None,
            ExportSide::default(),
            None,
            None,
        ))
    }

    fn own(core: PipelineCore) -> Self {
        Pipeline {
            owner: Arc::new(Owner {
                core,
                metrics_push: OnceLock::new(),
            }),
        }
    }
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("owned", &self.owned())
            .field("stats", &self.stats())
            .field("metrics_push", &self.owner.metrics_push.get())
            .finish_non_exhaustive()
    }
}

/// Builds the pipeline the settings describe.
pub(crate) fn build(
    settings: &Settings,
    sink: Sink,
    policy: SamplingPolicy,
) -> Result<Pipeline, ConfigError> {
    from_settings::build(settings, sink, policy).map(Pipeline::own)
}
