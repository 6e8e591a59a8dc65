//! [`Conventions`]: how a layer's spans are named and described: which
//! conventions, and the user's options of describing (route names, opted-in
//! headers, the fallback local address). Built once from the resolved
//! settings and read by every request of the layer.

use std::net::SocketAddr;

use super::address::TextCache;
use super::recorded_headers::RecordedHeader;
use crate::config::Semconv;

/// The options of describing a request's spans, shared by all its requests.
pub(crate) struct Conventions {
    /// Which HTTP conventions the spans carry.
    pub(crate) semconv: Semconv,
    /// Which RPC conventions a gRPC call's spans carry.
    pub(crate) rpc: Semconv,
    /// Name server spans after the matched route template (legacy conventions).
    pub(crate) route_names: bool,
    /// Opted-in request headers, recorded on the server span.
    pub(crate) request_headers: Vec<RecordedHeader>,
    /// Opted-in response headers, recorded when the response starts.
    pub(crate) response_headers: Vec<RecordedHeader>,
    /// The server's own address when requests carry no `ConnectionInfo`.
    pub(crate) local_addr: Option<SocketAddr>,
    /// Attribute texts nearly every request repeats.
    pub(crate) texts: TextCache,
}

#[cfg(test)]
impl Conventions {
    /// BentoML's (legacy) conventions with no option set.
    pub(crate) fn legacy() -> Self {
        Conventions {
            semconv: Semconv::Legacy,
            rpc: Semconv::Legacy,
            route_names: false,
            request_headers: Vec::new(),
            response_headers: Vec::new(),
            local_addr: None,
            texts: TextCache::default(),
        }
    }
}
