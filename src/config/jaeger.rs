//! The `jaeger` section.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::redact::MaskedUrl;

/// `jaeger` section.
///
/// ```
/// let mut cfg = tower_otel_tracing::TracingConfig::default();
/// cfg.jaeger.collector_endpoint = Some("http://localhost:14268/api/traces".into());
/// ```
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JaegerConfig {
    /// Wire protocol. Default `thrift`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<JaegerProtocol>,
    /// When set, batches are POSTed here and never sent to the agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collector_endpoint: Option<String>,
    /// Agent settings.
    pub thrift: JaegerThriftConfig,
    /// Accepted so BentoML configs load; `insecure: true` is refused, since the
    /// gRPC protocol it applies to is (Jaeger ingests OTLP natively).
    pub grpc: JaegerGrpcConfig,
}

/// Jaeger wire protocol.
///
/// ```
/// use tower_otel_tracing::config::JaegerProtocol;
/// let p: JaegerProtocol = serde_json::from_str("\"thrift\"").unwrap();
/// assert_eq!(p, JaegerProtocol::Thrift);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JaegerProtocol {
    /// Thrift: compact over UDP to the agent, binary over HTTP to the collector.
    Thrift,
    /// Jaeger's gRPC API.
    Grpc,
}

/// `jaeger.thrift` section.
///
/// ```
/// let mut cfg = tower_otel_tracing::TracingConfig::default();
/// cfg.jaeger.thrift.udp_split_oversized_batches = Some(true);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JaegerThriftConfig {
    /// Agent host. Default `localhost`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_host_name: Option<String>,
    /// Agent UDP port. Default 6831.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_port: Option<u16>,
    /// Split batches larger than one UDP datagram instead of dropping them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub udp_split_oversized_batches: Option<bool>,
}

/// `jaeger.grpc` section.
///
/// ```
/// let mut cfg = tower_otel_tracing::TracingConfig::default();
/// cfg.jaeger.grpc.insecure = Some(true);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JaegerGrpcConfig {
    /// Plaintext gRPC. Only `false` is accepted: see [`JaegerConfig::grpc`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
}

impl fmt::Debug for JaegerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JaegerConfig")
            .field("protocol", &self.protocol)
            .field("collector_endpoint", &MaskedUrl(&self.collector_endpoint))
            .field("thrift", &self.thrift)
            .field("grpc", &self.grpc)
            .finish()
    }
}
