//! OpenTelemetry span -> Zipkin v2 span, following the OpenTelemetry Zipkin
//! exporter specification and BentoML's Python exporter where it is silent.

use std::net::IpAddr;

use opentelemetry::trace::{SpanId, SpanKind, Status};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::Resource;

use super::model::{written_tags, Annotation, Endpoint, Entry, Hex, Span, Tag, Tags};
use crate::exporter::body_size::BodySize;
use crate::exporter::per_scope::PerScope;
use crate::exporter::tags::{epoch_micros, scope_tags, split_resource, status_code};
use crate::record::kind_name;
use crate::record::SpanView;
use crate::record::ValueRef;

/// Everything span-independent: the local endpoint and the resource tags.
#[derive(Debug, Clone)]
pub(crate) struct Encoder {
    pub(crate) local: Endpoint,
    /// `local` as JSON, rendered when it changes.
    local_json: Vec<u8>,
    /// Zipkin has no resource: its attributes, but `service.name`, go on every span.
    pub(crate) resource_tags: Vec<(String, String)>,
    /// `resource_tags` written once: about a third of a span's strings, for
    /// every span (`Entry::Written`).
    resource_json: Vec<u8>,
    /// The bodies' size.
    body: BodySize,
    /// A resource tag has the key of a scope or status tag, which would
    /// replace it: every tag then goes through `Tags::insert`.
    resource_reserved: bool,
    /// Whether runs of tags are written once (off only to test that it
    /// changes no byte).
    #[cfg(test)]
    written_runs: bool,
}

/// The keys of `scope_tags`.
const SCOPE_KEYS: [&str; 4] = [
    "otel.library.name",
    "otel.scope.name",
    "otel.library.version",
    "otel.scope.version",
];

/// The keys of the status tags.
const STATUS_KEYS: [&str; 2] = ["otel.status_code", "error"];

/// A span's bytes in Zipkin JSON before the first body says.
const JSON_SPAN_BYTES: usize = 640;

impl Encoder {
    pub(crate) fn new(local: Endpoint) -> Self {
        let mut encoder = Encoder {
            local,
            local_json: Vec::new(),
            resource_tags: Vec::new(),
            resource_json: Vec::new(),
            resource_reserved: false,
            body: BodySize::new(JSON_SPAN_BYTES),
            #[cfg(test)]
            written_runs: true,
        };
        encoder.render_local();
        encoder
    }

    fn render_local(&mut self) {
        self.local_json.clear();
        self.local.write(&mut self.local_json);
    }

