//! [`Budget`]: the room an instrument has left for series, under its
//! cardinality limit, taken by whichever request thread makes a series.

use std::sync::atomic::{AtomicUsize, Ordering};

/// How many series an instrument may still make: shared by every route's
/// list, so that the limit counts attribute sets, not routes.
#[derive(Debug)]
pub(crate) struct Budget {
    used: AtomicUsize,
    limit: usize,
}

impl Budget {
    pub(crate) fn new(limit: usize) -> Self {
        Budget {
            used: AtomicUsize::new(0),
            limit,
        }
    }

    /// Takes room for one series, if there is any.
    pub(crate) fn take(&self) -> bool {
        if self.used.fetch_add(1, Ordering::Relaxed) >= self.limit {
            self.used.fetch_sub(1, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Series made so far.
    #[cfg(test)]
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed).min(self.limit)
    }

    /// Gives back room taken for a series another thread made first.
    pub(crate) fn give_back(&self) {
        self.used.fetch_sub(1, Ordering::Relaxed);
    }
}
