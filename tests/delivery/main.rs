//! Delivery of spans when things go wrong: failing, slow, hanging and hostile
//! collectors, a rate-limited link, a full queue, concurrent span ends and
//! exports, and shutdown. Requests are never slowed or broken, loss is counted,
//! and nothing finished before shutdown is lost.
//!
//! Modules:
//! - `faults`: dead, failing and black-hole collectors, counted loss, shutdown;
//! - `chaos`: every fault of the tests' own proxy, for every exporter;
//! - `netns`: a rate-limited loopback in a network namespace (needs root and
//!   iproute2; prints that it skipped without them);
//! - `memory_bound`: memory stays bounded while the collector is down;
//! - `queue_race`: the queue bound under concurrent span ends;
//! - `handoff`: the hand-off from request threads to the batch processor;
//! - `concurrent_exports`: a hanging export does not hold back the ones after it;
//! - `lifecycle`: shutdown, guard drop and layer drop flush everything.
//!
//! Process-wide state: `faults` installs the binary's global `tracing` subscriber
//! (its test tells its own log lines apart by its collector's address);
//! `memory_bound` counts the heap with the binary's global allocator and reads
//! the process's RSS, so its test runs again alone in a child process of this
//! binary, as `netns` runs again inside its namespace.

#[path = "../common/mod.rs"]
mod common;

#[cfg(all(feature = "zipkin", feature = "otlp", feature = "jaeger"))]
mod chaos;
#[cfg(feature = "otlp")]
mod concurrent_exports;
#[cfg(all(feature = "zipkin", feature = "otlp", feature = "jaeger"))]
mod faults;
mod handoff;
mod lifecycle;
#[cfg(feature = "zipkin")]
mod memory_bound;
#[cfg(all(feature = "zipkin", feature = "axum"))]
mod netns;
#[cfg(feature = "zipkin")]
mod queue_race;
