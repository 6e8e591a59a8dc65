//! The JSON behind each page, for scripts: the same snapshots the pages render,
//! durations in nanoseconds and times in nanoseconds since the Unix epoch (as
//! OTLP/JSON writes them).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use super::span::{SpanStatus, ViewSpan};
use super::store::{Overview, Trace, BUCKETS};

pub(crate) fn overview(o: &Overview) -> Value {
    json!({
        "held": o.held,
        "max_traces": o.max_traces,
        "pending_spans": o.pending_spans,
        "fed": o.fed,
        "dropped": {
            "names": o.dropped.names,
            "spans": o.dropped.spans,
            "pending": o.dropped.pending,
        },
        "buckets": BUCKETS
            .iter()
            .map(|(low, label)| json!({ "label": label, "min_ns": nanos(*low) }))
            .collect::<Vec<_>>(),
        "names": o.rows.iter().map(|r| json!({
            "name": r.name,
            "kind": r.kind,
            "count": r.count,
            "errors": r.errors,
            "p50_ns": nanos(r.p50),
            "p99_ns": nanos(r.p99),
            "buckets": r.buckets
                .iter()
                .map(|(count, errors)| json!({ "count": count, "errors": errors }))
                .collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

pub(crate) fn list(traces: &[Arc<Trace>]) -> Value {
    json!({ "traces": traces.iter().map(|t| summary(t)).collect::<Vec<_>>() })
}

fn summary(t: &Trace) -> Value {
    json!({
        "trace_id": t.trace_id.to_string(),
        "name": t.name(),
        "start_unix_nano": unix(t.root().start),
        "end_unix_nano": unix(t.root().end),
        "duration_ns": nanos(t.duration()),
        "error": t.is_error(),
        "spans": t.spans.len(),
        "spans_dropped": t.spans_dropped,
    })
}

pub(crate) fn trace(t: &Trace, resource: &[(String, String)]) -> Value {
    let mut out = summary(t);
    out["resource"] = object(resource);
    out["spans"] = t
        .tree()
        .into_iter()
        .map(|(depth, s)| span(depth, s))
        .collect();
    out["span_count"] = t.spans.len().into();
    out
}

fn span(depth: usize, s: &ViewSpan) -> Value {
    json!({
        "span_id": s.span_id.to_string(),
        "parent_span_id": s.parent_id.map(|p| p.to_string()),
        "parent_is_remote": s.parent_remote,
        "depth": depth,
        "name": s.name,
        "kind": s.kind,
        "start_unix_nano": unix(s.start),
        "end_unix_nano": unix(s.end),
        "duration_ns": nanos(s.duration()),
        "status": {
            "code": s.status.as_str(),
            "message": match &s.status { SpanStatus::Error(m) => m.as_str(), _ => "" },
        },
        "attributes": object(&s.attributes),
        "events": s.events.iter().map(|e| json!({
            "name": e.name,
            "time_unix_nano": unix(e.time),
            "attributes": object(&e.attributes),
        })).collect::<Vec<_>>(),
        "links": s.links.iter().map(|(trace, span)| json!({
            "trace_id": trace.to_string(),
            "span_id": span.to_string(),
        })).collect::<Vec<_>>(),
        "scope": s.scope,
    })
}

fn object(pairs: &[(String, String)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect::<Map<_, _>>(),
    )
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn unix(t: SystemTime) -> u64 {
    nanos(t.duration_since(UNIX_EPOCH).unwrap_or_default())
}
