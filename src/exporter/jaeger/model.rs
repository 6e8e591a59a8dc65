//! The Jaeger Thrift model (`jaeger.thrift`: Batch, Process, Span, Tag, Log,
//! SpanRef) and the `Agent.emitBatch` one-way message (`agent.thrift`), written by
//! hand from the IDL. Field ids and types are the IDL's; names are not sent by
//! the binary or compact protocols, so none are allocated.

use std::borrow::Cow;

use super::protocol::{Binary, Compact, Protocol, Type};

/// `enum TagType { STRING, DOUBLE, BOOL, LONG, BINARY }`, with the value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TagValue<'a> {
    Str(Cow<'a, str>),
    Double(f64),
    Bool(bool),
    Long(i64),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tag<'a> {
    pub(crate) key: Cow<'a, str>,
    pub(crate) value: TagValue<'a>,
}

pub(crate) struct Log<'a> {
    pub(crate) timestamp: i64,
    pub(crate) fields: Vec<Tag<'a>>,
}

/// `enum SpanRefType { CHILD_OF, FOLLOWS_FROM }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefType {
    ChildOf = 0,
    FollowsFrom = 1,
}

pub(crate) struct SpanRef {
    pub(crate) ref_type: RefType,
    pub(crate) trace_id_low: i64,
    pub(crate) trace_id_high: i64,
    pub(crate) span_id: i64,
}

pub(crate) struct Span<'a> {
    pub(crate) trace_id_low: i64,
    pub(crate) trace_id_high: i64,
    pub(crate) span_id: i64,
    pub(crate) parent_span_id: i64,
    pub(crate) operation_name: &'a str,
    pub(crate) references: &'a [SpanRef],
    pub(crate) flags: i32,
    pub(crate) start_time: i64,
    pub(crate) duration: i64,
    pub(crate) tags: &'a [Tag<'a>],
    /// Tags written once for many spans (a scope's), after `tags`.
    pub(crate) written_tags: &'a WrittenTags,
    pub(crate) logs: Vec<Log<'a>>,
}

/// Tags encoded once in both protocols, to be appended to many spans' tag
/// lists: a struct's encoding does not depend on what precedes it (each
/// starts its field ids afresh). A scope's four tags are written once a batch
/// instead of for every span (`benches/peers`: `callgrind.py --export`).
#[derive(Debug, Default)]
pub(crate) struct WrittenTags {
    pub(crate) count: usize,
    pub(crate) compact: Vec<u8>,
    pub(crate) binary: Vec<u8>,
}

/// No tags.
pub(crate) static NO_TAGS: WrittenTags = WrittenTags {
    count: 0,
    compact: Vec::new(),
    binary: Vec::new(),
};

