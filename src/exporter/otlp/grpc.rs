//! OTLP over gRPC. tonic needs a Tokio reactor, and the batch processor
//! exports from a bare OS thread where there is none (the trap that loses every
//! span): this exporter owns a one-worker runtime and runs each export on it.
//!
//! A gRPC client keeps one HTTP/2 connection and sends every export on it. When
//! the path under that connection dies silently (a black hole: no reset ever
//! comes) it would keep doing so for good, every export timing out while new
//! connections would work. So a failed export leaves its channel behind: the
//! next export gets a fresh one, on a new connection. Keep-alive pings would
//! notice too, but servers limit how often a client may ping, and a timed-out
//! export is already proof enough.

use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::time::Duration;

use opentelemetry_otlp::{WithExportConfig, WithTonicConfig};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use crate::config::{ConfigError, ConfigErrorKind};
use crate::settings::fields::otlp::{OTLP_ENDPOINT, OTLP_GRPC_HEADERS, OTLP_PROTOCOL};
use crate::settings::fields::Field;
use crate::settings::OtlpSettings;

type Inner = Arc<opentelemetry_otlp::SpanExporter>;

pub(crate) struct GrpcExporter {
    runtime: Option<tokio::runtime::Runtime>,
    /// What builds a client (and its channel): kept to replace a failed one.
    recipe: Recipe,
    /// The client exports go to, replaced after a failed export.
    inner: Mutex<Inner>,
    /// The resource last set, for the clients built after it.
    resource: Option<Resource>,
    timeout: Duration,
}

#[derive(Clone)]
struct Recipe {
    endpoint: String,
    timeout: Duration,
    metadata: tonic::metadata::MetadataMap,
    tls: Option<tonic::transport::ClientTlsConfig>,
}

impl Recipe {
    /// A client with a channel of its own (connected lazily, on its first export).
    fn build(&self, runtime: &tokio::runtime::Runtime) -> Result<Inner, String> {
        let _entered = runtime.enter();
        let mut builder = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(&self.endpoint)
            .with_timeout(self.timeout)
            .with_metadata(self.metadata.clone());
        if let Some(tls) = &self.tls {
            builder = builder.with_tls_config(tls.clone());
        }
        builder.build().map(Arc::new).map_err(|e| e.to_string())
    }
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
        let metadata = metadata(settings, &OTLP_GRPC_HEADERS)?;
        let tls = tls(settings);
        let recipe = Recipe {
            endpoint: settings.endpoint.clone(),
            timeout,
            metadata,
            tls,
        };
        let inner = recipe.build(&runtime).map_err(|e| {
            ConfigError::new(
                OTLP_ENDPOINT.error_path(),
                format!("cannot build the OTLP gRPC exporter: {e}"),
            )
        })?;
        Ok(GrpcExporter {
            runtime: Some(runtime),
            recipe,
            inner: Mutex::new(inner),
            resource: None,
            timeout,
        })
    }

    fn client(&self) -> Inner {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Runs one export on the exporter's runtime and waits for it (bounded by the
    /// timeout), from whatever thread calls. A failed export replaces the client
    /// it went through, unless another failure already did.
    pub(crate) fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let Some(runtime) = &self.runtime else {
            return Err(OTelSdkError::AlreadyShutdown);
        };
        let (tx, rx) = mpsc::channel();
        let inner = self.client();
        let used = inner.clone();
        runtime.spawn(async move {
            let _ = tx.send(inner.export(batch).await);
        });
        let result = rx
            .recv_timeout(self.timeout + Duration::from_secs(1))
            .unwrap_or(Err(OTelSdkError::Timeout(self.timeout)));
        if result.is_err() {
            self.replace(runtime, &used);
        }
        result
    }

    /// Swaps `failed` for a new client on a new channel. The old one goes when
    /// the exports still running on it end (each within the timeout).
    fn replace(&self, runtime: &tokio::runtime::Runtime, failed: &Inner) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if !Arc::ptr_eq(&inner, failed) {
            return;
        }
        // The recipe built a client once; should it fail now, the old one stays.
        if let Ok(mut fresh) = self.recipe.build(runtime) {
            if let (Some(resource), Some(client)) = (&self.resource, Arc::get_mut(&mut fresh)) {
                client.set_resource(resource);
            }
            *inner = fresh;
        }
    }

    pub(crate) fn shutdown(&self) -> OTelSdkResult {
        self.client().shutdown()
    }

    pub(crate) fn set_resource(&mut self, resource: &Resource) {
        self.resource = Some(resource.clone());
        let inner = self.inner.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some(inner) = Arc::get_mut(inner) {
            inner.set_resource(resource);
        }
    }
}

/// The gRPC metadata of `settings`' headers (`field` names them in errors).
pub(crate) fn metadata(
    settings: &OtlpSettings,
    field: &Field,
) -> Result<tonic::metadata::MetadataMap, ConfigError> {
    let mut metadata = tonic::metadata::MetadataMap::new();
    for (name, value) in &settings.grpc_headers {
        // Validated header names and values are valid ASCII metadata.
        let field = || format!("{}.{name}", field.error_path());
        let key = tonic::metadata::MetadataKey::from_bytes(name.as_str().as_bytes())
            .map_err(|_| ConfigError::new(field(), "not a valid gRPC metadata name"))?;
        let value = tonic::metadata::MetadataValue::try_from(value.as_bytes())
            .map_err(|_| ConfigError::new(field(), "not a valid gRPC metadata value"))?;
        metadata.insert(key, value);
    }
    Ok(metadata)
}

/// TLS for an https:// endpoint (against `settings`' certificate when given,
/// else the built-in roots); none, plaintext, for http://. `insecure` was
/// checked against the scheme when the settings were resolved.
pub(crate) fn tls(settings: &OtlpSettings) -> Option<tonic::transport::ClientTlsConfig> {
    settings.endpoint.starts_with("https://").then(|| {
        let mut tls = tonic::transport::ClientTlsConfig::new().with_enabled_roots();
        if let Some(ca) = &settings.certificate {
            tls = tls.ca_certificate(tonic::transport::Certificate::from_pem(&ca.pem));
        }
        tls
    })
}

impl Drop for GrpcExporter {
    fn drop(&mut self) {
        // Never blocks, so dropping inside another runtime cannot panic.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
