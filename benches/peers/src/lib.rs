//! The stacks compared in BENCHMARKS.md, built one way for every harness (criterion,
//! the callgrind request loop and the loopback server), so each stack is measured on
//! the same handler, request and exporter.
//!
//! Every stack that records spans exports to [`NoopExporter`] behind the SDK's batch
//! processor with the same batch settings (queue of 1,000,000 so a slow profiler never
//! makes a stack cheaper by dropping spans). "Sampled" is a parent-based ratio sampler
//! at 1.0 and "unsampled" the same at 0.0, the sampler this crate uses for
//! `sample_rate`. Stacks built on the `tracing` crate run under a registry with the
//! tracing-opentelemetry layer and no level filter, so everything the stack emits is
//! recorded, as with their default set-up.

pub mod capture;

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider, SpanData, SpanExporter,
};
use opentelemetry_sdk::Resource;
use std::sync::atomic::{AtomicU64, Ordering};
use tower_otel_tracing::{TracingConfig, TracingLayer};
use tracing_subscriber::layer::SubscriberExt;

/// The request every harness sends: BentoML's quick-start call with a 53-byte JSON body.
pub const BODY: &str = r#"{"text": "The quick brown fox jumps over the dog."}"#;

/// Every stack, in the order the tables list them.
pub const STACKS: &[&str] = &[
    "bare",
    "noop_layer",
    "ours_rate0",
    "ours_rate1_server_only",
    "ours_rate1",
    "ours_excluded",
    "ours_rate1_stable",
    "ours_rate1_dup",
    "ours_rate0_keep",
    "ours_rate0_keep_full",
    "ours_rate0_metrics",
    "ours_rate1_metrics",
    "around_ours_rate0",
    "around_ours_rate1",
    "tower_http_unsampled",
    "tower_http_sampled",
    "axum_tracing_otel_unsampled",
    "axum_tracing_otel_sampled",
    "tower_otel_unsampled",
    "tower_otel_sampled",
    "otel_instrumentation_tower_unsampled",
    "otel_instrumentation_tower_sampled",
    "tower_otel_metrics",
    "otel_instrumentation_tower_metrics",
    "fastrace_unsampled",
    "fastrace_sampled",
    "fastrace_tree_sampled",
    "client_bare",
    "client_unsampled",
    "client_sampled",
];

/// What a stack is in words, for the tables.
pub fn describe(stack: &str) -> &'static str {
    match stack {
        "bare" => "bare axum router (the limit)",
        "noop_layer" => "bare router with a pass-through layer (what any `Router::layer` costs)",
        "ours_rate0" => "tower-otel-tracing, sample_rate 0 (default)",
        "ours_rate1_server_only" => {
            "tower-otel-tracing, sample_rate 1.0, server span only (equal work)"
        }
        "ours_rate1" => "tower-otel-tracing, sample_rate 1.0, full BentoML tree (4 spans)",
        "ours_excluded" => "tower-otel-tracing, sample_rate 1.0, the route in excluded_urls",
        "ours_rate1_stable" => "tower-otel-tracing, sample_rate 1.0, full tree, stable conventions",
        "ours_rate1_dup" => {
            "tower-otel-tracing, sample_rate 1.0, full tree, legacy and stable keys"
        }
        "ours_rate0_metrics" => "tower-otel-tracing, sample_rate 0, with its HTTP metrics on",
        "ours_rate1_metrics" => {
            "tower-otel-tracing, sample_rate 1.0, full tree, with its HTTP metrics on (exemplars)"
        }
        "around_ours_rate0" => "tower-otel-tracing around the router, sample_rate 0",
        "around_ours_rate1" => "tower-otel-tracing around the router, sample_rate 1.0, full tree",
        "tower_http_unsampled" => "tower-http TraceLayer + tracing-opentelemetry, unsampled",
        "tower_http_sampled" => "tower-http TraceLayer + tracing-opentelemetry, sampled",
        "axum_tracing_otel_unsampled" => "axum-tracing-opentelemetry, unsampled",
        "axum_tracing_otel_sampled" => "axum-tracing-opentelemetry, sampled",
        "tower_otel_unsampled" => "tower-otel + tracing-opentelemetry, unsampled",
        "tower_otel_sampled" => "tower-otel + tracing-opentelemetry, sampled",
        "otel_instrumentation_tower_unsampled" => "opentelemetry-instrumentation-tower, unsampled",
        "otel_instrumentation_tower_sampled" => "opentelemetry-instrumentation-tower, sampled",
        "tower_otel_metrics" => {
            "tower-otel's HTTP metrics layer alone (SDK meter provider, manual reader)"
        }
        "otel_instrumentation_tower_metrics" => {
            "opentelemetry-instrumentation-tower, metrics only (SDK meter provider, manual reader)"
        }
        "fastrace_unsampled" => "fastrace-axum + fastrace, unsampled root",
        "fastrace_sampled" => "fastrace-axum + fastrace, sampled (one server span)",
        "fastrace_tree_sampled" => {
            "fastrace-axum + fastrace, sampled, server span and 3 child spans (4 spans)"
        }
        "client_bare" => "an in-process HTTP client call (the limit for the client layer)",
        "client_unsampled" => "the same call through our client layer, not sampled (inject only)",
        "client_sampled" => {
            "the same call through our client layer, sampled (CLIENT span + inject)"
        }
        _ => "unknown",
    }
}

