//! [`Export`]: the one trait the batch processor exports through. Our network
//! exporters take batches of [`Finished`](super::finished::Finished) items,
//! reading a request's spans without an SDK `SpanData` each; any SDK
//! [`SpanExporter`] (a user's, the console, in-memory) takes `SpanData`
//! through [`Sdk`].

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use super::finished::BatchItem;

/// An exporter of batches of [`Export::Item`]s.
pub(crate) trait Export: Send + Sync + Debug + 'static {
    /// What a batch is made of.
    type Item: BatchItem;

    /// Exports one batch (at most the batch size in spans).
    fn export(&self, batch: Vec<Self::Item>) -> impl Future<Output = OTelSdkResult> + Send;

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    /// Shuts down within the SDK's default of 5 seconds.
    fn shutdown(&self) -> OTelSdkResult {
        self.shutdown_with_timeout(Duration::from_secs(5))
    }

    fn set_resource(&mut self, _resource: &Resource) {}
}

/// An SDK exporter, given `SpanData`.
#[derive(Debug)]
pub(crate) struct Sdk<E>(pub(crate) E);

impl<E: SpanExporter + 'static> Export for Sdk<E> {
    type Item = SpanData;

    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        self.0.export(batch)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.0.set_resource(resource);
    }
}
