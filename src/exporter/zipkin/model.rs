//! The Zipkin v2 JSON span model (`ListOfSpans` in the Zipkin API schema), written
//! with [`json`](super::json): borrowed strings throughout, so encoding a span
//! allocates only for values that are not already text.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::json::{key, number, string};

pub(crate) struct Span<'a> {
    pub(crate) trace_id: Hex<32>,
    pub(crate) parent_id: Option<Hex<16>>,
    pub(crate) id: Hex<16>,
    pub(crate) kind: Option<&'static str>,
    pub(crate) name: &'a str,
    pub(crate) timestamp: u64,
    pub(crate) duration: u64,
    /// The local endpoint, already rendered as a JSON object (it is the same on
    /// every span of an exporter).
    pub(crate) local_endpoint: &'a [u8],
    pub(crate) remote_endpoint: Option<Endpoint>,
    pub(crate) annotations: Vec<Annotation>,
    pub(crate) tags: Tags<'a>,
}

impl Span<'_> {
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"traceId\":\"");
        out.extend_from_slice(&self.trace_id.0);
        if let Some(parent) = &self.parent_id {
            out.extend_from_slice(b"\",\"parentId\":\"");
            out.extend_from_slice(&parent.0);
        }
        out.extend_from_slice(b"\",\"id\":\"");
        out.extend_from_slice(&self.id.0);
        out.push(b'"');
        if let Some(kind) = self.kind {
            out.extend_from_slice(b",\"kind\":");
            string(out, kind);
        }
        out.extend_from_slice(b",\"name\":");
        string(out, self.name);
        out.extend_from_slice(b",\"timestamp\":");
        number(out, self.timestamp);
        out.extend_from_slice(b",\"duration\":");
        number(out, self.duration);
        out.extend_from_slice(b",\"localEndpoint\":");
        out.extend_from_slice(self.local_endpoint);
        if let Some(remote) = &self.remote_endpoint {
            out.extend_from_slice(b",\"remoteEndpoint\":");
            remote.write(out);
        }
        if !self.annotations.is_empty() {
            out.extend_from_slice(b",\"annotations\":[");
            for (i, a) in self.annotations.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"timestamp\":");
                number(out, a.timestamp);
                out.extend_from_slice(b",\"value\":");
                string(out, &a.value);
                out.push(b'}');
            }
            out.push(b']');
        }
        if !self.tags.entries.is_empty() {
            out.extend_from_slice(b",\"tags\":{");
            for (i, entry) in self.tags.entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let (k, v) = match entry {
                    Entry::Tag(k, v) => (k, v),
                    Entry::Written(json) => {
                        out.extend_from_slice(json);
                        continue;
                    }
                };
                key(out, k);
                match v {
                    Tag::Text(text) => string(out, text),
                    Tag::Int(n) => {
                        out.push(b'"');
                        out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes());
                        out.push(b'"');
                    }
                }
            }
            out.push(b'}');
        }
        out.push(b'}');
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Endpoint {
    pub(crate) service_name: Option<String>,
    pub(crate) ipv4: Option<Ipv4Addr>,
    pub(crate) ipv6: Option<Ipv6Addr>,
    pub(crate) port: Option<u16>,
}

impl Endpoint {
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        let mut sep = b'{';
        let mut field = |out: &mut Vec<u8>, name: &str| {
            out.push(sep);
            sep = b',';
            key(out, name);
        };
        if let Some(name) = &self.service_name {
            field(out, "serviceName");
            string(out, name);
        }
        if let Some(ip) = self.ipv4 {
            field(out, "ipv4");
            out.push(b'"');
            for (i, octet) in ip.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                number(out, u64::from(octet));
            }
            out.push(b'"');
        }
        if let Some(ip) = self.ipv6 {
            field(out, "ipv6");
            string(out, &ip.to_string());
        }
        if let Some(port) = self.port {
            field(out, "port");
            number(out, u64::from(port));
        }
        if sep == b'{' {
            out.push(b'{');
        }
        out.push(b'}');
    }
}

pub(crate) struct Annotation {
    pub(crate) timestamp: u64,
    pub(crate) value: String,
}

/// A tag's value: text, or an integer written as its decimal text without a
/// `String` of its own (a server span has up to nine integer attributes: ports,
/// the status code, the body totals).
pub(crate) enum Tag<'a> {
    Text(Cow<'a, str>),
    Int(i64),
}

impl<'a, T: Into<Cow<'a, str>>> From<T> for Tag<'a> {
    fn from(text: T) -> Self {
        Tag::Text(text.into())
    }
}

/// Tags in insertion order; a later tag with the same key replaces an earlier one
/// (JSON objects with duplicate keys are read differently by different parsers).
#[derive(Default)]
pub(crate) struct Tags<'a> {
    pub(crate) entries: Vec<Entry<'a>>,
    /// A bit for each key inserted ([`key_bit`]): a key whose bit is not set
    /// is new, and needs no search for an earlier tag to replace.
    seen: u64,
}

/// One of 64 bits for a key, from its length and last byte (keys of one
/// span differ in one or the other nearly always).
fn key_bit(key: &str) -> u64 {
    let last = key.as_bytes().last().copied().unwrap_or(0);
    1 << ((key.len() + usize::from(last)) & 63)
}

/// One tag, or a run of tags written already (`"k":"v","k2":"v2"`): those
/// every span of an exporter or scope carries, when no other tag of the span
/// has one of their keys.
pub(crate) enum Entry<'a> {
    Tag(Cow<'a, str>, Tag<'a>),
    Written(&'a [u8]),
}

impl<'a> Tags<'a> {
    /// Tags in `entries` (an empty list, reused).
    pub(crate) fn new(entries: Vec<Entry<'a>>) -> Self {
        Tags { entries, seen: 0 }
    }

