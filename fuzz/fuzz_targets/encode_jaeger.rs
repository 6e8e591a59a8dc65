//! Arbitrary spans through our Jaeger Thrift writers, compact (`Agent.emitBatch`)
//! and binary (collector `Batch`), read back with the `thrift` crate's input
//! protocols into a generic tree that keeps every list in order (duplicates
//! included), and checked against the mapping in `exporter::jaeger::convert`:
//! trace id halves, signed span ids, CHILD_OF for a parent then FOLLOWS_FROM per
//! link, the sampled bit, microseconds, typed tags (attributes, `span.kind`,
//! status, scope), events as logs, and the resource as the process.
#![no_main]

mod common;

use std::io::Cursor;
use std::time::{SystemTime, UNIX_EPOCH};

use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use opentelemetry::trace::{SpanId, SpanKind, Status};
use opentelemetry::{Array, KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::trace::SpanExporter as _;
use thrift::protocol::{
    TBinaryInputProtocol, TCompactInputProtocol, TInputProtocol, TMessageType, TType,
};
use tower_otel_tracing::exporter::JaegerExporter;
use tower_otel_tracing::TracingConfig;

#[derive(Debug)]
enum T {
    Bool(bool),
    I32(i32),
    I64(i64),
    Double(f64),
    Bytes(Vec<u8>),
    Struct(Vec<(i16, T)>),
    List(Vec<T>),
}

fn read(p: &mut dyn TInputProtocol, ty: TType) -> T {
    match ty {
        TType::Bool => T::Bool(p.read_bool().unwrap()),
        TType::I32 => T::I32(p.read_i32().unwrap()),
        TType::I64 => T::I64(p.read_i64().unwrap()),
        TType::Double => T::Double(p.read_double().unwrap()),
        TType::String => T::Bytes(p.read_bytes().unwrap()),
        TType::Struct => T::Struct(read_struct(p)),
        TType::List => {
            let l = p.read_list_begin().unwrap();
            let items = (0..l.size).map(|_| read(p, l.element_type)).collect();
            p.read_list_end().unwrap();
            T::List(items)
        }
        other => panic!("Thrift type {other:?} is not in the Jaeger model"),
    }
}

fn read_struct(p: &mut dyn TInputProtocol) -> Vec<(i16, T)> {
    p.read_struct_begin().unwrap();
    let mut fields = Vec::new();
    loop {
        let f = p.read_field_begin().unwrap();
        if f.field_type == TType::Stop {
            break;
        }
        fields.push((f.id.unwrap(), read(p, f.field_type)));
        p.read_field_end().unwrap();
    }
    p.read_struct_end().unwrap();
    fields
}

/// The struct's field `id`, which must appear at most once.
fn field(s: &[(i16, T)], id: i16) -> Option<&T> {
    let mut it = s.iter().filter(|(i, _)| *i == id);
    let found = it.next().map(|(_, v)| v);
    assert!(it.next().is_none(), "field {id} twice");
    found
}

fn i64_(s: &[(i16, T)], id: i16) -> i64 {
    match field(s, id) {
        Some(T::I64(v)) => *v,
        other => panic!("field {id}: {other:?}, not an i64"),
    }
}

fn i32_(s: &[(i16, T)], id: i16) -> i32 {
    match field(s, id) {
        Some(T::I32(v)) => *v,
        other => panic!("field {id}: {other:?}, not an i32"),
    }
}

fn str_(s: &[(i16, T)], id: i16) -> &str {
    match field(s, id) {
        Some(T::Bytes(b)) => std::str::from_utf8(b).expect("UTF-8"),
        other => panic!("field {id}: {other:?}, not a string"),
    }
}

/// A list field; absent reads as empty, as the writer leaves empty lists out.
fn list(s: &[(i16, T)], id: i16) -> Vec<&[(i16, T)]> {
    match field(s, id) {
        None => Vec::new(),
        Some(T::List(items)) => items
            .iter()
            .map(|t| match t {
                T::Struct(s) => s.as_slice(),
                other => panic!("list item {other:?}"),
            })
            .collect(),
        other => panic!("field {id}: {other:?}, not a list"),
    }
}

/// What a tag must hold: its key, then its value by type.
enum Want<'a> {
    Str(&'a str),
    Text(&'a Value),
    Double(f64),
    Bool(bool),
    Long(i64),
}

fn want(v: &Value) -> Want<'_> {
    match v {
        Value::Bool(b) => Want::Bool(*b),
        Value::I64(i) => Want::Long(*i),
        Value::F64(f) => Want::Double(*f),
        other => Want::Text(other),
    }
}

fn array_matches(a: &Array, text: &str) -> bool {
    let Ok(items) = serde_json::from_str::<Vec<serde_json::Value>>(text) else {
        return false;
    };
    match a {
        Array::Bool(v) => {
            v.len() == items.len() && v.iter().zip(&items).all(|(x, j)| j.as_bool() == Some(*x))
        }
        Array::I64(v) => {
            v.len() == items.len() && v.iter().zip(&items).all(|(x, j)| j.as_i64() == Some(*x))
        }
        Array::F64(v) => {
            v.len() == items.len()
                && v.iter().zip(&items).all(|(x, j)| {
                    if x.is_finite() {
                        j.as_f64() == Some(*x)
                    } else {
                        j.is_null()
                    }
                })
        }
        Array::String(v) => {
            v.len() == items.len()
                && v.iter()
                    .zip(&items)
                    .all(|(x, j)| j.as_str() == Some(x.as_str()))
        }
        _ => false,
    }
}

/// `Tag { 1 key, 2 vType, 3 vStr | 4 vDouble | 5 vBool | 6 vLong }`: exactly the
/// value field vType names.
fn check_tag(t: &[(i16, T)], key: &str, want: &Want) {
    assert_eq!(str_(t, 1), key);
    assert_eq!(t.len(), 3, "a tag has key, vType and one value: {t:?}");
    let ok = match (
        want,
        i32_(t, 2),
        field(t, 3),
        field(t, 4),
        field(t, 5),
        field(t, 6),
    ) {
        (Want::Str(s), 0, Some(_), ..) => str_(t, 3) == *s,
        (Want::Text(Value::String(s)), 0, Some(_), ..) => str_(t, 3) == s.as_str(),
        (Want::Text(Value::Array(a)), 0, Some(_), ..) => array_matches(a, str_(t, 3)),
        (Want::Double(d), 1, _, Some(T::Double(x)), ..) => {
            x.to_bits() == d.to_bits() || (x.is_nan() && d.is_nan())
        }
        (Want::Bool(b), 2, _, _, Some(T::Bool(x)), _) => x == b,
        (Want::Long(l), 3, .., Some(T::I64(x))) => x == l,
        _ => false,
    };
    assert!(ok, "tag {key:?} is {t:?}");
}

fn check_tags(written: &[&[(i16, T)]], wanted: &[(&str, Want)]) {
    assert_eq!(written.len(), wanted.len(), "tag count: {written:?}");
    for (t, (k, w)) in written.iter().zip(wanted) {
        check_tag(t, k, w);
    }
}

fn micros(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64 as i64)
}

