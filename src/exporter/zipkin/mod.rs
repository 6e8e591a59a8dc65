//! Zipkin v2: a JSON `ListOfSpans` POSTed to the collector.

mod convert;
mod json;
mod model;

use std::fmt;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use crate::config::{TracingConfig, DEFAULT_ZIPKIN_ENDPOINT};
use crate::error::ConfigError;
use crate::http_transport::HttpTransport;
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
/// use tower_otel_tracing::{TracingConfig, ZipkinExporter};
///
/// let mut cfg = TracingConfig::default();
/// cfg.zipkin.endpoint = Some("http://zipkin.internal:9411/api/v2/spans".into());
/// cfg.zipkin.local_node_port = Some(31313);
/// let exporter = ZipkinExporter::from_config(&cfg).unwrap();
/// assert_eq!(exporter.endpoint(), "http://zipkin.internal:9411/api/v2/spans");
/// ```
pub struct ZipkinExporter {
    transport: HttpTransport,
    encoder: Encoder,
}

impl ZipkinExporter {
    /// The exporter the config's `zipkin` section and `timeout` describe.
    pub fn from_config(cfg: &TracingConfig) -> Result<Self, ConfigError> {
        let endpoint = cfg
            .zipkin
            .endpoint
            .as_deref()
            .unwrap_or(DEFAULT_ZIPKIN_ENDPOINT);
        let transport = HttpTransport::new(endpoint, cfg.effective_timeout(), None)?;
        Ok(ZipkinExporter {
            transport,
            encoder: Encoder::new(Endpoint {
                service_name: cfg.service_name.clone(),
                ipv4: cfg.zipkin.local_node_ipv4,
                ipv6: cfg.zipkin.local_node_ipv6,
                port: cfg.zipkin.local_node_port,
            }),
        })
    }

    /// The collector URL spans are posted to.
    pub fn endpoint(&self) -> &str {
        self.transport.endpoint()
    }

    /// The JSON body `export` posts for `batch`.
    pub fn encode(&self, batch: &[SpanData]) -> Vec<u8> {
        self.encoder.encode(batch)
    }
}

impl fmt::Debug for ZipkinExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZipkinExporter")
            .field("endpoint", &crate::redact::url_credentials(self.endpoint()))
            .field("local_endpoint", &self.encoder.local)
            .finish_non_exhaustive()
    }
}

impl SpanExporter for ZipkinExporter {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let body = self.encoder.encode(&batch);
        let result = self.transport.post("application/json", &body).map_err(|e| {
            let msg = format!(
                "zipkin export of {} spans to {} failed: {e}",
                batch.len(),
                crate::redact::url_credentials(self.endpoint())
            );
            OTelSdkError::InternalFailure(msg)
        });
        std::future::ready(result)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.encoder.set_resource(resource);
    }
}
