//! The pipeline the settings describe: the exporter they name (or a user's),
//! wrapped for counting and the viewer, behind the batch processor, and the
//! tracer provider whose processors feed it.

use std::sync::Arc;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanExporter, SpanProcessor};
use opentelemetry_sdk::Resource;

use super::batch::{BatchProcessor, Collect};
use super::core::{ExportSide, PipelineCore};
use super::keep_buffer::{KeepBuffer, KeepProcessor};
use super::resource;
use super::sampler::{PolicySampler, SamplingPolicy};
use super::stats::CountingExporter;
use crate::config::{ConfigError, ExporterType};
use crate::exporter::{ConsoleExporter, Export, InMemoryExporter, SdkExporter};
#[cfg(any(feature = "zipkin", feature = "jaeger", feature = "otlp"))]
use crate::record::FinishedSpans;
use crate::settings::Settings;

/// Makes the batch processor for a user's exporter once the settings and the
/// resource are known.
pub(crate) type ProcessorFactory =
    Box<dyn FnOnce(&Settings, &ExportSide, &Resource) -> BatchProcessor + Send>;

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
pub(super) fn build(
    settings: &Settings,
    sink: Sink,
    policy: SamplingPolicy,
) -> Result<PipelineCore, ConfigError> {
    let side = ExportSide::default();
    let counters = side.counters.clone();
    let resource = resource::resource(settings);
    let mut in_memory = None;
    let (s, n, r) = (settings, &side, &resource);
    let processor = match sink {
        Sink::Exporter(factory) => Some(factory(s, n, r)),
        Sink::FromSettings => match settings.exporter {
            ExporterType::None => None,
            ExporterType::Console => {
                Some(processor(counted(ConsoleExporter::stdout(), n), s, n, r))
            }
            ExporterType::InMemory => {
                let exporter = InMemoryExporter::default();
                in_memory = Some(exporter.clone());
                Some(processor(counted(exporter, n), s, n, r))
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
    Ok(PipelineCore::from_parts(
        builder.build(),
        true,
        processor,
        side,
        in_memory,
        keep_buffer,
    ))
}

/// The batch processor around an exporter, counting what it exports (and teeing
/// it to the viewer's store).
fn batch<E: SpanExporter + 'static>(
    exporter: E,
    settings: &Settings,
    side: &ExportSide,
    resource: &Resource,
) -> BatchProcessor {
    processor(
        counted(SdkExporter(exporter), side),
        settings,
        side,
        resource,
    )
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
fn network_batch<E: Export<Item = FinishedSpans>>(
    exporter: E,
    settings: &Settings,
    side: &ExportSide,
    resource: &Resource,
) -> BatchProcessor {
    let exporter = super::concurrent::ConcurrentExporter::new(
        counted(exporter, side),
        side.counters.clone(),
        super::concurrent::MAX_CONCURRENT_EXPORTS,
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
