//! Configuring the layer: BentoML-shaped config files in JSON, YAML and TOML,
//! the OpenTelemetry environment variables over them, and errors that name the
//! field.
//!
//! Modules:
//! - `config`: loading and validating config files;
//! - `env_vars`: every OpenTelemetry variable, unset, valid and invalid;
//! - `metrics`: the `metrics` section and its variables.

mod config;
mod env_vars;
mod metrics;
