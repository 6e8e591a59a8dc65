//! Spans (their [`SpanView`]s) -> OTLP `ExportTraceServiceRequest` protobuf, written straight from the
//! spans into one buffer. Field numbers and wire types are those of the
//! opentelemetry-proto `.proto` files (collector/trace/v1, trace/v1, common/v1,
//! resource/v1). A nested message is prefixed with its length, which is
//! measured once its body is written: room for the length's usual number of
//! bytes is left before the body, which moves only when the length takes
//! another number. Nothing is built twice, no message is walked twice, and no
//! intermediate message structs or string copies exist.

use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status};
use opentelemetry::{Array, InstrumentationScope, Value};
use opentelemetry_sdk::Resource;

use crate::exporter::body_size::BodySize;
use crate::exporter::per_scope::PerScope;
use crate::record::SpanView;
use crate::record::{Attributes, ValueRef};

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const FIXED32: u8 = 5;

/// `SpanFlags`: the flags field says whether the parent was remote.
const CONTEXT_HAS_IS_REMOTE: u32 = 0x100;
const CONTEXT_IS_REMOTE: u32 = 0x200;

/// Encodes requests for one resource, which is encoded once when set.
#[derive(Debug, Clone)]
pub(crate) struct Encoder {
    /// The `Resource` message body.
    resource: Vec<u8>,
    schema_url: Option<String>,
    size: BodySize,
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder {
            resource: Vec::new(),
            schema_url: None,
            // A server span with its attributes takes ~250 bytes.
            size: BodySize::new(256),
        }
    }
}

/// Bytes a span's length usually takes (a span of 128 bytes to 16 KiB).
const SPAN_LENGTH: usize = 2;
/// Bytes a batch's lengths usually take (16 KiB to 2 MiB: dozens of spans or
/// more; a smaller batch moves its body by a byte or two, once).
const BATCH_LENGTH: usize = 3;
/// Bytes the length of an event, a link or a status usually takes.
const SMALL_LENGTH: usize = 1;

impl Encoder {
    pub(crate) fn set_resource(&mut self, resource: &Resource) {
        let mut out = Vec::new();
        for (key, value) in resource.iter() {
            write_key_value(&mut out, 1, key.as_str(), ValueRef::Value(value));
        }
        self.resource = out;
        self.schema_url = resource.schema_url().map(str::to_owned);
    }

