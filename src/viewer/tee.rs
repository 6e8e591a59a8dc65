//! [`Tee`]: the exporter wrapper that copies each export batch into the
//! [`TraceStore`] before handing it on. It runs where the exporter runs, on the
//! batch processor's thread, so requests pay nothing for the viewer; the store
//! sees exactly what the exporter sees (redacted by the layer, truncated by
//! `max_tag_value_length`).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::Resource;

use super::store::TraceStore;
use crate::exporter::Export;
use crate::record::batch_views;

#[derive(Debug)]
pub(crate) struct Tee<E> {
    inner: E,
    store: Arc<TraceStore>,
}

impl<E> Tee<E> {
    pub(crate) fn new(inner: E, store: Arc<TraceStore>) -> Self {
        store.mark_fed();
        Tee { inner, store }
    }
}

impl<E: Export> Export for Tee<E> {
    type Item = E::Item;

    fn export(&self, batch: Vec<E::Item>) -> impl Future<Output = OTelSdkResult> + Send {
        // Until a viewer is mounted this is the only cost: one atomic load per batch.
        if self.store.enabled() {
            self.store.record(&batch_views(&batch));
        }
        self.inner.export(batch)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.store.set_resource(resource);
        self.inner.set_resource(resource);
    }
}
