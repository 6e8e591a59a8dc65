//! The kinds of record, one type each so that each has its own layout and
//! carries nothing of the others': an enum of them moved its request parts
//! once more per request (`benches/peers`: `callgrind.py ours_rate0_keep`).

use crate::conventions::request_parts::RequestParts;
use crate::conventions::sink::AttributeSink;
use crate::conventions::Conventions;

/// What a record's server span is described from, and whether it is
/// exported whatever happens.
pub(crate) trait RecordKind: Send + Sync + 'static {
    /// Exported whatever happens (sampled), not by the keep rules.
    const SAMPLED: bool;
    /// A gRPC call: its status comes from `grpc-status`.
    fn is_grpc(&self) -> bool;
    /// The server span's name, its attributes written to `attributes`;
    /// called once, when its spans are built.
    fn describe(&self, conventions: &Conventions, attributes: &mut impl AttributeSink) -> String;
}

/// Sampled on the layer's own pipeline: its parts copied out of the request
/// (clones of the request's buffers would outlive it on the export queue).
pub(crate) struct Sampled(pub(super) RequestParts);

impl RecordKind for Sampled {
    const SAMPLED: bool = true;

    fn is_grpc(&self) -> bool {
        self.0.is_grpc()
    }

    fn describe(&self, conventions: &Conventions, attributes: &mut impl AttributeSink) -> String {
        conventions.describe(&self.0, attributes)
    }
}

/// Not picked by the sample rate, kept at its end if the keep rules say so:
/// its parts are clones (reference counts) of the request's, since few are
/// kept and a copy would cost every such request.
pub(crate) struct Keepable(pub(super) RequestParts);

impl RecordKind for Keepable {
    const SAMPLED: bool = false;

    fn is_grpc(&self) -> bool {
        self.0.is_grpc()
    }

    fn describe(&self, conventions: &Conventions, attributes: &mut impl AttributeSink) -> String {
        conventions.describe(&self.0, attributes)
    }
}

/// Sampled by a tracer provider the user supplied: its server span is that
/// provider's SDK span, named and described when it started, so the record
/// adds only what the exchange brings, and its children, named after it.
pub(crate) struct UserProvider {
    /// The server span's name as it started.
    pub(crate) name: String,
    pub(crate) grpc: bool,
}

impl RecordKind for UserProvider {
    const SAMPLED: bool = true;

    fn is_grpc(&self) -> bool {
        self.grpc
    }

    fn describe(&self, _: &Conventions, _: &mut impl AttributeSink) -> String {
        self.name.clone()
    }
}