    /// One `ExportTraceServiceRequest` holding `batch` under this resource, grouped
    /// by instrumentation scope.
    pub(crate) fn encode(&self, batch: &[SpanView<'_>]) -> Vec<u8> {
        let mut groups: PerScope<'_, Vec<&SpanView<'_>>> = PerScope::new();
        for span in batch {
            groups
                .get_or_insert_with(span.instrumentation_scope, |_| Vec::new())
                .push(span);
        }
        let mut out = Vec::with_capacity(self.size.capacity(batch.len()));
        // ExportTraceServiceRequest { 1: ResourceSpans { 1: resource,
        // 2: ScopeSpans { 1: scope, 2: spans, 3: schema_url }, 3: schema_url } }
        nested(&mut out, 1, BATCH_LENGTH, |out| {
            message_header(out, 1, self.resource.len());
            out.extend_from_slice(&self.resource);
            for (scope, spans) in groups.iter() {
                nested(out, 2, BATCH_LENGTH, |out| {
                    nested(out, 1, SMALL_LENGTH, |out| write_scope(out, scope));
                    for span in spans {
                        nested(out, 2, SPAN_LENGTH, |out| write_span(out, span));
                    }
                    if let Some(url) = scope.schema_url() {
                        string_field(out, 3, url);
                    }
                });
            }
            if let Some(url) = &self.schema_url {
                string_field(out, 3, url);
            }
        });
        self.size.learn(batch.len(), out.len());
        out
    }
}

/// A length-delimited field whose body `body` writes: `guess` bytes are left
/// for its length, and the body moves only if the length takes another
/// number of bytes. Measuring each message before writing it walked every
/// span twice (`benches/peers`: `callgrind.py --export otlp`).
#[inline]
fn nested(out: &mut Vec<u8>, field: u32, guess: usize, body: impl FnOnce(&mut Vec<u8>)) {
    key(out, field, LEN);
    let at = out.len();
    out.resize(at + guess, 0);
    body(out);
    let len = out.len() - at - guess;
    let mut v = len as u64;
    let need = varint_len(v);
    if need != guess {
        out.splice(at..at + guess, std::iter::repeat_n(0, need));
    }
    for (i, byte) in out[at..at + need].iter_mut().enumerate() {
        *byte = (v as u8 & 0x7f) | if i + 1 < need { 0x80 } else { 0 };
        v >>= 7;
    }
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn varint_len(v: u64) -> usize {
    // 1 byte per started group of 7 bits; zero still takes one byte.
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

fn key(out: &mut Vec<u8>, field: u32, wire: u8) {
    varint(out, u64::from(field << 3 | u32::from(wire)));
}

/// Bytes of a field key: every field number used here is below 16.
const KEY_LEN: usize = 1;

/// A length-delimited field; `field` is there for the reader (all keys are 1 byte).
fn nested_len(_field: u32, len: usize) -> usize {
    KEY_LEN + varint_len(len as u64) + len
}

fn message_header(out: &mut Vec<u8>, field: u32, len: usize) {
    key(out, field, LEN);
    varint(out, len as u64);
}

fn bytes_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    message_header(out, field, bytes.len());
    out.extend_from_slice(bytes);
}

fn string_field(out: &mut Vec<u8>, field: u32, s: &str) {
    bytes_field(out, field, s.as_bytes());
}

fn string_len(field: u32, s: &str) -> usize {
    nested_len(field, s.len())
}

fn uint_field(out: &mut Vec<u8>, field: u32, v: u64) {
    key(out, field, VARINT);
    varint(out, v);
}

fn uint_len(v: u64) -> usize {
    KEY_LEN + varint_len(v)
}

fn fixed64_field(out: &mut Vec<u8>, field: u32, v: u64) {
    key(out, field, FIXED64);
    out.extend_from_slice(&v.to_le_bytes());
}

fn fixed32_field(out: &mut Vec<u8>, field: u32, v: u32) {
    key(out, field, FIXED32);
    out.extend_from_slice(&v.to_le_bytes());
}

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

// AnyValue: 1 string, 2 bool, 3 int, 4 double, 5 array. A oneof member is written
// even when it holds its type's default, so "" and 0 stay distinguishable from unset.
#[inline]
fn write_any_value(out: &mut Vec<u8>, value: ValueRef<'_>) {
    match value {
        ValueRef::Text(s) => string_field(out, 1, s),
        ValueRef::Value(v) => write_value(out, v),
    }
}

fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Bool(b) => uint_field(out, 2, u64::from(*b)),
        Value::I64(i) => uint_field(out, 3, *i as u64),
        Value::F64(f) => fixed64_field(out, 4, f.to_bits()),
        Value::String(s) => string_field(out, 1, s.as_str()),
        Value::Array(a) => nested(out, 5, SMALL_LENGTH, |out| write_array(out, a)),
        other => string_field(out, 1, &other.to_string()),
    }
}

// ArrayValue: 1 repeated AnyValue.
fn write_array(out: &mut Vec<u8>, array: &Array) {
    match array {
        Array::Bool(v) => v.iter().for_each(|b| {
            message_header(out, 1, KEY_LEN + 1);
            uint_field(out, 2, u64::from(*b));
        }),
        Array::I64(v) => v.iter().for_each(|i| {
            message_header(out, 1, uint_len(*i as u64));
            uint_field(out, 3, *i as u64);
        }),
        Array::F64(v) => v.iter().for_each(|f| {
            message_header(out, 1, KEY_LEN + 8);
            fixed64_field(out, 4, f.to_bits());
        }),
        Array::String(v) => v.iter().for_each(|s| {
            message_header(out, 1, string_len(1, s.as_str()));
            string_field(out, 1, s.as_str());
        }),
        _ => {}
    }
}

