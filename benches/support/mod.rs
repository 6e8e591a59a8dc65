//! What the benches share: an exporter that drops batches, so the batch processor
//! runs but no wire format is measured.

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

#[derive(Debug)]
pub struct NoopExporter;

impl SpanExporter for NoopExporter {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        drop(std::hint::black_box(batch));
        std::future::ready(Ok(()))
    }
}
