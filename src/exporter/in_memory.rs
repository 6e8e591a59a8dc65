//! [`InMemoryExporter`]: keeps finished spans, for tests.

use std::sync::{Arc, Mutex, PoisonError};

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

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
    pub fn reset(&self) {
        self.spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// The resource the provider gave the exporter.
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
