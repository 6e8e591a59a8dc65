//! The export side, built from [`Settings`]: the layer's finished requests, and
//! the SDK spans of handlers (sampler -> tracer provider -> keep buffer), go to
//! one batch processor -> (truncation) -> exporter; and the one handle to it,
//! [`Pipeline`]: flush, stats, the tracer provider.
//!
//! - `sampler.rs`: the sampling policy the layer decides with before any SDK span
//!   exists, and its SDK twin for spans handlers make;
//! - `batch.rs`: the batch processor, its lock-free queue and export thread,
//!   where a finished request's spans are built;
//! - `block_on.rs`: runs an exporter's future on an export thread;
//! - `keep_buffer.rs`: the spans of requests that may still be kept;
//! - `truncate.rs`: `max_tag_value_length`, the only place values are cut;
//! - `stats.rs`: span accounting (started, exported, dropped, failed, queued);
//! - `concurrent.rs`: up to four exports at once for the network exporters, the
//!   batch processor's thread handing each batch to a worker;
//! - `resource.rs`: `service.name` and the resource attributes;
//! - `guard.rs`: [`TracingGuard`], the pipeline's lifetime.
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
mod guard;
mod keep_buffer;
mod resource;
pub(crate) mod sampler;
mod stats;
pub(crate) mod truncate;

use std::fmt;
use std::sync::Arc;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider, SpanExporter, SpanProcessor};
use opentelemetry_sdk::Resource;

use crate::config::{ConfigError, ExporterType};
use crate::exporter::export::{Export, Sdk};
#[cfg(any(feature = "zipkin", feature = "jaeger", feature = "otlp"))]
use crate::exporter::finished::Finished;
use crate::exporter::{ConsoleExporter, InMemoryExporter};
use crate::settings::Settings;
use batch::Collect;
pub(crate) use batch::{BatchProcessor, FinishedRequest};
pub use guard::TracingGuard;
use keep_buffer::{KeepBuffer, KeepProcessor};
use sampler::{PolicySampler, SamplingPolicy};
use stats::CountingExporter;
pub use stats::TracingStats;
pub(crate) use stats::{Counters, KeptFor};

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

/// Shuts an owned pipeline down when the last [`Pipeline`] handle goes.
struct Owner(PipelineCore);

impl Drop for Owner {
    fn drop(&mut self) {
        if self.0.owned() {
            // Flushes what is queued; after a guard's shutdown this is a no-op error.
            let _ = self.0.shutdown();
        }
    }
}

impl Pipeline {
    /// Exports every span finished so far, waiting until the exporter has taken them.
    pub fn force_flush(&self) -> OTelSdkResult {
        self.core().force_flush()
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
        &self.core().inner.provider
    }

    /// A tracer from the layer's provider.
    pub fn tracer(&self, name: &'static str) -> SdkTracer {
        self.core().inner.provider.tracer(name)
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
        self.core().inner.in_memory.clone()
    }

    /// What the layer's requests record with. It does not keep the pipeline
    /// from shutting down: a finished request waiting in the export queue
    /// holds it, and must not stop the last handle's drop from flushing.
    pub(crate) fn core(&self) -> &PipelineCore {
        &self.owner.0
    }