/// Spans that reached the end of a stack's pipeline (every [`NoopExporter`] and
/// [`CountingReporter`] of the process), so a harness can check that a stack really
/// recorded what it claims to: a stack that records nothing is not a benchmark. One
/// atomic add per batch.
static RECORDED: AtomicU64 = AtomicU64::new(0);

/// Drops every batch, so the batch processor runs but no wire format is measured;
/// counts the spans it was handed.
#[derive(Debug)]
pub struct NoopExporter;

impl SpanExporter for NoopExporter {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        RECORDED.fetch_add(batch.len() as u64, Ordering::Relaxed);
        drop(std::hint::black_box(batch));
        std::future::ready(Ok(()))
    }
}

/// fastrace's counterpart of [`NoopExporter`]: the reporter its global collector
/// hands finished span records to, counting and dropping them.
#[derive(Debug)]
pub struct CountingReporter;

impl fastrace::collector::Reporter for CountingReporter {
    fn report(&mut self, spans: Vec<fastrace::collector::SpanRecord>) {
        RECORDED.fetch_add(spans.len() as u64, Ordering::Relaxed);
        drop(std::hint::black_box(spans));
    }
}

/// Spans each stack records per request (exported by the batch processor, or
/// reported by fastrace's collector), for [`Stack::check`].
pub fn spans_per_request(stack: &str) -> u64 {
    match stack {
        "ours_rate1_server_only" | "client_sampled" => 1,
        "ours_rate1" | "ours_rate1_stable" | "ours_rate1_dup" | "around_ours_rate1" => 4,
        "ours_rate1_metrics" => 4,
        "fastrace_tree_sampled" => 4,
        _ if stack.ends_with("_sampled") => 1,
        _ => 0,
    }
}

/// How a stack is put together: a layer inside the router (`Router::layer`, after
/// routing, the usual axum idiom) or a layer around the whole router.
#[derive(Clone)]
pub enum App {
    Routed(Router),
    Around(tower_otel_tracing::layer::TracingService<Router>),
    /// An outgoing call: a client (bare or behind our client layer) whose
    /// "network" is an in-process service answering at once.
    Client(ClientStack),
}

/// A client stack, its response body boxed the same way whether traced or not.
pub type ClientStack = tower::util::BoxCloneSyncService<
    http::Request<Body>,
    http::Response<Body>,
    std::convert::Infallible,
>;

fn client_stack(layer: Option<&TracingLayer>) -> ClientStack {
    use tower::ServiceExt;
    let upstream = tower::service_fn(|_req: http::Request<Body>| async {
        Ok::<_, std::convert::Infallible>(http::Response::new(Body::from("ok")))
    });
    match layer {
        None => ClientStack::new(upstream),
        Some(layer) => ClientStack::new(
            tower::Layer::layer(&layer.client(), upstream).map_response(|r| r.map(Body::new)),
        ),
    }
}

/// The request every client stack sends.
fn client_request() -> http::Request<Body> {
    http::Request::post("http://127.0.0.1:3000/summarize")
        .header("content-type", "application/json")
        .body(Body::from(BODY))
        .unwrap()
}

impl App {
    /// Sends one request and reads the whole response body.
    pub async fn call(&self, req: http::Request<Body>) -> (http::StatusCode, bytes::Bytes) {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        match self {
            App::Routed(app) => {
                let resp = app.clone().oneshot(req).await.unwrap();
                let status = resp.status();
                (status, resp.into_body().collect().await.unwrap().to_bytes())
            }
            App::Around(app) => {
                let resp = app.clone().oneshot(req).await.unwrap();
                let status = resp.status();
                (status, resp.into_body().collect().await.unwrap().to_bytes())
            }
            App::Client(client) => {
                drop(req);
                let resp = client.clone().oneshot(client_request()).await.unwrap();
                let status = resp.status();
                (status, resp.into_body().collect().await.unwrap().to_bytes())
            }
        }
    }
}

