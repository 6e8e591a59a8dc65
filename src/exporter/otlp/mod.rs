//! OTLP: `ExportTraceServiceRequest` protobuf over HTTP (feature `otlp`, our own
//! encoder and transport) or gRPC (feature `otlp-grpc`, opentelemetry-otlp's tonic
//! exporter on its own runtime).

mod encode;
#[cfg(feature = "otlp-grpc")]
mod grpc;
mod http;

use std::fmt;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use crate::config::{Compression, OtlpProtocol, TracingConfig, DEFAULT_OTLP_ENDPOINT};
use crate::error::ConfigError;
use crate::http_transport::HttpTransport;

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
    encoder: encode::Encoder,
    inner: Inner,
}

enum Inner {
    Http(http::HttpExporter),
    #[cfg(feature = "otlp-grpc")]
    Grpc(grpc::GrpcExporter),
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
                let headers = cfg.otlp.http.headers.clone().unwrap_or_default();
                let transport = HttpTransport::new(&endpoint, timeout, ca)?
                    .with_headers("tracing.otlp.http.headers", &headers)?;
                let gzip = cfg.otlp.compression == Some(Compression::Gzip);
                Inner::Http(http::HttpExporter::new(transport, gzip, timeout))
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
        Ok(OtlpExporter {
            endpoint,
            encoder: encode::Encoder::default(),
            inner,
        })
    }

    /// Where spans are sent.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The `ExportTraceServiceRequest` protobuf an HTTP export of `batch` sends
    /// (before gzip), under the resource last given to `set_resource`.
    ///
    /// ```
    /// use opentelemetry_sdk::trace::SpanExporter;
    /// use tower_otel_tracing::{OtlpExporter, TracingConfig};
    ///
    /// let mut exporter = OtlpExporter::from_config(&TracingConfig::default()).unwrap();
    /// exporter.set_resource(&opentelemetry_sdk::Resource::builder().build());
    /// let bytes = exporter.encode(&[]);
    /// assert!(!bytes.is_empty()); // the resource, with no spans
    /// ```
    pub fn encode(&self, batch: &[SpanData]) -> Vec<u8> {
        self.encoder.encode(batch)
    }

    fn failed(&self, n: usize, e: impl fmt::Display) -> OTelSdkError {
        OTelSdkError::InternalFailure(format!(
            "otlp export of {n} spans to {} failed: {e}",
            crate::redact::url_credentials(&self.endpoint)
        ))
    }
}

impl fmt::Debug for OtlpExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpExporter")
            .field("endpoint", &crate::redact::url_credentials(&self.endpoint))
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
                Inner::Http(http) => http
                    .send(self.encoder.encode(&batch))
                    .map_err(|e| self.failed(n, e)),
                #[cfg(feature = "otlp-grpc")]
                Inner::Grpc(grpc) => grpc.export(batch).map_err(|e| self.failed(n, e)),
            }
        }
    }

    // HTTP keeps no connection or worker to wind down; gRPC stops its runtime.
    fn shutdown_with_timeout(&self, _timeout: std::time::Duration) -> OTelSdkResult {
        match &self.inner {
            Inner::Http(_) => Ok(()),
            #[cfg(feature = "otlp-grpc")]
            Inner::Grpc(grpc) => grpc.shutdown(),
        }
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.encoder.set_resource(resource);
        match &mut self.inner {
            Inner::Http(_) => {}
            #[cfg(feature = "otlp-grpc")]
            Inner::Grpc(grpc) => grpc.set_resource(resource),
        }
    }
}