/// A `KeyValue` whose value is a string or an integer, when the whole message
/// is shorter than 128 bytes (nearly every attribute): then every length in it
/// is one byte, and the message is a few slices. The same bytes as the general
/// path (`write_any_key_value`, which the unit test below holds it to), for
/// less on OTLP's export side (`benches/peers`: `callgrind.py --export otlp`):
/// the general path pushes a byte at a time through the varint writer.
#[inline]
fn write_short(out: &mut Vec<u8>, field: u32, key: &str, value: ValueRef<'_>) -> bool {
    // AnyValue { 1: string } or { 3: int }.
    let (text, int) = match value {
        ValueRef::Text(s) => (Some(s), 0),
        ValueRef::Value(Value::String(s)) => (Some(s.as_str()), 0),
        ValueRef::Value(Value::I64(i)) => (None, *i as u64),
        ValueRef::Value(_) => return false,
    };
    let any_len = match text {
        Some(text) => KEY_LEN + 1 + text.len(),
        None => uint_len(int),
    };
    // KeyValue { 1: key, 2: AnyValue }.
    let key_value_len = KEY_LEN + 1 + key.len() + KEY_LEN + 1 + any_len;
    if key_value_len >= 0x80 {
        return false;
    }
    let tag = |field: u32, wire: u8| (field << 3 | u32::from(wire)) as u8;
    out.extend_from_slice(&[
        tag(field, LEN),
        key_value_len as u8,
        tag(1, LEN),
        key.len() as u8,
    ]);
    out.extend_from_slice(key.as_bytes());
    match text {
        Some(text) => {
            out.extend_from_slice(&[tag(2, LEN), any_len as u8, tag(1, LEN), text.len() as u8]);
            out.extend_from_slice(text.as_bytes());
        }
        None => {
            out.extend_from_slice(&[tag(2, LEN), any_len as u8, tag(3, VARINT)]);
            varint(out, int);
        }
    }
    true
}

/// A `KeyValue` message (1 key, 2 value) in `field`, header included.
fn write_key_value(out: &mut Vec<u8>, field: u32, key: &str, value: ValueRef<'_>) {
    if !write_short(out, field, key, value) {
        write_any_key_value(out, field, key, value);
    }
}

/// [`write_key_value`] for every value, lengths of any size.
fn write_any_key_value(out: &mut Vec<u8>, field: u32, key: &str, value: ValueRef<'_>) {
    nested(out, field, SMALL_LENGTH, |out| {
        string_field(out, 1, key);
        nested(out, 2, SMALL_LENGTH, |out| write_any_value(out, value));
    });
}

fn write_attributes(out: &mut Vec<u8>, field: u32, attributes: Attributes<'_>) {
    attributes.for_each(|a| write_key_value(out, field, a.key, a.value));
}

// InstrumentationScope: 1 name, 2 version, 3 attributes.
fn write_scope(out: &mut Vec<u8>, scope: &InstrumentationScope) {
    if !scope.name().is_empty() {
        string_field(out, 1, scope.name());
    }
    if let Some(version) = scope.version() {
        string_field(out, 2, version);
    }
    for kv in scope.attributes() {
        write_key_value(out, 3, kv.key.as_str(), ValueRef::Value(&kv.value));
    }
}

fn kind(kind: &SpanKind) -> u64 {
    match kind {
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    }
}

fn flags(context: &SpanContext, remote: bool) -> u32 {
    let base = u32::from(context.trace_flags().to_u8()) | CONTEXT_HAS_IS_REMOTE;
    if remote {
        base | CONTEXT_IS_REMOTE
    } else {
        base
    }
}

// Status: 2 message, 3 code (UNSET 0, OK 1, ERROR 2).

fn write_status(out: &mut Vec<u8>, status: &Status) {
    match status {
        Status::Unset => {}
        Status::Ok => uint_field(out, 3, 1),
        Status::Error { description } => {
            if !description.is_empty() {
                string_field(out, 2, description);
            }
            uint_field(out, 3, 2);
        }
    }
}

// Span.Event: 1 time_unix_nano, 2 name, 3 attributes, 4 dropped_attributes_count.

fn write_event(out: &mut Vec<u8>, e: &opentelemetry::trace::Event) {
    fixed64_field(out, 1, nanos(e.timestamp));
    if !e.name.is_empty() {
        string_field(out, 2, &e.name);
    }
    write_attributes(out, 3, Attributes::List(&e.attributes));
    write_dropped(out, 4, e.dropped_attributes_count);
}

// Span.Link: 1 trace_id, 2 span_id, 3 trace_state, 4 attributes,
// 5 dropped_attributes_count, 6 flags.

