//! How a trace crosses services: extracting and injecting W3C trace context,
//! baggage, B3 and Jaeger headers, the W3C Trace Context test suite's cases,
//! and which requests are sampled.
//!
//! Modules:
//! - `propagation`: extraction of every supported format and parent-based sampling;
//! - `trace_context`: W3C Trace Context Level 1 and 2, judged by what a service
//!   sends onward;
//! - `sampling`: ratio sampling of new traces.

#[path = "../common/mod.rs"]
mod common;

mod propagation;
mod sampling;
mod trace_context;
