//! [`InFlight`]: the exports handed to export workers and not yet ended
//! (`concurrent.rs`), which a flush waits for (`batch.rs`), kept with the
//! counters so both reach them.

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};

/// Exports handed to workers and not yet ended, and the last failure among them.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    state: Mutex<FlightState>,
    idle: Condvar,
}

#[derive(Debug, Default)]
struct FlightState {
    running: usize,
    failure: Option<OTelSdkError>,
}

impl InFlight {
    fn lock(&self) -> std::sync::MutexGuard<'_, FlightState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn started(&self) {
        self.lock().running += 1;
    }

    pub(super) fn ended(&self, result: OTelSdkResult) {
        let mut state = self.lock();
        state.running -= 1;
        if let Err(e) = result {
            state.failure = Some(e);
        }
        if state.running == 0 {
            self.idle.notify_all();
        }
    }

    /// A flush begins: it reports the failures of the exports it waits for, not
    /// of earlier ones.
    pub(crate) fn flush_begins(&self) {
        self.lock().failure = None;
    }

    /// Waits (at most `timeout`) until no export is under way; the last failure
    /// since the flush began, if any.
    pub(crate) fn wait_idle(&self, timeout: Duration) -> OTelSdkResult {
        let (mut state, waited) = self
            .idle
            .wait_timeout_while(self.lock(), timeout, |s| s.running > 0)
            .unwrap_or_else(PoisonError::into_inner);
        if waited.timed_out() && state.running > 0 {
            return Err(OTelSdkError::Timeout(timeout));
        }
        state.failure.take().map_or(Ok(()), Err)
    }
}
