//! The text a record keeps of its request (target, path, scheme, authority,
//! `Host`, `User-Agent`), copied into the record rather than held as clones of
//! the request's `Uri` and `HeaderValue`s.
//!
//! Those clones are reference counts into the buffer the server parsed the
//! request head from (hyper parses every head of a connection into one shared
//! read buffer). A record waits in the export queue after its request is done,
//! and while any slice of that buffer is alive the server cannot reuse it: it
//! allocates a new one, and the allocator returns and takes back pages. On the
//! loopback server exporting OTLP (`benches/peers`: `loopback.py`, with `perf
//! stat` on the server) holding the clones cost page faults and a good part of
//! its throughput; the in-process benchmark cannot see it, since its requests
//! are built one by one.
//!
//! The copies go into a small array inside the record, so the common request
//! costs no allocation; a request whose text is longer than that (a long
//! browser `User-Agent`, a long query) takes one.

use std::ops::Range;

use arrayvec::ArrayString;

/// Bytes kept inline: an API request's target, host and user agent fit.
const INLINE: usize = 160;

/// Where a piece of text is in [`RequestText`].
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(crate) struct Piece {
    start: u32,
    end: u32,
}

impl Piece {
    fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }

    /// Its first `len` bytes (all of it if shorter), for text that is the start
    /// of text already copied in; `len` must fall on a character boundary.
    pub(crate) fn prefix(self, len: usize) -> Piece {
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        Piece {
            start: self.start,
            end: self.end.min(self.start.saturating_add(len)),
        }
    }
}

/// Inline, the text stays a `str` (`ArrayString`): reading a piece back from
/// bytes validated it as UTF-8 again each time (`benches/peers`:
/// `callgrind.py ours_rate1_server_only`).
enum Store {
    Inline(ArrayString<INLINE>),
    Heap(String),
}

/// Pieces of text, copied in once and read back by [`Piece`].
pub(crate) struct RequestText {
    store: Store,
}

impl RequestText {
    /// Room for text of `len` bytes in all.
    pub(crate) fn with_capacity(len: usize) -> Self {
        let store = if len <= INLINE {
            Store::Inline(ArrayString::new())
        } else {
            Store::Heap(String::with_capacity(len))
        };
        RequestText { store }
    }

    /// Copies `s` in. Beyond the capacity asked for (or 4 GiB) the text is
    /// not kept and its piece reads as empty.
    pub(crate) fn push(&mut self, s: &str) -> Piece {
        let (start, end) = match &mut self.store {
            Store::Inline(text) => {
                let start = text.len();
                if text.try_push_str(s).is_err() {
                    return Piece::default();
                }
                (start, text.len())
            }
            Store::Heap(text) => {
                let start = text.len();
                text.push_str(s);
                (start, text.len())
            }
        };
        match (u32::try_from(start), u32::try_from(end)) {
            (Ok(start), Ok(end)) => Piece { start, end },
            _ => Piece::default(),
        }
    }

    /// The text of `piece`.
    pub(crate) fn get(&self, piece: Piece) -> &str {
        // Pieces are whole `str`s copied in, so this never fails.
        let text = match &self.store {
            Store::Inline(text) => text.as_str(),
            Store::Heap(text) => text.as_str(),
        };
        text.get(piece.range()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_read_back_inline_and_on_the_heap() {
        for total in [0, 20, INLINE, INLINE + 1, 10_000] {
            let parts: Vec<String> = (0..4)
                .map(|i| {
                    let n = total / 4 + usize::from(i == 3) * (total % 4);
                    "é/?x".chars().cycle().take(n).collect::<String>()
                })
                .collect();
            let len = parts.iter().map(String::len).sum();
            let mut text = RequestText::with_capacity(len);
            assert_eq!(matches!(text.store, Store::Inline(_)), len <= INLINE);
            let pieces: Vec<Piece> = parts.iter().map(|p| text.push(p)).collect();
            for (piece, part) in pieces.iter().zip(&parts) {
                assert_eq!(text.get(*piece), part);
            }
        }
    }

    #[test]
    fn text_beyond_the_inline_room_reads_as_empty_not_as_a_panic() {
        let mut text = RequestText::with_capacity(4);
        let kept = text.push("abcd");
        let over = text.push(&"y".repeat(INLINE));
        assert_eq!(text.get(kept), "abcd");
        assert_eq!(text.get(over), "");
    }
}
