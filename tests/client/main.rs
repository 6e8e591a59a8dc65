//! The client layer: outgoing requests traced and their context injected,
//! across real services on loopback, in every propagation format.
//!
//! Modules:
//! - `client`: service A calls service B through the client layer (feature
//!   `axum`: the services are served with `ConnectionInfo`).

#[path = "../common/mod.rs"]
mod common;

#[cfg(feature = "axum")]
mod client;
