//! The export side: sampler -> tracer provider (resource) -> counting ->
//! (truncation) -> batch processor -> exporter, built from [`Settings`], and the
//! one handle to it, [`Pipeline`]: flush, stats, the tracer provider.
//!
//! - `sampler.rs`: the sampling policy the layer decides with before any SDK span
//!   exists, and its SDK twin for spans handlers make;
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
//! The batch processor follows the OpenTelemetry SDK specification
//! (<https://opentelemetry.io/docs/specs/otel/trace/sdk/#batching-processor>).

// Only the network exporters export concurrently; without them only the
// in-flight count (always zero) is used.
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
use opentelemetry_sdk::trace::{
    BatchConfig, BatchConfigBuilder, BatchSpanProcessor, SdkTracer, SdkTracerProvider,
    SpanExporter, SpanProcessor,
};
use opentelemetry_sdk::Resource;

use crate::config::{ConfigError, ExporterType};
use crate::exporter::{ConsoleExporter, InMemoryExporter};
use crate::settings::Settings;
pub use guard::TracingGuard;
use keep_buffer::{KeepBuffer, KeepProcessor};
use sampler::{PolicySampler, SamplingPolicy};
pub use stats::TracingStats;
pub(crate) use stats::{Counters, KeptFor};
use stats::{CountingExporter, CountingProcessor};
use truncate::TruncatingProcessor;

/// The handle to a layer's export pipeline: flush it, read its span counts, or
/// reach its tracer provider (to make handler spans without the global one).
/// Clones share one pipeline. Get it with
/// [`TracingLayer::pipeline`](crate::TracingLayer::pipeline), or through a
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
    inner: Arc<Inner>,
}

struct Inner {
    provider: SdkTracerProvider,
    /// Built by the layer (not a user's provider): the layer shuts it down.
    owned: bool,
    tracer: SdkTracer,
    /// The tracer's scope, for child spans made without the tracer.
    scope: InstrumentationScope,
    /// The processors a pipeline the layer built ends spans into (`None` for a
    /// user's provider, whose processors only the SDK can reach).
    processor: Option<Arc<dyn SpanProcessor>>,
    counters: Arc<Counters>,
    /// The store the viewer reads, fed by the tee beside the exporter.
    #[cfg(feature = "viewer")]
    viewer: Arc<crate::viewer::TraceStore>,
    in_memory: Option<InMemoryExporter>,
    /// Holds the spans of requests that may still be kept (`keep_detail: full`).
    keep_buffer: Option<Arc<KeepBuffer>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if self.owned {
            // Flushes what is queued; after a guard's shutdown this is a no-op error.
            let _ = self.provider.shutdown();
        }
    }
}

impl Pipeline {
    /// Exports every span finished so far, waiting until the exporter has taken them.
    pub fn force_flush(&self) -> OTelSdkResult {
        self.inner.provider.force_flush()
    }

    /// Spans started, exported, dropped (queue full), failed and queued so far, for
    /// a pipeline the layer built (all zero for a provider you supplied).
    pub fn stats(&self) -> TracingStats {
        self.inner.counters.snapshot()
    }

    /// The tracer provider behind the layer.
    pub fn tracer_provider(&self) -> &SdkTracerProvider {
        &self.inner.provider
    }

    /// A tracer from the layer's provider.
    pub fn tracer(&self, name: &'static str) -> SdkTracer {
        self.inner.provider.tracer(name)
    }

    /// The in-memory exporter, when `exporter_type` is `in_memory`.
    pub fn in_memory_exporter(&self) -> Option<InMemoryExporter> {
        self.inner.in_memory.clone()
    }

    pub(crate) fn shutdown(&self) -> OTelSdkResult {
        self.inner.provider.shutdown()
    }

    pub(crate) fn owned(&self) -> bool {
        self.inner.owned
    }

    /// The layer's tracer (its scope is this crate's name and version).
    pub(crate) fn layer_tracer(&self) -> &SdkTracer {
        &self.inner.tracer
    }

    pub(crate) fn scope(&self) -> &InstrumentationScope {
        &self.inner.scope
    }

    /// Where the layer may hand finished child spans directly.
    pub(crate) fn processor(&self) -> Option<&Arc<dyn SpanProcessor>> {
        self.inner.processor.as_ref()
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
        let (Some(buffer), Some(processor)) = (&self.inner.keep_buffer, &self.inner.processor)
        else {
            return;
        };
        for span in buffer.release(trace, keep) {
            processor.on_end(span);
        }
    }

