//! The layer's default of installing its tracer provider and propagator as
//! OpenTelemetry's globals, so handler code using `opentelemetry::global` joins
//! the request's trace.
//!
//! A binary of its own: the globals are process-wide. Every other test builds
//! its layer with `install_global(false)`, or with a config that validation
//! refuses before anything is installed.
//!
//! Modules:
//! - `global`: the global tracer and propagator follow the request.

#[path = "../common/mod.rs"]
mod common;

mod global;