    pub(crate) fn shutdown(&self) -> OTelSdkResult {
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
            owner: Arc::new(Owner(core)),
        }
    }
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("owned", &self.owned())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

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
    /// The tracer's scope, for child spans made without the tracer; shared
    /// with our exporters' batch items, whose spans then all have one scope
    /// at one address (`exporter/finished.rs`).
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
    fn force_flush(&self) -> OTelSdkResult {
        self.inner.provider.force_flush()
    }

    fn stats(&self) -> TracingStats {
        self.inner.counters.snapshot()
    }

    fn shutdown(&self) -> OTelSdkResult {
        self.inner.provider.shutdown()
    }

    fn owned(&self) -> bool {
        self.inner.owned
    }

    /// The layer's tracer (its scope is this crate's name and version).
    pub(crate) fn layer_tracer(&self) -> &SdkTracer {
        &self.inner.tracer
    }

    pub(crate) fn scope(&self) -> &InstrumentationScope {
        &self.inner.scope
    }

    /// The same scope, shared.
    pub(crate) fn shared_scope(&self) -> &Arc<InstrumentationScope> {
        &self.inner.scope
    }

    /// Where the layer hands its finished requests, when it built the pipeline.
    pub(crate) fn batch(&self) -> Option<&BatchProcessor> {
        self.inner.batch.as_deref()
    }

    pub(crate) fn counters(&self) -> &Counters {
        &self.inner.counters
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
    pub(crate) fn release_trace(&self, trace: opentelemetry::trace::TraceId, keep: bool) {
        let (Some(buffer), Some(batch)) = (&self.inner.keep_buffer, &self.inner.batch) else {
            return;
        };
        // Sampled now: past the keep buffer, straight to the queue.
        for span in buffer.release(trace, keep) {
            batch.on_end(span);
        }
    }

    fn from_parts(
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

/// Makes the batch processor for a user's exporter once the settings and the
/// resource are known.
pub(crate) type ProcessorFactory =
    Box<dyn FnOnce(&Settings, &ExportSide, &Resource) -> BatchProcessor + Send>;

/// What every exporter the pipeline builds is wrapped with: the span counters
/// and, with the `viewer` feature, the viewer's store, teed beside the exporter.
#[derive(Clone, Default)]
pub(crate) struct ExportSide {
    counters: Arc<Counters>,
    #[cfg(feature = "viewer")]
    viewer: Arc<crate::viewer::TraceStore>,
}

/// Where finished spans go.
pub(crate) enum Sink {
    /// The exporter the settings name.
    FromSettings,
    /// A user's exporter, behind our batch processor and truncation.
    Exporter(ProcessorFactory),
}

impl Sink {
    /// A user's exporter.
    pub(crate) fn exporter<E: SpanExporter + 'static>(exporter: E) -> Self {
        Sink::Exporter(Box::new(move |settings, side, resource| {
            batch(exporter, settings, side, resource)
        }))
    }
}

/// The pipeline's processors, shared between the provider (handler spans) and
/// the layer (its finished requests, and held spans it releases).
#[derive(Debug)]
struct SharedProcessor(Arc<dyn SpanProcessor>);

impl SpanProcessor for SharedProcessor {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, cx: &opentelemetry::Context) {
        self.0.on_start(span, cx);
    }

    fn on_end(&self, span: opentelemetry_sdk::trace::SpanData) {
        self.0.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: std::time::Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    // The exporter was given the resource before its thread started.
    fn set_resource(&mut self, _resource: &Resource) {}
}

/// Builds the pipeline the settings describe.
pub(crate) fn build(
    settings: &Settings,
    sink: Sink,
    policy: SamplingPolicy,
) -> Result<Pipeline, ConfigError> {
    let side = ExportSide::default();
    let counters = side.counters.clone();
    let resource = resource::resource(settings);
    let mut in_memory = None;
    let (s, n, r) = (settings, &side, &resource);
    let processor = match sink {
        Sink::Exporter(factory) => Some(factory(s, n, r)),
        Sink::FromSettings => match settings.exporter {
            ExporterType::None => None,
            ExporterType::Console => Some(batch(ConsoleExporter::stdout(), s, n, r)),
            ExporterType::InMemory => {
                let exporter = InMemoryExporter::default();
                in_memory = Some(exporter.clone());
                Some(batch(exporter, s, n, r))
            }
            ExporterType::Zipkin => Some(zipkin(s, n, r)?),
            ExporterType::Jaeger => Some(jaeger(s, n, r)?),
            ExporterType::Otlp => Some(otlp(s, n, r)?),
        },
    };

    let mut builder = SdkTracerProvider::builder()
        .with_sampler(PolicySampler(policy))
        .with_resource(resource.clone());
    let mut keep_buffer = None;
    let processor = processor.map(Arc::new);
    if let Some(processor) = &processor {
        let chain: Arc<dyn SpanProcessor> =
            if settings.keep.any() && settings.keep.detail == crate::config::KeepDetail::Full {
                let buffer = Arc::new(KeepBuffer::new(counters.clone()));
                keep_buffer = Some(buffer.clone());
                Arc::new(KeepProcessor {
                    buffer,
                    inner: processor.clone(),
                })
            } else {
                processor.clone()
            };
        builder = builder.with_span_processor(SharedProcessor(chain));
    }
    Ok(Pipeline::own(PipelineCore::from_parts(
        builder.build(),
        true,
        processor,
        side,
        in_memory,
        keep_buffer,
    )))
}

/// The batch processor around an exporter, counting what it exports (and teeing
/// it to the viewer's store).
fn batch<E: SpanExporter + 'static>(
    exporter: E,
    settings: &Settings,
    side: &ExportSide,
    resource: &Resource,
) -> BatchProcessor {
    processor(counted(Sdk(exporter), side), settings, side, resource)
}

