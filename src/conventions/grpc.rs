//! gRPC over HTTP/2, as the OpenTelemetry RPC conventions describe it. The
//! RPC conventions have their own mode (`Conventions::rpc`):
//!
//! - legacy (the conventions before v1.37): `rpc.system`, `rpc.service`,
//!   `rpc.method` (the method alone) and `rpc.grpc.status_code` (an integer);
//! - stable (today's, <https://opentelemetry.io/docs/specs/semconv/rpc/grpc/>):
//!   `rpc.system.name`, `rpc.method` (fully qualified, `pkg.Service/Method`),
//!   `rpc.status_code` (the status's name, `DEADLINE_EXCEEDED`) and
//!   `error.type` (the same name) when the status is an error for that side;
//! - dup: both; `rpc.method`, a key of both, has the stable (fully qualified)
//!   value, and `rpc.service` keeps the service.

use std::borrow::Cow;

use http::HeaderMap;
use opentelemetry::trace::Status;
use opentelemetry::{Key, KeyValue};

use super::sink::AttributeSink;
use super::stable::ERROR_TYPE;
use crate::config::Semconv;

const RPC_SYSTEM: Key = Key::from_static_str("rpc.system");
const RPC_SYSTEM_NAME: Key = Key::from_static_str("rpc.system.name");
const RPC_SERVICE: Key = Key::from_static_str("rpc.service");
const RPC_METHOD: Key = Key::from_static_str("rpc.method");
const RPC_GRPC_STATUS_CODE: Key = Key::from_static_str("rpc.grpc.status_code");
const RPC_STATUS_CODE: Key = Key::from_static_str("rpc.status_code");

/// Which end of a call a span is: the statuses that are errors differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// Only the codes that mean the server failed are errors.
    Server,
    /// Every code but OK is an error.
    Client,
}

/// `content-type: application/grpc` (with any `+proto`-style suffix).
pub(crate) fn is_grpc_headers(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/grpc"))
}

/// `pkg.Service/Method` from the path `/pkg.Service/Method`, when it has that form.
pub(crate) fn rpc_name(path: &str) -> Option<&str> {
    let name = path.trim_start_matches('/');
    let (service, method) = name.split_once('/')?;
    (!service.is_empty() && !method.is_empty() && !method.contains('/')).then_some(name)
}

