//! [`InMemoryExporter`]: keeps finished spans, for tests.

use std::sync::{Arc, Mutex, PoisonError};

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use super::Export;
use crate::record::{batch_views, FinishedSpans, SpanView};

/// Keeps every exported span in memory, for tests.
///
/// Clones share one store. Spans appear once the batch processor has exported them:
/// call [`Pipeline::force_flush`](crate::pipeline::Pipeline::force_flush) first.
///
/// ```
/// use tower_otel_tracing::exporter::InMemoryExporter;
/// use tower_otel_tracing::{TracingConfig, TracingLayer};
///
/// let exporter = InMemoryExporter::default();
/// let layer = TracingLayer::builder(TracingConfig { sample_rate: Some(1.0), ..Default::default() })
///     .exporter(exporter.clone())
///     .build()
///     .unwrap();
/// layer.pipeline().force_flush().unwrap();
/// assert!(exporter.finished_spans().is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct InMemoryExporter {
    spans: Arc<Mutex<Vec<SpanData>>>,
    resource: Arc<Mutex<Option<Resource>>>,
}

impl InMemoryExporter {
    /// Every span exported so far, in export order.
    pub fn finished_spans(&self) -> Vec<SpanData> {
        self.spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Forgets the spans exported so far.
    ///
    /// ```
    /// use opentelemetry::trace::{Tracer, TracerProvider};
    /// use opentelemetry_sdk::trace::SdkTracerProvider;
    /// use tower_otel_tracing::exporter::InMemoryExporter;
    ///
    /// let spans = InMemoryExporter::default();
    /// let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// provider.tracer("test").in_span("warm-up", |_cx| {});
    /// assert_eq!(spans.finished_spans().len(), 1);
    /// // Between test cases, so each one sees only its own spans.
    /// spans.reset();
    /// assert!(spans.finished_spans().is_empty());
    /// ```
    pub fn reset(&self) {
        self.spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// The resource the provider gave the exporter.
    ///
    /// ```
    /// use tower_otel_tracing::config::ExporterType;
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// let cfg = TracingConfig {
    ///     exporter_type: Some(ExporterType::InMemory),
    ///     service_name: Some("checkout".into()),
    ///     ..Default::default()
    /// };
    /// let layer = TracingLayer::from_config(cfg);
    /// let exporter = layer.pipeline().in_memory_exporter().unwrap();
    /// let resource = exporter.resource().expect("set when the pipeline was built");
    /// let name = resource.get(&opentelemetry::Key::new("service.name"));
    /// assert_eq!(name, Some("checkout".into()));
    /// ```
    pub fn resource(&self) -> Option<Resource> {
        self.resource
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl SpanExporter for InMemoryExporter {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        self.spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(batch);
        std::future::ready(Ok(()))
    }

    fn set_resource(&mut self, resource: &Resource) {
        *self.resource.lock().unwrap_or_else(PoisonError::into_inner) = Some(resource.clone());
    }
}

/// As the layer's own exporter (`exporter_type: in_memory`): a request's spans
/// are read from its description and kept as `SpanData`, as the gRPC exporter
/// hands them on.
impl Export for InMemoryExporter {
    type Item = FinishedSpans;

    fn export(
        &self,
        batch: Vec<FinishedSpans>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let spans = batch_views(&batch).into_iter().map(SpanView::to_span_data);
        self.spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(spans);
        std::future::ready(Ok(()))
    }

    fn set_resource(&mut self, resource: &Resource) {
        *self.resource.lock().unwrap_or_else(PoisonError::into_inner) = Some(resource.clone());
    }
}
