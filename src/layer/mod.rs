//! The layer stage: the tower [`Layer`] and the path a request takes through it.
//!
//! - `mod.rs`: [`TracingLayer`], cheap to clone, shared by every service it wraps;
//! - `builder.rs`: [`TracingLayerBuilder`], options beyond the config file;
//! - `state.rs`: what every request reads from the layer;
//! - `decision.rs`: how a request is traced, decided when it arrives;
//! - `service.rs`: [`TracingService`], the layer around one service;
//! - `future.rs`: [`ResponseFuture`], which polls the service under the request's
//!   context and takes the response head;
//! - `request_body.rs`, `response_body.rs`: [`RequestBody`] and [`ResponseBody`],
//!   which record each frame read and sent, and end the server span after the last.
//!
//! ```
//! use tower::ServiceExt;
//! use tower_otel_tracing::exporter::InMemoryExporter;
//! use tower_otel_tracing::layer::{RequestBody, TracingLayer};
//! use tower_otel_tracing::TracingConfig;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let spans = InMemoryExporter::default();
//! let cfg = TracingConfig { sample_rate: Some(1.0), ..Default::default() };
//! let layer = TracingLayer::builder(cfg).exporter(spans.clone()).build()?;
//! let svc = tower::ServiceBuilder::new().layer(layer.clone()).service_fn(
//!     |_req: http::Request<RequestBody<String>>| async {
//!         Ok::<_, std::convert::Infallible>(http::Response::new(String::from("hi")))
//!     },
//! );
//! let resp = svc.oneshot(http::Request::get("/hello").body(String::new())?).await?;
//! // The server span ends with the response body's last frame.
//! http_body_util::BodyExt::collect(resp.into_body()).await?;
//! layer.pipeline().force_flush()?;
//! assert!(spans.finished_spans().iter().any(|s| s.name == "GET /hello"));
//! # Ok(())
//! # }
//! ```

mod builder;
mod decision;
mod future;
mod request_body;
mod response_body;
mod service;
mod state;

use std::fmt;
use std::sync::Arc;

use tower_layer::Layer;

use crate::client::{ClientState, TracingClientLayer};
use crate::config::{ConfigError, TracingConfig};
use crate::pipeline::{Pipeline, TracingGuard};
pub use builder::TracingLayerBuilder;
pub use future::ResponseFuture;
pub use request_body::RequestBody;
pub use response_body::ResponseBody;
pub use service::TracingService;
use state::LayerState;

/// Adds BentoML-style request tracing to a tower service.
///
/// Per request it records a SERVER span `"{METHOD} {path}"` with the `http.*` and
/// `net.*` attributes, INTERNAL `"... http send"` spans for the response head and
/// each body frame, and `"... http receive"` spans for each request body frame the
/// service reads. W3C `traceparent`/`tracestate` and `baggage` are extracted;
/// `excluded_urls` are skipped; sampling is parent-based with ratio `sample_rate`.
///
/// Clones share one pipeline. When the last clone (and every [`TracingGuard`]) is
/// dropped, the pipeline it built is shut down, flushing queued spans; hold a
/// [`guard`](Self::guard) to choose that moment yourself.
///
/// ```
/// use axum::{routing::post, Router};
/// use tower_otel_tracing::config::ExporterType;
/// use tower_otel_tracing::{TracingConfig, TracingLayer};
///
/// let cfg = TracingConfig {
///     exporter_type: Some(ExporterType::Console),
///     sample_rate: Some(1.0),
///     ..Default::default()
/// };
/// let app: Router = Router::new()
///     .route("/summarize", post(|body: String| async move { body }))
///     .layer(TracingLayer::from_config(cfg));
/// ```
#[derive(Clone)]
pub struct TracingLayer {
    state: Arc<LayerState>,
}

impl TracingLayer {
    /// Builds the layer and the exporter pipeline the config describes.
    ///
    /// # Panics
    /// When the config is invalid, with a message naming the field and value: a bad
    /// tracing config is a deployment error best caught at start-up. Use
    /// [`try_from_config`](Self::try_from_config) to handle it yourself.
    pub fn from_config(cfg: TracingConfig) -> Self {
        match Self::try_from_config(cfg) {
            Ok(layer) => layer,
            Err(e) => panic!("invalid tracing config: {e}"),
        }
    }

