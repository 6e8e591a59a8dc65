//! gRPC over HTTP/2, as the OpenTelemetry RPC conventions describe it: the
//! server span keeps BentoML's `POST /pkg.Service/Method` name and gains
//! `rpc.*` attributes and the status from `grpc-status`.

use super::sink::AttributeSink;
use http::HeaderMap;
use opentelemetry::{Key, KeyValue};

const RPC_SYSTEM: Key = Key::from_static_str("rpc.system");
const RPC_SERVICE: Key = Key::from_static_str("rpc.service");
const RPC_METHOD: Key = Key::from_static_str("rpc.method");
pub(crate) const RPC_GRPC_STATUS_CODE: Key = Key::from_static_str("rpc.grpc.status_code");

/// `content-type: application/grpc` (with any `+proto`-style suffix).
pub(crate) fn is_grpc_headers(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/grpc"))
}

/// `rpc.system`, `rpc.service` and `rpc.method` as a list of their own.
pub(crate) fn rpc_attributes(path: &str) -> Vec<KeyValue> {
    let mut attrs = Vec::with_capacity(3);
    push_rpc_attributes(path, &mut attrs);
    attrs
}

/// `pkg.Service/Method` from the path `/pkg.Service/Method`, when it has that form.
pub(crate) fn rpc_name(path: &str) -> Option<&str> {
    let name = path.trim_start_matches('/');
    let (service, method) = name.split_once('/')?;
    (!service.is_empty() && !method.is_empty() && !method.contains('/')).then_some(name)
}

/// `rpc.system`, and `rpc.service`/`rpc.method` from `/pkg.Service/Method`.
pub(crate) fn push_rpc_attributes(path: &str, attrs: &mut impl AttributeSink) {
    attrs.push(KeyValue::new(RPC_SYSTEM, "grpc"));
    if let Some((service, method)) = rpc_name(path).and_then(|n| n.split_once('/')) {
        attrs.push_str(RPC_SERVICE, service);
        attrs.push_str(RPC_METHOD, method);
    }
}

/// The `grpc-status` in response headers (trailers-only responses) or trailers.
pub(crate) fn status(headers: &HeaderMap) -> Option<i64> {
    headers
        .get("grpc-status")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The codes that mean the server failed (OpenTelemetry's gRPC server rules):
/// UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS.
/// The others describe the caller's request and leave the span UNSET.
pub(crate) fn is_server_fault(code: i64) -> bool {
    matches!(code, 2 | 4 | 12 | 13 | 14 | 15)
}

/// A gRPC call's status, as its response headers or trailers say it.
pub(crate) struct GrpcStatus {
    /// `grpc-status`.
    pub(crate) code: i64,
    /// `grpc-message` (percent-decoded, as it is sent), kept for a server
    /// fault only.
    pub(crate) message: Option<String>,
}

/// `grpc-status` from these headers or trailers, with `grpc-message` for a
/// server fault.
pub(crate) fn status_and_message(headers: &HeaderMap) -> Option<GrpcStatus> {
    let code = status(headers)?;
    let message = is_server_fault(code).then(|| {
        headers
            .get("grpc-message")
            .and_then(|v| v.to_str().ok())
            .map(|m| {
                percent_encoding::percent_decode_str(m)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .unwrap_or_default()
    });
    Some(GrpcStatus { code, message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_service_and_method() {
        let mut attrs = Vec::new();
        push_rpc_attributes("/grpc.health.v1.Health/Check", &mut attrs);
        assert_eq!(
            attrs[1],
            KeyValue::new("rpc.service", "grpc.health.v1.Health")
        );
        assert_eq!(attrs[2], KeyValue::new("rpc.method", "Check"));
        let mut attrs = Vec::new();
        push_rpc_attributes("/odd", &mut attrs);
        assert_eq!(attrs.len(), 1);
    }

    #[test]
    fn server_faults() {
        assert!(!is_server_fault(0) && !is_server_fault(5) && !is_server_fault(3));
        assert!(is_server_fault(13) && is_server_fault(14) && is_server_fault(2));
    }
}
