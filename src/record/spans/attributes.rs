//! A span's attributes as every consumer reads them ([`Attributes`]), and a
//! request's own list ([`AttributeList`]), which keeps its text values (target,
//! URL, user agent, peer address, child span names) in one buffer instead of a
//! `String` each: every text was an allocation on the export thread and a free
//! after the export (`benches/peers`: `callgrind.py --export`). An SDK
//! `SpanData` keeps its `Vec<KeyValue>`; both are read through the same view,
//! so each encoder has one mapping.

use std::borrow::Cow;
use std::ops::Range;

use opentelemetry::{Key, KeyValue, Value};

use crate::conventions::sink::AttributeSink;

/// One attribute, borrowed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attribute<'a> {
    pub(crate) key: &'a str,
    pub(crate) value: ValueRef<'a>,
}

/// An attribute's value: an SDK value, or a text kept in an [`AttributeList`]'s
/// buffer. A text reads exactly as `Value::String` of the same text.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ValueRef<'a> {
    Value(&'a Value),
    Text(&'a str),
}

impl<'a> ValueRef<'a> {
    /// The text of a string value.
    #[cfg(any(test, feature = "zipkin"))]
    pub(crate) fn as_str(self) -> Option<&'a str> {
        match self {
            ValueRef::Text(s) => Some(s),
            ValueRef::Value(Value::String(s)) => Some(s.as_str()),
            ValueRef::Value(_) => None,
        }
    }
}

impl<'a> From<&'a KeyValue> for Attribute<'a> {
    #[inline]
    fn from(kv: &'a KeyValue) -> Self {
        Attribute {
            key: kv.key.as_str(),
            value: ValueRef::Value(&kv.value),
        }
    }
}

/// A span's attributes, in order.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Attributes<'a> {
    /// An SDK span's.
    List(&'a [KeyValue]),
    /// Some of an [`AttributeList`]'s: a request's server span's, or what
    /// the children of one kind share.
    Record {
        entries: &'a [Entry],
        /// The list's buffer, which the entries' texts are ranges of.
        text: &'a str,
    },
}

impl<'a> Attributes<'a> {
    pub(crate) fn len(self) -> usize {
        match self {
            Attributes::List(list) => list.len(),
            Attributes::Record { entries, .. } => entries.len(),
        }
    }

    /// Calls `f` on each attribute in order. Matches the kind of list once,
    /// so each loop is over one kind: an iterator matched at every step showed
    /// in OTLP's encoder (`benches/peers`: `callgrind.py --export`).
    #[inline]
    pub(crate) fn for_each(self, mut f: impl FnMut(Attribute<'a>)) {
        match self {
            Attributes::List(list) => list.iter().for_each(|kv| f(kv.into())),
            Attributes::Record { entries, text } => {
                entries.iter().for_each(|entry| f(entry.view(text)));
            }
        }
    }

    /// The attributes as SDK key-values (texts copied).
    pub(crate) fn to_vec(self) -> Vec<KeyValue> {
        match self {
            Attributes::List(list) => list.to_vec(),
            Attributes::Record { entries, text } => entries
                .iter()
                .map(|entry| match entry {
                    Entry::Value(kv) => kv.clone(),
                    Entry::Text(key, range) => {
                        KeyValue::new(key.clone(), text[range.clone()].to_owned())
                    }
                })
                .collect(),
        }
    }
}

/// Attributes whose texts share one buffer, which holds other texts too (a
/// request's child span names): one list and one buffer a request, not one
/// each for the server span's attributes, the children's and their names.
#[derive(Debug, Default)]
pub(crate) struct AttributeList {
    entries: Vec<Entry>,
    text: String,
}

/// One attribute of an [`AttributeList`].
#[derive(Debug)]
pub(crate) enum Entry {
    Value(KeyValue),
    /// A text value: its bytes in the list's buffer.
    Text(Key, Range<usize>),
}

impl Entry {
    #[inline]
    fn view<'a>(&'a self, text: &'a str) -> Attribute<'a> {
        match self {
            Entry::Value(kv) => kv.into(),
            Entry::Text(key, range) => Attribute {
                key: key.as_str(),
                value: ValueRef::Text(&text[range.clone()]),
            },
        }
    }
}

impl AttributeList {
    /// Attributes in the list.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Room for `attributes` attributes and `text` bytes of their texts.
    pub(crate) fn with_capacity(attributes: usize, text: usize) -> Self {
        AttributeList {
            entries: Vec::with_capacity(attributes),
            text: String::with_capacity(text),
        }
    }

    /// The attributes in `range` (of [`len`](Self::len)s).
    pub(crate) fn get(&self, range: Range<usize>) -> Attributes<'_> {
        Attributes::Record {
            entries: &self.entries[range],
            text: &self.text,
        }
    }

    /// Appends what `write` writes to the buffer, as a text of no attribute;
    /// its range, for [`text`](Self::text).
    pub(crate) fn write_text(&mut self, write: impl FnOnce(&mut String)) -> Range<usize> {
        let from = self.text.len();
        write(&mut self.text);
        from..self.text.len()
    }

