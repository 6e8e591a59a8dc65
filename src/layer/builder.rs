//! [`TracingLayerBuilder`]: the options a config file does not carry (your own
//! exporter or provider, the server's address, which spans to record, headers).
//! `build` resolves the settings once and builds everything from them.

use std::net::SocketAddr;
use std::sync::Arc;

use opentelemetry_sdk::trace::{RandomIdGenerator, SdkTracerProvider, SpanExporter};

use super::state::{IdHeaders, LayerState, TraceHeaders, Trust};
use super::TracingLayer;
use crate::config::{ConfigError, TracingConfig};
use crate::conventions::address::TextCache;
use crate::conventions::recorded_headers::RecordedHeaders;
use crate::conventions::Conventions;
use crate::metrics::HttpMetrics;
use crate::pipeline::sampler::SamplingPolicy;
use crate::pipeline::{self, Pipeline, Sink};
use crate::propagation::Propagation;
use crate::record::{frame_span_cap, Recorder};
use crate::settings::{Environment, Settings};

/// Options beyond the config file. Made by [`TracingLayer::builder`].
///
/// ```
/// use tower_otel_tracing::exporter::InMemoryExporter;
/// use tower_otel_tracing::{TracingConfig, TracingLayer};
///
/// let exporter = InMemoryExporter::default();
/// let layer = TracingLayer::builder(TracingConfig { sample_rate: Some(1.0), ..Default::default() })
///     .exporter(exporter.clone())
///     .local_addr("127.0.0.1:3000".parse().unwrap())
///     .send_spans(false)
///     .install_global(false)
///     .build()?;
/// # Ok::<(), tower_otel_tracing::ConfigError>(())
/// ```
pub struct TracingLayerBuilder {
    cfg: TracingConfig,
    provider: Option<SdkTracerProvider>,
    sink: Sink,
    local_addr: Option<SocketAddr>,
    send_spans: bool,
    receive_spans: bool,
    route_names: bool,
    install_global: bool,
    env: Environment,
    trace_headers: Option<(String, String)>,
    server_timing: bool,
    request_headers: Vec<String>,
    response_headers: Vec<String>,
    sanitize_headers: Vec<String>,
    public_endpoint: bool,
    trusted_networks: Vec<String>,
    cardinality_limit: usize,
}

impl TracingLayerBuilder {
    pub(super) fn new(cfg: TracingConfig) -> Self {
        TracingLayerBuilder {
            cfg,
            provider: None,
            sink: Sink::FromSettings,
            local_addr: None,
            send_spans: true,
            receive_spans: true,
            route_names: false,
            cardinality_limit: crate::metrics::CARDINALITY_LIMIT,
            install_global: true,
            env: Environment::Process,
            trace_headers: None,
            server_timing: false,
            request_headers: Vec::new(),
            response_headers: Vec::new(),
            sanitize_headers: Vec::new(),
            public_endpoint: false,
            trusted_networks: Vec::new(),
        }
    }

    /// Treats the service as a public endpoint: a caller's trace context never
    /// becomes the server span's parent. The span starts a new trace (sampled by
    /// `sample_rate`) with a link to the caller's span, and incoming baggage is
    /// dropped, so internet clients cannot decide our sampling and grouping.
    /// Off by default. Go's `otelhttp.WithPublicEndpoint` does the same.
    ///
    /// ```
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// let layer = TracingLayer::builder(TracingConfig::default())
    ///     .public_endpoint(true)
    ///     .trusted_networks(["10.0.0.0/8", "fd00::/8"])
    ///     .build()?;
    /// # Ok::<(), tower_otel_tracing::ConfigError>(())
    /// ```
    pub fn public_endpoint(mut self, on: bool) -> Self {
        self.public_endpoint = on;
        self
    }

