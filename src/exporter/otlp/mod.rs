//! OTLP: `ExportTraceServiceRequest` protobuf over HTTP (feature `otlp`, our own
//! encoder and transport) or gRPC (feature `otlp-grpc`, opentelemetry-otlp's tonic
//! exporter on its own runtime).

mod encode;
#[cfg(feature = "otlp-grpc")]
pub(crate) mod grpc;
pub(crate) mod http;

use std::fmt;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use crate::config::redact::url_credentials;
use crate::config::{ConfigError, OtlpProtocol, TracingConfig};
use crate::exporter::Export;
use crate::record::{batch_views, FinishedSpans};
use crate::settings::{OtlpSettings, Settings};

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
/// Delivery is at least once. When the collector processed a batch but its
/// answer was lost (the connection reset or cut short), the retry sends the
/// same spans again and the collector gets them more than once. The stats count
/// the batch once: `exported` if an attempt was answered with success, `failed`
/// otherwise.
///
/// ```
/// use tower_otel_tracing::exporter::OtlpExporter;
/// use tower_otel_tracing::settings::Settings;
/// use tower_otel_tracing::TracingConfig;
///
/// let mut cfg = TracingConfig::default();
/// cfg.otlp.endpoint = Some("http://collector:4318/v1/traces".into());
/// let exporter = OtlpExporter::new(&Settings::resolve(&cfg)?.otlp)?;
/// assert_eq!(exporter.endpoint(), "http://collector:4318/v1/traces");
/// # Ok::<(), tower_otel_tracing::ConfigError>(())
/// ```
pub struct OtlpExporter {
    endpoint: String,
    encoder: encode::Encoder,
    inner: Inner,
}

enum Inner {
    Http(http::HttpExporter),
    #[cfg(feature = "otlp-grpc")]
    Grpc(Box<grpc::GrpcExporter>),
}

impl OtlpExporter {
    /// The exporter a resolved `otlp` section describes.
    pub fn new(settings: &OtlpSettings) -> Result<Self, ConfigError> {
        let inner = match settings.protocol {
            OtlpProtocol::Http => Inner::Http(http::HttpExporter::from_settings(settings)?),
            #[cfg(feature = "otlp-grpc")]
            OtlpProtocol::Grpc => Inner::Grpc(Box::new(grpc::GrpcExporter::new(settings)?)),
            #[cfg(not(feature = "otlp-grpc"))]
            OtlpProtocol::Grpc => return Err(crate::settings::grpc_not_compiled_in()),
        };
        Ok(OtlpExporter {
            endpoint: settings.endpoint.clone(),
            encoder: encode::Encoder::default(),
            inner,
        })
    }

    /// The exporter `cfg` describes, without looking at the environment.
    ///
    /// ```
    /// use tower_otel_tracing::exporter::OtlpExporter;
    /// use tower_otel_tracing::TracingConfig;
    ///
    /// let mut cfg = TracingConfig::default();
    /// cfg.otlp.endpoint = Some("http://collector:4318/v1/traces".into());
    /// // Nothing is sent, nor any connection opened, until the first export.
    /// let exporter = OtlpExporter::from_config(&cfg)?;
    /// assert_eq!(exporter.endpoint(), "http://collector:4318/v1/traces");
    /// # Ok::<(), tower_otel_tracing::ConfigError>(())
    /// ```
    pub fn from_config(cfg: &TracingConfig) -> Result<Self, ConfigError> {
        Self::new(&Settings::resolve_with(cfg, Default::default())?.otlp)
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
    /// use tower_otel_tracing::exporter::OtlpExporter;
    /// use tower_otel_tracing::TracingConfig;
    ///
    /// let mut exporter = OtlpExporter::from_config(&TracingConfig::default()).unwrap();
    /// exporter.set_resource(&opentelemetry_sdk::Resource::builder().build());
    /// let bytes = exporter.encode(&[]);
    /// assert!(!bytes.is_empty()); // the resource, with no spans
    /// ```
    pub fn encode(&self, batch: &[SpanData]) -> Vec<u8> {
        self.encoder.encode(&batch_views(batch))
    }

    fn failed(&self, n: usize, e: impl fmt::Display) -> OTelSdkError {
        OTelSdkError::InternalFailure(format!(
            "otlp export of {n} spans to {} failed: {e}",
            url_credentials(&self.endpoint)
        ))
    }
}

impl fmt::Debug for OtlpExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpExporter")
            .field("endpoint", &url_credentials(&self.endpoint))
            .finish_non_exhaustive()
    }
}

impl SpanExporter for OtlpExporter {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let n = batch.len();
        let result = match &self.inner {
            Inner::Http(http) => http
                .send(self.encoder.encode(&batch_views(&batch)))
                .map_err(|e| self.failed(n, e)),
            #[cfg(feature = "otlp-grpc")]
            Inner::Grpc(grpc) => grpc.export(batch).map_err(|e| self.failed(n, e)),
        };
        std::future::ready(result)
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

impl Export for OtlpExporter {
    type Item = FinishedSpans;

    fn export(
        &self,
        batch: Vec<FinishedSpans>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let views = batch_views(&batch);
        let n = views.len();
        let result = match &self.inner {
            Inner::Http(http) => http
                .send(self.encoder.encode(&views))
                .map_err(|e| self.failed(n, e)),
            // opentelemetry-otlp's client takes only the SDK's spans.
            #[cfg(feature = "otlp-grpc")]
            Inner::Grpc(grpc) => grpc
                .export(views.iter().map(|v| v.to_span_data()).collect())
                .map_err(|e| self.failed(n, e)),
        };
        std::future::ready(result)
    }

    fn shutdown_with_timeout(&self, timeout: std::time::Duration) -> OTelSdkResult {
        SpanExporter::shutdown_with_timeout(self, timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        SpanExporter::set_resource(self, resource);
    }
}
