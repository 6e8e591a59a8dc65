//! A generic Thrift reader on the `thrift` crate's input protocols, independent of
//! the exporter's encoder, and a view of the Jaeger model by the IDL's field ids.
#![allow(dead_code)]

use std::collections::BTreeMap;

use thrift::protocol::{
    TBinaryInputProtocol, TCompactInputProtocol, TInputProtocol, TMessageType, TType,
};

#[derive(Debug, Clone, PartialEq)]
pub enum TValue {
    Bool(bool),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    Double(f64),
    Bytes(Vec<u8>),
    Struct(BTreeMap<i16, TValue>),
    List(Vec<TValue>),
}

fn read_value(p: &mut dyn TInputProtocol, ty: TType) -> TValue {
    match ty {
        TType::Bool => TValue::Bool(p.read_bool().unwrap()),
        TType::I08 => TValue::I8(p.read_i8().unwrap()),
        TType::I16 => TValue::I16(p.read_i16().unwrap()),
        TType::I32 => TValue::I32(p.read_i32().unwrap()),
        TType::I64 => TValue::I64(p.read_i64().unwrap()),
        TType::Double => TValue::Double(p.read_double().unwrap()),
        TType::String => TValue::Bytes(p.read_bytes().unwrap()),
        TType::Struct => TValue::Struct(read_struct(p)),
        TType::List => {
            let id = p.read_list_begin().unwrap();
            let items = (0..id.size)
                .map(|_| read_value(p, id.element_type))
                .collect();
            p.read_list_end().unwrap();
            TValue::List(items)
        }
        other => panic!("unexpected Thrift type {other:?} in the Jaeger model"),
    }
}

pub fn read_struct(p: &mut dyn TInputProtocol) -> BTreeMap<i16, TValue> {
    p.read_struct_begin().unwrap();
    let mut fields = BTreeMap::new();
    loop {
        let f = p.read_field_begin().unwrap();
        if f.field_type == TType::Stop {
            break;
        }
        let id = f.id.expect("field id");
        fields.insert(id, read_value(p, f.field_type));
        p.read_field_end().unwrap();
    }
    p.read_struct_end().unwrap();
    fields
}

/// An `Agent.emitBatch` datagram (compact): asserts the envelope, returns the Batch.
pub fn decode_emit_batch(datagram: &[u8]) -> Batch {
    let mut cursor = std::io::Cursor::new(datagram.to_vec());
    let mut p = TCompactInputProtocol::new(&mut cursor);
    let msg = p.read_message_begin().unwrap();
    assert_eq!(msg.name, "emitBatch");
    assert_eq!(msg.message_type, TMessageType::OneWay);
    let mut args = read_struct(&mut p);
    p.read_message_end().unwrap();
    assert_eq!(cursor.position() as usize, datagram.len(), "trailing bytes");
    match args.remove(&1) {
        Some(TValue::Struct(b)) => Batch::from(b),
        other => panic!("emitBatch arg 1 is not a Batch: {other:?}"),
    }
}

/// A collector body (binary protocol `Batch`).
pub fn decode_binary_batch(body: &[u8]) -> Batch {
    let mut cursor = std::io::Cursor::new(body.to_vec());
    let mut p = TBinaryInputProtocol::new(&mut cursor, true);
    let b = read_struct(&mut p);
    assert_eq!(cursor.position() as usize, body.len(), "trailing bytes");
    Batch::from(b)
}

#[derive(Debug, Clone, PartialEq)]
pub enum TagV {
    Str(String),
    Double(f64),
    Bool(bool),
    Long(i64),
}

#[derive(Debug, Clone)]
pub struct Batch {
    pub service_name: String,
    pub process_tags: BTreeMap<String, TagV>,
    pub spans: Vec<JSpan>,
}

