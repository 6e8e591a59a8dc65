//! Jaeger Thrift: compact `emitBatch` datagrams to the agent, or binary `Batch`
//! bodies POSTed to the collector.

mod agent;
mod convert;
mod model;
mod protocol;

use std::fmt;
use std::sync::Mutex;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use crate::config::redact::url_credentials;
use crate::config::{ConfigError, TracingConfig};
use crate::exporter::body_size::BodySize;
use crate::exporter::transport::HttpTransport;
use crate::exporter::Export;
use crate::record::SpanView;
use crate::record::{batch_views, FinishedSpans};
use crate::settings::{JaegerSettings, Settings};
use agent::AgentClient;
pub(crate) use agent::MAX_PACKET_SIZE;
use convert::{Converter, Lists, ScopeTags};
use model::{write_batch, Process, Span};
use protocol::Binary;

/// Sends spans to Jaeger in its Thrift model.
///
/// Without `jaeger.collector_endpoint`, each batch goes to the agent
/// (`jaeger.thrift.agent_host_name:agent_port`, default `localhost:6831`) as one
/// `Agent.emitBatch` compact-Thrift datagram of at most 65000 bytes; a larger batch
/// is split when `udp_split_oversized_batches` is on, and otherwise dropped with a
/// warning giving its size. With a collector endpoint, batches are POSTed there in
/// the binary protocol (`Content-Type: application/x-thrift`), never to the agent.
///
/// ```
/// use tower_otel_tracing::exporter::JaegerExporter;
/// use tower_otel_tracing::settings::Settings;
/// use tower_otel_tracing::TracingConfig;
///
/// let mut cfg = TracingConfig::default();
/// cfg.jaeger.thrift.udp_split_oversized_batches = Some(true);
/// let exporter = JaegerExporter::new(&Settings::resolve(&cfg)?.jaeger)?;
/// assert_eq!(exporter.destination(), "udp://localhost:6831");
/// # Ok::<(), tower_otel_tracing::ConfigError>(())
/// ```
pub struct JaegerExporter {
    transport: Transport,
    converter: Converter,
    process: Mutex<Process>,
    /// The collector's bodies (binary Thrift).
    body: BodySize,
}

enum Transport {
    Agent(AgentClient),
    Collector(HttpTransport),
}

impl JaegerExporter {
    /// The exporter a resolved `jaeger` section describes: the collector (with
    /// basic auth when a user and password are set) or the agent.
    pub fn new(settings: &JaegerSettings) -> Result<Self, ConfigError> {
        let transport = match &settings.collector_endpoint {
            Some(endpoint) => {
                let mut http = HttpTransport::new(endpoint, settings.timeout, None)?;
                if let (Some(user), Some(password)) = (&settings.user, &settings.password) {
                    http = http.with_basic_auth(user, password);
                }
                Transport::Collector(http)
            }
            None => Transport::Agent(AgentClient::new(
                &settings.agent_host_name,
                settings.agent_port,
                settings.udp_split_oversized_batches,
            )),
        };
        Ok(JaegerExporter {
            transport,
            converter: Converter,
            process: Mutex::new(Process::default()),
            body: BodySize::new(BINARY_SPAN_BYTES),
        })
    }

    /// The exporter `cfg` describes, without looking at the environment.
    ///
    /// ```
    /// use tower_otel_tracing::exporter::JaegerExporter;
    /// use tower_otel_tracing::TracingConfig;
    ///
    /// let mut cfg = TracingConfig::default();
    /// cfg.jaeger.collector_endpoint = Some("http://jaeger:14268/api/traces".into());
    /// // Nothing is sent, nor any connection opened, until the first export.
    /// let exporter = JaegerExporter::from_config(&cfg)?;
    /// assert_eq!(exporter.destination(), "http://jaeger:14268/api/traces");
    /// # Ok::<(), tower_otel_tracing::ConfigError>(())
    /// ```
    pub fn from_config(cfg: &TracingConfig) -> Result<Self, ConfigError> {
        Self::new(&Settings::resolve_with(cfg, Default::default())?.jaeger)
    }

    /// Where batches go: `udp://host:port` or the collector URL.
    pub fn destination(&self) -> String {
        match &self.transport {
            Transport::Agent(a) => format!("udp://{}", a.target()),
            Transport::Collector(c) => url_credentials(c.endpoint()).into_owned(),
        }
    }

