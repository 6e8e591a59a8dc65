//! Zipkin v2: a JSON `ListOfSpans` POSTed to the collector. `convert.rs` maps a
//! span to the model, `model.rs` writes the model with `json.rs`; this file is
//! the exporter (section settings in, bytes over the shared transport out).

mod convert;
mod json;
mod model;

use std::fmt;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use crate::config::redact::url_credentials;
use crate::config::{ConfigError, TracingConfig};
use crate::exporter::transport::HttpTransport;
use crate::exporter::Export;
use crate::record::SpanView;
use crate::record::{batch_views, FinishedSpans};
use crate::settings::{Settings, ZipkinSettings};
use convert::Encoder;
use model::Endpoint;

/// Sends spans to a Zipkin collector in the v2 JSON format
/// (`POST {zipkin.endpoint}`, `Content-Type: application/json`).
///
/// Every span's `localEndpoint` carries the resource's `service.name` and all of
/// `zipkin.local_node_ipv4`, `local_node_ipv6` and `local_node_port` that are set.
/// A non-2xx answer or a transport error fails the export with the status and the
/// endpoint; requests are never affected.
///
/// ```
/// use tower_otel_tracing::exporter::ZipkinExporter;
/// use tower_otel_tracing::settings::Settings;
/// use tower_otel_tracing::TracingConfig;
///
/// let mut cfg = TracingConfig::default();
/// cfg.zipkin.endpoint = Some("http://zipkin.internal:9411/api/v2/spans".into());
/// cfg.zipkin.local_node_port = Some(31313);
/// let settings = Settings::resolve(&cfg)?;
/// let exporter = ZipkinExporter::new(&settings.zipkin)?;
/// assert_eq!(exporter.endpoint(), "http://zipkin.internal:9411/api/v2/spans");
/// # Ok::<(), tower_otel_tracing::ConfigError>(())
/// ```
pub struct ZipkinExporter {
    transport: HttpTransport,
    encoder: Encoder,
}

impl ZipkinExporter {
    /// The exporter a resolved `zipkin` section describes.
    pub fn new(settings: &ZipkinSettings) -> Result<Self, ConfigError> {
        let transport = HttpTransport::new(&settings.endpoint, settings.timeout, None)?;
        Ok(ZipkinExporter {
            transport,
            encoder: Encoder::new(Endpoint {
                service_name: None,
                ipv4: settings.local_node_ipv4,
                ipv6: settings.local_node_ipv6,
                port: settings.local_node_port,
            }),
        })
    }

    /// The exporter `cfg` describes, without looking at the environment.
    ///
    /// ```
    /// use tower_otel_tracing::exporter::ZipkinExporter;
    /// use tower_otel_tracing::TracingConfig;
    ///
    /// let mut cfg = TracingConfig::default();
    /// cfg.zipkin.endpoint = Some("http://zipkin:9411/api/v2/spans".into());
    /// // Nothing is sent, nor any connection opened, until the first export.
    /// let exporter = ZipkinExporter::from_config(&cfg)?;
    /// assert_eq!(exporter.endpoint(), "http://zipkin:9411/api/v2/spans");
    /// # Ok::<(), tower_otel_tracing::ConfigError>(())
    /// ```
    pub fn from_config(cfg: &TracingConfig) -> Result<Self, ConfigError> {
        Self::new(&Settings::resolve_with(cfg, Default::default())?.zipkin)
    }

    /// The collector URL spans are posted to.
    pub fn endpoint(&self) -> &str {
        self.transport.endpoint()
    }

    /// The JSON body `export` posts for `batch`.
    ///
    /// ```
    /// use opentelemetry::trace::{Tracer, TracerProvider};
    /// use opentelemetry_sdk::trace::SdkTracerProvider;
    /// use tower_otel_tracing::exporter::{InMemoryExporter, ZipkinExporter};
    /// use tower_otel_tracing::TracingConfig;
    ///
    /// let spans = InMemoryExporter::default();
    /// let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
    /// provider.tracer("checkout").in_span("charge card", |_cx| {});
    /// let exporter = ZipkinExporter::from_config(&TracingConfig::default())?;
    /// let body = exporter.encode(&spans.finished_spans());
    /// let json: serde_json::Value = serde_json::from_slice(&body)?;
    /// assert_eq!(json[0]["name"], "charge card");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn encode(&self, batch: &[SpanData]) -> Vec<u8> {
        self.encoder.encode(&batch_views(batch))
    }

    fn post(&self, batch: &[SpanView<'_>]) -> OTelSdkResult {
        let body = self.encoder.encode(batch);
        self.transport.post("application/json", &body).map_err(|e| {
            let msg = format!(
                "zipkin export of {} spans to {} failed: {e}",
                batch.len(),
                url_credentials(self.endpoint())
            );
            OTelSdkError::InternalFailure(msg)
        })
    }
}

impl fmt::Debug for ZipkinExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZipkinExporter")
            .field("endpoint", &url_credentials(self.endpoint()))
            .field("local_endpoint", &self.encoder.local)
            .finish_non_exhaustive()
    }
}

impl SpanExporter for ZipkinExporter {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        std::future::ready(self.post(&batch_views(&batch)))
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.encoder.set_resource(resource);
    }
}

impl Export for ZipkinExporter {
    type Item = FinishedSpans;

    fn export(
        &self,
        batch: Vec<FinishedSpans>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        std::future::ready(self.post(&batch_views(&batch)))
    }

    fn set_resource(&mut self, resource: &Resource) {
        SpanExporter::set_resource(self, resource);
    }
}
