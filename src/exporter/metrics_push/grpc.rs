//! OTLP metrics over gRPC: opentelemetry-proto's tonic client. tonic needs a
//! Tokio runtime, and the push thread has none: it owns a current-thread
//! runtime and drives each export on it itself (`block_on`), so no worker
//! thread idles between pushes. As the traces' gRPC exporter does, a failed
//! export leaves its channel behind and the next one connects anew (a
//! connection that died silently would otherwise fail every push).

use std::fmt;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use tonic::transport::{Channel, Endpoint};

use super::PushError;
use crate::config::{ConfigError, ConfigErrorKind};
use crate::exporter::otlp::grpc::{metadata, tls};
use crate::settings::fields::metrics::{METRICS_OTLP_ENDPOINT, METRICS_OTLP_HEADERS};
use crate::settings::OtlpSettings;

pub(crate) struct GrpcPush {
    runtime: tokio::runtime::Runtime,
    endpoint: Endpoint,
    metadata: tonic::metadata::MetadataMap,
    timeout: Duration,
    /// Made on the first export, and again after a failed one.
    client: Option<MetricsServiceClient<Channel>>,
}

impl GrpcPush {
    pub(crate) fn new(settings: &OtlpSettings) -> Result<Self, ConfigError> {
        let invalid = |why: String| {
            ConfigError::of_kind(
                ConfigErrorKind::InvalidValue,
                METRICS_OTLP_ENDPOINT.error_path(),
                why,
            )
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| invalid(format!("cannot start the gRPC runtime: {e}")))?;
        let mut endpoint = Endpoint::from_shared(settings.endpoint.clone())
            .map_err(|e| invalid(format!("not a gRPC endpoint: {e}")))?
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout);
        if let Some(tls) = tls(settings) {
            endpoint = endpoint
                .tls_config(tls)
                .map_err(|e| invalid(format!("cannot set up TLS: {e}")))?;
        }
        Ok(GrpcPush {
            runtime,
            endpoint,
            metadata: metadata(settings, &METRICS_OTLP_HEADERS)?,
            timeout: settings.timeout,
            client: None,
        })
    }

    /// Sends one request and waits for its answer, within the timeout.
    pub(crate) fn export(&mut self, request: ExportMetricsServiceRequest) -> Result<(), PushError> {
        let client = match &mut self.client {
            Some(client) => client,
            None => {
                // The channel's worker is spawned on our runtime, and runs
                // while an export is driven.
                let _entered = self.runtime.enter();
                self.client
                    .insert(MetricsServiceClient::new(self.endpoint.connect_lazy()))
            }
        };
        let mut request = tonic::Request::new(request);
        *request.metadata_mut() = self.metadata.clone();
        // The timer is made inside the runtime, which has it.
        let timeout = self.timeout;
        let answer = self
            .runtime
            .block_on(async { tokio::time::timeout(timeout, client.export(request)).await });
        let error = match answer {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(status)) => PushError {
                kind: format!("gRPC {:?}", status.code()),
                message: format!("gRPC {:?}: {}", status.code(), status.message()),
            },
            Err(_) => PushError {
                kind: "timeout".to_owned(),
                message: format!("no answer within {:?}", self.timeout),
            },
        };
        self.client = None;
        Err(error)
    }
}

impl fmt::Debug for GrpcPush {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrpcPush")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}
