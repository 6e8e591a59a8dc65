use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

use crate::layer::Shared;

/// Controls the lifetime of a layer's export pipeline.
///
/// [`shutdown`](Self::shutdown) flushes every queued span to the exporter and stops
/// it; dropping the guard does the same. Keep it until the server has stopped
/// accepting requests, then let it go: nothing finished before that is lost.
///
/// ```
/// use tower_otel_tracing::{TracingConfig, TracingLayer};
///
/// let layer = TracingLayer::from_config(TracingConfig::default());
/// let guard = layer.guard();
/// // ... serve with `layer` until a shutdown signal ...
/// guard.shutdown().unwrap();
/// ```
#[must_use = "dropping the guard shuts the pipeline down at once"]
pub struct TracingGuard {
    shared: Arc<Shared>,
    shut_down: AtomicBool,
}

impl TracingGuard {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        TracingGuard {
            shared,
            shut_down: AtomicBool::new(false),
        }
    }

    /// Exports every span finished so far, waiting until the exporter has taken them.
    pub fn force_flush(&self) -> OTelSdkResult {
        self.shared.provider.force_flush()
    }

    /// Flushes, then stops the pipeline. Later spans are dropped.
    pub fn shutdown(self) -> OTelSdkResult {
        self.shut_down.store(true, Ordering::Relaxed);
        self.shared.provider.shutdown()
    }

    /// Spans started, exported, dropped and failed so far.
    pub fn stats(&self) -> crate::TracingStats {
        self.shared.counters.snapshot()
    }

    /// The tracer provider behind the layer, e.g. to make handler spans without the global.
    pub fn tracer_provider(&self) -> &SdkTracerProvider {
        &self.shared.provider
    }

    /// A tracer from the layer's provider.
    pub fn tracer(&self, name: &'static str) -> SdkTracer {
        self.shared.provider.tracer(name)
    }
}

impl Drop for TracingGuard {
    fn drop(&mut self) {
        if !self.shut_down.load(Ordering::Relaxed) && self.shared.owns_provider {
            let _ = self.shared.provider.shutdown();
        }
    }
}

impl fmt::Debug for TracingGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracingGuard").finish_non_exhaustive()
    }
}