/// The call's system and method from its path (`/pkg.Service/Method`), under
/// the keys of the RPC conventions in use.
pub(crate) fn push_rpc_attributes(path: &str, semconv: Semconv, attrs: &mut impl AttributeSink) {
    let name = rpc_name(path);
    let parts = name.and_then(|n| n.split_once('/'));
    if semconv.legacy() {
        attrs.push(KeyValue::new(RPC_SYSTEM, "grpc"));
        if let Some((service, _)) = parts {
            attrs.push_str(RPC_SERVICE, service);
        }
    }
    if semconv.stable() {
        attrs.push(KeyValue::new(RPC_SYSTEM_NAME, "grpc"));
        if let Some(name) = name {
            attrs.push_str(RPC_METHOD, name);
        }
    } else if let Some((_, method)) = parts {
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

/// A gRPC status code's name, as `rpc.status_code` and `error.type` write it
/// (<https://grpc.github.io/grpc/core/md_doc_statuscodes.html>); a code outside
/// the list as its number.
pub(crate) fn status_name(code: i64) -> Cow<'static, str> {
    const NAMES: [&str; 17] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    match usize::try_from(code).ok().and_then(|i| NAMES.get(i)) {
        Some(name) => Cow::Borrowed(name),
        None => Cow::Owned(code.to_string()),
    }
}

/// Whether `code` is an error for `side`.
pub(crate) fn is_error(code: i64, side: Side) -> bool {
    match side {
        Side::Server => is_server_fault(code),
        Side::Client => code != 0,
    }
}

/// A call's status under the keys of the RPC conventions in use, and
/// `error.type` (stable) when it is an error for `side`; the span's ERROR
/// status then, with `grpc-message` where the server sent one.
pub(crate) fn push_status(
    status: &GrpcStatus,
    side: Side,
    semconv: Semconv,
    attrs: &mut impl AttributeSink,
) -> Option<Status> {
    let code = status.code;
    if semconv.legacy() {
        attrs.push(KeyValue::new(RPC_GRPC_STATUS_CODE, code));
    }
    let error = is_error(code, side);
    if semconv.stable() {
        let name = status_name(code);
        if error {
            attrs.push_cow(ERROR_TYPE, name.clone());
        }
        attrs.push_cow(RPC_STATUS_CODE, name);
    }
    error.then(|| match &status.message {
        Some(message) => Status::error(format!("gRPC status {code}: {message}")),
        None => Status::error(format!("gRPC status {code}")),
    })
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

    fn written(path: &str, semconv: Semconv) -> Vec<(String, String)> {
        let mut attrs = Vec::new();
        push_rpc_attributes(path, semconv, &mut attrs);
        attrs
            .into_iter()
            .map(|kv| (kv.key.to_string(), kv.value.to_string()))
            .collect()
    }

    #[test]
    fn system_and_method_in_each_mode() {
        let path = "/grpc.health.v1.Health/Check";
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            written(path, Semconv::Legacy),
            pairs(&[
                ("rpc.system", "grpc"),
                ("rpc.service", "grpc.health.v1.Health"),
                ("rpc.method", "Check"),
            ])
        );
        assert_eq!(
            written(path, Semconv::Stable),
            pairs(&[
                ("rpc.system.name", "grpc"),
                ("rpc.method", "grpc.health.v1.Health/Check"),
            ])
        );
        assert_eq!(
            written(path, Semconv::Dup),
            pairs(&[
                ("rpc.system", "grpc"),
                ("rpc.service", "grpc.health.v1.Health"),
                ("rpc.system.name", "grpc"),
                ("rpc.method", "grpc.health.v1.Health/Check"),
            ])
        );
        assert_eq!(written("/odd", Semconv::Legacy).len(), 1);
        assert_eq!(written("/odd", Semconv::Stable).len(), 1);
    }

    #[test]
    fn statuses_by_name_and_side() {
        assert_eq!(status_name(0), "OK");
        assert_eq!(status_name(4), "DEADLINE_EXCEEDED");
        assert_eq!(status_name(16), "UNAUTHENTICATED");
        assert_eq!(status_name(17), "17");
        assert_eq!(status_name(-1), "-1");
        let status = |code| GrpcStatus {
            code,
            message: None,
        };
        let mut attrs = Vec::new();
        let error = push_status(&status(5), Side::Server, Semconv::Dup, &mut attrs);
        assert!(
            error.is_none(),
            "NOT_FOUND is the caller's, not a server fault"
        );
        assert_eq!(
            attrs,
            [
                KeyValue::new("rpc.grpc.status_code", 5i64),
                KeyValue::new("rpc.status_code", "NOT_FOUND"),
            ]
        );
        let mut attrs = Vec::new();
        let error = push_status(&status(5), Side::Client, Semconv::Stable, &mut attrs);
        assert_eq!(error, Some(Status::error("gRPC status 5")));
        assert_eq!(
            attrs,
            [
                KeyValue::new("error.type", "NOT_FOUND"),
                KeyValue::new("rpc.status_code", "NOT_FOUND"),
            ]
        );
        let mut attrs = Vec::new();
        let fault = GrpcStatus {
            code: 14,
            message: Some("down".into()),
        };
        let error = push_status(&fault, Side::Server, Semconv::Legacy, &mut attrs);
        assert_eq!(error, Some(Status::error("gRPC status 14: down")));
        assert_eq!(attrs, [KeyValue::new("rpc.grpc.status_code", 14i64)]);
    }

    #[test]
    fn server_faults() {
        assert!(!is_server_fault(0) && !is_server_fault(5) && !is_server_fault(3));
        assert!(is_server_fault(13) && is_server_fault(14) && is_server_fault(2));
    }
}