/// One stack: the router to call, the `tracing` dispatcher it needs (if any), and the
/// providers that must outlive it.
pub struct Stack {
    pub name: &'static str,
    pub app: App,
    pub dispatch: Option<tracing::Dispatch>,
    providers: Vec<SdkTracerProvider>,
    /// The peers' metrics go through the SDK's aggregation into a reader
    /// nobody collects from: what a request costs them, not an export.
    meters: Vec<opentelemetry_sdk::metrics::SdkMeterProvider>,
    layers: Vec<TracingLayer>,
    /// fastrace's global collector reports to [`CountingReporter`].
    fastrace: bool,
    /// [`RECORDED`] when the stack was built.
    recorded_before: u64,
}

impl Stack {
    /// Exports everything the stack has recorded so far.
    pub fn flush(&self) {
        for layer in &self.layers {
            let _ = layer.pipeline().force_flush();
        }
        for provider in &self.providers {
            let _ = provider.force_flush();
        }
        if self.fastrace {
            fastrace::flush();
        }
    }

    /// Spans recorded and handed to the stack's no-op exporter (or fastrace's
    /// reporter) since the stack was built; call [`Stack::flush`] first.
    pub fn recorded(&self) -> u64 {
        RECORDED.load(Ordering::Relaxed) - self.recorded_before
    }

    /// Flushes, then checks that `requests` requests left exactly the spans the
    /// stack records ([`spans_per_request`]): none lost, none made up.
    ///
    /// # Panics
    /// When the count differs.
    pub fn check(&self, requests: u64) {
        self.flush();
        let want = spans_per_request(self.name) * requests;
        let got = self.recorded();
        assert_eq!(
            got, want,
            "{}: {got} spans recorded for {requests} requests, expected {want}",
            self.name
        );
    }

    /// Flushes and shuts down whatever the stack records to.
    pub fn shutdown(self) {
        for layer in &self.layers {
            let _ = layer.pipeline().force_flush();
        }
        for provider in &self.providers {
            let _ = provider.shutdown();
        }
        if self.fastrace {
            fastrace::flush();
        }
    }
}

/// The request, built the same way for every stack, and the way hyper builds a
/// parsed one: the target and header values are slices of one shared read
/// buffer, so cloning them costs a reference count, as it does in a server.
pub fn request() -> http::Request<Body> {
    const HEAD: &[u8] = b"/summarize127.0.0.1:3000application/jsonbench/1.0";
    let mut buf = bytes::BytesMut::from(HEAD);
    let mut take = |n: usize| buf.split_to(n).freeze();
    let target = take(10);
    let (host, content_type, user_agent) = (take(14), take(16), take(9));
    let value = |b| http::HeaderValue::from_maybe_shared(b).unwrap();
    let mut req = http::Request::new(Body::from(BODY));
    *req.method_mut() = http::Method::POST;
    *req.uri_mut() = http::Uri::from_maybe_shared(target).unwrap();
    let headers = req.headers_mut();
    headers.insert(http::header::HOST, value(host));
    headers.insert(http::header::CONTENT_TYPE, value(content_type));
    headers.insert(http::header::USER_AGENT, value(user_agent));
    req
}

/// The handler every stack wraps.
pub fn router() -> Router {
    Router::new().route(
        "/summarize",
        post(|body: String| async move { body[..body.len().min(20)].to_owned() }),
    )
}

/// How the stacks that record spans are set up.
#[derive(Debug, Clone)]
pub struct Options {
    /// This crate's layer exports Zipkin JSON to this URL instead of dropping spans.
    pub zipkin: Option<String>,
    /// The same with OTLP protobuf over HTTP (when `zipkin` is not set).
    pub otlp: Option<String>,
    /// The batch processor's queue. Large by default so that a slow profiler never
    /// makes a stack cheaper by dropping spans; the memory check uses the SDK's
    /// default, since the queue's slots are allocated up front.
    pub queue: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            zipkin: None,
            otlp: None,
            queue: 1_000_000,
        }
    }
}

