//! A JSON writer for exactly what the Zipkin model needs: objects, arrays,
//! strings, unsigned numbers. Span JSON is mostly string bytes, so what matters is
//! escaping: it checks eight bytes at a time and copies clean runs whole.

/// `"s"` with `"`, `\` and control characters escaped (as RFC 8259 requires).
pub(crate) fn string(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut clean_from = 0;
    let mut i = 0;
    while i + 8 <= bytes.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[i..i + 8]);
        if !needs_escape(u64::from_le_bytes(word)) {
            i += 8;
            continue;
        }
        for j in i..i + 8 {
            if escape(out, bytes, clean_from, j) {
                clean_from = j + 1;
            }
        }
        i += 8;
    }
    // The tail, padded with spaces (which never need escaping) to one more word.
    let tail = &bytes[i..];
    let mut word = [b' '; 8];
    word[..tail.len()].copy_from_slice(tail);
    if needs_escape(u64::from_le_bytes(word)) {
        for j in i..bytes.len() {
            if escape(out, bytes, clean_from, j) {
                clean_from = j + 1;
            }
        }
    }
    out.extend_from_slice(&bytes[clean_from..]);
    out.push(b'"');
}

/// Whether any byte of `word` is below 0x20, `"` or `\` (may not say which).
fn needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte below n has its high bit set in (b - n) while clear in b.
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    (below(word, 0x20) | below(quote, 1) | below(backslash, 1)) != 0
}

/// Writes the clean run before `bytes[j]` and its escape when it needs one.
#[inline]
fn escape(out: &mut Vec<u8>, bytes: &[u8], clean_from: usize, j: usize) -> bool {
    let b = bytes[j];
    let short = match b {
        b'"' => b'"',
        b'\\' => b'\\',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        0x08 => b'b',
        0x0c => b'f',
        0x00..=0x1f => 0,
        _ => return false,
    };
    out.extend_from_slice(&bytes[clean_from..j]);
    if short != 0 {
        out.extend_from_slice(&[b'\\', short]);
    } else {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.extend_from_slice(b"\\u00");
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 0xf)]);
    }
    true
}

/// An unsigned integer in decimal.
pub(crate) fn number(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// `"key":` (keys here are our own constants or attribute keys, escaped alike).
pub(crate) fn key(out: &mut Vec<u8>, k: &str) {
    string(out, k);
    out.push(b':');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> String {
        let mut out = Vec::new();
        string(&mut out, text);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_escape_exactly_what_json_requires() {
        for text in [
            "",
            "plain",
            "exactly8",
            "sixteen bytes ok",
            "quote \" in the middle of a long string",
            "back\\slash",
            "\u{1}\u{1f}\n\r\t\u{8}\u{c}",
            "ünïcødé ✓ and \u{7f} stay as they are",
            "ends with quote\"",
            "\"",
        ] {
            let ours = s(text);
            assert_eq!(ours, serde_json::to_string(text).unwrap(), "{text:?}");
            assert_eq!(serde_json::from_str::<String>(&ours).unwrap(), text);
        }
    }

    #[test]
    fn every_byte_value_round_trips() {
        let all: String = (0u8..=0x7f).map(char::from).collect();
        for offset in 0..8 {
            let text = &all[offset..];
            assert_eq!(serde_json::from_str::<String>(&s(text)).unwrap(), text);
        }
    }

    #[test]
    fn numbers() {
        for n in [0u64, 7, 10, 1_700_000_000_000_000, u64::MAX] {
            let mut out = Vec::new();
            number(&mut out, n);
            assert_eq!(String::from_utf8(out).unwrap(), n.to_string());
        }
    }
}
