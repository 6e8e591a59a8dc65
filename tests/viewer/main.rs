//! The embedded trace viewer: its pages and JSON over HTTP, and the same pages
//! in a real browser.
//!
//! Modules:
//! - `viewer`: pages, JSON, headers, redaction and escaping over HTTP;
//! - `metrics`: the overview's metrics charts after real requests;
//! - `browser`: headless Chromium through WebDriver (opt-in:
//!   `TRACE_VIEWER_BROWSER=1`).
//!
//! Both need the features `viewer` and `axum`.

#[path = "../common/mod.rs"]
mod common;

#[cfg(all(feature = "viewer", feature = "axum"))]
mod browser;
#[cfg(all(feature = "viewer", feature = "axum"))]
mod metrics;
#[cfg(all(feature = "viewer", feature = "axum"))]
mod viewer;
