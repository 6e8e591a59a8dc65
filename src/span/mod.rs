//! The span stage: what a sampled request records. The server span and the
//! children hung under it, named and described as BentoML's ASGI stack does.
//!
//! - `recording.rs`: [`Recording`], the handle the future and the bodies
//!   report a recorded request to: one of the two below;
//! - `request_span.rs`: [`RequestSpan`], a sampled request under a tracer
//!   provider the user supplied: an SDK server span and its `http send` /
//!   `http receive` children, recorded as the exchange goes;
//! - `deferred.rs`, `request_parts.rs`: [`DeferredSpan`](deferred::DeferredSpan),
//!   a request recorded as facts and turned into spans at its end: sampled on
//!   the layer's own pipeline, or not sampled but kept if it ends as an error
//!   or slowly (described then from its request parts, their text copied in by
//!   `request_text.rs`), with `frame_log.rs`,
//!   its frames written lock-free as they happen, and `server_span.rs`, the
//!   handle that takes a handler's writes to a sampled server span;
//! - `recorder.rs`: what every request span shares (pipeline, ids, options);
//! - `clock.rs`: the request path's clock (ticks, turned into wall-clock time
//!   against an anchor);
//! - `facts.rs`: the attributes, statuses and events a response, a gRPC status,
//!   a failure or a frame gives; shared by both so they record alike;
//! - `describe.rs`: a request's server span name and attributes;
//! - `naming.rs`, `message.rs`: span names and the ASGI message types;
//! - `attributes.rs`: the `http.*` / `net.*` attributes, with `url.rs` (host,
//!   exclusion URL, redaction) and `address.rs` (addresses as text);
//! - `client.rs`: the CLIENT span of an outgoing call (name and attributes);
//! - `stable.rs`: the stable HTTP conventions, beside or instead of the legacy ones;
//! - `grpc.rs`: `rpc.*` attributes and status for gRPC;
//! - `recorded_headers.rs`: header values users opt in to, sensitive ones masked;
//! - `failure.rs`: errors and panics as `exception` events;
//! - `totals.rs`: the frames and bytes each body carried, past the frame span cap.

pub(crate) mod address;
pub(crate) mod attributes;
pub(crate) mod client;
pub(crate) mod clock;
pub(crate) mod deferred;
pub(crate) mod describe;
pub(crate) mod facts;
pub(crate) mod failure;
pub(crate) mod frame_log;
pub(crate) mod grpc;
pub(crate) mod message;
pub(crate) mod naming;
pub(crate) mod recorded_headers;
pub(crate) mod recorder;
pub(crate) mod recording;
pub(crate) mod request_parts;
pub(crate) mod request_span;
mod request_text;
pub(crate) mod server_span;
pub(crate) mod stable;
pub(crate) mod totals;
pub(crate) mod url;

pub(crate) use recording::Recording;
pub(crate) use request_span::RequestSpan;
