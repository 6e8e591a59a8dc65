//! The README's quick start, end to end: the summarize example, run as its own
//! process from the target directory, serves, prints its spans and flushes them
//! on SIGTERM.
//!
//! Modules:
//! - `quick_start`: the example binary with each exporter (feature `axum`, Unix).

#[path = "../common/mod.rs"]
mod common;

#[cfg(all(feature = "axum", unix))]
mod quick_start;