fn halves(id: [u8; 16]) -> (i64, i64) {
    let hi: [u8; 8] = id[..8].try_into().unwrap();
    let lo: [u8; 8] = id[8..].try_into().unwrap();
    (i64::from_be_bytes(lo), i64::from_be_bytes(hi))
}

fn attr_tags(attrs: &[KeyValue]) -> Vec<(&str, Want<'_>)> {
    attrs
        .iter()
        .map(|kv| (kv.key.as_str(), want(&kv.value)))
        .collect()
}

fn check_span(j: &[(i16, T)], s: &SpanData) {
    let (low, high) = halves(s.span_context.trace_id().to_bytes());
    assert_eq!(i64_(j, 1), low);
    assert_eq!(i64_(j, 2), high);
    assert_eq!(
        i64_(j, 3),
        i64::from_be_bytes(s.span_context.span_id().to_bytes())
    );
    assert_eq!(i64_(j, 4), i64::from_be_bytes(s.parent_span_id.to_bytes()));
    assert_eq!(str_(j, 5), s.name);
    let mut refs = Vec::new();
    if s.parent_span_id != SpanId::INVALID {
        refs.push((
            0,
            low,
            high,
            i64::from_be_bytes(s.parent_span_id.to_bytes()),
        ));
    }
    for l in s.links.iter() {
        let (lo, hi) = halves(l.span_context.trace_id().to_bytes());
        refs.push((
            1,
            lo,
            hi,
            i64::from_be_bytes(l.span_context.span_id().to_bytes()),
        ));
    }
    let written: Vec<_> = list(j, 6)
        .iter()
        .map(|r| (i32_(r, 1), i64_(r, 2), i64_(r, 3), i64_(r, 4)))
        .collect();
    assert_eq!(written, refs);
    assert_eq!(
        i32_(j, 7),
        i32::from(s.span_context.trace_flags().is_sampled())
    );
    let (start, end) = (micros(s.start_time), micros(s.end_time));
    assert_eq!(i64_(j, 8), start);
    assert_eq!(i64_(j, 9), (end as u64).saturating_sub(start as u64) as i64);

    let mut tags = attr_tags(&s.attributes);
    let kind = match s.span_kind {
        SpanKind::Server => "server",
        SpanKind::Client => "client",
        SpanKind::Producer => "producer",
        SpanKind::Consumer => "consumer",
        SpanKind::Internal => "internal",
    };
    tags.push(("span.kind", Want::Str(kind)));
    match &s.status {
        Status::Unset => {}
        Status::Ok => tags.push(("otel.status_code", Want::Str("OK"))),
        Status::Error { description } => {
            tags.push(("otel.status_code", Want::Str("ERROR")));
            tags.push(("error", Want::Bool(true)));
            if !description.is_empty() {
                tags.push(("otel.status_description", Want::Str(description)));
            }
        }
    }
    let scope = &s.instrumentation_scope;
    if !scope.name().is_empty() {
        tags.push(("otel.library.name", Want::Str(scope.name())));
        tags.push(("otel.scope.name", Want::Str(scope.name())));
    }
    if let Some(v) = scope.version() {
        tags.push(("otel.library.version", Want::Str(v)));
        tags.push(("otel.scope.version", Want::Str(v)));
    }
    check_tags(&list(j, 10), &tags);

    let logs = list(j, 11);
    assert_eq!(logs.len(), s.events.len());
    for (log, e) in logs.iter().zip(s.events.iter()) {
        assert_eq!(i64_(log, 1), micros(e.timestamp));
        let mut fields = vec![("event", Want::Str(e.name.as_ref()))];
        fields.extend(attr_tags(&e.attributes));
        check_tags(&list(log, 2), &fields);
    }
}

