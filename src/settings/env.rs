//! Where `OTEL_*` variables come from: the process, or an explicit map, so that
//! resolution can be tested without racing on the process environment.

use std::collections::HashMap;

/// Where `OTEL_*` variables are read from.
#[derive(Debug, Clone, Default)]
pub(crate) enum Environment {
    /// The process environment.
    #[default]
    Process,
    /// Exactly these variables (tests, embedding).
    Vars(HashMap<String, String>),
}

impl Environment {
    /// The variable's value, if set and not blank.
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        match self {
            Environment::Process => std::env::var(name).ok(),
            Environment::Vars(vars) => vars.get(name).cloned(),
        }
        .filter(|v| !v.trim().is_empty())
    }
}