    /// Builds the layer, or returns the first validation error.
    ///
    /// ```
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// let err = TracingLayer::try_from_config(TracingConfig {
    ///     sample_rate: Some(1.5),
    ///     ..Default::default()
    /// })
    /// .err()
    /// .unwrap();
    /// assert_eq!(err.path(), "tracing.sample_rate");
    /// ```
    pub fn try_from_config(cfg: TracingConfig) -> Result<Self, ConfigError> {
        Self::builder(cfg).build()
    }

    /// A builder for the options a config file does not carry: your own exporter
    /// or tracer provider, the server's address, which child spans to record.
    ///
    /// ```
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// let layer = TracingLayer::builder(TracingConfig::default())
    ///     .local_addr(([127, 0, 0, 1], 3000).into())
    ///     .send_spans(false)
    ///     .build()?;
    /// # Ok::<(), tower_otel_tracing::ConfigError>(())
    /// ```
    pub fn builder(cfg: TracingConfig) -> TracingLayerBuilder {
        TracingLayerBuilder::new(cfg)
    }

    /// The handle to the export pipeline: flush, stats, the tracer provider.
    ///
    /// ```
    /// use opentelemetry::trace::Tracer;
    /// use tower_otel_tracing::config::ExporterType;
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// let layer = TracingLayer::from_config(TracingConfig {
    ///     exporter_type: Some(ExporterType::InMemory),
    ///     sample_rate: Some(1.0),
    ///     ..Default::default()
    /// });
    /// // A handler's own span, exported with the layer's spans.
    /// layer.pipeline().tracer("checkout").in_span("charge card", |_cx| {});
    /// layer.pipeline().force_flush()?;
    /// assert_eq!(layer.pipeline().stats().exported, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pipeline(&self) -> &Pipeline {
        &self.state.pipeline
    }

    /// The client layer for outgoing calls made while handling requests: it
    /// shares this layer's pipeline, sampler and propagators, so a call made from
    /// a handler carries the request's trace and its CLIENT span is the server
    /// span's child.
    ///
    /// ```
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// let layer = TracingLayer::from_config(TracingConfig::default());
    /// let client = tower::ServiceBuilder::new()
    ///     .layer(layer.client())
    ///     .service_fn(|_req: http::Request<String>| async {
    ///         Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    ///     });
    /// ```
    pub fn client(&self) -> TracingClientLayer {
        let state = &self.state;
        TracingClientLayer::new(ClientState {
            pipeline: state.pipeline.clone(),
            recorder: state.recorder.clone(),
            policy: state.policy,
            propagation: state.propagation.clone(),
            disabled: state.disabled,
            client_spans: true,
            metrics: state.metrics.clone(),
        })
    }

    /// The embedded trace viewer, to mount at `/_traces` (see [`crate::viewer`]).
    /// The layer stops tracing requests under that path from now on; mount the
    /// viewer on a loopback or debug listener in production.
    ///
    /// ```
    /// use axum::Router;
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// let layer = TracingLayer::from_config(TracingConfig::default());
    /// let app: Router = Router::new()
    ///     .nest_service("/_traces", layer.viewer())
    ///     .layer(layer);
    /// ```
    ///
    /// # Panics
    /// When a viewer was already made for another path.
    #[cfg(feature = "viewer")]
    pub fn viewer(&self) -> crate::viewer::TraceViewer {
        self.viewer_at(crate::viewer::DEFAULT_PATH)
    }

    /// The trace viewer, to mount at `path` (such as `/debug/traces`; a trailing
    /// `/` is ignored). One path per layer.
    ///
    /// ```
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// let layer = TracingLayer::from_config(TracingConfig::default());
    /// let viewer = layer.viewer_at("/debug/traces/");
    /// assert_eq!(viewer.path(), "/debug/traces");
    /// ```
    ///
    /// # Panics
    /// When a viewer was already made for another path.
    #[cfg(feature = "viewer")]
    pub fn viewer_at(&self, path: &str) -> crate::viewer::TraceViewer {
        let path = path.trim_end_matches('/');
        let path = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        };
        let registered = self.state.viewer_path.get_or_init(|| path.as_str().into());
        assert!(
            **registered == *path,
            "this layer's viewer is at {registered}; it cannot also be at {path}"
        );
        let state = &self.state;
        let metrics = state.viewer_metrics.get_or_init(|| {
            let naming = crate::viewer::Naming::of(&state.recorder.conventions);
            Arc::new(crate::viewer::MetricsHistory::new(&state.metrics, naming))
        });
        crate::viewer::TraceViewer::new(
            self.pipeline().viewer_store().clone(),
            metrics.clone(),
            &path,
        )
    }

    /// The pull endpoint of the layer's HTTP metrics, to mount at `/metrics`:
    /// the Prometheus text format, or OpenMetrics with exemplars for a scraper
    /// that asks (see [`MetricsService`](crate::metrics::MetricsService)).
    /// Requests are measured from the moment it is made; its own are not.
    ///
    /// ```
    /// use axum::{routing::get, Router};
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// let layer = TracingLayer::from_config(TracingConfig::default());
    /// let app: Router = Router::new()
    ///     .route("/hello", get(|| async { "hello" }))
    ///     .route_service("/metrics", layer.metrics())
    ///     .layer(layer.clone());
    /// ```
    pub fn metrics(&self) -> crate::metrics::MetricsService {
        self.metrics_at("/metrics")
    }

    /// The pull endpoint, mounted at `path` rather than `/metrics`. One path
    /// per layer.
    ///
    /// ```
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// let layer = TracingLayer::from_config(TracingConfig::default());
    /// let _metrics = layer.metrics_at("/internal/metrics");
    /// ```
    ///
    /// # Panics
    /// When the endpoint was already made for another path.
    pub fn metrics_at(&self, path: &str) -> crate::metrics::MetricsService {
        let path = path.trim_end_matches('/');
        let path = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        };
        let registered = self.state.metrics_path.get_or_init(|| path.as_str().into());
        assert!(
            **registered == *path,
            "this layer's metrics are at {registered}; they cannot also be at {path}"
        );
        let service = crate::metrics::MetricsService::new(self.state.metrics.clone());
        // A viewer made before starts charting the metrics now.
        #[cfg(feature = "viewer")]
        if let Some(history) = self.state.viewer_metrics.get() {
            history.start_sampler();
        }
        service
    }

    /// A guard over the pipeline: it shuts the pipeline down (flushing it) when
    /// dropped or on [`TracingGuard::shutdown`], and derefs to the [`Pipeline`].
    ///
    /// ```
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// let layer = TracingLayer::from_config(TracingConfig::default());
    /// let guard = layer.guard();
    /// // The server has stopped and dropped its layer; the guard keeps the pipeline up.
    /// drop(layer);
    /// assert!(guard.force_flush().is_ok());
    /// guard.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn guard(&self) -> TracingGuard {
        TracingGuard::new(self.pipeline().clone())
    }
}