    /// The compact `emitBatch` message the agent would receive for `batch` (unsplit).
    ///
    /// ```
    /// use opentelemetry::trace::{Tracer, TracerProvider};
    /// use opentelemetry_sdk::trace::SdkTracerProvider;
    /// use tower_otel_tracing::exporter::{InMemoryExporter, JaegerExporter};
    /// use tower_otel_tracing::TracingConfig;
    ///
    /// let spans = InMemoryExporter::default();
    /// let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// provider.tracer("checkout").in_span("charge card", |_cx| {});
    /// let exporter = JaegerExporter::from_config(&TracingConfig::default())?;
    /// let datagram = exporter.encode_compact(&spans.finished_spans());
    /// assert_eq!(datagram[0], 0x82); // the compact protocol's id
    /// assert!(datagram.windows(11).any(|w| w == b"charge card"));
    /// # Ok::<(), tower_otel_tracing::ConfigError>(())
    /// ```
    pub fn encode_compact(&self, batch: &[SpanData]) -> Vec<u8> {
        let process = self.process.lock().unwrap_or_else(|e| e.into_inner());
        let views = batch_views(batch);
        let scopes = ScopeTags::new(&views);
        let mut lists = Lists::default();
        let spans = self.converter.spans(&views, &scopes, &mut lists);
        AgentClient::new("localhost", 0, false).encode(&process, &spans)
    }

    /// The binary `Batch` the collector would receive for `batch`.
    ///
    /// ```
    /// use opentelemetry::trace::{Tracer, TracerProvider};
    /// use opentelemetry_sdk::trace::SdkTracerProvider;
    /// use tower_otel_tracing::exporter::{InMemoryExporter, JaegerExporter};
    /// use tower_otel_tracing::TracingConfig;
    ///
    /// let spans = InMemoryExporter::default();
    /// let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// provider.tracer("checkout").in_span("charge card", |_cx| {});
    /// let exporter = JaegerExporter::from_config(&TracingConfig::default())?;
    /// let body = exporter.encode_binary(&spans.finished_spans());
    /// // A struct whose field 1 is the process, as Jaeger's `Batch` begins.
    /// assert!(body.starts_with(&[0x0c, 0x00, 0x01]));
    /// assert!(body.windows(11).any(|w| w == b"charge card"));
    /// # Ok::<(), tower_otel_tracing::ConfigError>(())
    /// ```
    pub fn encode_binary(&self, batch: &[SpanData]) -> Vec<u8> {
        let process = self.process.lock().unwrap_or_else(|e| e.into_inner());
        let views = batch_views(batch);
        let scopes = ScopeTags::new(&views);
        let mut lists = Lists::default();
        encode_binary(
            &process,
            &self.converter.spans(&views, &scopes, &mut lists),
            &self.body,
        )
    }

    fn export_batch(&self, batch: &[SpanView<'_>]) -> OTelSdkResult {
        self.send(batch).map_err(|e| {
            let msg = format!("jaeger export of {} spans failed: {e}", batch.len());
            OTelSdkError::InternalFailure(msg)
        })
    }

    fn send(&self, batch: &[SpanView<'_>]) -> Result<(), String> {
        let process = self.process.lock().unwrap_or_else(|e| e.into_inner());
        let scopes = ScopeTags::new(batch);
        let mut lists = Lists::default();
        let spans = self.converter.spans(batch, &scopes, &mut lists);
        match &self.transport {
            Transport::Agent(agent) => {
                let emitted = agent.emit(&process, &spans)?;
                if emitted.dropped_spans > 0 {
                    return Err(format!(
                        "dropped {} of {} spans: batches of {:?} bytes exceed the {MAX_PACKET_SIZE}-byte \
                         UDP limit of Jaeger agent {} (set jaeger.thrift.udp_split_oversized_batches)",
                        emitted.dropped_spans,
                        spans.len(),
                        emitted.dropped_sizes,
                        agent.target()
                    ));
                }
                Ok(())
            }
            Transport::Collector(http) => http
                .post(
                    "application/x-thrift",
                    &encode_binary(&process, &spans, &self.body),
                )
                .map_err(|e| {
                    format!(
                        "to Jaeger collector {}: {e}",
                        url_credentials(http.endpoint())
                    )
                }),
        }
    }
}

/// A span's bytes in binary Thrift before the first body says (a server span
/// with its usual tags is ~900, a child ~350).
const BINARY_SPAN_BYTES: usize = 512;

fn encode_binary(process: &Process, spans: &[Span<'_>], size: &BodySize) -> Vec<u8> {
    let mut out = Binary::new(Vec::with_capacity(size.capacity(spans.len())));
    write_batch(&mut out, process, spans);
    let out = out.into_inner();
    size.learn(spans.len(), out.len());
    out
}

impl fmt::Debug for JaegerExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JaegerExporter")
            .field("destination", &self.destination())
            .finish_non_exhaustive()
    }
}

impl SpanExporter for JaegerExporter {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        std::future::ready(self.export_batch(&batch_views(&batch)))
    }

    fn set_resource(&mut self, resource: &Resource) {
        let process = self.converter.process(resource);
        *self.process.lock().unwrap_or_else(|e| e.into_inner()) = process;
    }
}

impl Export for JaegerExporter {
    type Item = FinishedSpans;

    fn export(
        &self,
        batch: Vec<FinishedSpans>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        std::future::ready(self.export_batch(&batch_views(&batch)))
    }

    fn set_resource(&mut self, resource: &Resource) {
        SpanExporter::set_resource(self, resource);
    }
}
