//! [`SpanStore`]: what a record's description is written into. The
//! description (`record/build/`) makes every decision: names, attributes,
//! statuses, ids, times and their order. A store only keeps what it is given,
//! in its own layout:
//!
//! - `RequestSpansBuilder` (`request_spans.rs`), for our encoders, the viewer
//!   and the replay into a user's provider: the children of one kind share one
//!   name and one attribute list, all texts in one buffer;
//! - `SpanDataBuilder` (`span_data.rs`), for a consumer that takes SDK
//!   `SpanData` (a user's `SpanExporter`, the in-memory exporter): a `SpanData`
//!   a child, made as the child is given. Describing into the first layout and
//!   converting showed on a user's exporter's per-request count (`benches/peers`:
//!   `callgrind.py ours_rate1`).

use std::time::SystemTime;

use opentelemetry::trace::{SpanContext, Status};

use crate::conventions::message::Message;
use crate::conventions::sink::AttributeSink;

/// Where a record's description is written, in the order it is written:
/// the server span's attributes, then each child (the first of each kind
/// with what the kind shares); the server span itself comes back from the
/// description, and the store's owner adds it.
pub(crate) trait SpanStore {
    /// Where attributes are written.
    type Attributes: AttributeSink;

    /// Where the server span's attributes are written, all before the first
    /// child.
    fn server_attributes(&mut self) -> &mut Self::Attributes;

    /// Whether a child of `kind` was given already.
    fn knows(&self, kind: Message) -> bool;

    /// What every child of `kind` shares, given with its first: the name
    /// `name` writes (about `size.name` bytes), the attributes `attributes`
    /// writes (about `size.attributes` of them), and the status it returns.
    fn kind(
        &mut self,
        kind: Message,
        size: KindSize,
        name: impl FnOnce(&mut String),
        attributes: impl FnOnce(&mut Self::Attributes) -> Status,
    );

    /// A child of a kind given already, under the server span `parent`.
    fn child(
        &mut self,
        kind: Message,
        context: SpanContext,
        parent: &SpanContext,
        start: SystemTime,
        end: SystemTime,
    );
}

/// About how much a kind of child writes: room to make at once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KindSize {
    /// Bytes of its name.
    pub(crate) name: usize,
    /// Its attributes.
    pub(crate) attributes: usize,
}
