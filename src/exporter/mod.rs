//! Exporters: each turns batches of finished spans into one wire format, behind
//! the SDK's [`SpanExporter`](opentelemetry_sdk::trace::SpanExporter) trait.

mod console;
mod in_memory;

pub use console::ConsoleExporter;
pub use in_memory::InMemoryExporter;