fn provider(sampled: bool, queue: usize) -> SdkTracerProvider {
    let batch = BatchSpanProcessor::builder(NoopExporter)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(queue)
                .with_max_export_batch_size(512)
                .with_scheduled_delay(std::time::Duration::from_millis(5000))
                .build(),
        )
        .build();
    let ratio = if sampled { 1.0 } else { 0.0 };
    SdkTracerProvider::builder()
        .with_span_processor(batch)
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            ratio,
        ))))
        .with_resource(Resource::builder().with_service_name("summarize").build())
        .build()
}

fn ours(rate: f64, children: bool, excluded: bool, options: &Options) -> TracingLayer {
    ours_with(rate, children, excluded, None, options)
}

fn ours_with(
    rate: f64,
    children: bool,
    excluded: bool,
    semconv: Option<tower_otel_tracing::config::Semconv>,
    options: &Options,
) -> TracingLayer {
    ours_cfg(rate, children, excluded, options, |cfg| {
        cfg.semconv = semconv
    })
}

fn ours_cfg(
    rate: f64,
    children: bool,
    excluded: bool,
    options: &Options,
    edit: impl FnOnce(&mut TracingConfig),
) -> TracingLayer {
    let mut cfg = TracingConfig {
        sample_rate: Some(rate),
        service_name: Some("summarize".into()),
        ..Default::default()
    };
    edit(&mut cfg);
    if excluded {
        cfg.excluded_urls =
            Some(tower_otel_tracing::config::ExcludedUrls::new(["summarize"]).unwrap());
    }
    use tower_otel_tracing::config::ExporterType;
    let builder = match (&options.zipkin, &options.otlp) {
        (Some(url), _) => {
            cfg.exporter_type = Some(ExporterType::Zipkin);
            cfg.zipkin.endpoint = Some(url.to_owned());
            TracingLayer::builder(cfg)
        }
        (None, Some(url)) => {
            cfg.exporter_type = Some(ExporterType::Otlp);
            cfg.otlp.endpoint = Some(url.to_owned());
            TracingLayer::builder(cfg)
        }
        (None, None) => TracingLayer::builder(cfg).exporter(NoopExporter),
    };
    builder
        .install_global(false)
        .local_addr("127.0.0.1:3000".parse().unwrap())
        .env_vars([("OTEL_BSP_MAX_QUEUE_SIZE", options.queue.to_string())])
        .send_spans(children)
        .receive_spans(children)
        .build()
        .unwrap()
}

/// The three child spans of `fastrace_tree_sampled`, to match our full tree (server,
/// `http receive`, `http send` for the response start and for the body) with the
/// same names and `asgi.event.type` values. fastrace-axum makes only the server
/// span; these are the cheapest child spans fastrace has (`LocalSpan`s under the
/// server span, which fastrace-axum sets as the local parent while the response
/// future is polled), started and ended at once, as ours are.
fn fastrace_children(resp: axum::response::Response) -> axum::response::Response {
    use fastrace::local::LocalSpan;
    use std::borrow::Cow;
    drop(
        LocalSpan::enter_with_local_parent("http receive")
            .with_property(|| ("asgi.event.type", "http.request")),
    );
    drop(
        LocalSpan::enter_with_local_parent("http send").with_properties(|| {
            [
                ("asgi.event.type", Cow::Borrowed("http.response.start")),
                (
                    "http.status_code",
                    Cow::Owned(resp.status().as_u16().to_string()),
                ),
            ]
        }),
    );
    drop(
        LocalSpan::enter_with_local_parent("http send")
            .with_property(|| ("asgi.event.type", "http.response.body")),
    );
    resp
}

/// A meter provider whose reader is never collected: the SDK aggregates each
/// measurement as it would for an exporter.
fn meter_provider() -> opentelemetry_sdk::metrics::SdkMeterProvider {
    opentelemetry_sdk::metrics::SdkMeterProvider::builder()
        .with_reader(opentelemetry_sdk::metrics::ManualReader::builder().build())
        .build()
}

fn tracing_dispatch(provider: &SdkTracerProvider) -> tracing::Dispatch {
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("peers"));
    tracing::Dispatch::new(tracing_subscriber::registry().with(layer))
}

/// Builds one stack by name (see [`STACKS`]).
///
/// # Panics
/// On an unknown name.
pub fn build(name: &str) -> Stack {
    build_with(name, &Options::default())
}

