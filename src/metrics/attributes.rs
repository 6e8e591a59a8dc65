//! The attributes of each series, as the semantic conventions name them: one
//! list a series, which the pull endpoint writes as labels and a push
//! exporter as attributes.
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
use super::server::RouteKey;
use crate::conventions::grpc;

/// The attribute a series beyond the cardinality limit carries.
pub(crate) fn overflow() -> Vec<KeyValue> {
    vec![KeyValue::new("otel.metric.overflow", true)]
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
    let error = match (&outcome.failure, outcome.status) {
        (Some(failure), _) => Some(failure.to_string()),
        (None, Some(status)) if status >= 500 => Some(status.to_string()),
        _ => None,
    };
    if let Some(error) = error {
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
    let code = outcome.status.map(i64::from);
    if let Some(code) = code {
        attributes.push(KeyValue::new("rpc.status_code", grpc::status_name(code)));
    }
    let error = match (&outcome.failure, code) {
        (Some(failure), _) => Some(failure.to_string()),
        (None, Some(code)) if grpc::is_server_fault(code) => {
            Some(grpc::status_name(code).into_owned())
        }
        _ => None,
    };
    if let Some(error) = error {
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