/// The batch processor and its thread, for an exporter given its resource now.
fn processor<E: Export>(
    mut exporter: E,
    settings: &Settings,
    side: &ExportSide,
    resource: &Resource,
) -> BatchProcessor
where
    E::Item: Collect,
{
    exporter.set_resource(resource);
    BatchProcessor::new(
        exporter,
        &settings.batch,
        settings.max_tag_value_length,
        side.counters.clone(),
    )
}

/// As `batch`, for a network exporter: up to `MAX_CONCURRENT_EXPORTS` exports at
/// once, so one stalled export does not stop the others (`concurrent.rs`).
#[cfg(any(feature = "zipkin", feature = "jaeger", feature = "otlp"))]
fn network_batch<E: Export<Item = Finished>>(
    exporter: E,
    settings: &Settings,
    side: &ExportSide,
    resource: &Resource,
) -> BatchProcessor {
    let exporter = concurrent::ConcurrentExporter::new(
        counted(exporter, side),
        side.counters.clone(),
        concurrent::MAX_CONCURRENT_EXPORTS,
    );
    processor(exporter, settings, side, resource)
}

/// What every exporter the pipeline builds is wrapped in: the viewer's tee (with
/// the `viewer` feature), then the counting of what it exported or failed.
fn counted<E: Export>(
    exporter: E,
    side: &ExportSide,
) -> CountingExporter<impl Export<Item = E::Item>> {
    #[cfg(feature = "viewer")]
    let exporter = crate::viewer::Tee::new(exporter, side.viewer.clone());
    CountingExporter::new(exporter, side.counters.clone())
}

#[cfg(not(all(feature = "zipkin", feature = "jaeger", feature = "otlp")))]
use crate::settings::not_compiled_in;

/// An exporter's batch processor, or why it could not be built.
type Built = Result<BatchProcessor, ConfigError>;

#[cfg(feature = "zipkin")]
fn zipkin(s: &Settings, n: &ExportSide, r: &Resource) -> Built {
    let exporter = crate::exporter::ZipkinExporter::new(&s.zipkin)?;
    Ok(network_batch(exporter, s, n, r))
}

#[cfg(not(feature = "zipkin"))]
fn zipkin(_: &Settings, _: &ExportSide, _: &Resource) -> Built {
    Err(not_compiled_in("zipkin"))
}

#[cfg(feature = "jaeger")]
fn jaeger(s: &Settings, n: &ExportSide, r: &Resource) -> Built {
    let exporter = crate::exporter::JaegerExporter::new(&s.jaeger)?;
    Ok(network_batch(exporter, s, n, r))
}

#[cfg(not(feature = "jaeger"))]
fn jaeger(_: &Settings, _: &ExportSide, _: &Resource) -> Built {
    Err(not_compiled_in("jaeger"))
}

#[cfg(feature = "otlp")]
fn otlp(s: &Settings, n: &ExportSide, r: &Resource) -> Built {
    let exporter = crate::exporter::OtlpExporter::new(&s.otlp)?;
    Ok(network_batch(exporter, s, n, r))
}

#[cfg(not(feature = "otlp"))]
fn otlp(_: &Settings, _: &ExportSide, _: &Resource) -> Built {
    Err(not_compiled_in("otlp"))
}