/// Like [`build`], with [`Options`].
pub fn build_with(name: &str, options: &Options) -> Stack {
    // The peers read the global propagator; ours carries its own.
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let name: &'static str = STACKS
        .iter()
        .copied()
        .find(|s| *s == name)
        .unwrap_or_else(|| panic!("unknown stack {name}; one of {STACKS:?}"));
    let sampled = name.ends_with("_sampled");
    let mut stack = Stack {
        name,
        app: App::Routed(router()),
        dispatch: None,
        providers: Vec::new(),
        meters: Vec::new(),
        layers: Vec::new(),
        fastrace: false,
        recorded_before: RECORDED.load(Ordering::Relaxed),
    };
    let app = router();
    stack.app = App::Routed(match name {
        "bare" => app,
        "noop_layer" => app.layer(tower::layer::util::Identity::new()),
        "ours_rate0" | "ours_rate1" | "ours_rate1_server_only" | "ours_excluded" => {
            let layer = ours(
                if name == "ours_rate0" { 0.0 } else { 1.0 },
                name != "ours_rate1_server_only",
                name == "ours_excluded",
                options,
            );
            stack.layers.push(layer.clone());
            app.layer(layer)
        }
        _ if name.starts_with("tower_http") => {
            let provider = provider(sampled, options.queue);
            stack.dispatch = Some(tracing_dispatch(&provider));
            stack.providers.push(provider);
            app.layer(tower_http::trace::TraceLayer::new_for_http())
        }
        _ if name.starts_with("axum_tracing_otel") => {
            let provider = provider(sampled, options.queue);
            stack.dispatch = Some(tracing_dispatch(&provider));
            stack.providers.push(provider);
            app.layer(axum_tracing_opentelemetry::middleware::OtelAxumLayer::default())
        }
        "tower_otel_metrics" => {
            let meters = meter_provider();
            let meter = opentelemetry::metrics::MeterProvider::meter(&meters, "peers");
            stack.meters.push(meters);
            app.layer(tower_otel::metrics::HttpLayer::server(&meter))
        }
        "otel_instrumentation_tower_metrics" => {
            // This layer takes its meter from the global provider when it is built.
            let meters = meter_provider();
            opentelemetry::global::set_meter_provider(meters.clone());
            let layer = opentelemetry_instrumentation_tower::http::server::LayerBuilder::builder()
                .with_tracing(false)
                .with_metrics(true)
                .build()
                .unwrap();
            stack.meters.push(meters);
            app.layer(layer)
        }
        _ if name.starts_with("tower_otel") => {
            let provider = provider(sampled, options.queue);
            stack.dispatch = Some(tracing_dispatch(&provider));
            stack.providers.push(provider);
            app.layer(tower_otel::trace::HttpLayer::server(tracing::Level::INFO))
        }
        _ if name.starts_with("otel_instrumentation_tower") => {
            // This layer takes its tracer from the global provider when it is built.
            let provider = provider(sampled, options.queue);
            opentelemetry::global::set_tracer_provider(provider.clone());
            let layer = opentelemetry_instrumentation_tower::http::server::LayerBuilder::builder()
                .with_metrics(false)
                .build()
                .unwrap();
            stack.providers.push(provider);
            app.layer(layer)
        }
        "ours_rate1_stable" | "ours_rate1_dup" => {
            use tower_otel_tracing::config::Semconv;
            let mode = if name.ends_with("dup") {
                Semconv::Dup
            } else {
                Semconv::Stable
            };
            let layer = ours_with(1.0, true, false, Some(mode), options);
            stack.layers.push(layer.clone());
            app.layer(layer)
        }
        "ours_rate0_metrics" | "ours_rate1_metrics" => {
            let layer = ours(
                if name == "ours_rate0_metrics" {
                    0.0
                } else {
                    1.0
                },
                true,
                false,
                options,
            );
            // Made (and dropped): requests are measured from here on.
            drop(layer.metrics());
            stack.layers.push(layer.clone());
            app.layer(layer)
        }
        "ours_rate0_keep" | "ours_rate0_keep_full" => {
            let full = name.ends_with("full");
            let layer = ours_cfg(0.0, true, false, options, |cfg| {
                cfg.keep_errors = Some(true);
                if full {
                    cfg.keep_detail = Some(tower_otel_tracing::config::KeepDetail::Full);
                }
            });
            stack.layers.push(layer.clone());
            app.layer(layer)
        }
        _ if name.starts_with("fastrace") => {
            // One global collector per process, reporting every second (the default).
            fastrace::set_reporter(CountingReporter, fastrace::collector::Config::default());
            stack.fastrace = true;
            let layer = if sampled {
                fastrace_axum::FastraceLayer::default()
            } else {
                // The default extractor (a `traceparent` or else a random context),
                // not sampled: the trace id still reaches handlers and outgoing
                // calls, as our rate 0 does.
                fastrace_axum::FastraceLayer::default().with_span_context_extractor(|req| {
                    let parent = req
                        .headers()
                        .get(fastrace_axum::TRACEPARENT_HEADER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(fastrace::prelude::SpanContext::decode_w3c_traceparent);
                    Some(
                        parent
                            .unwrap_or_else(fastrace::prelude::SpanContext::random)
                            .sampled(false),
                    )
                })
            };
            if name == "fastrace_tree_sampled" {
                // One `Router::layer` (one axum box) for both, as for every other stack.
                app.layer(
                    tower::ServiceBuilder::new()
                        .layer(layer)
                        .map_response(fastrace_children),
                )
            } else {
                app.layer(layer)
            }
        }
        "client_bare" => {
            stack.app = App::Client(client_stack(None));
            return stack;
        }
        "client_unsampled" | "client_sampled" => {
            let layer = ours(
                if name == "client_sampled" { 1.0 } else { 0.0 },
                true,
                false,
                options,
            );
            stack.app = App::Client(client_stack(Some(&layer)));
            stack.layers.push(layer);
            return stack;
        }
        _ if name.starts_with("around_") => {
            let layer = ours(
                if name.contains("rate0") { 0.0 } else { 1.0 },
                true,
                false,
                options,
            );
            stack.layers.push(layer.clone());
            stack.app = App::Around(tower::Layer::layer(&layer, app));
            return stack;
        }
        _ => unreachable!(),
    });
    stack
}

/// The layer the export-side binaries (`export_loop`, `export_heap`) drive: rate
/// 1.0, exporting with `exporter` (`zipkin`, `otlp`, `jaeger_agent` or
/// `jaeger_collector`) to a loopback sink on `port`, with these batch settings
/// (`OTEL_BSP_MAX_QUEUE_SIZE`, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`,
/// `OTEL_BSP_SCHEDULE_DELAY` in ms).
pub fn export_layer(exporter: &str, port: u16, batch: [(&str, &str); 3]) -> TracingLayer {
    use tower_otel_tracing::config::ExporterType;
    let mut cfg = TracingConfig {
        sample_rate: Some(1.0),
        service_name: Some("summarize".into()),
        ..Default::default()
    };
    let http = |path: &str| Some(format!("http://127.0.0.1:{port}{path}"));
    match exporter {
        "zipkin" => {
            cfg.exporter_type = Some(ExporterType::Zipkin);
            cfg.zipkin.endpoint = http("/api/v2/spans");
        }
        "otlp" => {
            cfg.exporter_type = Some(ExporterType::Otlp);
            cfg.otlp.endpoint = http("/v1/traces");
        }
        "jaeger_agent" => {
            cfg.exporter_type = Some(ExporterType::Jaeger);
            cfg.jaeger.thrift.agent_host_name = Some("127.0.0.1".into());
            cfg.jaeger.thrift.agent_port = Some(port);
            // 512 spans are far more than one 65,000-byte datagram.
            cfg.jaeger.thrift.udp_split_oversized_batches = Some(true);
        }
        "jaeger_collector" => {
            cfg.exporter_type = Some(ExporterType::Jaeger);
            cfg.jaeger.collector_endpoint = http("/api/traces");
        }
        _ => panic!("unknown exporter {exporter}: zipkin, otlp, jaeger_agent or jaeger_collector"),
    }
    TracingLayer::builder(cfg)
        .install_global(false)
        .local_addr("127.0.0.1:3000".parse().unwrap())
        .env_vars(batch)
        .build()
        .unwrap()
}

/// Sends `requests` requests through `app` one after another, each carrying the
/// connection's addresses a server hands the layer (so the server span has the
/// peer and host attributes it has in production), and reads each response
/// whole. What the export-side binaries drive their layer with.
pub async fn drive(app: &Router, requests: u64) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let conn = tower_otel_tracing::ConnectionInfo {
        local_addr: "10.0.0.2:3000".parse().unwrap(),
        peer_addr: "10.0.0.9:59482".parse().unwrap(),
    };
    for _ in 0..requests {
        let mut req = request();
        req.extensions_mut().insert(conn);
        let resp = app.clone().oneshot(req).await.unwrap();
        assert!(resp.status().is_success());
        std::hint::black_box(resp.into_body().collect().await.unwrap().to_bytes());
    }
}
