//! [`Export`]: the one trait the batch processor exports through. Our network
//! exporters take batches of [`FinishedSpans`] (a request's spans as one item,
//! never an SDK `SpanData` each); any SDK [`SpanExporter`] (a user's, the
//! console, in-memory) takes `SpanData` through [`SdkExporter`].

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use crate::record::BatchItem;
#[cfg(doc)]
use crate::record::FinishedSpans;

/// An exporter of batches of [`Export::Item`]s.
///
/// - **Who calls, and from which thread:** the batch processor, from its own
///   export thread (`tower-otel-batch`), never from a request. Wrapped for
///   concurrent exports (the network exporters), `export` is called from up
///   to four export worker threads at once, so implementations are `Sync`
///   and keep no state between calls that a concurrent call could break.
/// - **How often:** once a batch: every `schedule_delay`, or as soon as
///   `max_export_batch_size` spans wait; a batch holds at most that many
///   spans, except that a request's spans stay in one batch.
/// - **What may block:** `export` may do blocking I/O (our clients are
///   blocking; the processor's thread runs the future to completion), but
///   must end within the exporter's own timeout: a stalled export holds back
///   what queues behind it.
/// - **What an error means:** the batch is lost and counted as failed, never
///   retried by the caller; an exporter that retries does so inside `export`,
///   within its timeout. Errors only produce log lines and counts, never a
///   failed request.
pub(crate) trait Export: Send + Sync + Debug + 'static {
    /// What a batch is made of.
    type Item: BatchItem;

    /// Exports one batch.
    fn export(&self, batch: Vec<Self::Item>) -> impl Future<Output = OTelSdkResult> + Send;

    /// Called after a flush's batches were exported: send what the exporter
    /// itself holds. Defaults to nothing to do.
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    /// Called once, after the last batch: release connections and threads,
    /// within `timeout`. Defaults to nothing to do.
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    /// Shuts down within the SDK's default of 5 seconds.
    fn shutdown(&self) -> OTelSdkResult {
        self.shutdown_with_timeout(Duration::from_secs(5))
    }

    /// Called once, before the export thread starts, with the pipeline's
    /// resource (`service.name` and the resource attributes). Defaults to
    /// ignoring it.
    fn set_resource(&mut self, _resource: &Resource) {}
}

/// An SDK exporter, given `SpanData`.
#[derive(Debug)]
pub(crate) struct SdkExporter<E>(pub(crate) E);

impl<E: SpanExporter + 'static> Export for SdkExporter<E> {
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
