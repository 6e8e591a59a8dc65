//! The Zipkin v2 JSON span model (`ListOfSpans` in the Zipkin API schema).
//! Borrowing serializers: encoding a span allocates only for values that are
//! not already strings.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Span<'a> {
    pub(crate) trace_id: Hex<32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) parent_id: Option<Hex<16>>,
    pub(crate) id: Hex<16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) kind: Option<&'static str>,
    pub(crate) name: &'a str,
    pub(crate) timestamp: u64,
    pub(crate) duration: u64,
    pub(crate) local_endpoint: &'a Endpoint,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) remote_endpoint: Option<Endpoint>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) annotations: Vec<Annotation>,
    #[serde(skip_serializing_if = "Tags::is_empty")]
    pub(crate) tags: Tags<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Endpoint {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) service_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ipv4: Option<Ipv4Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ipv6: Option<Ipv6Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) port: Option<u16>,
}

#[derive(Serialize)]
pub(crate) struct Annotation {
    pub(crate) timestamp: u64,
    pub(crate) value: String,
}

/// Tags in insertion order; a later tag with the same key replaces an earlier one
/// (JSON objects with duplicate keys are read differently by different parsers).
#[derive(Default)]
pub(crate) struct Tags<'a>(pub(crate) Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl<'a> Tags<'a> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn insert(&mut self, key: impl Into<Cow<'a, str>>, value: impl Into<Cow<'a, str>>) {
        let key = key.into();
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }
}

impl Serialize for Tags<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k.as_ref(), v.as_ref())?;
        }
        map.end()
    }
}

/// Lower-case hex of `N / 2` bytes, without a heap allocation.
pub(crate) struct Hex<const N: usize>([u8; N]);

impl<const N: usize> Hex<N> {
    pub(crate) fn new(bytes: &[u8]) -> Self {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; N];
        for (i, b) in bytes.iter().take(N / 2).enumerate() {
            out[2 * i] = DIGITS[usize::from(b >> 4)];
            out[2 * i + 1] = DIGITS[usize::from(b & 0xf)];
        }
        Hex(out)
    }

    fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl<const N: usize> Serialize for Hex<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}
