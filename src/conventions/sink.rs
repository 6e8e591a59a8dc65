//! [`AttributeSink`]: where a span's attributes go as the conventions describe
//! them. An SDK `Vec<KeyValue>` is one sink; a record's own list, which keeps
//! every text in one buffer (`record/spans/attributes.rs`), is the other.

use std::borrow::Cow;

use opentelemetry::{Key, KeyValue};

/// Where a span's attributes are written as they are described. Texts have
/// methods of their own so that a sink can keep them in one buffer instead of
/// a `String` each.
pub(crate) trait AttributeSink {
    /// Any attribute.
    fn push(&mut self, kv: KeyValue);

    /// A text attribute, copied.
    fn push_str(&mut self, key: Key, text: &str);

    /// A text attribute, taken as it comes.
    fn push_cow(&mut self, key: Key, text: Cow<'_, str>);

    /// A text attribute that `write` appends to the `String` it is given
    /// (about `capacity` bytes).
    fn push_written(&mut self, key: Key, capacity: usize, write: impl FnOnce(&mut String));

    /// The last attribute's value again, under `key`.
    fn repeat_last(&mut self, key: Key);

    /// Several attributes.
    fn extend_from(&mut self, kvs: impl IntoIterator<Item = KeyValue>) {
        for kv in kvs {
            self.push(kv);
        }
    }
}

// The texts' methods are always inlined: as calls, their moves and set-up
// showed in the per-request count of a user's exporter with `semconv: dup`
// (`benches/peers`: `callgrind.py ours_rate1_dup`).
impl AttributeSink for Vec<KeyValue> {
    #[inline]
    fn push(&mut self, kv: KeyValue) {
        Vec::push(self, kv);
    }

    #[inline(always)]
    fn push_str(&mut self, key: Key, text: &str) {
        Vec::push(self, KeyValue::new(key, text.to_owned()));
    }

    #[inline(always)]
    fn push_cow(&mut self, key: Key, text: Cow<'_, str>) {
        Vec::push(self, KeyValue::new(key, text.into_owned()));
    }

    #[inline(always)]
    fn push_written(&mut self, key: Key, capacity: usize, write: impl FnOnce(&mut String)) {
        let mut text = String::with_capacity(capacity);
        write(&mut text);
        Vec::push(self, KeyValue::new(key, text));
    }

    fn repeat_last(&mut self, key: Key) {
        if let Some(last) = self.last() {
            let value = last.value.clone();
            Vec::push(self, KeyValue::new(key, value));
        }
    }

    #[inline]
    fn extend_from(&mut self, kvs: impl IntoIterator<Item = KeyValue>) {
        self.extend(kvs);
    }
}
