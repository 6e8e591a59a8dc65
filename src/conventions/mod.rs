//! What a request's spans say: their names and attributes, as BentoML's ASGI
//! stack writes them (the HTTP conventions before v1.21, "legacy") and as the
//! stable OpenTelemetry conventions do, beside or instead of them. Pure
//! functions of a request's parts and facts, written into an
//! [`AttributeSink`](sink::AttributeSink): the record describes its spans with
//! them on the export thread, the client layer its CLIENT spans as it calls.
//!
//! - `options.rs`: [`Conventions`], which conventions and the user's options;
//! - `request_parts.rs`: what a recorded request keeps to be described, its
//!   text copied in by `request_text.rs`;
//! - `describe.rs`: a server span's name and attributes;
//! - `facts.rs`: what the response head, a gRPC status, a failure and a frame
//!   add;
//! - `legacy.rs` and `stable.rs`: the `http.*`/`net.*` keys of each set;
//!   `ours.rs`: our own `tower_otel_tracing.*` keys;
//! - `naming.rs`, `message.rs`: span names and the ASGI message types;
//! - `url.rs`, `address.rs`: URLs (host, redaction) and addresses as text;
//! - `grpc.rs`: `rpc.*` attributes and the status from `grpc-status`;
//! - `recorded_headers.rs`: header values users opt in to, sensitive ones masked;
//! - `failure.rs`: errors and panics as `exception` events;
//! - `client.rs`: the CLIENT span of an outgoing call;
//! - `sink.rs`: where attributes are written.

pub(crate) mod address;
pub(crate) mod client;
pub(crate) mod describe;
pub(crate) mod facts;
pub(crate) mod failure;
pub(crate) mod grpc;
pub(crate) mod legacy;
pub(crate) mod message;
pub(crate) mod naming;
mod options;
pub(crate) mod ours;
pub(crate) mod recorded_headers;
pub(crate) mod request_parts;
mod request_text;
pub(crate) mod sink;
pub(crate) mod stable;
pub(crate) mod url;

pub(crate) use options::Conventions;