impl fmt::Debug for TracingLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracingLayer")
            .field("policy", &self.state.policy)
            .field("excluded_urls", &self.state.excluded)
            .field("local_addr", &self.state.recorder.conventions.local_addr)
            .field("route_names", &self.state.recorder.conventions.route_names)
            .field("pipeline", self.pipeline())
            .finish_non_exhaustive()
    }
}

impl TracingClientLayer {
    /// A client layer with a pipeline of its own, for programs that only make
    /// calls (a CLI, a worker).
    ///
    /// ```
    /// use tower_otel_tracing::client::TracingClientLayer;
    /// use tower_otel_tracing::TracingConfig;
    ///
    /// let layer = TracingClientLayer::from_config(TracingConfig::default());
    /// // Held until the program's last call, so its spans are exported before exit.
    /// let _guard = layer.guard();
    /// let client = tower::ServiceBuilder::new()
    ///     .layer(layer)
    ///     .service_fn(|_req: http::Request<String>| async {
    ///         Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    ///     });
    /// ```
    ///
    /// # Panics
    /// When the config is invalid, naming the field and value.
    pub fn from_config(cfg: TracingConfig) -> Self {
        TracingLayer::from_config(cfg).client()
    }

    /// A client layer with a pipeline of its own, or the first validation error.
    ///
    /// ```
    /// use tower_otel_tracing::client::TracingClientLayer;
    /// use tower_otel_tracing::TracingConfig;
    ///
    /// let client = TracingClientLayer::try_from_config(TracingConfig {
    ///     sample_rate: Some(1.0),
    ///     ..Default::default()
    /// })?;
    /// let guard = client.guard(); // flushes on drop
    /// # Ok::<(), tower_otel_tracing::ConfigError>(())
    /// ```
    pub fn try_from_config(cfg: TracingConfig) -> Result<Self, ConfigError> {
        TracingLayer::try_from_config(cfg).map(|layer| layer.client())
    }
}

impl<S> Layer<S> for TracingLayer {
    type Service = TracingService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TracingService::new(inner, self.state.clone())
    }
}
