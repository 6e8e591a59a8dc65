//! Builds the OpenTelemetry SDK pipeline a config describes:
//! sampler -> tracer provider (resource) -> [truncation] -> batch processor -> exporter.

use std::sync::Arc;

use opentelemetry::KeyValue;
use opentelemetry_sdk::resource::TelemetryResourceDetector;
use opentelemetry_sdk::trace::{
    BatchConfig, BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider, SpanExporter,
    SpanProcessor,
};
use opentelemetry_sdk::Resource;

use crate::config::ExporterType;
use crate::error::ConfigError;
use crate::exporter::{ConsoleExporter, InMemoryExporter};
use crate::sampler::{PolicySampler, SamplingPolicy};
use crate::settings::Settings;
use crate::stats::{Counters, CountingExporter, CountingProcessor};
use crate::truncate::TruncatingProcessor;

/// Makes the batch processor for a user's exporter once the batch settings are known.
pub(crate) type ProcessorFactory =
    Box<dyn FnOnce(BatchConfig, Arc<Counters>) -> BatchSpanProcessor + Send>;

/// Where finished spans go.
pub(crate) enum Sink {
    /// `exporter_type` from the config.
    FromConfig,
    /// A user's exporter, behind our batch processor and truncation.
    Exporter(ProcessorFactory),
}

/// A built pipeline.
pub(crate) struct Pipeline {
    pub(crate) provider: SdkTracerProvider,
    pub(crate) in_memory: Option<InMemoryExporter>,
    pub(crate) counters: Arc<Counters>,
    /// The processors the provider ends spans into, for the layer's own child spans.
    pub(crate) processor: Option<Arc<dyn SpanProcessor>>,
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

    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(
        &self,
        timeout: std::time::Duration,
    ) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    // The resource was given to the processors before they were shared.
    fn set_resource(&mut self, _resource: &Resource) {}
}

pub(crate) fn build(
    settings: &Settings,
    sink: Sink,
    policy: SamplingPolicy,
) -> Result<Pipeline, ConfigError> {
    let cfg = &settings.config;
    // `timeout` bounds each export inside the exporter's transport: the SDK's
    // thread-based batch processor does not enforce one itself.
    // Every field set explicitly: the SDK's own reading of OTEL_BSP_* must not
    // decide anything (an explicit variable map would otherwise be bypassed).
    let batch_config = || {
        BatchConfigBuilder::default()
            .with_max_queue_size(settings.batch.max_queue_size)
            .with_max_export_batch_size(settings.batch.max_export_batch_size)
            .with_scheduled_delay(settings.batch.schedule_delay)
            .build()
    };

    let counters = Arc::new(Counters::default());
    let mut in_memory = None;
    let processor: Option<BatchSpanProcessor> =
        match sink {
            Sink::Exporter(factory) => Some(factory(batch_config(), counters.clone())),
            Sink::FromConfig => match cfg.exporter_type {
                None | Some(ExporterType::None) => None,
                Some(ExporterType::Console) => {
                    Some(batch(ConsoleExporter::stdout(), batch_config(), &counters))
                }
                Some(ExporterType::InMemory) => {
                    let exporter = InMemoryExporter::default();
                    in_memory = Some(exporter.clone());
                    Some(batch(exporter, batch_config(), &counters))
                }
                #[cfg(feature = "zipkin")]
                Some(ExporterType::Zipkin) => Some(batch(
                    crate::exporter::ZipkinExporter::from_config(cfg)?,
                    batch_config(),
                    &counters,
                )),
                #[cfg(not(feature = "zipkin"))]
                Some(ExporterType::Zipkin) => return Err(ConfigError::new(
                    "tracing.exporter_type",
                    "the `zipkin` exporter is not compiled in: enable the `zipkin` cargo feature",
                )),
                #[cfg(feature = "jaeger")]
                Some(ExporterType::Jaeger) => {
                    let mut exporter = crate::exporter::JaegerExporter::from_config(cfg)?;
                    if let (Some(user), Some(password)) =
                        (&settings.jaeger_user, &settings.jaeger_password)
                    {
                        exporter = exporter.with_basic_auth(user, password);
                    }
                    Some(batch(exporter, batch_config(), &counters))
                }
                #[cfg(not(feature = "jaeger"))]
                Some(ExporterType::Jaeger) => return Err(ConfigError::new(
                    "tracing.exporter_type",
                    "the `jaeger` exporter is not compiled in: enable the `jaeger` cargo feature",
                )),
                #[cfg(feature = "otlp")]
                Some(ExporterType::Otlp) => Some(batch(
                    crate::exporter::OtlpExporter::from_config(cfg)?,
                    batch_config(),
                    &counters,
                )),
                #[cfg(not(feature = "otlp"))]
                Some(ExporterType::Otlp) => {
                    return Err(ConfigError::new(
                        "tracing.exporter_type",
                        "the `otlp` exporter is not compiled in: enable the `otlp` cargo feature",
                    ))
                }
            },
        };

    let resource = resource(settings);
    let mut builder = SdkTracerProvider::builder()
        .with_sampler(PolicySampler(policy))
        .with_resource(resource.clone());
    let mut shared = None;
    if let Some(processor) = processor {
        let max_queue = settings.batch.max_queue_size;
        let mut chain: Box<dyn SpanProcessor> = match cfg.max_tag_value_length {
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
        chain.set_resource(&resource);
        let chain: Arc<dyn SpanProcessor> = Arc::from(chain);
        builder = builder.with_span_processor(SharedProcessor(chain.clone()));
        shared = Some(chain);
    }
    Ok(Pipeline {
        provider: builder.build(),
        in_memory,
        counters,
        processor: shared,
    })
}

/// The batch processor around an exporter, counting what it exports.
pub(crate) fn batch<E: SpanExporter + 'static>(
    exporter: E,
    config: BatchConfig,
    counters: &Arc<Counters>,
) -> BatchSpanProcessor {
    BatchSpanProcessor::builder(CountingExporter::new(exporter, counters.clone()))
        .with_batch_config(config)
        .build()
}

/// The telemetry SDK attributes, `OTEL_RESOURCE_ATTRIBUTES`, and `service.name`
/// as resolved (`OTEL_SERVICE_NAME`, then the config, then the binary's name).
fn resource(settings: &Settings) -> Resource {
    let name = settings
        .config
        .service_name
        .clone()
        .unwrap_or_else(default_service_name);
    Resource::builder_empty()
        .with_detector(Box::new(TelemetryResourceDetector))
        .with_attributes(
            settings
                .resource_attributes
                .iter()
                .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
        )
        .with_service_name(name)
        .build()
}

fn default_service_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown_service".to_owned())
}
