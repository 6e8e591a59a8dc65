//! [`BodySize`]: how many bytes a batch's encoded body is expected to take,
//! learnt from the last batch, so that its buffer is allocated once at about
//! its size. A buffer that starts too small is doubled on the way, and every
//! doubling copies what was written so far: the Jaeger collector's buffer,
//! sized by a fixed guess, doubled twice a batch (`benches/peers`: `callgrind.py --export`).

use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes a body needs besides its spans (the batch's head: process or
/// resource, list headers).
const HEAD: usize = 512;

/// The expected bytes a span takes in one exporter's bodies. Shared by that
/// exporter's concurrent exports: a relaxed estimate, never a limit.
#[derive(Debug)]
pub(crate) struct BodySize {
    per_span: AtomicUsize,
}

impl BodySize {
    /// Starting from `per_span` bytes a span, until a body has been written.
    pub(crate) const fn new(per_span: usize) -> Self {
        BodySize {
            per_span: AtomicUsize::new(per_span),
        }
    }

    /// Room for a body of `spans` spans, with an eighth to spare so that a
    /// batch a little larger than the last does not double its buffer.
    pub(crate) fn capacity(&self, spans: usize) -> usize {
        let per_span = self.per_span.load(Ordering::Relaxed);
        HEAD + spans * (per_span + per_span / 8)
    }

    /// Learns from a body of `bytes` bytes holding `spans` spans.
    pub(crate) fn learn(&self, spans: usize, bytes: usize) {
        if spans > 0 {
            let per_span = bytes.saturating_sub(HEAD).div_ceil(spans).max(1);
            self.per_span.store(per_span, Ordering::Relaxed);
        }
    }
}

impl Clone for BodySize {
    fn clone(&self) -> Self {
        BodySize::new(self.per_span.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_body_fits_what_the_last_one_took() {
        let size = BodySize::new(256);
        assert_eq!(size.capacity(100), HEAD + 100 * 288);
        // 100 spans took 62,400 bytes beyond the head: 624 a span.
        size.learn(100, HEAD + 62_400);
        assert!(size.capacity(100) >= HEAD + 62_400);
        assert!(size.capacity(100) <= HEAD + 62_400 + 62_400 / 8);
        assert_eq!(size.clone().capacity(7), size.capacity(7));
        // Nothing to learn from an empty batch, or a body smaller than a head.
        size.learn(0, 10);
        assert_eq!(size.capacity(1), HEAD + 702);
        size.learn(3, 5);
        assert_eq!(size.capacity(2), HEAD + 2);
    }
}