    pub(crate) fn set_resource(&mut self, resource: &Resource) {
        let (service_name, rest) = split_resource(resource);
        if service_name.is_some() {
            self.local.service_name = service_name;
        }
        self.resource_tags = rest
            .iter()
            .map(|(k, v)| (k.clone(), ValueRef::Value(v).text().into_owned()))
            .collect();
        self.resource_json = written_tags(
            self.resource_tags
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        self.resource_reserved = self
            .resource_tags
            .iter()
            .any(|(k, _)| SCOPE_KEYS.contains(&k.as_str()) || STATUS_KEYS.contains(&k.as_str()));
        self.render_local();
    }

    fn written_runs(&self) -> bool {
        #[cfg(test)]
        if !self.written_runs {
            return false;
        }
        !self.resource_reserved
    }

    /// A JSON `ListOfSpans`.
    pub(crate) fn encode(&self, batch: &[SpanView<'_>]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.capacity(batch.len()));
        // Each scope's tags, written once a batch.
        let mut scopes = PerScope::new();
        for span in batch {
            scopes.get_or_insert_with(span.instrumentation_scope, |scope| {
                written_tags(scope_tags(scope))
            });
        }
        // One list of tags for every span in turn: a list a span was an
        // allocation each, past the allocator's per-thread cache for a
        // server span's (`benches/peers`: `callgrind.py --export zipkin`).
        let mut tags = Vec::new();
        out.push(b'[');
        for (i, span) in batch.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let scope_json = scopes
                .get(span.instrumentation_scope)
                .map_or(&[][..], Vec::as_slice);
            let span = self.span(span, scope_json, tags);
            span.write(&mut out);
            tags = span.tags.entries;
            tags.clear();
        }
        out.push(b']');
        self.body.learn(batch.len(), out.len());
        out
    }

    /// `scope_json`: the span's scope tags, written.
    /// `tags`: an empty list for the span's tags.
    fn span<'a>(
        &'a self,
        s: &SpanView<'a>,
        scope_json: &'a [u8],
        mut tags: Vec<Entry<'a>>,
    ) -> Span<'a> {
        let start = epoch_micros(s.start_time);
        let end = epoch_micros(s.end_time);
        tags.reserve(s.attributes.len() + self.resource_tags.len() + 6);
        let mut tags = Tags::new(tags);
        // The tags every span of this exporter (or scope) carries are written
        // once, unless an attribute has one of their keys and so replaces it
        // (then they go through `insert`, as the rest).
        let written = self.written_runs();
        let (mut resource_run, mut scope_run) = (written, written);
        if written {
            s.attributes.for_each(|a| {
                let k = a.key;
                scope_run &= !(k.starts_with("otel.") && SCOPE_KEYS.contains(&k));
                resource_run &= !self.resource_tags.iter().any(|(r, _)| r == k);
            });
        }
        if resource_run {
            tags.push_written(&self.resource_json);
        } else {
            for (k, v) in &self.resource_tags {
                tags.insert(k.as_str(), v.as_str());
            }
        }
        s.attributes.for_each(|a| match a.value {
            ValueRef::Value(Value::I64(n)) => tags.insert(a.key, Tag::Int(*n)),
            other => tags.insert(a.key, other.text()),
        });
        if scope_run {
            tags.push_written(scope_json);
        } else {
            for (k, v) in scope_tags(s.instrumentation_scope) {
                tags.insert(k, v);
            }
        }
        if let Some(code) = status_code(s.status) {
            tags.insert("otel.status_code", code);
        }
        if let Status::Error { description } = s.status {
            tags.insert("error", description.as_ref());
        }
        let parent_id =
            (s.parent_span_id != SpanId::INVALID).then(|| Hex::new(&s.parent_span_id.to_bytes()));
        Span {
            trace_id: Hex::new(&s.span_context.trace_id().to_bytes()),
            parent_id,
            id: Hex::new(&s.span_context.span_id().to_bytes()),
            kind: kind(s.span_kind),
            name: s.name,
            timestamp: start,
            // The schema's minimum: a span that took no measurable time lasted 1µs.
            duration: end.saturating_sub(start).max(1),
            local_endpoint: &self.local_json,
            remote_endpoint: remote_endpoint(s),
            annotations: annotations(s),
            tags,
        }
    }
}

/// One annotation per event, but none twice: the Zipkin API has `uniqueItems` on
/// `annotations` (Zipkin merges equal ones itself), and two events with the same
/// name and attributes in the same microsecond would otherwise write one twice
/// (found by the encode_zipkin fuzzer).
fn annotations(s: &SpanView<'_>) -> Vec<Annotation> {
    let mut out: Vec<Annotation> = Vec::with_capacity(s.events.len());
    for e in s.events.iter() {
        let a = Annotation {
            timestamp: epoch_micros(e.timestamp),
            value: annotation_value(&e.name, &e.attributes),
        };
        if !out
            .iter()
            .any(|b| b.timestamp == a.timestamp && b.value == a.value)
        {
            out.push(a);
        }
    }
    out
}

/// Zipkin's kind: upper case, and none for INTERNAL (the schema has no such kind).
fn kind(kind: &SpanKind) -> Option<&'static str> {
    match kind_name(kind) {
        "server" => Some("SERVER"),
        "client" => Some("CLIENT"),
        "producer" => Some("PRODUCER"),
        "consumer" => Some("CONSUMER"),
        _ => None,
    }
}

