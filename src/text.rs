//! Cutting text to a number of characters, never inside a UTF-8 sequence: what
//! `max_tag_value_length` (`pipeline/truncate.rs`) and the viewer's display
//! limit both need. Here, not in either, so that neither module imports the
//! other for it.

/// `s` cut to at most `max_chars` characters, or `None` when it is short enough.
pub(crate) fn truncate_str(s: &str, max_chars: usize) -> Option<&str> {
    // Byte length bounds char count from above: short strings need no scan.
    if s.len() <= max_chars {
        return None;
    }
    s.char_indices().nth(max_chars).map(|(at, _)| &s[..at])
}

#[cfg(test)]
mod tests {
    use super::truncate_str;

    #[test]
    fn cuts_on_char_boundaries() {
        assert_eq!(truncate_str("abcdef", 3), Some("abc"));
        assert_eq!(truncate_str("abc", 3), None);
        // 'é' is two bytes: byte length 6 > 3, but only 3 chars: untouched.
        assert_eq!(truncate_str("éé", 3), None);
        assert_eq!(truncate_str("日本語テキスト", 3), Some("日本語"));
        assert_eq!(truncate_str("a😀b", 2), Some("a😀"));
    }
}
