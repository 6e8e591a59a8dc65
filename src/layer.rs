use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::trace::{
    RandomIdGenerator, SdkTracer, SdkTracerProvider, SpanExporter, SpanProcessor,
};
use tower_layer::Layer;

use crate::attributes::TextCache;
use crate::config::TracingConfig;
use crate::env::Environment;
use crate::error::ConfigError;
use crate::excluded_urls::ExcludedUrls;
use crate::exporter::InMemoryExporter;
use crate::guard::TracingGuard;
use crate::pipeline::{self, Sink};
use crate::propagation::Propagation;
use crate::recorded_headers::RecordedHeaders;
use crate::sampler::SamplingPolicy;
use crate::service::TracingService;
use crate::settings;
use crate::stats::{Counters, TracingStats};

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
/// use tower_otel_tracing::{ExporterType, TracingConfig, TracingLayer};
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
    pub(crate) shared: Arc<Shared>,
}

/// Everything a request needs from the layer, shared by all services it wraps.
pub(crate) struct Shared {
    pub(crate) tracer: SdkTracer,
    /// The tracer's scope, for child spans made without the tracer.
    pub(crate) scope: InstrumentationScope,
    /// The processors of a pipeline the layer built (`None` for a user's provider,
    /// whose processors only the SDK can reach).
    pub(crate) processor: Option<Arc<dyn SpanProcessor>>,
    /// `None`: a user-supplied provider samples (we cannot predict its sampler).
    pub(crate) policy: Option<SamplingPolicy>,
    /// `OTEL_SDK_DISABLED`: pass every request through untouched.
    pub(crate) disabled: bool,
    pub(crate) propagation: Propagation,
    pub(crate) excluded: Option<ExcludedUrls>,
    pub(crate) local_addr: Option<SocketAddr>,
    pub(crate) options: Options,
    pub(crate) trace_headers: Option<Arc<TraceHeaders>>,
    pub(crate) texts: TextCache,
    pub(crate) recorded_headers: RecordedHeaders,
    /// Span counts of a pipeline the layer built (zeros for a user's provider).
    pub(crate) counters: Arc<Counters>,
    pub(crate) ids: RandomIdGenerator,
    pub(crate) provider: SdkTracerProvider,
    pub(crate) owns_provider: bool,
    pub(crate) in_memory: Option<InMemoryExporter>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    pub(crate) send_spans: bool,
    pub(crate) receive_spans: bool,
    pub(crate) route_names: bool,
}

/// Response headers that carry the trace id (32 hex) and the server span id (16 hex).
#[derive(Debug, Clone)]
pub(crate) struct TraceHeaders {
    pub(crate) trace_id: http::HeaderName,
    pub(crate) span_id: http::HeaderName,
}

impl Drop for Shared {
    fn drop(&mut self) {
        if self.owns_provider {
            // Flushes what is queued; a second shutdown (after the guard's) is a no-op error.
            let _ = self.provider.shutdown();
        }
    }
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
    pub fn builder(cfg: TracingConfig) -> TracingLayerBuilder {
        TracingLayerBuilder {
            cfg,
            provider: None,
            sink: Sink::FromConfig,
            local_addr: None,
            options: Options {
                send_spans: true,
                receive_spans: true,
                route_names: false,
            },
            install_global: true,
            env: Environment::Process,
            trace_headers: None,
            request_headers: Vec::new(),
            response_headers: Vec::new(),
            sanitize_headers: Vec::new(),
        }
    }

    /// A guard over the pipeline: flush it, or shut it down (also on drop).
    pub fn guard(&self) -> TracingGuard {
        TracingGuard::new(self.shared.clone())
    }

    /// Exports every span finished so far, waiting until the exporter has taken them.
    pub fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        self.shared.provider.force_flush()
    }

    /// Spans started, exported, dropped (queue full) and failed so far, for a
    /// pipeline the layer built (all zero when you supplied the tracer provider).
    pub fn stats(&self) -> TracingStats {
        self.shared.counters.snapshot()
    }

    /// The tracer provider behind the layer: make handler spans with it when the
    /// layer is not installed as the global provider.
    pub fn tracer_provider(&self) -> &SdkTracerProvider {
        &self.shared.provider
    }

    /// The in-memory exporter, when `exporter_type` is `in_memory`.
    pub fn in_memory_exporter(&self) -> Option<InMemoryExporter> {
        self.shared.in_memory.clone()
    }
}

impl fmt::Debug for TracingLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracingLayer")
            .field("policy", &self.shared.policy)
            .field("excluded_urls", &self.shared.excluded)
            .field("local_addr", &self.shared.local_addr)
            .field("options", &self.shared.options)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for TracingLayer {
    type Service = TracingService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TracingService::new(inner, self.shared.clone())
    }
}

/// Options beyond the config file. Made by [`TracingLayer::builder`].
///
/// ```
/// use tower_otel_tracing::{InMemoryExporter, TracingConfig, TracingLayer};
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
    options: Options,
    install_global: bool,
    env: Environment,
    trace_headers: Option<(String, String)>,
    request_headers: Vec<String>,
    response_headers: Vec<String>,
    sanitize_headers: Vec<String>,
}

