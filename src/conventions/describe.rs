//! What a request says about itself, as the server span's name and attributes:
//! the naming rule and attribute set of the conventions in use, the route where
//! the router knows it, opted-in headers and gRPC's `rpc.*`. Made from the
//! request's parts (`request_parts.rs`) once a request is known to be exported,
//! at its end, on the export thread.

use super::legacy::{push_request_attributes, HTTP_ROUTE};
use super::naming::{sanitize_method, span_name, stable_span_name};
use super::options::Conventions;
use super::request_parts::RequestParts;
use super::sink::AttributeSink;
use super::{grpc, recorded_headers, stable};
use crate::config::Semconv;

impl Conventions {
    /// The server span's name; its attributes go to `attributes`.
    pub(crate) fn describe(
        &self,
        req: &RequestParts,
        attributes: &mut impl AttributeSink,
    ) -> String {
        let method = sanitize_method(req.method());
        let semconv = self.semconv;
        // The stable conventions always name and describe the route when it is known;
        // BentoML's (legacy) naming uses it only when asked (and the parts hold it
        // only then).
        let route = req.route();
        let grpc = req.is_grpc();
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
            grpc::push_rpc_attributes(req.path(), self.rpc, attributes);
        }
        self.name(req, method)
    }

    /// The server span's name, by the naming rule of the conventions in use:
    /// a gRPC call is named after its method (`pkg.Service/Method`) when
    /// either its HTTP or its RPC conventions are only the stable ones,
    /// BentoML's way (`POST /pkg.Service/Method`) otherwise.
    #[inline]
    fn name(&self, req: &RequestParts, method: &'static str) -> String {
        let route = req.route();
        let stable_only = !self.semconv.legacy() || !self.rpc.legacy();
        if let Some(rpc) = (stable_only && req.is_grpc())
            .then(|| grpc::rpc_name(req.path()))
            .flatten()
        {
            rpc.to_owned()
        } else if self.semconv.legacy() {
            let legacy_route = route.filter(|_| self.route_names);
            span_name(method, legacy_route.unwrap_or(req.path()))
        } else {
            stable_span_name(method, route)
        }
    }
}

/// Room for a server span's attributes: the request's, the response's and the
/// four totals, so that ending the span never grows the list.
pub(crate) fn server_attribute_capacity(semconv: Semconv) -> usize {
    if semconv == Semconv::Dup {
        30
    } else {
        17
    }
}
