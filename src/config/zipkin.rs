//! The `zipkin` section.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use super::load::{ipv4, ipv6};
use super::redact::MaskedUrl;

/// `zipkin` section.
///
/// ```
/// let mut cfg = tower_otel_tracing::TracingConfig::default();
/// cfg.zipkin.local_node_ipv4 = Some("192.168.0.1".parse().unwrap());
/// cfg.zipkin.local_node_port = Some(31313);
/// ```
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ZipkinConfig {
    /// Collector URL. Default `http://localhost:9411/api/v2/spans`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// `localEndpoint.ipv4` of every span.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "ipv4")]
    pub local_node_ipv4: Option<Ipv4Addr>,
    /// `localEndpoint.ipv6` of every span.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "ipv6")]
    pub local_node_ipv6: Option<Ipv6Addr>,
    /// `localEndpoint.port` of every span.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_node_port: Option<u16>,
}

impl fmt::Debug for ZipkinConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZipkinConfig")
            .field("endpoint", &MaskedUrl(&self.endpoint))
            .field("local_node_ipv4", &self.local_node_ipv4)
            .field("local_node_ipv6", &self.local_node_ipv6)
            .field("local_node_port", &self.local_node_port)
            .finish()
    }
}
