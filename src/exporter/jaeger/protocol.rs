//! The two Thrift wire protocols Jaeger speaks, for writing only: compact (to the
//! agent over UDP) and binary (to the collector over HTTP). Written from the Thrift
//! protocol specifications straight into a `Vec<u8>`, with static dispatch: a
//! generic protocol object behind `dyn` costs more per field than the field's bytes.

/// Thrift field types, as the model needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Type {
    Bool,
    I32,
    I64,
    Double,
    String,
    Struct,
    List,
}

/// What the model writes; the protocol decides the bytes.
pub(crate) trait Protocol {
    /// A one-way call message header (`name`, sequence number).
    fn oneway_message_begin(&mut self, name: &str, sequence: i32);
    fn struct_begin(&mut self);
    /// Writes the field stop and closes the struct.
    fn struct_end(&mut self);
    fn field(&mut self, ty: Type, id: i16);
    /// A whole bool field: the compact protocol folds the value into the header.
    fn bool_field(&mut self, id: i16, value: bool);
    fn list_begin(&mut self, element: Type, len: usize);
    fn i32(&mut self, v: i32);
    fn i64(&mut self, v: i64);
    fn double(&mut self, v: f64);
    fn string(&mut self, s: &str);
    /// Bytes this protocol wrote elsewhere (whole list elements).
    fn raw(&mut self, bytes: &[u8]);
    /// Of bytes written once in both protocols, this protocol's.
    fn pick<'a>(compact: &'a [u8], binary: &'a [u8]) -> &'a [u8];
}

/// The compact protocol: zigzag varints, field ids as deltas from the previous
/// field of the same struct. Its small writers are `#[inline]`: whether they
/// were inlined flipped with unrelated changes elsewhere in the crate, and
/// the agent's export side moved with it (`benches/peers`: `callgrind.py
/// --export jaeger_agent`).
pub(crate) struct Compact {
    buf: Vec<u8>,
    last_field: i16,
    /// `last_field` of each enclosing struct.
    enclosing: Vec<i16>,
}

impl Compact {
    pub(crate) fn new(buf: Vec<u8>) -> Self {
        Compact {
            buf,
            last_field: 0,
            enclosing: Vec::with_capacity(8),
        }
    }

