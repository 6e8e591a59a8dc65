//! [`LayerState`]: everything a request needs from the layer, built once by the
//! builder from the resolved settings and shared (behind an `Arc`) by every
//! service the layer wraps.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::config::ExcludedUrls;
use crate::metrics::HttpMetrics;
use crate::pipeline::sampler::SamplingPolicy;
use crate::pipeline::Pipeline;
use crate::propagation::Propagation;
use crate::record::Recorder;

pub(crate) struct LayerState {
    /// Keeps the pipeline alive while a layer or service of it lives.
    pub(crate) pipeline: Pipeline,
    /// What a sampled request's spans record with (and the pipeline they end in).
    pub(crate) recorder: Arc<Recorder>,
    /// `None`: a user-supplied provider samples (we cannot predict its sampler).
    pub(crate) policy: Option<SamplingPolicy>,
    /// `OTEL_SDK_DISABLED`: pass every request through untouched.
    pub(crate) disabled: bool,
    pub(crate) propagation: Arc<Propagation>,
    pub(crate) excluded: Option<ExcludedUrls>,
    pub(crate) trace_headers: Option<Arc<TraceHeaders>>,
    /// Whose trace context may parent the server span.
    pub(crate) trust: Trust,
    /// The viewer's mount path, once one is made: its requests are not traced.
    #[cfg(feature = "viewer")]
    pub(crate) viewer_path: std::sync::OnceLock<Box<str>>,
    /// The metrics' history the viewer charts, once a viewer is made.
    #[cfg(feature = "viewer")]
    pub(crate) viewer_metrics: std::sync::OnceLock<Arc<crate::viewer::MetricsHistory>>,
    /// The layer's metrics, measured once they are wanted.
    pub(crate) metrics: Arc<HttpMetrics>,
    /// The pull endpoint's path, once one is made: its requests are neither
    /// traced nor measured.
    pub(crate) metrics_path: std::sync::OnceLock<Box<str>>,
}

/// Whose incoming trace context is adopted (a trust boundary, as Go's
/// `otelhttp.WithPublicEndpoint`). An untrusted caller's context is only linked:
/// internet clients cannot decide our sampling or grouping, nor send us baggage.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Trust {
    /// Every caller's context is adopted (the default).
    Everyone,
    /// No caller's context is adopted (a public endpoint).
    Nobody,
    /// Only the contexts of peers inside these networks are adopted.
    Networks(Vec<ipnet::IpNet>),
}

impl Trust {
    pub(crate) fn trusts(&self, peer: Option<SocketAddr>) -> bool {
        match self {
            Trust::Everyone => true,
            Trust::Nobody => false,
            Trust::Networks(nets) => peer.is_some_and(|p| nets.iter().any(|n| n.contains(&p.ip()))),
        }
    }
}

/// What a response tells its client of the trace: the trace id (32 hex) and
/// server span id (16 hex) under names of the user's, and the `server-timing`
/// trace metric.
#[derive(Debug, Clone)]
pub(crate) struct TraceHeaders {
    pub(crate) ids: Option<IdHeaders>,
    pub(crate) server_timing: bool,
}

/// The response headers the trace id and the server span id go in.
#[derive(Debug, Clone)]
pub(crate) struct IdHeaders {
    pub(crate) trace_id: http::HeaderName,
    pub(crate) span_id: http::HeaderName,
}
