//! [`PerScope`]: something made once per instrumentation scope of a batch (a
//! group of OTLP spans, Zipkin's written scope tags, Jaeger's encoded ones).
//! A request's spans share their scope's address (`RequestSpans`), so a lookup
//! compares addresses first; a handler's span has its own copy, compared by
//! value.

use opentelemetry::InstrumentationScope;

/// Values by scope, in the order their scopes were first seen.
pub(crate) struct PerScope<'a, T>(Vec<(&'a InstrumentationScope, T)>);

impl<'a, T> PerScope<'a, T> {
    pub(crate) fn new() -> Self {
        PerScope(Vec::new())
    }

    /// The value of `scope`, if it has one.
    pub(crate) fn get(&self, scope: &InstrumentationScope) -> Option<&T> {
        self.0
            .iter()
            .find(|(s, _)| same(s, scope))
            .map(|(_, value)| value)
    }

    /// The value of `scope`, made by `make` the first time.
    pub(crate) fn get_or_insert_with(
        &mut self,
        scope: &'a InstrumentationScope,
        make: impl FnOnce(&InstrumentationScope) -> T,
    ) -> &mut T {
        let at = match self.0.iter().position(|(s, _)| same(s, scope)) {
            Some(at) => at,
            None => {
                self.0.push((scope, make(scope)));
                self.0.len() - 1
            }
        };
        &mut self.0[at].1
    }

    /// Every scope and its value, in the order first seen.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&'a InstrumentationScope, &T)> {
        self.0.iter().map(|(s, value)| (*s, value))
    }
}

fn same(a: &InstrumentationScope, b: &InstrumentationScope) -> bool {
    std::ptr::eq(a, b) || a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_per_scope_by_address_or_by_value() {
        let a = InstrumentationScope::builder("a").build();
        let a_copy = a.clone();
        let b = InstrumentationScope::builder("a").with_version("2").build();
        let mut made = 0;
        let mut scopes = PerScope::new();
        for scope in [&a, &a_copy, &b, &a] {
            *scopes.get_or_insert_with(scope, |_| {
                made += 1;
                0
            }) += 1;
        }
        assert_eq!(made, 2);
        assert_eq!(scopes.get(&a_copy), Some(&3));
        assert_eq!(scopes.get(&b), Some(&1));
        let order: Vec<_> = scopes.iter().map(|(s, n)| (s.version(), *n)).collect();
        assert_eq!(order, [(None, 3), (Some("2"), 1)]);
    }
}