    pub(crate) fn into_inner(self) -> Vec<u8> {
        self.buf
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    fn type_id(ty: Type) -> u8 {
        match ty {
            Type::Bool => 1,
            Type::I32 => 5,
            Type::I64 => 6,
            Type::Double => 7,
            Type::String => 8,
            Type::List => 9,
            Type::Struct => 12,
        }
    }

    #[inline]
    fn header(&mut self, type_id: u8, id: i16) {
        let delta = i32::from(id) - i32::from(self.last_field);
        if (1..=15).contains(&delta) {
            self.buf.push((delta as u8) << 4 | type_id);
        } else {
            self.buf.push(type_id);
            self.varint(zigzag(i64::from(id)));
        }
        self.last_field = id;
    }

    #[inline]
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

impl Protocol for Compact {
    fn oneway_message_begin(&mut self, name: &str, sequence: i32) {
        const PROTOCOL_ID: u8 = 0x82;
        const VERSION: u8 = 1;
        const ONEWAY: u8 = 4;
        self.buf.push(PROTOCOL_ID);
        self.buf.push(ONEWAY << 5 | VERSION);
        // The sequence number is a plain (not zigzag) varint of its 32 bits.
        self.varint(u64::from(sequence as u32));
        self.string(name);
    }

    #[inline]
    fn struct_begin(&mut self) {
        self.enclosing.push(self.last_field);
        self.last_field = 0;
    }

    #[inline]
    fn struct_end(&mut self) {
        self.buf.push(0);
        self.last_field = self.enclosing.pop().unwrap_or(0);
    }

    #[inline]
    fn field(&mut self, ty: Type, id: i16) {
        self.header(Self::type_id(ty), id);
    }

    fn bool_field(&mut self, id: i16, value: bool) {
        self.header(if value { 1 } else { 2 }, id);
    }

    fn list_begin(&mut self, element: Type, len: usize) {
        let element = Self::type_id(element);
        if len < 15 {
            self.buf.push((len as u8) << 4 | element);
        } else {
            self.buf.push(0xF0 | element);
            self.varint(len as u64);
        }
    }

    #[inline]
    fn i32(&mut self, v: i32) {
        self.varint(zigzag(i64::from(v)));
    }

    #[inline]
    fn i64(&mut self, v: i64) {
        self.varint(zigzag(v));
    }

    fn double(&mut self, v: f64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    #[inline]
    fn string(&mut self, s: &str) {
        self.varint(s.len() as u64);
        self.buf.extend_from_slice(s.as_bytes());
    }

    fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    fn pick<'a>(compact: &'a [u8], _binary: &'a [u8]) -> &'a [u8] {
        compact
    }
}

/// The strict binary protocol: big-endian fixed-width numbers, `i16` field ids.
pub(crate) struct Binary {
    buf: Vec<u8>,
}

impl Binary {
    pub(crate) fn new(buf: Vec<u8>) -> Self {
        Binary { buf }
    }

    pub(crate) fn into_inner(self) -> Vec<u8> {
        self.buf
    }

    fn type_id(ty: Type) -> u8 {
        match ty {
            Type::Bool => 2,
            Type::Double => 4,
            Type::I32 => 8,
            Type::I64 => 10,
            Type::String => 11,
            Type::Struct => 12,
            Type::List => 15,
        }
    }
}

impl Protocol for Binary {
    fn oneway_message_begin(&mut self, name: &str, sequence: i32) {
        const VERSION_1: u32 = 0x8001_0000;
        const ONEWAY: u32 = 4;
        self.buf
            .extend_from_slice(&(VERSION_1 | ONEWAY).to_be_bytes());
        self.string(name);
        self.i32(sequence);
    }

    fn struct_begin(&mut self) {}

    fn struct_end(&mut self) {
        self.buf.push(0);
    }

    fn field(&mut self, ty: Type, id: i16) {
        self.buf.push(Self::type_id(ty));
        self.buf.extend_from_slice(&id.to_be_bytes());
    }

    fn bool_field(&mut self, id: i16, value: bool) {
        self.field(Type::Bool, id);
        self.buf.push(u8::from(value));
    }

    fn list_begin(&mut self, element: Type, len: usize) {
        self.buf.push(Self::type_id(element));
        self.i32(len as i32);
    }

    fn i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    fn double(&mut self, v: f64) {
        self.buf.extend_from_slice(&v.to_bits().to_be_bytes());
    }

    fn string(&mut self, s: &str) {
        self.i32(s.len() as i32);
        self.buf.extend_from_slice(s.as_bytes());
    }

    fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    fn pick<'a>(_compact: &'a [u8], binary: &'a [u8]) -> &'a [u8] {
        binary
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_varints_and_zigzag() {
        assert_eq!(zigzag(0), 0);
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
        assert_eq!(zigzag(i64::MIN), u64::MAX);
        let mut c = Compact::new(Vec::new());
        c.i64(300); // zigzag 600 = 0b100_1011000
        assert_eq!(c.into_inner(), [0xD8, 0x04]);
    }

    #[test]
    fn compact_field_headers_use_deltas_then_long_form() {
        let mut c = Compact::new(Vec::new());
        c.struct_begin();
        c.field(Type::I64, 1);
        c.i64(0);
        c.field(Type::String, 3);
        c.string("a");
        c.field(Type::I32, 20); // delta 17: long form, zigzag id
        c.i32(1);
        c.bool_field(21, false);
        c.struct_end();
        assert_eq!(
            c.into_inner(),
            [0x16, 0x00, 0x28, 0x01, b'a', 0x05, 0x28, 0x02, 0x12, 0x00]
        );
    }

    #[test]
    fn compact_nested_structs_restore_the_outer_field_id() {
        let mut c = Compact::new(Vec::new());
        c.struct_begin();
        c.field(Type::Struct, 2);
        c.struct_begin();
        c.field(Type::I32, 7);
        c.i32(0);
        c.struct_end();
        c.field(Type::I32, 3); // delta 1 from the outer field 2, not from 7
        c.i32(0);
        c.struct_end();
        assert_eq!(c.into_inner(), [0x2C, 0x75, 0x00, 0x00, 0x15, 0x00, 0x00]);
    }

    #[test]
    fn compact_long_lists_carry_a_varint_size() {
        let mut c = Compact::new(Vec::new());
        c.list_begin(Type::Struct, 3);
        c.list_begin(Type::Struct, 20);
        assert_eq!(c.into_inner(), [0x3C, 0xFC, 20]);
    }

    #[test]
    fn binary_is_big_endian() {
        let mut b = Binary::new(Vec::new());
        b.field(Type::I64, 2);
        b.i64(1);
        b.string("ab");
        b.bool_field(5, true);
        b.list_begin(Type::Struct, 2);
        assert_eq!(
            b.into_inner(),
            [
                10, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, b'a', b'b', 2, 0, 5, 1, 12, 0, 0, 0,
                2
            ]
        );
    }
}