impl WrittenTags {
    pub(crate) fn new(tags: &[Tag<'_>]) -> Self {
        let mut compact = Compact::new(Vec::new());
        let mut binary = Binary::new(Vec::new());
        for tag in tags {
            tag.write(&mut compact);
            tag.write(&mut binary);
        }
        WrittenTags {
            count: tags.len(),
            compact: compact.into_inner(),
            binary: binary.into_inner(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Process {
    pub(crate) service_name: String,
    pub(crate) tags: Vec<Tag<'static>>,
}

fn i64_field(o: &mut impl Protocol, id: i16, v: i64) {
    o.field(Type::I64, id);
    o.i64(v);
}

fn list_field<P: Protocol, T>(o: &mut P, id: i16, items: &[T], write: impl Fn(&mut P, &T)) {
    o.field(Type::List, id);
    o.list_begin(Type::Struct, items.len());
    for item in items {
        write(o, item);
    }
}

impl Tag<'_> {
    fn write(&self, o: &mut impl Protocol) {
        o.struct_begin();
        o.field(Type::String, 1);
        o.string(&self.key);
        let vtype = match self.value {
            TagValue::Str(_) => 0,
            TagValue::Double(_) => 1,
            TagValue::Bool(_) => 2,
            TagValue::Long(_) => 3,
        };
        o.field(Type::I32, 2);
        o.i32(vtype);
        match &self.value {
            TagValue::Str(s) => {
                o.field(Type::String, 3);
                o.string(s);
            }
            TagValue::Double(d) => {
                o.field(Type::Double, 4);
                o.double(*d);
            }
            TagValue::Bool(b) => o.bool_field(5, *b),
            TagValue::Long(l) => i64_field(o, 6, *l),
        }
        o.struct_end();
    }
}

impl Log<'_> {
    fn write<P: Protocol>(&self, o: &mut P) {
        o.struct_begin();
        i64_field(o, 1, self.timestamp);
        list_field(o, 2, &self.fields, |o, t| t.write(o));
        o.struct_end();
    }
}

impl SpanRef {
    fn write(&self, o: &mut impl Protocol) {
        o.struct_begin();
        o.field(Type::I32, 1);
        o.i32(self.ref_type as i32);
        i64_field(o, 2, self.trace_id_low);
        i64_field(o, 3, self.trace_id_high);
        i64_field(o, 4, self.span_id);
        o.struct_end();
    }
}

impl Span<'_> {
    fn write<P: Protocol>(&self, o: &mut P) {
        o.struct_begin();
        i64_field(o, 1, self.trace_id_low);
        i64_field(o, 2, self.trace_id_high);
        i64_field(o, 3, self.span_id);
        i64_field(o, 4, self.parent_span_id);
        o.field(Type::String, 5);
        o.string(self.operation_name);
        if !self.references.is_empty() {
            list_field(o, 6, self.references, |o, r| r.write(o));
        }
        o.field(Type::I32, 7);
        o.i32(self.flags);
        i64_field(o, 8, self.start_time);
        i64_field(o, 9, self.duration);
        let tags = self.tags.len() + self.written_tags.count;
        if tags > 0 {
            o.field(Type::List, 10);
            o.list_begin(Type::Struct, tags);
            for tag in self.tags {
                tag.write(o);
            }
            o.raw(P::pick(
                &self.written_tags.compact,
                &self.written_tags.binary,
            ));
        }
        if !self.logs.is_empty() {
            list_field(o, 11, &self.logs, |o, l| l.write(o));
        }
        o.struct_end();
    }
}

impl Process {
    fn write<P: Protocol>(&self, o: &mut P) {
        o.struct_begin();
        o.field(Type::String, 1);
        o.string(&self.service_name);
        if !self.tags.is_empty() {
            list_field(o, 2, &self.tags, |o, t| t.write(o));
        }
        o.struct_end();
    }
}

/// `struct Batch { 1: Process process, 2: list<Span> spans }`.
pub(crate) fn write_batch<P: Protocol>(o: &mut P, process: &Process, spans: &[Span<'_>]) {
    o.struct_begin();
    o.field(Type::Struct, 1);
    process.write(o);
    list_field(o, 2, spans, |o, s| s.write(o));
    o.struct_end();
}

/// `oneway void emitBatch(1: jaeger.Batch batch)` as a complete message.
pub(crate) fn write_emit_batch<P: Protocol>(
    o: &mut P,
    sequence_number: i32,
    process: &Process,
    spans: &[Span<'_>],
) {
    write_emit_batch_head(o, sequence_number, process, spans.len());
    for span in spans {
        span.write(o);
    }
    write_emit_batch_tail(o);
}

/// An `emitBatch` message up to the header of its list of `span_count` spans:
/// the spans follow as list elements, then [`write_emit_batch_tail`]. Apart so
/// that spans encoded once can be packed into several messages (a span's
/// encoding does not depend on what precedes it: each struct starts its field
/// ids afresh).
pub(crate) fn write_emit_batch_head<P: Protocol>(
    o: &mut P,
    sequence_number: i32,
    process: &Process,
    span_count: usize,
) {
    o.oneway_message_begin("emitBatch", sequence_number);
    // The call's arguments are a struct whose field 1 is the batch.
    o.struct_begin();
    o.field(Type::Struct, 1);
    o.struct_begin();
    o.field(Type::Struct, 1);
    process.write(o);
    o.field(Type::List, 2);
    o.list_begin(Type::Struct, span_count);
}

/// Closes what [`write_emit_batch_head`] opened: the batch, then the arguments.
pub(crate) fn write_emit_batch_tail<P: Protocol>(o: &mut P) {
    o.struct_end();
    o.struct_end();
}

/// One span as a list element (see [`write_emit_batch_head`]).
pub(crate) fn write_span<P: Protocol>(o: &mut P, span: &Span<'_>) {
    span.write(o);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(key: &'static str, value: &'static str) -> Tag<'static> {
        Tag {
            key: Cow::Borrowed(key),
            value: TagValue::Str(Cow::Borrowed(value)),
        }
    }

    fn span<'a>(tags: &'a [Tag<'a>], written_tags: &'a WrittenTags) -> Span<'a> {
        Span {
            trace_id_low: 1,
            trace_id_high: 2,
            span_id: 3,
            parent_span_id: 4,
            operation_name: "GET /x",
            references: &[],
            flags: 1,
            start_time: 1_700_000_000_000_000,
            duration: 5,
            tags,
            written_tags,
            logs: vec![Log {
                timestamp: 6,
                fields: vec![tag("event", "e")],
            }],
        }
    }

    fn bytes<P: Protocol>(mut o: P, span: &Span<'_>, done: impl Fn(P) -> Vec<u8>) -> Vec<u8> {
        // Inside a list of spans, as the batches write it, after other fields.
        o.struct_begin();
        o.field(Type::I64, 9);
        o.i64(7);
        write_span(&mut o, span);
        o.struct_end();
        done(o)
    }

    /// Tags written once and appended give the bytes the same tags written in
    /// the span's own list give, in both protocols, whatever the span's own.
    #[test]
    fn written_tags_are_the_same_bytes_as_the_span_s_own() {
        let scope = [tag("otel.scope.name", "s"), tag("otel.scope.version", "1")];
        let written = WrittenTags::new(&scope);
        for own in [
            vec![],
            vec![tag("http.method", "GET"), tag("span.kind", "server")],
        ] {
            let mut all = own.clone();
            all.extend(scope.iter().cloned());
            let (appended, inline) = (span(&own, &written), span(&all, &NO_TAGS));
            let compact = |o: Compact| o.into_inner();
            let binary = |o: Binary| o.into_inner();
            assert_eq!(
                bytes(Compact::new(Vec::new()), &appended, compact),
                bytes(Compact::new(Vec::new()), &inline, compact)
            );
            assert_eq!(
                bytes(Binary::new(Vec::new()), &appended, binary),
                bytes(Binary::new(Vec::new()), &inline, binary)
            );
        }
        let none = span(&[], &NO_TAGS);
        let mut o = Compact::new(Vec::new());
        write_span(&mut o, &none);
        assert!(!o.into_inner().is_empty());
    }
}