    /// Callers inside these networks (CIDRs such as `10.0.0.0/8`) are trusted
    /// anyway: their context parents the span as usual. Setting any makes the
    /// service a [`public_endpoint`](Self::public_endpoint) for everyone else.
    /// Peers come from [`ConnectionInfo`](crate::ConnectionInfo) or axum's
    /// `ConnectInfo`; a request whose peer is unknown is not trusted. Invalid
    /// networks are reported by [`build`](Self::build).
    ///
    /// ```
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// let builder = || TracingLayer::builder(TracingConfig::default());
    /// let layer = builder().trusted_networks(["10.0.0.0/8", "fd00::/8"]).build()?;
    /// let err = builder().trusted_networks(["10.0.0.300/8"]).build().unwrap_err();
    /// assert_eq!(err.path(), "trusted_networks");
    /// # Ok::<(), tower_otel_tracing::ConfigError>(())
    /// ```
    pub fn trusted_networks<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        cidrs: I,
    ) -> Self {
        self.trusted_networks = cidrs.into_iter().map(Into::into).collect();
        self
    }

    /// Reads `OTEL_*` overrides from exactly these variables instead of the process
    /// environment (for tests, or to embed the layer with settings from elsewhere).
    ///
    /// ```
    /// use tower_otel_tracing::config::ExporterType;
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// let cfg = TracingConfig {
    ///     exporter_type: Some(ExporterType::InMemory),
    ///     ..Default::default()
    /// };
    /// let layer = TracingLayer::builder(cfg)
    ///     .env_vars([("OTEL_TRACES_EXPORTER", "none")])
    ///     .build()?;
    /// // The variable wins over the config's exporter.
    /// assert!(layer.pipeline().in_memory_exporter().is_none());
    /// # Ok::<(), tower_otel_tracing::ConfigError>(())
    /// ```
    pub fn env_vars<K, V>(mut self, vars: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        self.env = Environment::Vars(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }

    /// Sends spans to your exporter (behind our batch processor and
    /// `max_tag_value_length` truncation) instead of `exporter_type`'s.
    pub fn exporter<E: SpanExporter + 'static>(mut self, exporter: E) -> Self {
        self.sink = Sink::exporter(exporter);
        self
    }

    /// Uses a tracer provider you built and own: its sampler, processors and
    /// exporters apply, and the config's exporter, sampling and truncation do not.
    /// The layer never shuts it down; [`TracingGuard::shutdown`](crate::TracingGuard::shutdown) still can.
    ///
    /// ```
    /// use opentelemetry::trace::Tracer;
    /// use opentelemetry_sdk::trace::SdkTracerProvider;
    /// use tower_otel_tracing::exporter::InMemoryExporter;
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// let spans = InMemoryExporter::default();
    /// let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// let layer = TracingLayer::builder(TracingConfig::default())
    ///     .tracer_provider(provider)
    ///     .build()?;
    /// // The provider's default sampler records it, whatever the config's sample rate.
    /// layer.pipeline().tracer("checkout").in_span("charge card", |_cx| {});
    /// assert_eq!(spans.finished_spans().len(), 1);
    /// # Ok::<(), tower_otel_tracing::ConfigError>(())
    /// ```
    pub fn tracer_provider(mut self, provider: SdkTracerProvider) -> Self {
        self.provider = Some(provider);
        self
    }

    /// The server's own address, for `http.host` and `net.host.port` when the request
    /// carries no [`ConnectionInfo`](crate::ConnectionInfo).
    pub fn local_addr(mut self, addr: SocketAddr) -> Self {
        self.local_addr = Some(addr);
        self
    }

    /// Whether to record the `http send` child spans (default on; ASGI's
    /// `exclude_spans=["send"]` turns them off).
    pub fn send_spans(mut self, on: bool) -> Self {
        self.send_spans = on;
        self
    }

    /// Whether to record the `http receive` child spans (default on).
    ///
    /// ```
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// // Uploads arrive in many small frames; a span per frame would bury the trace.
    /// let layer = TracingLayer::builder(TracingConfig::default())
    ///     .receive_spans(false)
    ///     .build()?;
    /// # Ok::<(), tower_otel_tracing::ConfigError>(())
    /// ```
    pub fn receive_spans(mut self, on: bool) -> Self {
        self.receive_spans = on;
        self
    }

    /// Names server spans `"{METHOD} {route}"` after the route template the router
    /// matched (axum's `MatchedPath`, feature `axum`) and sets `http.route`, so
    /// `GET /users/{id}` is one name instead of one per id. Off by default: BentoML
    /// names spans after the path. Requests no route matched keep the path.
    /// The layer must run after routing (axum's `Router::layer` does).
    ///
    /// ```
    /// use axum::{routing::get, Router};
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// let layer = TracingLayer::builder(TracingConfig::default())
    ///     .route_names(true)
    ///     .build()?;
    /// let app: Router = Router::new()
    ///     .route("/users/{id}", get(|| async { "user" }))
    ///     .layer(layer);
    /// # Ok::<(), tower_otel_tracing::ConfigError>(())
    /// ```
    pub fn route_names(mut self, on: bool) -> Self {
        self.route_names = on;
        self
    }

    /// Records these request headers on the server span as
    /// `http.request.header.<name>` (string arrays). Nothing is recorded unless named
    /// here; values of `authorization`, `proxy-authorization`, `cookie`,
    /// `set-cookie`, `x-api-key`, `x-auth-token` and of
    /// [`sanitize_headers`](Self::sanitize_headers) become `[REDACTED]`.
    /// Invalid names are reported by [`build`](Self::build).
    ///
    /// ```
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// let builder = || TracingLayer::builder(TracingConfig::default());
    /// let layer = builder().request_headers(["user-agent", "x-request-id"]).build()?;
    /// let err = builder().request_headers(["user agent"]).build().unwrap_err();
    /// assert_eq!(err.path(), "request_headers");
    /// # Ok::<(), tower_otel_tracing::ConfigError>(())
    /// ```
    pub fn request_headers<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.request_headers = names.into_iter().map(Into::into).collect();
        self
    }

    /// Records these response headers as `http.response.header.<name>`, with the
    /// same redaction as [`request_headers`](Self::request_headers).
    ///
    /// ```
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// let layer = TracingLayer::builder(TracingConfig::default())
    ///     .response_headers(["content-type", "cache-control"])
    ///     .build()?;
    /// # Ok::<(), tower_otel_tracing::ConfigError>(())
    /// ```
    pub fn response_headers<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        names: I,
    ) -> Self {
        self.response_headers = names.into_iter().map(Into::into).collect();
        self
    }

    /// More header names whose recorded values are replaced by `[REDACTED]`.
    ///
    /// ```
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// // The trace shows whether a caller sent a token, never the token itself.
    /// let layer = TracingLayer::builder(TracingConfig::default())
    ///     .request_headers(["x-session-token"])
    ///     .sanitize_headers(["x-session-token"])
    ///     .build()?;
    /// # Ok::<(), tower_otel_tracing::ConfigError>(())
    /// ```
    pub fn sanitize_headers<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        names: I,
    ) -> Self {
        self.sanitize_headers = names.into_iter().map(Into::into).collect();
        self
    }

    /// Adds the trace id (32 hex digits) and the server span id (16 hex digits) to
    /// every traced response, sampled or not, under these header names, so clients
    /// can quote them (BentoML uses `X-BentoML-Trace-ID` and `X-BentoML-Request-ID`).
    /// Off by default. Invalid names are reported by [`build`](Self::build).
    ///
    /// ```
    /// use tower::ServiceExt;
    /// use tower_otel_tracing::layer::RequestBody;
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let layer = TracingLayer::builder(TracingConfig::default())
    ///     .trace_id_headers("x-trace-id", "x-request-id")
    ///     .build()?;
    /// let svc = tower::ServiceBuilder::new().layer(layer).service_fn(
    ///     |_req: http::Request<RequestBody<String>>| async {
    ///         Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    ///     },
    /// );
    /// // Not sampled (sample rate 0), yet the ids are there to quote.
    /// let resp = svc.oneshot(http::Request::new(String::new())).await?;
    /// assert_eq!(resp.headers()["x-trace-id"].len(), 32);
    /// assert_eq!(resp.headers()["x-request-id"].len(), 16);
    /// # Ok(())
    /// # }
    /// ```
    pub fn trace_id_headers(mut self, trace_id: &str, span_id: &str) -> Self {
        self.trace_headers = Some((trace_id.to_owned(), span_id.to_owned()));
        self
    }

    /// Adds the `server-timing` trace metric to every traced response, sampled or
    /// not: `server-timing: trace;desc=00-{trace-id}-{span-id}-{flags}`, the
    /// server span in `traceparent` form. Browsers expose it to page scripts
    /// through the Performance API (`PerformanceServerTiming`), so front-end
    /// telemetry can name the server trace it belongs to. Off by default:
    /// anyone who can read the response learns the trace id.
    ///
    /// ```
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// let layer = TracingLayer::builder(TracingConfig::default())
    ///     .server_timing(true)
    ///     .install_global(false)
    ///     .build()
    ///     .unwrap();
    /// # drop(layer);
    /// ```
    pub fn server_timing(mut self, on: bool) -> Self {
        self.server_timing = on;
        self
    }

    /// The most attribute sets each metric instrument keeps apart (its
    /// cardinality limit); measurements of further sets go to one series
    /// marked `otel.metric.overflow = true`. Defaults to 2000, the metrics SDK
    /// specification's default.
    ///
    /// ```
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// let layer = TracingLayer::builder(TracingConfig::default())
    ///     .metrics_cardinality_limit(500)
    ///     .install_global(false)
    ///     .build()?;
    /// # drop(layer);
    /// # Ok::<(), tower_otel_tracing::ConfigError>(())
    /// ```
    pub fn metrics_cardinality_limit(mut self, limit: usize) -> Self {
        self.cardinality_limit = limit.max(1);
        self
    }

    /// Whether to install the pipeline as the global tracer provider and the
    /// propagator as the global text-map propagator (default on), so spans made
    /// with `opentelemetry::global::tracer` in handlers go to the same place.
    pub fn install_global(mut self, on: bool) -> Self {
        self.install_global = on;
        self
    }

    /// Resolves the settings (config, then the `OTEL_*` environment, which wins),
    /// validates every value, and starts the pipeline.
    pub fn build(self) -> Result<TracingLayer, ConfigError> {
        let settings = Settings::resolve_from(&self.cfg, &self.env)?;
        let ids = match &self.trace_headers {
            None => None,
            Some((trace_id, span_id)) => {
                let name = |n: &str| {
                    http::HeaderName::from_bytes(n.as_bytes()).map_err(|_| {
                        ConfigError::new(
                            "trace_id_headers",
                            format!("`{n}` is not a valid HTTP header name"),
                        )
                    })
                };
                Some(IdHeaders {
                    trace_id: name(trace_id)?,
                    span_id: name(span_id)?,
                })
            }
        };
        let trace_headers = (ids.is_some() || self.server_timing).then(|| {
            Arc::new(TraceHeaders {
                ids,
                server_timing: self.server_timing,
            })
        });
        let recorded = RecordedHeaders::new(
            &self.request_headers,
            &self.response_headers,
            &self.sanitize_headers,
        )?;
        let trust = self.trust()?;
        let policy = SamplingPolicy::from_sampler(settings.sampler);
        let (pipeline, policy) = match self.provider {
            Some(provider) => (Pipeline::user_provider(provider), None),
            None if settings.disabled => (Pipeline::disabled(), Some(policy)),
            None => (pipeline::build(&settings, self.sink, policy)?, Some(policy)),
        };
        if settings.disabled {
            tracing::info!("tower-otel-tracing: OTEL_SDK_DISABLED=true, requests are not traced");
        } else if policy.is_some_and(|p| p.never_samples_roots()) {
            tracing::info!(
                "tower-otel-tracing: sampler {} records no new traces (only requests whose \
                 caller sampled them); set tracing.sample_rate to collect traces",
                settings.sampler
            );
        }
        if self.install_global && !settings.disabled {
            opentelemetry::global::set_tracer_provider(pipeline.tracer_provider().clone());
            opentelemetry::global::set_text_map_propagator(Propagation::composite_for_global(
                &settings.propagators,
            ));
        }
        let metrics = Arc::new(HttpMetrics::new(
            settings.metrics.exemplar_filter,
            settings.metrics.server_address,
            self.cardinality_limit,
            pipeline::resource(&settings),
        ));
        if !settings.disabled {
            if let Some(push) =
                crate::exporter::metrics_push::start(&settings.metrics, metrics.clone())?
            {
                // A push exporter: measured from the start, pushed until the
                // pipeline shuts down.
                metrics.enable();
                pipeline.attach_metrics_push(push);
            }
        }
        let recorder = Recorder {
            conventions: Conventions {
                semconv: settings.semconv,
                rpc: settings.rpc_semconv,
                route_names: self.route_names,
                request_headers: recorded.request,
                response_headers: recorded.response,
                local_addr: self.local_addr,
                texts: TextCache::default(),
            },
            ids: RandomIdGenerator::default(),
            send_spans: self.send_spans,
            receive_spans: self.receive_spans,
            keep: settings.keep,
            frame_span_cap: frame_span_cap(settings.max_frame_spans),
            sink: pipeline.record_sink(),
            scope: pipeline.core().scope().clone(),
        };
        Ok(TracingLayer {
            state: Arc::new(LayerState {
                pipeline,
                recorder: Arc::new(recorder),
                policy,
                disabled: settings.disabled,
                propagation: Arc::new(Propagation::new(&settings.propagators)),
                excluded: settings.excluded_urls,
                trace_headers,
                trust,
                #[cfg(feature = "viewer")]
                viewer_path: std::sync::OnceLock::new(),
                #[cfg(feature = "viewer")]
                viewer_metrics: std::sync::OnceLock::new(),
                metrics,
                metrics_path: std::sync::OnceLock::new(),
            }),
        })
    }

    fn trust(&self) -> Result<Trust, ConfigError> {
        if !self.trusted_networks.is_empty() {
            let nets = self
                .trusted_networks
                .iter()
                .map(|n| {
                    n.trim().parse::<ipnet::IpNet>().map_err(|_| {
                        ConfigError::new(
                            "trusted_networks",
                            format!("invalid value `{n}`: expected a network like 10.0.0.0/8"),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Trust::Networks(nets));
        }
        Ok(if self.public_endpoint {
            Trust::Nobody
        } else {
            Trust::Everyone
        })
    }
}
