//! Arbitrary spans through our OTLP protobuf encoder, against opentelemetry-proto's
//! own `SpanData` transform: prost must decode our bytes, and the decoded request
//! must be the reference request. Equality is taken on the canonical re-encoding
//! of both (prost writes fields in number order and skips defaults), so NaN
//! doubles compare by their bits and a default value we write explicitly (a zero
//! timestamp) is not a difference.
#![no_main]

mod common;

use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::trace::SpanExporter as _;
use prost::Message;
use tower_otel_tracing::exporter::OtlpExporter;
use tower_otel_tracing::TracingConfig;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = common::input(&mut Unstructured::new(data)) else {
        return;
    };
    let mut exporter = OtlpExporter::from_config(&TracingConfig::default()).unwrap();
    exporter.set_resource(&input.resource);
    let ours = exporter.encode(&input.spans);
    let decoded = ExportTraceServiceRequest::decode(ours.as_slice())
        .expect("prost decodes our ExportTraceServiceRequest");
    let reference = ExportTraceServiceRequest {
        resource_spans: group_spans_by_resource_and_scope(
            input.spans.clone(),
            &ResourceAttributesWithSchema::from(&input.resource),
        ),
    };
    if decoded.encode_to_vec() != reference.encode_to_vec() {
        panic!("OTLP differs from opentelemetry-proto\nours:      {decoded:#?}\nreference: {reference:#?}");
    }
    // Ids go through as bytes: check them against the input directly too, so a
    // shared mistake with the reference transform would still show.
    let spans: Vec<_> = decoded
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .collect();
    assert_eq!(spans.len(), input.spans.len());
    for span in &input.spans {
        let id = span.span_context.span_id().to_bytes();
        assert!(spans.iter().any(|s| s.span_id == id
            && s.trace_id == span.span_context.trace_id().to_bytes()
            && s.name == span.name));
    }
});
