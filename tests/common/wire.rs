//! Spans decoded from what a receiver got on the wire, one shape for every
//! protocol: ids as lowercase hex, the parent (none for a root), the name.
#![allow(dead_code)]

use std::io::Read;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

use super::receiver::Captured;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireSpan {
    pub trace_id: String,
    pub span_id: String,
    pub parent_id: Option<String>,
    pub name: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A Zipkin v2 JSON body.
pub fn zipkin(body: &[u8]) -> Vec<WireSpan> {
    let spans: Vec<serde_json::Value> = serde_json::from_slice(body).expect("Zipkin JSON array");
    spans
        .iter()
        .map(|s| WireSpan {
            trace_id: s["traceId"].as_str().expect("traceId").to_owned(),
            span_id: s["id"].as_str().expect("id").to_owned(),
            parent_id: s["parentId"].as_str().map(str::to_owned),
            name: s["name"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

/// An OTLP `ExportTraceServiceRequest`.
pub fn otlp_request(req: &ExportTraceServiceRequest) -> Vec<WireSpan> {
    req.resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .map(|s| WireSpan {
            trace_id: hex(&s.trace_id),
            span_id: hex(&s.span_id),
            parent_id: (!s.parent_span_id.is_empty()).then(|| hex(&s.parent_span_id)),
            name: s.name.clone(),
        })
        .collect()
}

/// An OTLP/HTTP protobuf body, gunzipped first when `gzip`.
pub fn otlp(body: &[u8], gzip: bool) -> Vec<WireSpan> {
    let body = if gzip {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(body)
            .read_to_end(&mut out)
            .expect("gzip body");
        out
    } else {
        body.to_vec()
    };
    otlp_request(&ExportTraceServiceRequest::decode(body.as_slice()).expect("OTLP protobuf"))
}

/// Every span the captured HTTP posts carry, by the posts' own content type.
pub fn captured(posts: &[Captured]) -> Vec<WireSpan> {
    posts
        .iter()
        .flat_map(|p| {
            let ty = p
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            let gzip = p
                .headers
                .get("content-encoding")
                .is_some_and(|v| v == "gzip");
            match ty {
                "application/json" => zipkin(&p.body),
                "application/x-protobuf" => otlp(&p.body, gzip),
                #[cfg(feature = "jaeger")]
                "application/x-thrift" => {
                    jaeger_batch(&super::thrift_decode::decode_binary_batch(&p.body))
                }
                other => panic!("unexpected content type {other:?}"),
            }
        })
        .collect()
}

#[cfg(feature = "jaeger")]
pub fn jaeger_batch(batch: &super::thrift_decode::Batch) -> Vec<WireSpan> {
    batch
        .spans
        .iter()
        .map(|s| WireSpan {
            trace_id: format!(
                "{:016x}{:016x}",
                s.trace_id_high as u64, s.trace_id_low as u64
            ),
            span_id: format!("{:016x}", s.span_id as u64),
            parent_id: (s.parent_span_id != 0).then(|| format!("{:016x}", s.parent_span_id as u64)),
            name: s.operation_name.clone(),
        })
        .collect()
}

/// A Jaeger agent `emitBatch` datagram.
#[cfg(feature = "jaeger")]
pub fn jaeger_datagram(datagram: &[u8]) -> Vec<WireSpan> {
    jaeger_batch(&super::thrift_decode::decode_emit_batch(datagram))
}

/// Trace and span ids, for `accounting::Delivery`.
pub fn ids(spans: &[WireSpan]) -> Vec<String> {
    spans
        .iter()
        .map(|s| format!("{}-{}", s.trace_id, s.span_id))
        .collect()
}
