//! The attributes of each series, as the semantic conventions name them: one
//! list a series, which the pull endpoint writes as labels and a push
//! exporter (`push/`) as attributes.
//!
//! - HTTP server (<https://opentelemetry.io/docs/specs/semconv/http/http-metrics/>):
//!   `http.request.method`, `url.scheme`, `http.route`,
//!   `http.response.status_code`, `error.type` (a failure's type, or a 5xx
//!   status), `network.protocol.version`, and opted in `server.address` and
//!   `server.port`;
//! - gRPC server (<https://opentelemetry.io/docs/specs/semconv/rpc/rpc-metrics/>):
//!   `rpc.system.name`, `rpc.method`, `rpc.status_code` by name, `error.type`
//!   (a failure's type, or a status that means the server failed);
//! - HTTP client: `http.request.method`, `server.address`, `server.port`,
//!   `http.response.status_code`, `error.type` (a failure's type, or a status
//!   of 400 or more).

use opentelemetry::KeyValue;

use super::client::ClientKey;
use super::outcome_list::OutcomeKey;
use super::server::{RouteKey, ServerMeter};
use crate::conventions::grpc;

/// The attribute a series beyond the cardinality limit carries.
pub(crate) fn overflow() -> Vec<KeyValue> {
    vec![KeyValue::new("otel.metric.overflow", true)]
}

/// Whether a server series counts failed requests: a failure (an inner
/// error, a panic), else a status that says the server failed (a 5xx; for
/// gRPC a server fault). The one rule behind `error.type` below and the
/// viewer's errors/s.
pub(crate) fn is_error(route: &RouteKey, outcome: &OutcomeKey) -> bool {
    outcome.failure.is_some()
        || outcome.status.is_some_and(|status| {
            if route.grpc {
                grpc::is_server_fault(i64::from(status))
            } else {
                status >= 500
            }
        })
}

/// `error.type` of a server series that failed: the failure's type, else
/// its status (a code for HTTP, a name for gRPC).
fn error_type(route: &RouteKey, outcome: &OutcomeKey) -> Option<String> {
    if !is_error(route, outcome) {
        return None;
    }
    match (&outcome.failure, outcome.status) {
        (Some(failure), _) => Some(failure.to_string()),
        (None, Some(code)) if route.grpc => Some(grpc::status_name(i64::from(code)).into_owned()),
        (None, status) => status.map(|s| s.to_string()),
    }
}

/// An HTTP server series.
pub(crate) fn server(route: &RouteKey, outcome: &OutcomeKey) -> Vec<KeyValue> {
    let mut attributes = vec![
        KeyValue::new("http.request.method", route.method),
        KeyValue::new("url.scheme", route.scheme),
    ];
    if let Some(template) = &route.route {
        attributes.push(KeyValue::new("http.route", template.to_string()));
    }
    if let Some(status) = outcome.status {
        attributes.push(KeyValue::new(
            "http.response.status_code",
            i64::from(status),
        ));
    }
    if let Some(error) = error_type(route, outcome) {
        attributes.push(KeyValue::new("error.type", error));
    }
    if let Some(version) = route.version {
        attributes.push(KeyValue::new("network.protocol.version", version));
    }
    push_server(
        &mut attributes,
        route.server.as_ref().map(|(a, p)| (&**a, *p)),
    );
    attributes
}

/// A gRPC server series: its outcome's status is a `grpc-status` code.
pub(crate) fn rpc(route: &RouteKey, outcome: &OutcomeKey) -> Vec<KeyValue> {
    let mut attributes = vec![KeyValue::new("rpc.system.name", "grpc")];
    if let Some(method) = &route.route {
        attributes.push(KeyValue::new("rpc.method", method.to_string()));
    }
    if let Some(code) = outcome.status {
        attributes.push(KeyValue::new(
            "rpc.status_code",
            grpc::status_name(i64::from(code)),
        ));
    }
    if let Some(error) = error_type(route, outcome) {
        attributes.push(KeyValue::new("error.type", error));
    }
    push_server(
        &mut attributes,
        route.server.as_ref().map(|(a, p)| (&**a, *p)),
    );
    attributes
}

