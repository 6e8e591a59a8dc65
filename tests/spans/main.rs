//! The spans a request makes and what they carry: the span tree and its
//! attributes, semantic conventions, how axum, hyper and tonic servers are seen,
//! long streams, truncation, excluded URLs, failures and hostile input, secrets
//! kept out of logs, `tracing` spans and log lines joined to the request, and
//! the record path that network exporters read.
//!
//! Modules:
//! - `span_tree`: names, kinds, parents and every attribute with its type;
//! - `semconv`: the legacy, stable and dup conventions, key by key;
//! - `axum_routes`: route-template span names with `http.route`;
//! - `hyper_server`: the layer on a plain hyper 1 server;
//! - `grpc`: tonic behind the layer, `rpc.*` attributes and gRPC status;
//! - `long_streams`: body spans capped per stream, totals on the server span;
//! - `truncation`: `max_tag_value_length` on a char boundary;
//! - `excluded_urls`: no span for excluded routes;
//! - `failures`: status rules, errors, panics, streaming bodies, disconnects;
//! - `hostile`: odd and hostile input never panics and has a documented result;
//! - `secrets`: credentials never in a log line, warning, error or `Debug` output;
//! - `tracing_bridge`: `tracing` spans nest under the server span;
//! - `logs`: log lines carry the request's trace and span ids (feature `logs`);
//! - `record_path`: exporters reading records and `SpanData` carry the same
//!   spans (feature `otlp`).
//!
//! `secrets` installs the binary's global `tracing` subscriber and checks every
//! line it captured; the other modules that read log lines or bridge `tracing`
//! spans use a subscriber scoped to their own thread, so they see only their own.

#[path = "../common/mod.rs"]
mod common;

mod axum_routes;
mod excluded_urls;
mod failures;
mod grpc;
mod hostile;
mod hyper_server;
#[cfg(feature = "logs")]
mod logs;
mod long_streams;
#[cfg(feature = "otlp")]
mod record_path;
mod secrets;
mod semconv;
mod span_tree;
mod tracing_bridge;
mod truncation;
