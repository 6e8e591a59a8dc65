//! The Jaeger Thrift model (`jaeger.thrift`: Batch, Process, Span, Tag, Log,
//! SpanRef) and the `Agent.emitBatch` one-way message (`agent.thrift`), written by
//! hand from the IDL. Field ids and types are the IDL's; names are not sent by
//! the binary or compact protocols, so none are allocated.

use std::borrow::Cow;

use thrift::protocol::{
    TFieldIdentifier, TListIdentifier, TMessageIdentifier, TMessageType, TOutputProtocol,
    TStructIdentifier, TType,
};

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
    pub(crate) references: Vec<SpanRef>,
    pub(crate) flags: i32,
    pub(crate) start_time: i64,
    pub(crate) duration: i64,
    pub(crate) tags: Vec<Tag<'a>>,
    pub(crate) logs: Vec<Log<'a>>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Process {
    pub(crate) service_name: String,
    pub(crate) tags: Vec<Tag<'static>>,
}

type Out<'o> = &'o mut dyn TOutputProtocol;

fn begin_struct(o: Out<'_>) -> thrift::Result<()> {
    o.write_struct_begin(&TStructIdentifier {
        name: String::new(),
    })
}

fn end_struct(o: Out<'_>) -> thrift::Result<()> {
    o.write_field_stop()?;
    o.write_struct_end()
}

fn field(o: Out<'_>, field_type: TType, id: i16) -> thrift::Result<()> {
    o.write_field_begin(&TFieldIdentifier {
        name: None,
        field_type,
        id: Some(id),
    })
}

fn i64_field(o: Out<'_>, id: i16, v: i64) -> thrift::Result<()> {
    field(o, TType::I64, id)?;
    o.write_i64(v)?;
    o.write_field_end()
}

fn list_field<T>(
    o: Out<'_>,
    id: i16,
    items: &[T],
    write: impl Fn(Out<'_>, &T) -> thrift::Result<()>,
) -> thrift::Result<()> {
    field(o, TType::List, id)?;
    o.write_list_begin(&TListIdentifier::new(TType::Struct, items.len() as i32))?;
    for item in items {
        write(o, item)?;
    }
    o.write_list_end()?;
    o.write_field_end()
}

impl Tag<'_> {
    fn write(&self, o: Out<'_>) -> thrift::Result<()> {
        begin_struct(o)?;
        field(o, TType::String, 1)?;
        o.write_string(&self.key)?;
        o.write_field_end()?;
        let vtype = match self.value {
            TagValue::Str(_) => 0,
            TagValue::Double(_) => 1,
            TagValue::Bool(_) => 2,
            TagValue::Long(_) => 3,
        };
        field(o, TType::I32, 2)?;
        o.write_i32(vtype)?;
        o.write_field_end()?;
        match &self.value {
            TagValue::Str(s) => {
                field(o, TType::String, 3)?;
                o.write_string(s)?;
            }
            TagValue::Double(d) => {
                field(o, TType::Double, 4)?;
                o.write_double(*d)?;
            }
            TagValue::Bool(b) => {
                field(o, TType::Bool, 5)?;
                o.write_bool(*b)?;
            }
            TagValue::Long(l) => {
                field(o, TType::I64, 6)?;
                o.write_i64(*l)?;
            }
        }
        o.write_field_end()?;
        end_struct(o)
    }
}

impl Log<'_> {
    fn write(&self, o: Out<'_>) -> thrift::Result<()> {
        begin_struct(o)?;
        i64_field(o, 1, self.timestamp)?;
        list_field(o, 2, &self.fields, |o, t| t.write(o))?;
        end_struct(o)
    }
}

impl SpanRef {
    fn write(&self, o: Out<'_>) -> thrift::Result<()> {
        begin_struct(o)?;
        field(o, TType::I32, 1)?;
        o.write_i32(self.ref_type as i32)?;
        o.write_field_end()?;
        i64_field(o, 2, self.trace_id_low)?;
        i64_field(o, 3, self.trace_id_high)?;
        i64_field(o, 4, self.span_id)?;
        end_struct(o)
    }
}

impl Span<'_> {
    fn write(&self, o: Out<'_>) -> thrift::Result<()> {
        begin_struct(o)?;
        i64_field(o, 1, self.trace_id_low)?;
        i64_field(o, 2, self.trace_id_high)?;
        i64_field(o, 3, self.span_id)?;
        i64_field(o, 4, self.parent_span_id)?;
        field(o, TType::String, 5)?;
        o.write_string(self.operation_name)?;
        o.write_field_end()?;
        if !self.references.is_empty() {
            list_field(o, 6, &self.references, |o, r| r.write(o))?;
        }
        field(o, TType::I32, 7)?;
        o.write_i32(self.flags)?;
        o.write_field_end()?;
        i64_field(o, 8, self.start_time)?;
        i64_field(o, 9, self.duration)?;
        if !self.tags.is_empty() {
            list_field(o, 10, &self.tags, |o, t| t.write(o))?;
        }
        if !self.logs.is_empty() {
            list_field(o, 11, &self.logs, |o, l| l.write(o))?;
        }
        end_struct(o)
    }
}

impl Process {
    fn write(&self, o: Out<'_>) -> thrift::Result<()> {
        begin_struct(o)?;
        field(o, TType::String, 1)?;
        o.write_string(&self.service_name)?;
        o.write_field_end()?;
        if !self.tags.is_empty() {
            list_field(o, 2, &self.tags, |o, t| t.write(o))?;
        }
        end_struct(o)
    }
}

/// `struct Batch { 1: Process process, 2: list<Span> spans }`.
pub(crate) fn write_batch(o: Out<'_>, process: &Process, spans: &[Span<'_>]) -> thrift::Result<()> {
    begin_struct(o)?;
    field(o, TType::Struct, 1)?;
    process.write(o)?;
    o.write_field_end()?;
    list_field(o, 2, spans, |o, s| s.write(o))?;
    end_struct(o)
}

/// `oneway void emitBatch(1: jaeger.Batch batch)` as a complete message.
pub(crate) fn write_emit_batch(
    o: Out<'_>,
    sequence_number: i32,
    process: &Process,
    spans: &[Span<'_>],
) -> thrift::Result<()> {
    o.write_message_begin(&TMessageIdentifier::new(
        "emitBatch",
        TMessageType::OneWay,
        sequence_number,
    ))?;
    // The call's arguments are a struct whose field 1 is the batch.
    begin_struct(o)?;
    field(o, TType::Struct, 1)?;
    write_batch(o, process, spans)?;
    o.write_field_end()?;
    end_struct(o)?;
    o.write_message_end()?;
    o.flush()
}
