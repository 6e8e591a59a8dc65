//! What a request says about itself, as the server span's name and attributes:
//! the naming rule and attribute set of the conventions in use, the route where
//! the router knows it, opted-in headers and gRPC's `rpc.*`. Built once a request
//! is known to be recorded (at its start when sampled, at its end when kept).

use http::Request;
use opentelemetry::KeyValue;

use super::attributes::{push_request_attributes, HTTP_ROUTE};
use super::naming::{sanitize_method, span_name, stable_span_name};
use super::recorder::Recorder;
use super::{grpc, recorded_headers, stable};
use crate::config::Semconv;
use crate::request::addresses;

impl Recorder {
    /// The server span's name and attributes, and whether the request is gRPC.
    pub(crate) fn describe<B>(&self, req: &Request<B>) -> (String, Vec<KeyValue>, bool) {
        // Only recorded requests need the connection's addresses.
        let (local, peer) = addresses(req.extensions(), self.local_addr);
        self.describe_with(req, local, peer)
    }

    /// The same, with the connection's addresses known.
    pub(crate) fn describe_with<B>(
        &self,
        req: &Request<B>,
        local: Option<std::net::SocketAddr>,
        peer: Option<std::net::SocketAddr>,
    ) -> (String, Vec<KeyValue>, bool) {
        let method = sanitize_method(req.method());
        let semconv = self.semconv;
        // The stable conventions always name and describe the route when it is known;
        // BentoML's (legacy) naming uses it only when asked.
        let route = if self.route_names || semconv.stable() {
            matched_route(req)
        } else {
            None
        };
        let grpc = grpc::is_grpc(req);
        let name = if semconv.legacy() {
            let legacy_route = route.filter(|_| self.route_names);
            span_name(method, legacy_route.unwrap_or(req.uri().path()))
        } else if let Some(rpc) = grpc.then(|| grpc::rpc_name(req.uri().path())).flatten() {
            // The RPC conventions name a call `{rpc.service}/{rpc.method}`.
            rpc.to_owned()
        } else {
            stable_span_name(method, route)
        };
        // Room for the response's attributes and the four totals (`totals.rs`) too,
        // so that ending the span never grows the list.
        let mut attributes = Vec::with_capacity(if semconv == Semconv::Dup { 30 } else { 17 });
        if semconv.legacy() {
            push_request_attributes(req, method, local, peer, &self.texts, &mut attributes);
            if let (Some(route), false) = (route.filter(|_| self.route_names), semconv.stable()) {
                attributes.push(KeyValue::new(HTTP_ROUTE, route.to_owned()));
            }
        }
        if semconv.stable() {
            stable::push_server_attributes(req, peer, route, &mut attributes);
        }
        recorded_headers::push(&self.request_headers, req.headers(), &mut attributes);
        if grpc {
            grpc::push_rpc_attributes(req.uri().path(), &mut attributes);
        }
        (name, attributes, grpc)
    }
}

/// The route template the router matched (`/users/{id}`), where the stack knows one.
fn matched_route<B>(req: &Request<B>) -> Option<&str> {
    #[cfg(feature = "axum")]
    if let Some(path) = req.extensions().get::<axum::extract::MatchedPath>() {
        return Some(path.as_str());
    }
    let _ = req;
    None
}