    /// A text [`write_text`](Self::write_text) wrote.
    pub(crate) fn text(&self, range: Range<usize>) -> &str {
        &self.text[range]
    }

    /// Each value, to be cut in place: `cut` gets a key-value to change, or a
    /// text and returns how many of its bytes to keep.
    pub(crate) fn cut_values(
        &mut self,
        mut value: impl FnMut(&mut KeyValue),
        mut text: impl FnMut(&str) -> Option<usize>,
    ) {
        for entry in &mut self.entries {
            match entry {
                Entry::Value(kv) => value(kv),
                Entry::Text(_, range) => {
                    if let Some(keep) = text(&self.text[range.clone()]) {
                        range.end = range.start + keep;
                    }
                }
            }
        }
    }
}

impl AttributeSink for AttributeList {
    #[inline]
    fn push(&mut self, kv: KeyValue) {
        self.entries.push(Entry::Value(kv));
    }

    #[inline(always)]
    fn push_str(&mut self, key: Key, text: &str) {
        let from = self.text.len();
        self.text.push_str(text);
        self.entries.push(Entry::Text(key, from..self.text.len()));
    }

    #[inline(always)]
    fn push_cow(&mut self, key: Key, text: Cow<'_, str>) {
        self.push_str(key, &text);
    }

    #[inline(always)]
    fn push_written(&mut self, key: Key, _capacity: usize, write: impl FnOnce(&mut String)) {
        let from = self.text.len();
        write(&mut self.text);
        self.entries.push(Entry::Text(key, from..self.text.len()));
    }

    #[inline]
    fn extend_from(&mut self, kvs: impl IntoIterator<Item = KeyValue>) {
        self.entries.extend(kvs.into_iter().map(Entry::Value));
    }

    fn repeat_last(&mut self, key: Key) {
        let last = match self.entries.last() {
            Some(Entry::Text(_, range)) => Entry::Text(key, range.clone()),
            Some(Entry::Value(kv)) => Entry::Value(KeyValue::new(key, kv.value.clone())),
            None => return,
        };
        self.entries.push(last);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both sinks, written the same way, read back the same attributes.
    #[test]
    fn both_sinks_read_the_same() {
        fn write(sink: &mut impl AttributeSink) {
            sink.push(KeyValue::new("n", 7i64));
            sink.push_str(Key::from_static_str("path"), "/a/b");
            sink.push_cow(Key::from_static_str("cow"), Cow::Owned("owned".to_owned()));
            sink.push_written(Key::from_static_str("url"), 8, |s| s.push_str("http://x"));
            sink.repeat_last(Key::from_static_str("again"));
            sink.push_str(Key::from_static_str("empty"), "");
            sink.extend_from([KeyValue::new("b", true), KeyValue::new("s", "text")]);
        }
        let mut list = Vec::new();
        write(&mut list);
        let mut record = AttributeList::with_capacity(2, 4);
        write(&mut record);
        let (list, record) = (Attributes::List(&list), record.get(0..record.len()));
        assert_eq!(list.len(), 8);
        assert_eq!(record.len(), list.len());
        assert_eq!(record.to_vec(), list.to_vec());
        let mut texts = Vec::new();
        record.for_each(|a| texts.push((a.key, a.value.as_str())));
        assert_eq!(texts[0], ("n", None));
        assert_eq!(texts[3], ("url", Some("http://x")));
        assert_eq!(texts[4], ("again", Some("http://x")));
        assert_eq!(texts[5], ("empty", Some("")));
    }

    /// A request's list: the server span's attributes, a child's name and
    /// the child's attributes, each read back alone.
    #[test]
    fn ranges_of_one_list_read_apart() {
        let mut list = AttributeList::default();
        list.push_str(Key::from_static_str("url"), "http://x/long");
        let server = 0..list.len();
        let name = list.write_text(|s| s.push_str("GET /long http send"));
        let from = list.len();
        list.push(KeyValue::new("type", "http.response.body"));
        list.push_str(Key::from_static_str("peer"), "10.0.0.1");
        let child = from..list.len();
        // Names are not attribute values: cutting leaves them whole.
        list.cut_values(|_| {}, |text| (text.len() > 5).then_some(5));
        assert_eq!(list.text(name), "GET /long http send");
        let read = |range| {
            let mut out = Vec::new();
            list.get(range)
                .for_each(|a| out.push((a.key, a.value.as_str().unwrap())));
            out
        };
        assert_eq!(read(server), [("url", "http:")]);
        assert_eq!(
            read(child),
            [("type", "http.response.body"), ("peer", "10.0.")]
        );
    }

    #[test]
    fn texts_are_cut_in_place() {
        let mut record = AttributeList::default();
        record.push_str(Key::from_static_str("a"), "abcdef");
        record.push_str(Key::from_static_str("b"), "gh");
        record.cut_values(|_| {}, |text| (text.len() > 3).then_some(3));
        let mut texts = Vec::new();
        record
            .get(0..2)
            .for_each(|a| texts.push(a.value.as_str().unwrap()));
        assert_eq!(texts, ["abc", "gh"]);
    }
}
