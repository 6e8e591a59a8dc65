//! What a request says about itself, as the server span's name and attributes:
//! the naming rule and attribute set of the conventions in use, the route where
//! the router knows it, opted-in headers and gRPC's `rpc.*`. Built from the
//! request's parts (`request_parts.rs`) once a request is known to be recorded:
//! at its end on the export thread for the layer's own records, at its start
//! for a span of a user's provider.

use http::Request;
use opentelemetry::KeyValue;

use crate::exporter::attributes::AttributeSink;

use super::attributes::{push_request_attributes, HTTP_ROUTE};
use super::naming::{sanitize_method, span_name, stable_span_name};
use super::recorder::Recorder;
use super::request_parts::{Keep, RequestParts};
use super::{grpc, recorded_headers, stable};
use crate::config::Semconv;

impl Recorder {
    /// The server span's name and attributes, and whether the request is gRPC.
    pub(crate) fn describe<B>(&self, req: &Request<B>) -> (String, Vec<KeyValue>, bool) {
        // Described at once, so clones of its text outlive it by no time.
        self.describe_parts(&RequestParts::capture(req, self, Keep::Clones))
    }

    /// The same, from the request's parts.
    pub(crate) fn describe_parts(&self, req: &RequestParts) -> (String, Vec<KeyValue>, bool) {
        let mut attributes = Vec::with_capacity(server_attribute_capacity(self.semconv));
        let (name, grpc) = self.describe_into(req, &mut attributes);
        (name, attributes, grpc)
    }

    /// The server span's name and whether the request is gRPC; its
    /// attributes go to `attributes`.
    pub(crate) fn describe_into(
        &self,
        req: &RequestParts,
        attributes: &mut impl AttributeSink,
    ) -> (String, bool) {
        let method = sanitize_method(req.method());
        let semconv = self.semconv;
        // The stable conventions always name and describe the route when it is known;
        // BentoML's (legacy) naming uses it only when asked (and the parts hold it
        // only then).
        let route = req.route();
        let grpc = req.is_grpc();
        let name = if semconv.legacy() {
            let legacy_route = route.filter(|_| self.route_names);
            span_name(method, legacy_route.unwrap_or(req.path()))
        } else if let Some(rpc) = grpc.then(|| grpc::rpc_name(req.path())).flatten() {
            // The RPC conventions name a call `{rpc.service}/{rpc.method}`.
            rpc.to_owned()
        } else {
            stable_span_name(method, route)
        };
        if semconv.legacy() {
            push_request_attributes(req, method, &self.texts, attributes);
            if let (Some(route), false) = (route.filter(|_| self.route_names), semconv.stable()) {
                attributes.push_str(HTTP_ROUTE, route);
            }
        }
        if semconv.stable() {
            stable::push_server_attributes(req, route, attributes);
        }
        recorded_headers::push(&self.request_headers, req.recorded(), attributes);
        if grpc {
            grpc::push_rpc_attributes(req.path(), attributes);
        }
        (name, grpc)
    }
}

/// Room for a server span's attributes: the request's, the response's and the
/// four totals (`totals.rs`), so that ending the span never grows the list.
pub(crate) fn server_attribute_capacity(semconv: Semconv) -> usize {
    if semconv == Semconv::Dup {
        30
    } else {
        17
    }
}