    /// A pipeline around a provider the user built and owns.
    pub(crate) fn user_provider(provider: SdkTracerProvider) -> Self {
        Self::from_parts(provider, false, None, ExportSide::default(), None, None)
    }

    /// A pipeline that records nothing (`OTEL_SDK_DISABLED`).
    pub(crate) fn disabled() -> Self {
        Self::from_parts(
            SdkTracerProvider::builder().build(),
            true,
            None,
            ExportSide::default(),
            None,
            None,
        )
    }

    fn from_parts(
        provider: SdkTracerProvider,
        owned: bool,
        processor: Option<Arc<dyn SpanProcessor>>,
        side: ExportSide,
        in_memory: Option<InMemoryExporter>,
        keep_buffer: Option<Arc<KeepBuffer>>,
    ) -> Self {
        let scope = InstrumentationScope::builder(env!("CARGO_PKG_NAME"))
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        let tracer = provider.tracer_with_scope(scope.clone());
        Pipeline {
            inner: Arc::new(Inner {
                provider,
                owned,
                tracer,
                scope,
                processor,
                counters: side.counters,
                #[cfg(feature = "viewer")]
                viewer: side.viewer,
                in_memory,
                keep_buffer,
            }),
        }
    }
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("owned", &self.inner.owned)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// Makes the batch processor for a user's exporter once the batch settings are known.
pub(crate) type ProcessorFactory =
    Box<dyn FnOnce(BatchConfig, &ExportSide) -> BatchSpanProcessor + Send>;

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
        Sink::Exporter(Box::new(move |config, side| batch(exporter, config, side)))
    }
}

/// The pipeline's processors, shared between the provider and the layer. The layer
/// hands its `http send`/`http receive` spans, which start and end at once under a
/// span it has already sampled, straight to them as finished `SpanData`: building an
/// SDK span only to end it at once would cost more than the span itself.
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

    // The resource was given to the processors before they were shared.
    fn set_resource(&mut self, _resource: &Resource) {}
}

/// Builds the pipeline the settings describe.
pub(crate) fn build(
    settings: &Settings,
    sink: Sink,
    policy: SamplingPolicy,
) -> Result<Pipeline, ConfigError> {
    // `timeout` bounds each export inside the exporter's transport: the SDK's
    // thread-based batch processor does not enforce one itself. Every field is set
    // explicitly: the SDK's own reading of OTEL_BSP_* must not decide anything.
    let batch_config = || {
        BatchConfigBuilder::default()
            .with_max_queue_size(settings.batch.max_queue_size)
            .with_max_export_batch_size(settings.batch.max_export_batch_size)
            .with_scheduled_delay(settings.batch.schedule_delay)
            .build()
    };
    let side = ExportSide::default();
    let counters = side.counters.clone();
    let mut in_memory = None;
    let processor = match sink {
        Sink::Exporter(factory) => Some(factory(batch_config(), &side)),
        Sink::FromSettings => match settings.exporter {
            ExporterType::None => None,
            ExporterType::Console => Some(batch(ConsoleExporter::stdout(), batch_config(), &side)),
            ExporterType::InMemory => {
                let exporter = InMemoryExporter::default();
                in_memory = Some(exporter.clone());
                Some(batch(exporter, batch_config(), &side))
            }
            ExporterType::Zipkin => Some(zipkin(settings, batch_config(), &side)?),
            ExporterType::Jaeger => Some(jaeger(settings, batch_config(), &side)?),
            ExporterType::Otlp => Some(otlp(settings, batch_config(), &side)?),
        },
    };

    let resource = resource::resource(settings);
    let mut builder = SdkTracerProvider::builder()
        .with_sampler(PolicySampler(policy))
        .with_resource(resource.clone());
    let mut shared = None;
    let mut keep_buffer = None;
    if let Some(processor) = processor {
        let max_queue = settings.batch.max_queue_size;
        let mut chain: Box<dyn SpanProcessor> = match settings.max_tag_value_length {
            Some(max) => Box::new(CountingProcessor::new(
                TruncatingProcessor::new(processor, max),
                counters.clone(),
                max_queue,
            )),
            None => Box::new(CountingProcessor::new(
                processor,
                counters.clone(),
                max_queue,
            )),
        };
        if settings.keep.any() && settings.keep.detail == crate::config::KeepDetail::Full {
            let buffer = Arc::new(KeepBuffer::new(counters.clone()));
            keep_buffer = Some(buffer.clone());
            chain = Box::new(KeepProcessor {
                buffer,
                inner: chain,
            });
        }
        chain.set_resource(&resource);
        let chain: Arc<dyn SpanProcessor> = Arc::from(chain);
        builder = builder.with_span_processor(SharedProcessor(chain.clone()));
        shared = Some(chain);
    }
    Ok(Pipeline::from_parts(
        builder.build(),
        true,
        shared,
        side,
        in_memory,
        keep_buffer,
    ))
}

