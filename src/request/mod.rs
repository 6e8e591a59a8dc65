//! The request end of the data path: what the layer reads from a request
//! ([`ConnectionInfo`]: the two ends of its connection) and what it adds to it
//! for the handler ([`TraceInfo`]: the trace it belongs to).

mod connection;
mod trace_info;

pub(crate) use connection::addresses;
pub use connection::ConnectionInfo;
pub use trace_info::TraceInfo;
