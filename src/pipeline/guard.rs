//! [`TracingGuard`]: the lifetime of a layer's pipeline, in a value you hold.

use std::fmt;
use std::ops::Deref;

use opentelemetry_sdk::error::OTelSdkResult;

use super::Pipeline;

/// Controls the lifetime of a layer's export pipeline.
///
/// [`shutdown`](Self::shutdown) flushes every queued span to the exporter and stops
/// it, and pushes the metrics a last time when `metrics.exporter` pushes;
/// dropping the guard does the same. Keep it until the server has stopped
/// accepting requests, then let it go: nothing finished before that is lost. It
/// derefs to the [`Pipeline`] handle (flush, stats, tracer provider).
///
/// ```
/// use tower_otel_tracing::{TracingConfig, TracingLayer};
///
/// let layer = TracingLayer::from_config(TracingConfig::default());
/// let guard = layer.guard();
/// // ... serve with `layer` until a shutdown signal ...
/// assert_eq!(guard.stats().dropped, 0);
/// guard.shutdown().unwrap();
/// ```
#[must_use = "dropping the guard shuts the pipeline down at once"]
pub struct TracingGuard {
    pipeline: Pipeline,
    shut_down: bool,
}

impl TracingGuard {
    pub(crate) fn new(pipeline: Pipeline) -> Self {
        TracingGuard {
            pipeline,
            shut_down: false,
        }
    }

    /// Pushes the metrics a last time, flushes, then stops the pipeline (a
    /// provider you supplied too). Later spans are dropped, and later
    /// measurements are no longer pushed.
    pub fn shutdown(mut self) -> OTelSdkResult {
        self.shut_down = true;
        self.pipeline.shutdown()
    }
}

impl Deref for TracingGuard {
    type Target = Pipeline;

    fn deref(&self) -> &Pipeline {
        &self.pipeline
    }
}

impl Drop for TracingGuard {
    fn drop(&mut self) {
        if self.shut_down {
            return;
        }
        if self.pipeline.owned() {
            let _ = self.pipeline.shutdown();
        } else {
            // A provider you supplied is yours to shut down; the metrics push is ours.
            self.pipeline.stop_metrics_push();
        }
    }
}

impl fmt::Debug for TracingGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracingGuard")
            .field("pipeline", &self.pipeline)
            .finish()
    }
}
