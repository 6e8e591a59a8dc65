//! The sampling decision, made by the layer before any SDK span exists.
//!
//! Deciding first is what keeps unsampled requests cheap: they never build
//! attributes or an SDK span. The same policy is installed as the SDK sampler so
//! spans that handlers create follow the same rules.

use opentelemetry::trace::{Link, SpanContext, SpanKind, TraceContextExt, TraceId, TraceState};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SamplingDecision, SamplingResult, ShouldSample};

use crate::settings::Sampler;

/// Parent-based trace-id-ratio sampling: a remote parent's sampled flag decides;
/// a root is recorded when its trace id falls under `ratio`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SamplingPolicy {
    /// Roots whose trace id, read as described in [`Self::root_sampled`], is below this are sampled.
    threshold: u64,
    follow_parent: bool,
}

impl SamplingPolicy {
    /// `parentbased_traceidratio` with the given ratio (clamped to `[0, 1]`).
    #[cfg(test)]
    fn parent_based_ratio(ratio: f64) -> Self {
        Self::from_sampler(Sampler::ParentBasedTraceIdRatio(ratio))
    }

    /// The policy an `OTEL_TRACES_SAMPLER`-style sampler describes.
    pub(crate) fn from_sampler(sampler: Sampler) -> Self {
        let (ratio, follow_parent) = match sampler {
            Sampler::AlwaysOn => (1.0, false),
            Sampler::AlwaysOff => (0.0, false),
            Sampler::TraceIdRatio(r) => (r, false),
            Sampler::ParentBasedAlwaysOn => (1.0, true),
            Sampler::ParentBasedAlwaysOff => (0.0, true),
            Sampler::ParentBasedTraceIdRatio(r) => (r, true),
        };
        SamplingPolicy {
            threshold: ratio_threshold(ratio),
            follow_parent,
        }
    }

    /// Whether no new trace is ever started (only callers' sampled traces continue).
    pub(crate) fn never_samples_roots(&self) -> bool {
        self.threshold == 0
    }

    /// The decision for a span with this (possibly invalid) parent and trace id.
    pub(crate) fn sampled(&self, parent: &SpanContext, trace_id: TraceId) -> bool {
        if self.follow_parent && parent.is_valid() {
            parent.is_sampled()
        } else {
            self.root_sampled(trace_id)
        }
    }

    /// The OpenTelemetry `TraceIdRatioBased` rule: the trace id's last 8 bytes,
    /// shifted to 63 bits, compared against `ratio * 2^63`, so every service
    /// with the same ratio makes the same decision for the same trace.
    fn root_sampled(&self, trace_id: TraceId) -> bool {
        let bytes = trace_id.to_bytes();
        let mut low = [0u8; 8];
        low.copy_from_slice(&bytes[8..]);
        (u64::from_be_bytes(low) >> 1) < self.threshold
    }
}

fn ratio_threshold(ratio: f64) -> u64 {
    let ratio = if ratio.is_nan() {
        0.0
    } else {
        ratio.clamp(0.0, 1.0)
    };
    (ratio * (1u64 << 63) as f64) as u64
}

thread_local! {
    /// Set while a span the layer has already sampled is built as an SDK span (the
    /// client layer's CLIENT span), so the SDK sampler does not decide again on
    /// the fresh trace id the SDK draws for a root.
    /// A thread-local flag costs a few instructions; a marker value in the parent
    /// context would allocate the context's entry map on every sampled request.
    static PRESAMPLED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `build` (which builds one SDK span) with the sampling decision already made.
pub(crate) fn presampled<T>(build: impl FnOnce() -> T) -> T {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            PRESAMPLED.with(|p| p.set(false));
        }
    }
    PRESAMPLED.with(|p| p.set(true));
    let _reset = Reset;
    build()
}

/// Marks the context of a request the sample rate did not pick but that may be
/// kept with its whole trace (`keep_detail: full`): spans made under it are
/// recorded (not sampled) so they can be exported if the request is kept.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeldTrace;

/// The SDK-side twin of [`SamplingPolicy`].
#[derive(Debug, Clone)]
pub(crate) struct PolicySampler(pub(crate) SamplingPolicy);

impl ShouldSample for PolicySampler {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        _name: &str,
        _span_kind: &SpanKind,
        _attributes: &[KeyValue],
        _links: &[Link],
    ) -> SamplingResult {
        let (sampled, trace_state) = match parent_context {
            Some(cx) => {
                let span = cx.span();
                let parent = span.span_context();
                let sampled = PRESAMPLED.with(|p| p.get()) || self.0.sampled(parent, trace_id);
                if !sampled && cx.get::<HeldTrace>().is_some() {
                    return SamplingResult {
                        decision: SamplingDecision::RecordOnly,
                        attributes: Vec::new(),
                        trace_state: parent.trace_state().clone(),
                    };
                }
                (sampled, parent.trace_state().clone())
            }
            None => (
                self.0.sampled(&SpanContext::empty_context(), trace_id),
                TraceState::default(),
            ),
        };
        SamplingResult {
            decision: if sampled {
                SamplingDecision::RecordAndSample
            } else {
                SamplingDecision::Drop
            },
            attributes: Vec::new(),
            trace_state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanId, TraceFlags};

    fn trace_id_with_low(low: u64) -> TraceId {
        let mut b = [0u8; 16];
        b[8..].copy_from_slice(&low.to_be_bytes());
        b[0] = 1;
        TraceId::from_bytes(b)
    }

    #[test]
    fn ratio_bounds() {
        let none = SamplingPolicy::parent_based_ratio(0.0);
        let all = SamplingPolicy::parent_based_ratio(1.0);
        let root = SpanContext::empty_context();
        for low in [0, 1, u64::MAX / 2, u64::MAX] {
            assert!(!none.sampled(&root, trace_id_with_low(low)));
            assert!(all.sampled(&root, trace_id_with_low(low)));
        }
        let half = SamplingPolicy::parent_based_ratio(0.5);
        assert!(half.sampled(&root, trace_id_with_low(0)));
        assert!(!half.sampled(&root, trace_id_with_low(u64::MAX)));
    }

    #[test]
    fn parent_flag_wins() {
        let all = SamplingPolicy::parent_based_ratio(1.0);
        let none = SamplingPolicy::parent_based_ratio(0.0);
        let tid = trace_id_with_low(7);
        let parent =
            |flags| SpanContext::new(tid, SpanId::from(9), flags, true, TraceState::default());
        assert!(!all.sampled(&parent(TraceFlags::default()), tid));
        assert!(none.sampled(&parent(TraceFlags::SAMPLED), tid));
    }
}
