//! The request record, the heart of the crate: a request is a compact record
//! written on the request's threads while it runs, and turned into spans only
//! when it is exported, on the export thread. It is split the way its two
//! threads are:
//!
//! - `live/` (request side): the record, its frames and facts as they happen,
//!   the handler's handle on its server span, and its end, where the record
//!   decides whether it is exported and hands itself over;
//! - `handoff.rs`: the contract between the two: [`RecordSink`], where a record
//!   goes when its request ends, and [`EndedRecord`], what the sink builds
//!   spans from;
//! - `build/` (export side): an ended record described as its spans, into a
//!   [`SpanStore`]: [`RequestSpans`] for our encoders, the viewer and the
//!   replay into a user's provider, or SDK `SpanData` for a user's exporter;
//! - `spans/`: the finished spans every consumer reads, and the stores a
//!   description is written into: one description, one view;
//! - `recorder.rs`: what every record of a layer shares.
//!
//! Invariants:
//! - The request side never describes: no attribute, name or wall-clock time
//!   is made while a request runs, only clock ticks and facts.
//! - A record is exported at most once, and built into exactly the number of
//!   spans it was handed over with: frames logged after its end get no span.
//! - There is one way from a record to spans, its description
//!   (`build/`): it makes every decision, and a store only keeps what it is
//!   given, so every consumer gets the same spans (`tests/spans/record_path.rs`
//!   holds the wire, a user's exporter and a user's provider to that).

mod build;
mod handoff;
pub(crate) mod live;
mod recorder;
mod spans;

pub(crate) use handoff::{EndedRecord, KeptFor, RecordSink};
pub(crate) use live::{Record, Recording, UserProvider};
pub(crate) use recorder::{frame_span_cap, Recorder};
pub(crate) use spans::*;

#[cfg(test)]
mod tests;