/// The event name, or with attributes `{"name":{"key":"value",...}}` as the
/// OpenTelemetry Python exporter writes it.
fn annotation_value(name: &str, attributes: &[KeyValue]) -> String {
    if attributes.is_empty() {
        return name.to_owned();
    }
    let attrs: serde_json::Map<String, serde_json::Value> = attributes
        .iter()
        .map(|kv| {
            let v = match &kv.value {
                Value::Bool(b) => serde_json::Value::Bool(*b),
                Value::I64(i) => serde_json::Value::from(*i),
                Value::F64(f) => serde_json::Value::from(*f),
                other => serde_json::Value::String(ValueRef::Value(other).text().into_owned()),
            };
            (kv.key.as_str().to_owned(), v)
        })
        .collect();
    let mut outer = serde_json::Map::new();
    outer.insert(name.to_owned(), serde_json::Value::Object(attrs));
    serde_json::Value::Object(outer).to_string()
}

/// The peer of a server or client span, from `net.peer.ip` / `net.peer.port`.
fn remote_endpoint(s: &SpanView<'_>) -> Option<Endpoint> {
    if !matches!(s.span_kind, SpanKind::Server | SpanKind::Client) {
        return None;
    }
    let mut ep = Endpoint::default();
    s.attributes.for_each(|a| {
        match (a.key, a.value) {
            // A later value of the same key replaces an earlier one (as setting an
            // attribute again does), so one peer address, never one of each family.
            ("net.peer.ip", ip) => match ip.as_str().map(str::parse::<IpAddr>) {
                Some(Ok(IpAddr::V4(v4))) => (ep.ipv4, ep.ipv6) = (Some(v4), None),
                Some(Ok(IpAddr::V6(v6))) => (ep.ipv4, ep.ipv6) = (None, Some(v6)),
                _ => {}
            },
            ("net.peer.port", ValueRef::Value(Value::I64(p))) => {
                ep.port = u16::try_from(*p).ok().filter(|p| *p != 0)
            }
            _ => {}
        }
    });
    (ep != Endpoint::default()).then_some(ep)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use opentelemetry::trace::{SpanContext, TraceFlags, TraceId, TraceState};
    use opentelemetry::InstrumentationScope;
    use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};

    use super::*;
    use crate::record::batch_views;

    fn span(scope: &InstrumentationScope, attributes: Vec<KeyValue>, status: Status) -> SpanData {
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(7u128),
                SpanId::from(9u64),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Server,
            name: "GET /x".into(),
            start_time: UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            end_time: UNIX_EPOCH + Duration::from_secs(1_800_000_001),
            attributes,
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status,
            instrumentation_scope: scope.clone(),
        }
    }

    /// Tags written once (the resource's, a scope's) give the same bytes as
    /// tags inserted one by one, whichever keys the attributes share with them.
    #[test]
    fn written_runs_change_no_byte() {
        let ours = InstrumentationScope::builder("tower-otel-tracing").build();
        let handler = InstrumentationScope::builder("handler")
            .with_version("1.2")
            .build();
        let kv = |k: &'static str, v: &'static str| KeyValue::new(k, v);
        let batch = vec![
            span(&ours, vec![kv("http.method", "GET")], Status::Unset),
            span(&handler, vec![kv("deployment", "attr wins")], Status::Ok),
            span(&ours, vec![kv("otel.scope.name", "attr")], Status::Unset),
            span(&handler, vec![kv("error", "x")], Status::error("boom")),
            span(&ours, vec![kv("a", "1"), kv("a", "2")], Status::Unset),
            span(&ours, vec![], Status::Unset),
        ];
        let resources = [
            Resource::builder_empty().build(),
            Resource::builder_empty()
                .with_attribute(KeyValue::new("deployment", "prod"))
                .with_attribute(KeyValue::new("service.name", "svc"))
                .build(),
            Resource::builder_empty()
                .with_attribute(KeyValue::new("otel.scope.name", "resource"))
                .with_attribute(KeyValue::new("error", "resource"))
                .build(),
        ];
        for resource in &resources {
            let mut encoder = Encoder::new(Endpoint::default());
            encoder.set_resource(resource);
            let fast = encoder.encode(&batch_views(&batch));
            encoder.written_runs = false;
            let one_by_one = encoder.encode(&batch_views(&batch));
            assert_eq!(
                String::from_utf8(fast).unwrap(),
                String::from_utf8(one_by_one).unwrap()
            );
        }
    }
}
