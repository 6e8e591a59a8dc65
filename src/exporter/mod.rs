//! Exporters: each turns batches of finished spans into one wire format, behind
//! the SDK's [`SpanExporter`](opentelemetry_sdk::trace::SpanExporter) trait.

mod console;
mod in_memory;
#[cfg(feature = "zipkin")]
mod zipkin;

pub use console::ConsoleExporter;
pub use in_memory::InMemoryExporter;
#[cfg(feature = "zipkin")]
pub use zipkin::ZipkinExporter;