    /// Only a key whose bit was seen is searched for among the earlier tags:
    /// searching on every insert showed on the export side
    /// (`benches/peers`: `callgrind.py --export zipkin`).
    pub(crate) fn insert(&mut self, key: impl Into<Cow<'a, str>>, value: impl Into<Tag<'a>>) {
        let key = key.into();
        let value = value.into();
        let bit = key_bit(&key);
        let slot = if self.seen & bit == 0 {
            None
        } else {
            self.entries.iter_mut().find_map(|entry| match entry {
                Entry::Tag(k, v) if *k == key => Some(v),
                _ => None,
            })
        };
        self.seen |= bit;
        match slot {
            Some(slot) => *slot = value,
            None => self.entries.push(Entry::Tag(key, value)),
        }
    }

    /// Tags written already, whose keys the caller knows no other tag has.
    pub(crate) fn push_written(&mut self, json: &'a [u8]) {
        if !json.is_empty() {
            self.entries.push(Entry::Written(json));
        }
    }
}

/// `tags` written as the `"k":"v"` pairs of a `tags` object, comma-separated.
pub(crate) fn written_tags<K: AsRef<str>, V: AsRef<str>>(
    tags: impl IntoIterator<Item = (K, V)>,
) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in tags {
        if !out.is_empty() {
            out.push(b',');
        }
        key(&mut out, k.as_ref());
        string(&mut out, v.as_ref());
    }
    out
}

/// Lower-case hex of `N / 2` bytes, without a heap allocation.
pub(crate) struct Hex<const N: usize>([u8; N]);

/// Each byte's two hex digits: one lookup a byte, not two (three ids a span;
/// `benches/peers`: `callgrind.py --export zipkin`).
const HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut table = [[0u8; 2]; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = [DIGITS[b >> 4], DIGITS[b & 0xf]];
        b += 1;
    }
    table
};

impl<const N: usize> Hex<N> {
    pub(crate) fn new(bytes: &[u8]) -> Self {
        let mut out = [0u8; N];
        for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
            pair.copy_from_slice(&HEX_PAIRS[usize::from(*b)]);
        }
        Hex(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A later tag replaces an earlier one of the same key, in its place,
    /// whether or not other keys share its bit; new keys are appended.
    #[test]
    fn a_repeated_key_replaces_its_tag_in_place() {
        let mut tags = Tags::new(Vec::new());
        // "ab" and "c" share a bit (length + last byte): one is not the other.
        assert_eq!(key_bit("ab"), key_bit("c"));
        let keys = [
            "http.method",
            "ab",
            "c",
            "http.target",
            "ab",
            "http.method",
            "x",
        ];
        for (i, key) in keys.into_iter().enumerate() {
            tags.insert(key, Tag::Int(i as i64));
        }
        let got: Vec<(&str, i64)> = tags
            .entries
            .iter()
            .map(|entry| match entry {
                Entry::Tag(k, Tag::Int(v)) => (k.as_ref(), *v),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            got,
            [
                ("http.method", 5),
                ("ab", 4),
                ("c", 2),
                ("http.target", 3),
                ("x", 6)
            ]
        );
    }

    fn json(ep: &Endpoint) -> serde_json::Value {
        let mut out = Vec::new();
        ep.write(&mut out);
        serde_json::from_slice(&out).unwrap()
    }

    /// An integer tag is written as the JSON string of its text, byte for byte
    /// what writing `value_text` of the same value gives.
    #[test]
    fn integer_tags_are_their_text_as_strings() {
        for n in [0i64, 7, -1, 200, 31313, i64::MAX, i64::MIN] {
            let (trace_id, id) = (Hex::new(&[1; 16]), Hex::new(&[2; 8]));
            let write = |tag: Tag<'_>| {
                let mut tags = Tags::default();
                tags.insert("k", tag);
                let span = Span {
                    trace_id: Hex(trace_id.0),
                    parent_id: None,
                    id: Hex(id.0),
                    kind: None,
                    name: "n",
                    timestamp: 1,
                    duration: 1,
                    local_endpoint: b"{}",
                    remote_endpoint: None,
                    annotations: Vec::new(),
                    tags,
                };
                let mut out = Vec::new();
                span.write(&mut out);
                out
            };
            let value = opentelemetry::Value::I64(n);
            let text = crate::record::ValueRef::Value(&value).text();
            assert_eq!(write(Tag::Int(n)), write(Tag::Text(text)), "{n}");
        }
    }

    #[test]
    fn hex_is_lower_case_two_digits_a_byte() {
        let bytes: Vec<u8> = (0..=255).collect();
        for chunk in bytes.chunks(16) {
            let expected: String = chunk.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(Hex::<32>::new(chunk).0, expected.as_bytes());
        }
        assert_eq!(
            &Hex::<16>::new(&[0xab, 0x01, 0, 0, 0, 0, 0, 0xff]).0,
            b"ab010000000000ff"
        );
    }

    #[test]
    fn endpoints_write_only_what_is_set() {
        assert_eq!(json(&Endpoint::default()), serde_json::json!({}));
        let full = Endpoint {
            service_name: Some("svc \"q\"".into()),
            ipv4: Some(Ipv4Addr::new(10, 0, 255, 9)),
            ipv6: Some("2001:db8::1".parse().unwrap()),
            port: Some(31313),
        };
        assert_eq!(
            json(&full),
            serde_json::json!({
                "serviceName": "svc \"q\"", "ipv4": "10.0.255.9",
                "ipv6": "2001:db8::1", "port": 31313
            })
        );
        let port_only = Endpoint {
            port: Some(80),
            ..Default::default()
        };
        assert_eq!(json(&port_only), serde_json::json!({"port": 80}));
    }
}
