//! [`FoldHasher`]: the series tables' hash, a multiply-and-rotate fold of
//! eight bytes at a time from a random seed. SipHash, the standard library's,
//! was most of what measuring a request cost (three lookups a request;
//! `benches/peers`: `callgrind.py ours_rate0_metrics`). The keys are short
//! (a method, a status, a route template), their values mostly the
//! server's own; each table has its own seed, and holds at most its
//! cardinality limit.

use std::hash::{BuildHasher, Hasher};

/// Odd, with its bits spread (the 64-bit golden ratio).
const MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;

/// A seed for the tables' hashers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FoldState(u64);

impl FoldState {
    /// A seed drawn from the standard library's random keys.
    pub(crate) fn random() -> Self {
        FoldState(std::hash::RandomState::new().hash_one(0x5EED_u64) | 1)
    }
}

impl BuildHasher for FoldState {
    type Hasher = FoldHasher;

    fn build_hasher(&self) -> FoldHasher {
        FoldHasher(self.0)
    }
}

/// One hash under way.
#[derive(Debug)]
pub(crate) struct FoldHasher(u64);

impl FoldHasher {
    #[inline]
    fn fold(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(23) ^ word).wrapping_mul(MULTIPLIER);
    }
}

impl Hasher for FoldHasher {
    /// Eight bytes at a time; the last (up to) eight read as one word, which
    /// may overlap the one before, with the length folded in.
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let len = bytes.len();
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight"));
        let half = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four"));
        let last = if len >= 8 {
            let mut at = 0;
            while at + 8 < len {
                self.fold(word(at));
                at += 8;
            }
            word(len - 8)
        } else if len >= 4 {
            u64::from(half(0)) | u64::from(half(len - 4)) << 32
        } else if len > 0 {
            u64::from(bytes[0]) | u64::from(bytes[len / 2]) << 8 | u64::from(bytes[len - 1]) << 16
        } else {
            0
        };
        self.fold(last ^ (len as u64).rotate_right(8));
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.fold(u64::from(n));
    }

    #[inline]
    fn write_u16(&mut self, n: u16) {
        self.fold(u64::from(n));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.fold(n);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.fold(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // The low bits pick the slot: mix the high ones down.
        self.0 ^ (self.0 >> 29)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Routes that differ in one character, and statuses next to each other,
    /// spread over the slots of a 4096-slot table.
    #[test]
    fn near_keys_spread() {
        let state = FoldState::random();
        let mut slots = HashSet::new();
        for i in 0..1000u32 {
            let route = format!("/users/{i}/items");
            slots.insert(state.hash_one((route.as_str(), 200u16)) & 4095);
            slots.insert(state.hash_one(("/users", 100 + i as u16)) & 4095);
        }
        // 2000 keys in 4096 slots: a fair hash fills about 1600 of them.
        assert!(slots.len() > 1400, "{} slots", slots.len());
    }
}