fn write_link(out: &mut Vec<u8>, l: &opentelemetry::trace::Link) {
    bytes_field(out, 1, &l.span_context.trace_id().to_bytes());
    bytes_field(out, 2, &l.span_context.span_id().to_bytes());
    let state = l.span_context.trace_state().header();
    if !state.is_empty() {
        string_field(out, 3, &state);
    }
    write_attributes(out, 4, Attributes::List(&l.attributes));
    write_dropped(out, 5, l.dropped_attributes_count);
    fixed32_field(out, 6, flags(&l.span_context, l.span_context.is_remote()));
}

fn write_dropped(out: &mut Vec<u8>, field: u32, count: u32) {
    if count > 0 {
        uint_field(out, field, u64::from(count));
    }
}

// Span: 1 trace_id, 2 span_id, 3 trace_state, 4 parent_span_id, 5 name, 6 kind,
// 7 start_time_unix_nano, 8 end_time_unix_nano, 9 attributes,
// 10 dropped_attributes_count, 11 events, 12 dropped_events_count, 13 links,
// 14 dropped_links_count, 15 status, 16 flags.

fn write_span(out: &mut Vec<u8>, s: &SpanView<'_>) {
    bytes_field(out, 1, &s.span_context.trace_id().to_bytes());
    bytes_field(out, 2, &s.span_context.span_id().to_bytes());
    let trace_state = s.span_context.trace_state().header();
    if !trace_state.is_empty() {
        string_field(out, 3, &trace_state);
    }
    if s.parent_span_id != SpanId::INVALID {
        bytes_field(out, 4, &s.parent_span_id.to_bytes());
    }
    if !s.name.is_empty() {
        string_field(out, 5, s.name);
    }
    uint_field(out, 6, kind(s.span_kind));
    fixed64_field(out, 7, nanos(s.start_time));
    fixed64_field(out, 8, nanos(s.end_time));
    write_attributes(out, 9, s.attributes);
    write_dropped(out, 10, s.dropped_attributes_count);
    for e in s.events.iter() {
        nested(out, 11, SMALL_LENGTH, |out| write_event(out, e));
    }
    write_dropped(out, 12, s.dropped_events_count);
    for l in s.links.iter() {
        nested(out, 13, SMALL_LENGTH, |out| write_link(out, l));
    }
    write_dropped(out, 14, s.dropped_links_count);
    nested(out, 15, SMALL_LENGTH, |out| write_status(out, s.status));
    // Field 16 takes a two-byte key.
    varint(out, u64::from(16u32 << 3 | u32::from(FIXED32)));
    out.extend_from_slice(&flags(s.span_context, s.parent_span_is_remote).to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_lengths() {
        for v in [
            0u64,
            1,
            127,
            128,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut out = Vec::new();
            varint(&mut out, v);
            assert_eq!(out.len(), varint_len(v), "{v}");
        }
        let mut out = Vec::new();
        varint(&mut out, 300);
        assert_eq!(out, [0xAC, 0x02]);
    }

    /// The short path writes what the general one does, on both sides of its
    /// 128-byte limit, for texts, SDK strings and integers.
    #[test]
    fn short_key_values_are_written_as_the_general_path_writes_them() {
        let mut fast_taken = 0;
        for key_len in [0, 1, 9, 60, 119, 120, 121, 127, 128, 300] {
            for text_len in [0, 1, 2, 50, 115, 116, 117, 118, 127, 128, 200] {
                let key = "k".repeat(key_len);
                let text = "é".repeat(text_len / 2) + &"t".repeat(text_len % 2);
                let sdk = Value::from(text.clone());
                let int = Value::I64(-(1i64 << (text_len % 63)));
                let small = Value::I64(text_len as i64);
                let values = [
                    ValueRef::Text(&text),
                    ValueRef::Value(&sdk),
                    ValueRef::Value(&int),
                    ValueRef::Value(&small),
                ];
                for value in values {
                    let mut general = Vec::new();
                    write_any_key_value(&mut general, 9, &key, value);
                    let mut out = Vec::new();
                    write_key_value(&mut out, 9, &key, value);
                    assert_eq!(out, general, "key {key_len}, text {text_len}");
                    fast_taken += usize::from(write_short(&mut Vec::new(), 9, &key, value));
                }
            }
        }
        assert!(fast_taken > 0 && fast_taken < 440, "{fast_taken}");
        // Neither a string nor an integer: the general path.
        let other = Value::F64(0.5);
        assert!(!write_short(
            &mut Vec::new(),
            9,
            "f",
            ValueRef::Value(&other)
        ));
    }
}