impl TracingLayerBuilder {
    /// Reads `OTEL_*` overrides from exactly these variables instead of the process
    /// environment (for tests, or to embed the layer with settings from elsewhere).
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
        self.sink = Sink::Exporter(Box::new(move |config, counters| {
            pipeline::batch(exporter, config, &counters)
        }));
        self
    }

    /// Uses a tracer provider you built and own: its sampler, processors and
    /// exporters apply, and the config's exporter, sampling and truncation do not.
    /// The layer never shuts it down; [`TracingGuard::shutdown`] still can.
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
        self.options.send_spans = on;
        self
    }

    /// Whether to record the `http receive` child spans (default on).
    pub fn receive_spans(mut self, on: bool) -> Self {
        self.options.receive_spans = on;
        self
    }

    /// Names server spans `"{METHOD} {route}"` after the route template the router
    /// matched (axum's `MatchedPath`, feature `axum`) and sets `http.route`, so
    /// `GET /users/{id}` is one name instead of one per id. Off by default: BentoML
    /// names spans after the path. Requests no route matched keep the path.
    /// The layer must run after routing (axum's `Router::layer` does).
    pub fn route_names(mut self, on: bool) -> Self {
        self.options.route_names = on;
        self
    }

    /// Records these request headers on the server span as
    /// `http.request.header.<name>` (string arrays). Nothing is recorded unless named
    /// here; values of `authorization`, `proxy-authorization`, `cookie`,
    /// `set-cookie`, `x-api-key`, `x-auth-token` and of
    /// [`sanitize_headers`](Self::sanitize_headers) become `[REDACTED]`.
    pub fn request_headers<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.request_headers = names.into_iter().map(Into::into).collect();
        self
    }

    /// Records these response headers as `http.response.header.<name>`, with the
    /// same redaction as [`request_headers`](Self::request_headers).
    pub fn response_headers<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        names: I,
    ) -> Self {
        self.response_headers = names.into_iter().map(Into::into).collect();
        self
    }

    /// More header names whose recorded values are replaced by `[REDACTED]`.
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
    pub fn trace_id_headers(mut self, trace_id: &str, span_id: &str) -> Self {
        self.trace_headers = Some((trace_id.to_owned(), span_id.to_owned()));
        self
    }

    /// Whether to install the pipeline as the global tracer provider and the
    /// propagator as the global text-map propagator (default on), so spans made
    /// with `opentelemetry::global::tracer` in handlers go to the same place.
    pub fn install_global(mut self, on: bool) -> Self {
        self.install_global = on;
        self
    }

    /// Validates the config, applies the `OTEL_*` environment (which wins), and
    /// starts the pipeline.
    pub fn build(self) -> Result<TracingLayer, ConfigError> {
        self.cfg.validate()?;
        let trace_headers = match &self.trace_headers {
            None => None,
            Some((trace_id, span_id)) => {
                let name = |n: &str| {
                    http::HeaderName::from_bytes(n.as_bytes()).map_err(|_| {
                        ConfigError::invalid("trace_id_headers", n, "a valid HTTP header name")
                    })
                };
                Some(Arc::new(TraceHeaders {
                    trace_id: name(trace_id)?,
                    span_id: name(span_id)?,
                }))
            }
        };
        let recorded_headers = RecordedHeaders::new(
            &self.request_headers,
            &self.response_headers,
            &self.sanitize_headers,
        )
        .map_err(|e| ConfigError::new("recorded_headers", e))?;
        let settings = settings::resolve(&self.cfg, &self.env);
        let policy = SamplingPolicy::from_sampler(settings.sampler);
        let mut counters = Arc::default();
        let mut processor = None;
        let (provider, owns_provider, policy, in_memory) = match self.provider {
            Some(provider) => (provider, false, None, None),
            None if settings.disabled => (
                SdkTracerProvider::builder().build(),
                true,
                Some(policy),
                None,
            ),
            None => {
                let built = pipeline::build(&settings, self.sink, policy)?;
                counters = built.counters;
                processor = built.processor;
                (built.provider, true, Some(policy), built.in_memory)
            }
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
            opentelemetry::global::set_tracer_provider(provider.clone());
            opentelemetry::global::set_text_map_propagator(Propagation::composite_for_global(
                &settings.propagators,
            ));
        }
        let scope = InstrumentationScope::builder(env!("CARGO_PKG_NAME"))
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        let tracer = provider.tracer_with_scope(scope.clone());
        let excluded = settings
            .config
            .excluded_urls
            .clone()
            .filter(|e| !e.is_empty());
        Ok(TracingLayer {
            shared: Arc::new(Shared {
                tracer,
                scope,
                processor,
                disabled: settings.disabled,
                policy,
                propagation: Propagation::new(&settings.propagators),
                excluded,
                local_addr: self.local_addr,
                options: self.options,
                trace_headers,
                texts: TextCache::default(),
                recorded_headers,
                counters,
                ids: RandomIdGenerator::default(),
                provider,
                owns_provider,
                in_memory,
            }),
        })
    }
}
