//! A record from its request side to its spans: frames that spill past the
//! inline slots, the count handed over as the spans built, the handler's
//! writes (and those after the end, ignored), the status merge, and the keep
//! rules' decision at the end.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::HeaderMap;
use opentelemetry::trace::{Status, TraceContextExt, TraceId};
use opentelemetry::{Context, InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{RandomIdGenerator, SpanData};

use super::{EndedRecord, KeptFor, Record, RecordSink, Recorder};
use crate::config::KeepDetail;
use crate::conventions::failure::Failure;
use crate::conventions::message::Message;
use crate::conventions::Conventions;
use crate::settings::KeepSettings;

/// A record as a sink is given it: the record, its spans, why it was kept.
type Exported = (Arc<dyn EndedRecord>, usize, Option<KeptFor>);

/// Remembers what records it was given, and the traces discarded.
#[derive(Default)]
struct Sink {
    exported: Mutex<Vec<Exported>>,
    discarded: Mutex<Vec<TraceId>>,
}

impl RecordSink for Sink {
    fn export(&self, record: Arc<dyn EndedRecord>, spans: usize, kept: Option<KeptFor>) {
        self.exported.lock().unwrap().push((record, spans, kept));
    }

    fn discard(&self, trace: TraceId) {
        self.discarded.lock().unwrap().push(trace);
    }
}

impl Sink {
    /// The only record exported, built into SDK spans (children, then the server).
    fn spans(&self) -> (Vec<SpanData>, usize, Option<KeptFor>) {
        let exported = self.exported.lock().unwrap();
        assert_eq!(exported.len(), 1, "one record exported");
        let (record, spans, kept) = &exported[0];
        let mut out = Vec::new();
        record.build_span_data(*spans, &mut out);
        (out, *spans, *kept)
    }
}

fn recorder(sink: &Arc<Sink>, keep: KeepSettings) -> Arc<Recorder> {
    Arc::new(Recorder {
        conventions: Conventions::legacy(),
        ids: RandomIdGenerator::default(),
        send_spans: true,
        receive_spans: true,
        keep,
        frame_span_cap: u64::MAX,
        sink: Some(sink.clone()),
        scope: Arc::new(InstrumentationScope::builder("test").build()),
    })
}

fn request() -> http::Request<()> {
    http::Request::get("http://svc.local/items?x=1")
        .body(())
        .unwrap()
}

fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a opentelemetry::Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

#[test]
fn frames_that_spill_come_back_in_order_and_only_those_handed_over() {
    let sink = Arc::new(Sink::default());
    let record = Record::sampled(
        recorder(&sink, KeepSettings::default()),
        &Context::new(),
        TraceId::from(1),
        &request(),
        None,
        None,
    );
    record.received(None, 10);
    record.received(None, 20);
    record.response_started(200, &HeaderMap::new(), None);
    for _ in 0..4 {
        record.sent(None, 5);
    }
    record.frame(Message::ResponseTrailers, None);
    record.end(false);
    // After its end: no span, and the totals as they were.
    record.sent(None, 99);
    record.end(true);
    let (spans, handed, kept) = sink.spans();
    assert_eq!((handed, kept), (9, None));
    assert_eq!(spans.len(), 9);
    let types: Vec<String> = spans[..8]
        .iter()
        .map(|s| attribute(s, "type").unwrap().to_string())
        .collect();
    assert_eq!(
        types,
        [
            "http.request",
            "http.request",
            "http.response.start",
            "http.response.body",
            "http.response.body",
            "http.response.body",
            "http.response.body",
            "http.response.trailers",
        ]
    );
    assert_eq!(spans[0].name, "GET /items http receive");
    assert_eq!(spans[2].name, "GET /items http send");
    let server = &spans[8];
    assert_eq!(server.name, "GET /items");
    for child in &spans[..8] {
        assert_eq!(child.parent_span_id, server.span_context.span_id());
        assert_eq!(child.span_context.trace_id(), TraceId::from(1));
    }
    let total = |key| attribute(server, key).unwrap().to_string();
    assert_eq!(total("tower_otel_tracing.request.bytes"), "30");
    assert_eq!(total("tower_otel_tracing.response.frames"), "5");
    assert!(attribute(server, "http.cancelled").is_none());
}

#[test]
fn handler_writes_count_until_the_end_and_no_later() {
    let sink = Arc::new(Sink::default());
    let record = Record::sampled(
        recorder(&sink, KeepSettings::default()),
        &Context::new(),
        TraceId::from(2),
        &request(),
        None,
        None,
    );
    let span = record.cx.span();
    assert!(span.is_recording());
    span.set_attribute(KeyValue::new("during", true));
    span.update_name("renamed");
    record.response_started(200, &HeaderMap::new(), None);
    record.end(false);
    assert!(!span.is_recording());
    span.set_attribute(KeyValue::new("after", true));
    span.add_event("late", Vec::new());
    span.set_status(Status::error("too late"));
    let (spans, _, _) = sink.spans();
    let server = spans.last().unwrap();
    assert_eq!(server.name, "renamed");
    assert!(attribute(server, "during").is_some());
    assert!(attribute(server, "after").is_none());
    assert!(server.events.is_empty());
    assert_eq!(server.status, Status::Unset);
}

/// The handler's status and the exchange's merge by the SDK's rule: OK set by
/// the handler wins over a 5xx; an ERROR of the handler keeps its message;
/// the head's child span is ERROR for a 5xx either way.
#[test]
fn statuses_merge_as_an_sdk_span_merges_them() {
    let cases = [
        (Some(Status::Ok), 503, Status::Ok),
        (
            Some(Status::error("handler")),
            500,
            Status::error("handler"),
        ),
        (None, 502, Status::error("")),
        (None, 200, Status::Unset),
    ];
    for (handler, code, expected) in cases {
        let sink = Arc::new(Sink::default());
        let record = Record::sampled(
            recorder(&sink, KeepSettings::default()),
            &Context::new(),
            TraceId::from(3),
            &request(),
            None,
            None,
        );
        if let Some(status) = handler.clone() {
            record.cx.span().set_status(status);
        }
        record.response_started(code, &HeaderMap::new(), None);
        record.end(false);
        let (spans, _, _) = sink.spans();
        let server = spans.last().unwrap();
        assert_eq!(server.status, expected, "{handler:?} {code}");
        let head = &spans[0];
        assert_eq!(
            matches!(head.status, Status::Error { .. }),
            code >= 500,
            "{handler:?} {code}"
        );
    }
}

#[test]
fn a_failure_is_an_exception_event_and_an_error() {
    let sink = Arc::new(Sink::default());
    let record = Record::sampled(
        recorder(&sink, KeepSettings::default()),
        &Context::new(),
        TraceId::from(4),
        &request(),
        None,
        None,
    );
    record.fail(Failure {
        kind: "panic".into(),
        message: "boom".into(),
    });
    record.end(true);
    let (spans, handed, _) = sink.spans();
    assert_eq!(handed, 1);
    let server = &spans[0];
    assert_eq!(server.status, Status::error("boom"));
    assert_eq!(server.events.events[0].name, "exception");
    assert_eq!(
        attribute(server, "http.cancelled").map(ToString::to_string),
        Some("true".into())
    );
}

/// A keepable record: discarded when the rules do not keep it, exported as a
/// sampled request would have been (with `sampling.reason`) when they do.
#[test]
fn the_keep_rules_decide_at_the_end() {
    let keep = KeepSettings {
        errors: true,
        slower_than: Some(Duration::from_secs(3600)),
        detail: KeepDetail::default(),
        despite_caller: false,
    };
    let keepable = |sink: &Arc<Sink>, code| {
        let record = Record::keepable(
            recorder(sink, keep),
            Context::new(),
            &request(),
            &opentelemetry::trace::SpanContext::empty_context(),
            None,
            None,
        );
        record.response_started(code, &HeaderMap::new(), None);
        record.end(false);
    };
    let fine = Arc::new(Sink::default());
    keepable(&fine, 200);
    assert!(fine.exported.lock().unwrap().is_empty());
    assert_eq!(fine.discarded.lock().unwrap().len(), 1);

    let failed = Arc::new(Sink::default());
    keepable(&failed, 500);
    assert!(failed.discarded.lock().unwrap().is_empty());
    let (spans, handed, kept) = failed.spans();
    assert_eq!((handed, kept), (2, Some(KeptFor::Error)));
    let server = spans.last().unwrap();
    assert!(server.span_context.is_sampled());
    assert_eq!(
        attribute(server, "sampling.reason").map(ToString::to_string),
        Some("error".into())
    );
}
