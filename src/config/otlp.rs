//! The `otlp` section.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::redact::{MaskedHeaders, MaskedUrl};

/// `otlp` section.
///
/// ```
/// let mut cfg = tower_otel_tracing::TracingConfig::default();
/// cfg.otlp.endpoint = Some("http://collector:4318/v1/traces".into());
/// cfg.otlp.compression = Some(tower_otel_tracing::config::Compression::Gzip);
/// ```
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OtlpConfig {
    /// Transport. Default `http`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<OtlpProtocol>,
    /// Full traces URL, used as given. Default `http://localhost:4318/v1/traces`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Request body compression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<Compression>,
    /// HTTP transport settings.
    pub http: OtlpHttpConfig,
    /// gRPC transport settings.
    pub grpc: OtlpGrpcConfig,
}

/// OTLP transport.
///
/// ```
/// use tower_otel_tracing::config::OtlpProtocol;
/// let p: OtlpProtocol = serde_json::from_str("\"grpc\"").unwrap();
/// assert_eq!(p, OtlpProtocol::Grpc);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OtlpProtocol {
    /// Protobuf over HTTP.
    Http,
    /// gRPC.
    Grpc,
}

/// Export request compression.
///
/// ```
/// use tower_otel_tracing::config::Compression;
/// let c: Compression = serde_json::from_str("\"gzip\"").unwrap();
/// assert_eq!(c, Compression::Gzip);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    /// gzip.
    Gzip,
    /// No compression.
    None,
}

/// `otlp.http` section.
///
/// ```
/// let mut cfg = tower_otel_tracing::TracingConfig::default();
/// cfg.otlp.http.headers = Some([("x-api-key".to_owned(), "secret".to_owned())].into());
/// ```
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OtlpHttpConfig {
    /// PEM file with the CA certificate(s) trusted for an `https` endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_file: Option<PathBuf>,
    /// Extra headers on every export request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
}

/// `otlp.grpc` section.
///
/// ```
/// let mut cfg = tower_otel_tracing::TracingConfig::default();
/// cfg.otlp.grpc.insecure = Some(true);
/// ```
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OtlpGrpcConfig {
    /// Extra gRPC metadata on every export call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
    /// Plaintext gRPC: allowed only with an `http://` endpoint (an `https://` one
    /// asks for TLS, and is refused with it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
}

impl fmt::Debug for OtlpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpConfig")
            .field("protocol", &self.protocol)
            .field("endpoint", &MaskedUrl(&self.endpoint))
            .field("compression", &self.compression)
            .field("http", &self.http)
            .field("grpc", &self.grpc)
            .finish()
    }
}

impl fmt::Debug for OtlpHttpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpHttpConfig")
            .field("certificate_file", &self.certificate_file)
            .field("headers", &MaskedHeaders(&self.headers))
            .finish()
    }
}

impl fmt::Debug for OtlpGrpcConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpGrpcConfig")
            .field("headers", &MaskedHeaders(&self.headers))
            .field("insecure", &self.insecure)
            .finish()
    }
}