/// `http.server.active_requests`: a route's method, scheme and server.
pub(crate) fn active(route: &RouteKey) -> Vec<KeyValue> {
    let mut attributes = vec![
        KeyValue::new("http.request.method", route.method),
        KeyValue::new("url.scheme", route.scheme),
    ];
    push_server(
        &mut attributes,
        route.server.as_ref().map(|(a, p)| (&**a, *p)),
    );
    attributes
}

/// `http.server.active_requests` by attribute set, summed over the routes
/// (its attributes are a route's but its template and protocol version), for
/// the pull endpoint and a push alike; the overflow routes' only when some of
/// them are active.
pub(crate) fn active_requests(server: &ServerMeter) -> Vec<(Vec<KeyValue>, i64)> {
    let mut sums: Vec<(Vec<KeyValue>, i64)> = Vec::new();
    server.for_each_route(|route, count| {
        let attributes = match route {
            Some(route) => active(route),
            None if count == 0 => return,
            None => overflow(),
        };
        match sums.iter_mut().find(|(a, _)| *a == attributes) {
            Some((_, sum)) => *sum += count,
            None => sums.push((attributes, count)),
        }
    });
    sums
}

/// An HTTP client series.
pub(crate) fn client(key: &ClientKey) -> Vec<KeyValue> {
    let mut attributes = vec![KeyValue::new("http.request.method", key.method)];
    if let Some(status) = key.status {
        attributes.push(KeyValue::new(
            "http.response.status_code",
            i64::from(status),
        ));
    }
    let error = match (&key.failure, key.status) {
        (Some(failure), _) => Some(failure.to_string()),
        (None, Some(status)) if status >= 400 => Some(status.to_string()),
        _ => None,
    };
    if let Some(error) = error {
        attributes.push(KeyValue::new("error.type", error));
    }
    push_server(&mut attributes, key.address.as_deref().zip(key.port));
    attributes
}

fn push_server(attributes: &mut Vec<KeyValue>, server: Option<(&str, u16)>) {
    if let Some((address, port)) = server {
        attributes.push(KeyValue::new("server.address", address.to_owned()));
        attributes.push(KeyValue::new("server.port", i64::from(port)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// `error.type`, and `is_error` with it: a failure, a 5xx for HTTP, a
    /// server fault for gRPC (not a client's mistake, not a 4xx).
    #[test]
    fn is_error_agrees_with_error_type() {
        for grpc in [false, true] {
            let route = RouteKey {
                method: "POST",
                scheme: "http",
                version: Some("2"),
                route: Some(Arc::from("pkg.Svc/Call")),
                server: None,
                grpc,
            };
            for status in [
                None,
                Some(0),
                Some(2),
                Some(5),
                Some(13),
                Some(200),
                Some(404),
                Some(500),
                Some(503),
            ] {
                for failure in [None, Some(Arc::from("panic"))] {
                    let outcome = OutcomeKey { status, failure };
                    let attributes = if grpc {
                        rpc(&route, &outcome)
                    } else {
                        server(&route, &outcome)
                    };
                    let error_type = attributes
                        .iter()
                        .find(|kv| kv.key.as_str() == "error.type")
                        .map(|kv| kv.value.to_string());
                    let expected = match (grpc, &outcome.failure, status) {
                        (_, Some(_), _) => Some("panic"),
                        (false, None, Some(500)) => Some("500"),
                        (false, None, Some(503)) => Some("503"),
                        (true, None, Some(2)) => Some("UNKNOWN"),
                        (true, None, Some(13)) => Some("INTERNAL"),
                        _ => None,
                    };
                    assert_eq!(error_type.as_deref(), expected, "{grpc} {outcome:?}");
                    assert_eq!(is_error(&route, &outcome), expected.is_some());
                }
            }
        }
    }
}
