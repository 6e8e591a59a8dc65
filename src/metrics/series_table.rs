//! [`SeriesTable`]: the series of an instrument family by their attribute
//! set, found by request threads without a lock: a fixed array of slots, each
//! filled once (`OnceLock`), probed from the key's hash. Finding a series that
//! exists reads slots and compares keys; only a new series fills a slot (and
//! allocates), and a race for the same slot is settled by the `OnceLock`.
//!
//! At most `limit` series (the metrics SDK specification's default
//! cardinality limit, 2000): measurements beyond it go to one overflow series,
//! which exports with `otel.metric.overflow = true`.

use std::hash::{BuildHasher, Hash};
use std::sync::OnceLock;

use super::budget::Budget;
use super::fold_hash::FoldState;

/// The default cardinality limit of the metrics SDK specification.
pub(crate) const CARDINALITY_LIMIT: usize = 2000;

/// Where a series is in its table: a slot, or the overflow series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Place(usize);

impl Place {
    pub(crate) const OVERFLOW: Place = Place(usize::MAX);
}

/// One filled slot.
#[derive(Debug)]
struct Entry<K, V> {
    key: K,
    value: V,
}

/// A slot: empty, or filled once with a series (boxed, so that empty slots
/// cost a pointer).
type Slot<K, V> = OnceLock<Box<Entry<K, V>>>;

/// The series of one family.
#[derive(Debug)]
pub(crate) struct SeriesTable<K, V> {
    slots: Box<[Slot<K, V>]>,
    /// Room left for series.
    budget: Budget,
    overflow: V,
    hasher: FoldState,
}

impl<K, V> SeriesTable<K, V> {
    /// Room for `limit` series; `overflow` takes what does not fit.
    pub(crate) fn new(limit: usize, overflow: V) -> Self {
        // Twice the limit, a power of two: probes stay short when full.
        let capacity = (limit.max(1) * 2).next_power_of_two();
        SeriesTable {
            slots: (0..capacity).map(|_| OnceLock::new()).collect(),
            budget: Budget::new(limit),
            overflow,
            hasher: FoldState::random(),
        }
    }

    /// The series of `key` (a borrowed form of a stored key: only it is
    /// hashed), made by `make` if it is new and there is room; the overflow
    /// series if there is none.
    #[inline]
    pub(crate) fn get<Q>(&self, key: &Q, make: impl FnOnce() -> (K, V)) -> &V
    where
        Q: Hash + ?Sized,
        K: PartialEq<Q>,
    {
        self.at(self.find(key, make))
    }

    /// The series at `place` (from [`find`](Self::find)): a series found once
    /// is found again without a hash.
    #[inline]
    pub(crate) fn at(&self, place: Place) -> &V {
        match self.slots.get(place.0).and_then(OnceLock::get) {
            Some(entry) => &entry.value,
            None => &self.overflow,
        }
    }

    /// Where the series of `key` is, as [`get`](Self::get) finds or makes it.
    #[inline]
    pub(crate) fn find<Q>(&self, key: &Q, make: impl FnOnce() -> (K, V)) -> Place
    where
        Q: Hash + ?Sized,
        K: PartialEq<Q>,
    {
        let mask = self.slots.len() - 1;
        let mut at = self.hasher.hash_one(key) as usize & mask;
        let mut make = Some(make);
        for _ in 0..self.slots.len() {
            let slot = &self.slots[at];
            match slot.get() {
                Some(entry) if entry.key == *key => return Place(at),
                Some(_) => {}
                None => {
                    if !self.budget.take() {
                        return Place::OVERFLOW;
                    }
                    let mut mine = false;
                    let entry = slot.get_or_init(|| {
                        mine = true;
                        let (key, value) = (make.take().expect("made once"))();
                        Box::new(Entry { key, value })
                    });
                    if !mine {
                        // Another series took this slot first.
                        self.budget.give_back();
                    }
                    if entry.key == *key {
                        return Place(at);
                    }
                    if make.is_none() {
                        // Made, but the slot went to another key: cannot happen
                        // with `get_or_init` running our closure; be safe.
                        return Place::OVERFLOW;
                    }
                }
            }
            at = (at + 1) & mask;
        }
        Place::OVERFLOW
    }

    /// Each series, and the overflow series (last, with no key).
    pub(crate) fn for_each<'a>(&'a self, mut f: impl FnMut(Option<&'a K>, &'a V)) {
        for slot in self.slots.iter() {
            if let Some(entry) = slot.get() {
                f(Some(&entry.key), &entry.value);
            }
        }
        f(None, &self.overflow);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    #[test]
    fn each_key_has_one_series_and_the_rest_overflow() {
        let table: SeriesTable<u32, AtomicU64> = SeriesTable::new(10, AtomicU64::new(0));
        for round in 0..3 {
            for key in 0..25u32 {
                table
                    .get(&key, || (key, AtomicU64::new(0)))
                    .fetch_add(1, Ordering::Relaxed);
            }
            let _ = round;
        }
        let mut series = 0;
        let mut overflow = 0;
        table.for_each(|key, value| match key {
            Some(_) => {
                series += 1;
                assert_eq!(value.load(Ordering::Relaxed), 3);
            }
            None => overflow = value.load(Ordering::Relaxed),
        });
        assert_eq!(series, 10);
        assert_eq!(overflow, 15 * 3);
    }

    /// Many threads making the same and different series at once: one
    /// series a key, every count kept, never more series than the limit.
    #[test]
    fn concurrent_finds_and_makes_keep_every_count() {
        let table = Arc::new(SeriesTable::<u32, AtomicU64>::new(64, AtomicU64::new(0)));
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let table = table.clone();
                std::thread::spawn(move || {
                    for i in 0..10_000u32 {
                        let key = (i * 7 + t) % 100;
                        table
                            .get(&key, || (key, AtomicU64::new(0)))
                            .fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let (mut total, mut series, mut keys) = (0, 0, std::collections::HashSet::new());
        table.for_each(|key, value| {
            total += value.load(Ordering::Relaxed);
            if let Some(k) = key {
                series += 1;
                assert!(keys.insert(*k), "key {k} twice");
            }
        });
        assert_eq!(total, 80_000);
        assert_eq!(series, 64);
    }
}