#[derive(Debug, Clone)]
pub struct JSpan {
    pub trace_id_low: i64,
    pub trace_id_high: i64,
    pub span_id: i64,
    pub parent_span_id: i64,
    pub operation_name: String,
    /// (refType, traceIdLow, traceIdHigh, spanId)
    pub references: Vec<(i32, i64, i64, i64)>,
    pub flags: i32,
    pub start_time: i64,
    pub duration: i64,
    pub tags: BTreeMap<String, TagV>,
    pub logs: Vec<(i64, BTreeMap<String, TagV>)>,
}

impl JSpan {
    pub fn tag(&self, key: &str) -> Option<&TagV> {
        self.tags.get(key)
    }
    pub fn str_tag(&self, key: &str) -> Option<&str> {
        match self.tags.get(key)? {
            TagV::Str(s) => Some(s),
            other => panic!("{key} is not a string: {other:?}"),
        }
    }
}

fn s(v: &TValue) -> String {
    match v {
        TValue::Bytes(b) => String::from_utf8(b.clone()).unwrap(),
        other => panic!("not a string: {other:?}"),
    }
}
fn i64_(v: &TValue) -> i64 {
    match v {
        TValue::I64(i) => *i,
        other => panic!("not an i64: {other:?}"),
    }
}
fn i32_(v: &TValue) -> i32 {
    match v {
        TValue::I32(i) => *i,
        other => panic!("not an i32: {other:?}"),
    }
}
fn list(v: Option<&TValue>) -> Vec<TValue> {
    match v {
        None => Vec::new(),
        Some(TValue::List(l)) => l.clone(),
        Some(other) => panic!("not a list: {other:?}"),
    }
}
fn st(v: &TValue) -> &BTreeMap<i16, TValue> {
    match v {
        TValue::Struct(m) => m,
        other => panic!("not a struct: {other:?}"),
    }
}

/// `Tag { 1: key, 2: vType, 3: vStr, 4: vDouble, 5: vBool, 6: vLong }`; exactly
/// the field vType names must be present.
fn tags(v: Option<&TValue>) -> BTreeMap<String, TagV> {
    list(v)
        .iter()
        .map(|t| {
            let t = st(t);
            let key = s(&t[&1]);
            let value = match i32_(&t[&2]) {
                0 => TagV::Str(s(&t[&3])),
                1 => match &t[&4] {
                    TValue::Double(d) => TagV::Double(*d),
                    o => panic!("{o:?}"),
                },
                2 => match &t[&5] {
                    TValue::Bool(b) => TagV::Bool(*b),
                    o => panic!("{o:?}"),
                },
                3 => TagV::Long(i64_(&t[&6])),
                other => panic!("unexpected vType {other}"),
            };
            assert_eq!(t.len(), 3, "a tag has key, vType and one value: {t:?}");
            (key, value)
        })
        .collect()
}

impl From<BTreeMap<i16, TValue>> for Batch {
    fn from(b: BTreeMap<i16, TValue>) -> Self {
        let process = st(&b[&1]);
        Batch {
            service_name: s(&process[&1]),
            process_tags: tags(process.get(&2)),
            spans: list(b.get(&2))
                .iter()
                .map(|sp| {
                    let sp = st(sp);
                    JSpan {
                        trace_id_low: i64_(&sp[&1]),
                        trace_id_high: i64_(&sp[&2]),
                        span_id: i64_(&sp[&3]),
                        parent_span_id: i64_(&sp[&4]),
                        operation_name: s(&sp[&5]),
                        references: list(sp.get(&6))
                            .iter()
                            .map(|r| {
                                let r = st(r);
                                (i32_(&r[&1]), i64_(&r[&2]), i64_(&r[&3]), i64_(&r[&4]))
                            })
                            .collect(),
                        flags: i32_(&sp[&7]),
                        start_time: i64_(&sp[&8]),
                        duration: i64_(&sp[&9]),
                        tags: tags(sp.get(&10)),
                        logs: list(sp.get(&11))
                            .iter()
                            .map(|l| {
                                let l = st(l);
                                (i64_(&l[&1]), tags(l.get(&2)))
                            })
                            .collect(),
                    }
                })
                .collect(),
        }
    }
}
