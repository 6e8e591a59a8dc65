//! [`Replay`]: where records go under a tracer provider the user supplied.
//! Only that provider's tracer reaches its processors, so a sampled request's
//! server span is an SDK span of that provider from the start (its sampler
//! decided, its handler writes to it), and at the request's end the record's
//! description adds the rest: the request's and the response's attributes, a
//! failure's event and status, the `http send`/`http receive` children, made
//! through the same tracer with their own times, and the server span's end.
//! It runs on the request's thread, as an SDK span's end does.

use std::sync::Arc;

use opentelemetry::trace::{Span as _, SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry_sdk::trace::SdkTracer;

use crate::record::{EndedRecord, KeptFor, RecordSink, SpanView};

/// Replays records through a user's provider's tracer.
pub(crate) struct Replay {
    tracer: SdkTracer,
}

impl Replay {
    pub(crate) fn new(tracer: SdkTracer) -> Self {
        Replay { tracer }
    }
}

impl RecordSink for Replay {
    fn export(&self, record: Arc<dyn EndedRecord>, spans: usize, _kept: Option<KeptFor>) {
        let request = record.build(spans);
        let cx = record.context();
        let mut views = Vec::with_capacity(request.len());
        request.views(&mut views);
        // The server span's view comes last, after its children.
        let Some(server) = views.pop() else {
            return;
        };
        for child in views {
            let builder = self
                .tracer
                .span_builder(child.name.to_owned())
                .with_kind(SpanKind::Internal)
                .with_start_time(child.start_time)
                .with_attributes(child.attributes.to_vec());
            let mut span = self.tracer.build_with_context(builder, cx);
            if matches!(child.status, Status::Error { .. }) {
                span.set_status(child.status.clone());
            }
            span.end_with_timestamp(child.end_time);
        }
        end_server_span(&server, cx);
    }

    fn discard(&self, _trace: opentelemetry::trace::TraceId) {}
}

/// The description's additions to the provider's server span, which is then
/// ended at the record's end. Its name and links were given at its start, and
/// the handler's writes went to it directly.
fn end_server_span(server: &SpanView<'_>, cx: &opentelemetry::Context) {
    let span = cx.span();
    span.set_attributes(server.attributes.to_vec());
    for event in server.events {
        span.add_event_with_timestamp(
            event.name.clone(),
            event.timestamp,
            event.attributes.clone(),
        );
    }
    span.set_status(server.status.clone());
    span.end_with_timestamp(server.end_time);
}
