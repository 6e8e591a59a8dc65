//! The request side of the record: what the request's threads write while it
//! runs (the response future and the two bodies, each on whichever runtime
//! thread polls it), without a lock on the common path.
//!
//! - `recording.rs`: [`Recording`], the handle the layer reports to;
//! - `record.rs`: [`Record`], its facts, and its end, where an exported record
//!   is handed to the recorder's sink;
//! - `kind.rs`: the two kinds, sampled and keepable, and what each keeps of its request;
//! - `frame_log.rs`: the frames, written lock-free as they happen;
//! - `totals.rs`: the frames and bytes each body carried, past the frame cap;
//! - `handler_span.rs` and `handler_writes.rs`: the handler's handle on its
//!   server span, and what it wrote.

pub(crate) mod frame_log;
mod handler_span;
pub(crate) mod handler_writes;
mod kind;
mod record;
mod recording;
pub(crate) mod totals;

pub(crate) use kind::{RecordKind, UserProvider};
pub(crate) use record::{Ending, Record};
pub(crate) use recording::Recording;
