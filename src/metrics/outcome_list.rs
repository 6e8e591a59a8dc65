//! [`OutcomeList`]: the series under one route, one per way its requests
//! ended (a status, a failure), found by a short scan: a route sees a handful
//! of outcomes, and a request's end compares a status and, rarely, a
//! failure's type. The list only grows, a node at a time (`OnceLock`), so a
//! reader never waits and a race to add the same outcome is settled by the
//! lock of its link.

use std::sync::{Arc, OnceLock};

use super::budget::Budget;

/// How a request ended: its response status, if a response head was sent,
/// and the type of its failure (an inner error's, `panic`), if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OutcomeKey {
    pub(crate) status: Option<u16>,
    pub(crate) failure: Option<Arc<str>>,
}

impl OutcomeKey {
    fn is(&self, status: Option<u16>, failure: Option<&str>) -> bool {
        self.status == status && self.failure.as_deref() == failure
    }
}

/// The series each key holds.
#[derive(Debug)]
struct Node<V> {
    key: OutcomeKey,
    value: V,
    next: OnceLock<Box<Node<V>>>,
}

/// The outcome series of one route.
#[derive(Debug)]
pub(crate) struct OutcomeList<V> {
    head: OnceLock<Box<Node<V>>>,
}

impl<V> Default for OutcomeList<V> {
    fn default() -> Self {
        OutcomeList {
            head: OnceLock::new(),
        }
    }
}

impl<V> OutcomeList<V> {
    /// The series of `status` and `failure`, made by `make` if it is new and
    /// `budget` has room; none if it has not.
    #[inline]
    pub(crate) fn get(
        &self,
        status: Option<u16>,
        failure: Option<&str>,
        budget: &Budget,
        make: impl Fn() -> V,
    ) -> Option<&V> {
        let mut link = &self.head;
        loop {
            let node = match link.get() {
                Some(node) => node,
                None => {
                    if !budget.take() {
                        return None;
                    }
                    let mut mine = false;
                    let node = link.get_or_init(|| {
                        mine = true;
                        Box::new(Node {
                            key: OutcomeKey {
                                status,
                                failure: failure.map(Arc::from),
                            },
                            value: make(),
                            next: OnceLock::new(),
                        })
                    });
                    if !mine {
                        budget.give_back();
                    }
                    node
                }
            };
            if node.key.is(status, failure) {
                return Some(&node.value);
            }
            link = &node.next;
        }
    }

    /// Each outcome and its series, oldest first.
    pub(crate) fn for_each<'a>(&'a self, mut f: impl FnMut(&'a OutcomeKey, &'a V)) {
        let mut link = &self.head;
        while let Some(node) = link.get() {
            f(&node.key, &node.value);
            link = &node.next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// Threads adding the same and different outcomes at once: one series
    /// an outcome, every count kept, the budget never exceeded.
    #[test]
    fn concurrent_ends_keep_every_count_within_the_budget() {
        let list = Arc::new(OutcomeList::<AtomicU64>::default());
        let budget = Arc::new(Budget::new(6));
        let overflow = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..8u16)
            .map(|t| {
                let (list, budget, overflow) = (list.clone(), budget.clone(), overflow.clone());
                std::thread::spawn(move || {
                    for i in 0..5_000u16 {
                        let status = 200 + (i + t) % 10;
                        let failure = (status == 209).then_some("panic");
                        match list.get(Some(status), failure, &budget, || AtomicU64::new(0)) {
                            Some(count) => count.fetch_add(1, Ordering::Relaxed),
                            None => overflow.fetch_add(1, Ordering::Relaxed),
                        };
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let mut seen = Vec::new();
        let mut total = overflow.load(Ordering::Relaxed);
        list.for_each(|key, count| {
            assert!(!seen.contains(key), "{key:?} twice");
            assert_eq!(key.failure.is_some(), key.status == Some(209));
            seen.push(key.clone());
            total += count.load(Ordering::Relaxed);
        });
        assert_eq!(seen.len(), 6);
        assert_eq!(total, 40_000);
        assert_eq!(budget.used(), 6);
    }
}
