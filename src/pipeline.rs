//! Builds the OpenTelemetry SDK pipeline a config describes:
//! sampler -> tracer provider (resource) -> [truncation] -> batch processor -> exporter.

use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry_sdk::resource::{EnvResourceDetector, TelemetryResourceDetector};
use opentelemetry_sdk::trace::{
    BatchConfig, BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider, SpanExporter,
};
use opentelemetry_sdk::Resource;

use crate::config::{ExporterType, TracingConfig};
use crate::error::ConfigError;
use crate::exporter::{ConsoleExporter, InMemoryExporter};
use crate::sampler::{PolicySampler, SamplingPolicy};
use crate::truncate::TruncatingProcessor;

/// Makes the batch processor for a user's exporter once the batch settings are known.
pub(crate) type ProcessorFactory = Box<dyn FnOnce(BatchConfig) -> BatchSpanProcessor + Send>;

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
}

/// The console exporter is for people watching a terminal: a short delay shows
/// spans about when the request finishes instead of five seconds later.
const CONSOLE_SCHEDULE_DELAY: Duration = Duration::from_millis(500);

pub(crate) fn build(
    cfg: &TracingConfig,
    sink: Sink,
    policy: SamplingPolicy,
) -> Result<Pipeline, ConfigError> {
    // `timeout` bounds each export inside the exporter's transport: the SDK's
    // thread-based batch processor does not enforce one itself.
    let batch_config = |delay: Option<Duration>| {
        let mut b = BatchConfigBuilder::default();
        if let Some(delay) = delay {
            b = b.with_scheduled_delay(delay);
        }
        b.build()
    };

    let mut in_memory = None;
    let processor: Option<BatchSpanProcessor> =
        match sink {
            Sink::Exporter(factory) => Some(factory(batch_config(None))),
            Sink::FromConfig => match cfg.exporter_type {
                None | Some(ExporterType::None) => None,
                Some(ExporterType::Console) => Some(batch(
                    ConsoleExporter::stdout(),
                    batch_config(Some(CONSOLE_SCHEDULE_DELAY)),
                )),
                Some(ExporterType::InMemory) => {
                    let exporter = InMemoryExporter::default();
                    in_memory = Some(exporter.clone());
                    Some(batch(exporter, batch_config(None)))
                }
                #[cfg(feature = "zipkin")]
                Some(ExporterType::Zipkin) => Some(batch(
                    crate::exporter::ZipkinExporter::from_config(cfg)?,
                    batch_config(None),
                )),
                #[cfg(not(feature = "zipkin"))]
                Some(ExporterType::Zipkin) => return Err(ConfigError::new(
                    "tracing.exporter_type",
                    "the `zipkin` exporter is not compiled in: enable the `zipkin` cargo feature",
                )),
                Some(other @ (ExporterType::Jaeger | ExporterType::Otlp)) => {
                    return Err(ConfigError::new(
                        "tracing.exporter_type",
                        format!(
                        "the `{}` exporter is not implemented yet: use `console`, `in_memory`, \
                         `none`, or plug in your own exporter",
                        other.as_str()
                    ),
                    ))
                }
            },
        };

    let mut builder = SdkTracerProvider::builder()
        .with_sampler(PolicySampler(policy))
        .with_resource(resource(cfg));
    if let Some(processor) = processor {
        builder = match cfg.max_tag_value_length {
            Some(max) => builder.with_span_processor(TruncatingProcessor::new(processor, max)),
            None => builder.with_span_processor(processor),
        };
    }
    Ok(Pipeline {
        provider: builder.build(),
        in_memory,
    })
}

pub(crate) fn batch<E: SpanExporter + 'static>(
    exporter: E,
    config: BatchConfig,
) -> BatchSpanProcessor {
    BatchSpanProcessor::builder(exporter)
        .with_batch_config(config)
        .build()
}

/// `service.name` from the config (default: the binary's name), then the
/// standard environment variables on top, since they win over the config.
fn resource(cfg: &TracingConfig) -> Resource {
    let name = cfg
        .service_name
        .clone()
        .unwrap_or_else(default_service_name);
    let mut builder = Resource::builder_empty()
        .with_detector(Box::new(TelemetryResourceDetector))
        .with_service_name(name)
        .with_detector(Box::new(EnvResourceDetector::new()));
    if let Some(env_name) = std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|n| !n.trim().is_empty())
    {
        builder = builder.with_attribute(KeyValue::new("service.name", env_name));
    }
    builder.build()
}

fn default_service_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown_service".to_owned())
}