/// `Batch { 1 Process { 1 serviceName, 2 tags }, 2 spans }`.
fn check_batch(b: &[(i16, T)], input: &common::Input) {
    let Some(T::Struct(process)) = field(b, 1) else {
        panic!("no process");
    };
    let mut service_name = String::new();
    let mut rest = Vec::new();
    for (k, v) in input.resource.iter() {
        if k.as_str() == "service.name" {
            service_name = v.to_string();
        } else {
            rest.push((k.as_str(), want(v)));
        }
    }
    rest.sort_by(|a, b| a.0.cmp(b.0));
    assert_eq!(str_(process, 1), service_name);
    check_tags(&list(process, 2), &rest);
    let spans = list(b, 2);
    assert_eq!(spans.len(), input.spans.len());
    for (j, s) in spans.iter().zip(&input.spans) {
        check_span(j, s);
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = common::input(&mut Unstructured::new(data)) else {
        return;
    };
    let mut exporter = JaegerExporter::from_config(&TracingConfig::default()).unwrap();
    exporter.set_resource(&input.resource);

    let compact = exporter.encode_compact(&input.spans);
    let mut cursor = Cursor::new(&compact[..]);
    let mut p = TCompactInputProtocol::new(&mut cursor);
    let msg = p.read_message_begin().unwrap();
    assert_eq!(msg.name, "emitBatch");
    assert_eq!(msg.message_type, TMessageType::OneWay);
    let args = read_struct(&mut p);
    p.read_message_end().unwrap();
    assert_eq!(cursor.position() as usize, compact.len(), "trailing bytes");
    assert_eq!(args.len(), 1, "emitBatch takes one argument");
    let Some(T::Struct(batch)) = field(&args, 1) else {
        panic!("emitBatch argument 1 is not a Batch");
    };
    check_batch(batch, &input);

    let binary = exporter.encode_binary(&input.spans);
    let mut cursor = Cursor::new(&binary[..]);
    let batch = read_struct(&mut TBinaryInputProtocol::new(&mut cursor, true));
    assert_eq!(cursor.position() as usize, binary.len(), "trailing bytes");
    check_batch(&batch, &input);
});
