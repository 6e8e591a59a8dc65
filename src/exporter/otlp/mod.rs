//! OTLP: `ExportTraceServiceRequest` protobuf over HTTP (feature `otlp`) or gRPC
//! (feature `otlp-grpc`), encoded, compressed and retried by opentelemetry-otlp.

#[cfg(feature = "otlp-grpc")]
mod grpc;
mod http_client;

use std::collections::HashMap;
use std::fmt;

use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use crate::config::{Compression, OtlpProtocol, TracingConfig, DEFAULT_OTLP_ENDPOINT};
use crate::error::ConfigError;
use crate::http_transport::HttpTransport;
use http_client::TransportClient;

/// Sends spans to an OpenTelemetry Collector (or any OTLP receiver).
///
/// Over HTTP (default): `POST {otlp.endpoint}` with `Content-Type:
/// application/x-protobuf`, `otlp.http.headers`, optional gzip, verified against
/// `otlp.http.certificate_file` for https, within `timeout`. Transient failures
/// (429, 502, 503, 504, connection errors) are retried with backoff inside the
/// timeout; other 4xx are not. Over gRPC (`otlp.protocol: grpc`, feature
/// `otlp-grpc`) the exporter runs its own small runtime, so it works from the
/// batch processor's thread.
///
/// ```
/// use tower_otel_tracing::{OtlpExporter, TracingConfig};
///
/// let mut cfg = TracingConfig::default();
/// cfg.otlp.endpoint = Some("http://collector:4318/v1/traces".into());
/// let exporter = OtlpExporter::from_config(&cfg).unwrap();
/// assert_eq!(exporter.endpoint(), "http://collector:4318/v1/traces");
/// ```
pub struct OtlpExporter {
    endpoint: String,
    inner: Inner,
}

enum Inner {
    Http {
        exporter: Box<opentelemetry_otlp::SpanExporter>,
        client: TransportClient,
    },
    #[cfg(feature = "otlp-grpc")]
    Grpc(grpc::GrpcExporter),
}

fn build_error(field: &str, e: impl fmt::Display) -> ConfigError {
    ConfigError::new(field, format!("cannot build the OTLP exporter: {e}"))
}

impl OtlpExporter {
    /// The exporter the config's `otlp` section and `timeout` describe.
    pub fn from_config(cfg: &TracingConfig) -> Result<Self, ConfigError> {
        let endpoint = cfg
            .otlp
            .endpoint
            .clone()
            .unwrap_or_else(|| DEFAULT_OTLP_ENDPOINT.to_owned());
        let timeout = cfg.effective_timeout();
        let inner = match cfg.otlp.protocol.unwrap_or(OtlpProtocol::Http) {
            OtlpProtocol::Http => {
                let ca = cfg
                    .otlp
                    .http
                    .certificate_file
                    .as_deref()
                    .map(|p| ("tracing.otlp.http.certificate_file", p));
                let client = TransportClient::new(HttpTransport::new(&endpoint, timeout, ca)?);
                let headers: HashMap<String, String> = cfg
                    .otlp
                    .http
                    .headers
                    .clone()
                    .unwrap_or_default()
                    .into_iter()
                    .collect();
                let mut builder = opentelemetry_otlp::SpanExporter::builder()
                    .with_http()
                    .with_http_client(client.clone())
                    .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                    .with_endpoint(endpoint.clone())
                    .with_timeout(timeout)
                    .with_headers(headers);
                if cfg.otlp.compression == Some(Compression::Gzip) {
                    builder = builder.with_compression(opentelemetry_otlp::Compression::Gzip);
                }
                let exporter = builder
                    .build()
                    .map_err(|e| build_error("tracing.otlp", e))?;
                Inner::Http {
                    exporter: Box::new(exporter),
                    client,
                }
            }
            #[cfg(feature = "otlp-grpc")]
            OtlpProtocol::Grpc => Inner::Grpc(grpc::GrpcExporter::from_config(cfg, &endpoint)?),
            #[cfg(not(feature = "otlp-grpc"))]
            OtlpProtocol::Grpc => {
                return Err(ConfigError::new(
                    "tracing.otlp.protocol",
                    "`grpc` needs the `otlp-grpc` cargo feature",
                ))
            }
        };
        Ok(OtlpExporter { endpoint, inner })
    }

    /// Where spans are sent.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn failed(&self, n: usize, e: impl fmt::Display, cause: Option<String>) -> OTelSdkError {
        let msg = match cause {
            Some(cause) => format!(
                "otlp export of {n} spans to {} failed: {e} ({cause})",
                self.endpoint
            ),
            None => format!("otlp export of {n} spans to {} failed: {e}", self.endpoint),
        };
        OTelSdkError::InternalFailure(msg)
    }
}

impl fmt::Debug for OtlpExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpExporter")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl SpanExporter for OtlpExporter {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let n = batch.len();
        async move {
            match &self.inner {
                Inner::Http { exporter, client } => {
                    client.take_last_error();
                    exporter
                        .export(batch)
                        .await
                        .map_err(|e| self.failed(n, e, client.take_last_error()))
                }
                #[cfg(feature = "otlp-grpc")]
                Inner::Grpc(grpc) => grpc.export(batch).map_err(|e| self.failed(n, e, None)),
            }
        }
    }

    fn shutdown_with_timeout(&self, timeout: std::time::Duration) -> OTelSdkResult {
        match &self.inner {
            Inner::Http { exporter, .. } => exporter.shutdown_with_timeout(timeout),
            #[cfg(feature = "otlp-grpc")]
            Inner::Grpc(grpc) => grpc.shutdown(),
        }
    }

    fn set_resource(&mut self, resource: &Resource) {
        match &mut self.inner {
            Inner::Http { exporter, .. } => exporter.set_resource(resource),
            #[cfg(feature = "otlp-grpc")]
            Inner::Grpc(grpc) => grpc.set_resource(resource),
        }
    }
}
