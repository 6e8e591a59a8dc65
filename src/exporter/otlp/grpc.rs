//! OTLP over gRPC. tonic needs a Tokio reactor, and the SDK's batch processor
//! exports from a bare OS thread where there is none (the trap that loses every
//! span): this exporter owns a one-worker runtime and runs each export on it.

use std::sync::{mpsc, Arc};
use std::time::Duration;

use opentelemetry_otlp::{WithExportConfig, WithTonicConfig};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use crate::config::{ConfigError, ConfigErrorKind};
use crate::settings::fields::otlp::{OTLP_ENDPOINT, OTLP_GRPC_HEADERS, OTLP_PROTOCOL};
use crate::settings::OtlpSettings;

pub(crate) struct GrpcExporter {
    runtime: Option<tokio::runtime::Runtime>,
    inner: Arc<opentelemetry_otlp::SpanExporter>,
    timeout: Duration,
}

impl GrpcExporter {
    pub(crate) fn new(settings: &OtlpSettings) -> Result<Self, ConfigError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("otlp-grpc-export")
            .enable_all()
            .build()
            .map_err(|e| {
                ConfigError::of_kind(
                    ConfigErrorKind::Unsupported,
                    OTLP_PROTOCOL.error_path(),
                    format!("cannot start the gRPC runtime: {e}"),
                )
            })?;
        let timeout = settings.timeout;
        let mut metadata = tonic::metadata::MetadataMap::new();
        for (name, value) in &settings.grpc_headers {
            // Validated header names and values are valid ASCII metadata.
            let field = || format!("{}.{name}", OTLP_GRPC_HEADERS.error_path());
            let key = tonic::metadata::MetadataKey::from_bytes(name.as_str().as_bytes())
                .map_err(|_| ConfigError::new(field(), "not a valid gRPC metadata name"))?;
            let value = tonic::metadata::MetadataValue::try_from(value.as_bytes())
                .map_err(|_| ConfigError::new(field(), "not a valid gRPC metadata value"))?;
            metadata.insert(key, value);
        }
        let _entered = runtime.enter();
        let mut builder = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(&settings.endpoint)
            .with_timeout(timeout)
            .with_metadata(metadata);
        // `insecure` (checked against the scheme when resolved) is plaintext, which
        // is what an http:// endpoint gets; https:// gets TLS.
        if settings.endpoint.starts_with("https://") {
            let mut tls = tonic::transport::ClientTlsConfig::new().with_enabled_roots();
            if let Some(ca) = &settings.certificate {
                tls = tls.ca_certificate(tonic::transport::Certificate::from_pem(&ca.pem));
            }
            builder = builder.with_tls_config(tls);
        }
        let inner = builder.build().map_err(|e| {
            ConfigError::new(
                OTLP_ENDPOINT.error_path(),
                format!("cannot build the OTLP gRPC exporter: {e}"),
            )
        })?;
        drop(_entered);
        Ok(GrpcExporter {
            runtime: Some(runtime),
            inner: Arc::new(inner),
            timeout,
        })
    }

    /// Runs one export on the exporter's runtime and waits for it (bounded by the
    /// timeout), from whatever thread calls.
    pub(crate) fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let Some(runtime) = &self.runtime else {
            return Err(OTelSdkError::AlreadyShutdown);
        };
        let (tx, rx) = mpsc::channel();
        let inner = self.inner.clone();
        runtime.spawn(async move {
            let _ = tx.send(inner.export(batch).await);
        });
        rx.recv_timeout(self.timeout + Duration::from_secs(1))
            .unwrap_or(Err(OTelSdkError::Timeout(self.timeout)))
    }

    pub(crate) fn shutdown(&self) -> OTelSdkResult {
        self.inner.shutdown()
    }

    pub(crate) fn set_resource(&mut self, resource: &Resource) {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.set_resource(resource);
        }
    }
}

impl Drop for GrpcExporter {
    fn drop(&mut self) {
        // Never blocks, so dropping inside another runtime cannot panic.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