/// The batch processor around an exporter, counting what it exports (and teeing
/// it to the viewer's store).
fn batch<E: SpanExporter + 'static>(
    exporter: E,
    config: BatchConfig,
    side: &ExportSide,
) -> BatchSpanProcessor {
    BatchSpanProcessor::builder(counted(exporter, side))
        .with_batch_config(config)
        .build()
}

/// As `batch`, for a network exporter: up to `MAX_CONCURRENT_EXPORTS` exports at
/// once, so one stalled export does not stop the others (`concurrent.rs`).
#[cfg(any(feature = "zipkin", feature = "jaeger", feature = "otlp"))]
fn network_batch<E: SpanExporter + 'static>(
    exporter: E,
    config: BatchConfig,
    side: &ExportSide,
) -> BatchSpanProcessor {
    let exporter = concurrent::ConcurrentExporter::new(
        counted(exporter, side),
        side.counters.clone(),
        concurrent::MAX_CONCURRENT_EXPORTS,
    );
    BatchSpanProcessor::builder(exporter)
        .with_batch_config(config)
        .build()
}

/// What every exporter the pipeline builds is wrapped in: the viewer's tee (with
/// the `viewer` feature), then the counting of what it exported or failed.
fn counted<E: SpanExporter + 'static>(
    exporter: E,
    side: &ExportSide,
) -> CountingExporter<impl SpanExporter + 'static> {
    #[cfg(feature = "viewer")]
    let exporter = crate::viewer::Tee::new(exporter, side.viewer.clone());
    CountingExporter::new(exporter, side.counters.clone())
}

#[cfg(not(all(feature = "zipkin", feature = "jaeger", feature = "otlp")))]
fn not_compiled_in(name: &str) -> ConfigError {
    ConfigError::of_kind(
        crate::config::ConfigErrorKind::Unsupported,
        crate::settings::fields::general::EXPORTER_TYPE.error_path(),
        format!("the `{name}` exporter is not compiled in: enable the `{name}` cargo feature"),
    )
}

#[cfg(feature = "zipkin")]
fn zipkin(s: &Settings, c: BatchConfig, n: &ExportSide) -> Result<BatchSpanProcessor, ConfigError> {
    Ok(network_batch(
        crate::exporter::ZipkinExporter::new(&s.zipkin)?,
        c,
        n,
    ))
}

#[cfg(not(feature = "zipkin"))]
fn zipkin(_: &Settings, _: BatchConfig, _: &ExportSide) -> Result<BatchSpanProcessor, ConfigError> {
    Err(not_compiled_in("zipkin"))
}

#[cfg(feature = "jaeger")]
fn jaeger(s: &Settings, c: BatchConfig, n: &ExportSide) -> Result<BatchSpanProcessor, ConfigError> {
    Ok(network_batch(
        crate::exporter::JaegerExporter::new(&s.jaeger)?,
        c,
        n,
    ))
}

#[cfg(not(feature = "jaeger"))]
fn jaeger(_: &Settings, _: BatchConfig, _: &ExportSide) -> Result<BatchSpanProcessor, ConfigError> {
    Err(not_compiled_in("jaeger"))
}

#[cfg(feature = "otlp")]
fn otlp(s: &Settings, c: BatchConfig, n: &ExportSide) -> Result<BatchSpanProcessor, ConfigError> {
    Ok(network_batch(
        crate::exporter::OtlpExporter::new(&s.otlp)?,
        c,
        n,
    ))
}

#[cfg(not(feature = "otlp"))]
fn otlp(_: &Settings, _: BatchConfig, _: &ExportSide) -> Result<BatchSpanProcessor, ConfigError> {
    Err(not_compiled_in("otlp"))
}
