//! The other half of the story: outgoing calls. A client layer for any tower
//! HTTP client that writes the current trace into each request (the formats the
//! server layer reads, from the same propagators) and records a CLIENT span per
//! sampled call, so one trace follows a request across services.
//!
//! - `call.rs`: the decision, the CLIENT span and the injection, per call;
//! - `inject.rs`: headers are added, never overwritten;
//! - `service.rs`, `future.rs`, `body.rs`: the tower service around the client,
//!   its future, and the response body the span lasts until;
//! - `reqwest.rs` (feature `reqwest`): the same as `reqwest-middleware`.
//!
//! Propagation follows the OpenTelemetry propagators specification
//! (<https://opentelemetry.io/docs/specs/otel/context/api-propagators/>); the span,
//! the HTTP client conventions BentoML's instrumented client writes.
//!
//! ```
//! use tower::ServiceExt;
//! use tower_otel_tracing::client::TracingClientLayer;
//! use tower_otel_tracing::TracingConfig;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tracing = TracingClientLayer::try_from_config(TracingConfig::default())?;
//! let _guard = tracing.guard();
//! let client = tower::ServiceBuilder::new().layer(tracing).service_fn(
//!     |req: http::Request<String>| async move {
//!         // The server on the other end reads the trace from this header.
//!         assert!(req.headers().contains_key("traceparent"));
//!         Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
//!     },
//! );
//! client.oneshot(http::Request::get("http://users.internal/42").body(String::new())?).await?;
//! # Ok(())
//! # }
//! ```

mod body;
mod call;
mod future;
mod inject;
#[cfg(feature = "reqwest")]
mod reqwest;
mod service;

use std::fmt;
use std::sync::Arc;

use tower_layer::Layer;

pub use body::ClientResponseBody;
pub(crate) use call::ClientState;
pub use future::ClientResponseFuture;
#[cfg(feature = "reqwest")]
pub use reqwest::ReqwestTracing;
pub use service::TracingClientService;

use crate::pipeline::Pipeline;

/// Traces outgoing calls: injects the current context into every request and
/// records a CLIENT span `"{METHOD}"` for each sampled one, ending when the
/// response body has been read.
///
/// Get it from the server layer ([`TracingLayer::client`](crate::TracingLayer::client)),
/// so both share one pipeline, sampler and set of propagators, or on its own for
/// programs that only make calls ([`TracingClientLayer::try_from_config`]).
///
/// ```
/// use tower_otel_tracing::{TracingConfig, TracingLayer};
///
/// let server = TracingLayer::from_config(TracingConfig::default());
/// let client = tower::ServiceBuilder::new()
///     .layer(server.client())
///     .service_fn(|_req: http::Request<String>| async {
///         Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
///     });
/// ```
#[derive(Clone)]
pub struct TracingClientLayer {
    state: Arc<ClientState>,
}

impl TracingClientLayer {
    pub(crate) fn new(state: ClientState) -> Self {
        TracingClientLayer {
            state: Arc::new(state),
        }
    }

    /// Whether to record a CLIENT span per sampled call (default on). Off, calls
    /// only carry the context, as BentoML's newer client does.
    ///
    /// ```
    /// use tower_otel_tracing::exporter::InMemoryExporter;
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    /// use tower::ServiceExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let spans = InMemoryExporter::default();
    /// let cfg = TracingConfig { sample_rate: Some(1.0), ..Default::default() };
    /// let layer = TracingLayer::builder(cfg).exporter(spans.clone()).build()?;
    /// let client = tower::ServiceBuilder::new()
    ///     .layer(layer.client().client_spans(false))
    ///     .service_fn(|req: http::Request<String>| async move {
    ///         assert!(req.headers().contains_key("traceparent"));
    ///         Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    ///     });
    /// let resp = client.oneshot(http::Request::new(String::new())).await?;
    /// http_body_util::BodyExt::collect(resp.into_body()).await?;
    /// layer.pipeline().force_flush()?;
    /// assert!(spans.finished_spans().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn client_spans(self, on: bool) -> Self {
        let s = &self.state;
        Self::new(ClientState {
            pipeline: s.pipeline.clone(),
            recorder: s.recorder.clone(),
            policy: s.policy,
            propagation: s.propagation.clone(),
            disabled: s.disabled,
            client_spans: on,
            metrics: s.metrics.clone(),
        })
    }

    /// The export pipeline the spans go to (shared with the server layer).
    ///
    /// ```
    /// use opentelemetry::trace::Tracer;
    /// use tower_otel_tracing::config::ExporterType;
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// let server = TracingLayer::from_config(TracingConfig {
    ///     exporter_type: Some(ExporterType::InMemory),
    ///     sample_rate: Some(1.0),
    ///     ..Default::default()
    /// });
    /// let client = server.client();
    /// client.pipeline().tracer("checkout").in_span("charge card", |_cx| {});
    /// client.pipeline().force_flush()?;
    /// // One pipeline: the server layer's counts include the span.
    /// assert_eq!(server.pipeline().stats().exported, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pipeline(&self) -> &Pipeline {
        &self.state.pipeline
    }

    /// A guard over the pipeline, for programs with no server layer.
    ///
    /// ```
    /// use tower_otel_tracing::client::TracingClientLayer;
    /// use tower_otel_tracing::TracingConfig;
    ///
    /// let layer = TracingClientLayer::try_from_config(TracingConfig::default())?;
    /// let guard = layer.guard();
    /// // ... make the program's calls through `layer` ...
    /// // Exports what the calls recorded before the program exits.
    /// guard.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn guard(&self) -> crate::pipeline::TracingGuard {
        crate::pipeline::TracingGuard::new(self.pipeline().clone())
    }

    /// The same tracing as a `reqwest-middleware` middleware (feature `reqwest`).
    ///
    /// ```
    /// use tower_otel_tracing::client::TracingClientLayer;
    /// use tower_otel_tracing::TracingConfig;
    ///
    /// let tracing = TracingClientLayer::try_from_config(TracingConfig::default())?;
    /// let _guard = tracing.guard();
    /// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
    ///     .with(tracing.reqwest())
    ///     .build();
    /// # Ok::<(), tower_otel_tracing::ConfigError>(())
    /// ```
    #[cfg(feature = "reqwest")]
    pub fn reqwest(&self) -> ReqwestTracing {
        ReqwestTracing::new(self.state.clone())
    }
}

impl<S> Layer<S> for TracingClientLayer {
    type Service = TracingClientService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TracingClientService::new(inner, self.state.clone())
    }
}

impl fmt::Debug for TracingClientLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracingClientLayer")
            .field("client_spans", &self.state.client_spans)
            .finish_non_exhaustive()
    }
}
