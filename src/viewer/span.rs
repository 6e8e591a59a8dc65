//! [`ViewSpan`]: a finished span as the viewer keeps and shows it, converted
//! from what the exporter reads (a `SpanView`) on the export thread: owned strings,
//! every value cut to [`MAX_VALUE_CHARS`], so a span's size is bounded.

use std::time::{Duration, SystemTime};

use opentelemetry::trace::{SpanId, Status, TraceId};
use opentelemetry::Value;

use crate::record::Attributes;
use crate::record::SpanView;

/// Attribute values and status messages are cut to this many characters.
pub(crate) const MAX_VALUE_CHARS: usize = 1024;

/// A finished span as the viewer shows it: owned strings, values cut.
#[derive(Debug, Clone)]
pub(crate) struct ViewSpan {
    pub(crate) span_id: SpanId,
    /// `None` for a root.
    pub(crate) parent_id: Option<SpanId>,
    pub(crate) parent_remote: bool,
    pub(crate) name: String,
    pub(crate) kind: &'static str,
    pub(crate) start: SystemTime,
    pub(crate) end: SystemTime,
    pub(crate) status: SpanStatus,
    pub(crate) attributes: Vec<(String, String)>,
    pub(crate) events: Vec<ViewEvent>,
    pub(crate) links: Vec<(TraceId, SpanId)>,
    pub(crate) scope: String,
}

impl ViewSpan {
    pub(crate) fn duration(&self) -> Duration {
        self.end.duration_since(self.start).unwrap_or_default()
    }

    pub(crate) fn is_error(&self) -> bool {
        matches!(self.status, SpanStatus::Error(_))
    }
}

/// A span's status.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SpanStatus {
    Unset,
    Ok,
    Error(String),
}

impl SpanStatus {
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            SpanStatus::Unset => "unset",
            SpanStatus::Ok => "ok",
            SpanStatus::Error(_) => "error",
        }
    }
}

/// A span event.
#[derive(Debug, Clone)]
pub(crate) struct ViewEvent {
    pub(crate) name: String,
    pub(crate) time: SystemTime,
    pub(crate) attributes: Vec<(String, String)>,
}

pub(crate) fn view_span(s: &SpanView<'_>) -> ViewSpan {
    ViewSpan {
        span_id: s.span_context.span_id(),
        parent_id: (s.parent_span_id != SpanId::INVALID).then_some(s.parent_span_id),
        parent_remote: s.parent_span_is_remote,
        name: cut(s.name),
        kind: crate::record::kind_name(s.span_kind),
        start: s.start_time,
        end: s.end_time,
        status: match s.status {
            Status::Unset => SpanStatus::Unset,
            Status::Ok => SpanStatus::Ok,
            Status::Error { description } => SpanStatus::Error(cut(description)),
        },
        attributes: pairs(s.attributes),
        events: s
            .events
            .iter()
            .map(|e| ViewEvent {
                name: cut(&e.name),
                time: e.timestamp,
                attributes: pairs(Attributes::List(&e.attributes)),
            })
            .collect(),
        links: s
            .links
            .iter()
            .map(|l| (l.span_context.trace_id(), l.span_context.span_id()))
            .collect(),
        scope: s.instrumentation_scope.name().to_owned(),
    }
}

fn pairs(attributes: Attributes<'_>) -> Vec<(String, String)> {
    let mut pairs = Vec::with_capacity(attributes.len());
    attributes.for_each(|a| pairs.push((a.key.to_owned(), cut(&a.value.text()))));
    pairs
}

/// A value as the tag-based exporters write it (arrays as JSON), cut to length.
pub(crate) fn text(v: &Value) -> String {
    cut(&crate::record::ValueRef::Value(v).text())
}

/// Cuts to [`MAX_VALUE_CHARS`] characters, marking the cut.
fn cut(s: &str) -> String {
    match crate::text::truncate_str(s, MAX_VALUE_CHARS) {
        Some(kept) => format!("{kept}…"),
        None => s.to_owned(),
    }
}
