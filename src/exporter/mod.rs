//! Exporters: each turns batches of finished spans into one wire format, behind
//! the SDK's [`SpanExporter`](opentelemetry_sdk::trace::SpanExporter) trait.

mod console;
#[cfg(any(feature = "zipkin", feature = "jaeger"))]
mod encoding;
mod in_memory;
#[cfg(feature = "jaeger")]
mod jaeger;
#[cfg(feature = "otlp")]
mod otlp;
#[cfg(feature = "zipkin")]
mod zipkin;

pub use console::ConsoleExporter;
pub use in_memory::InMemoryExporter;
#[cfg(feature = "jaeger")]
pub use jaeger::JaegerExporter;
#[cfg(feature = "otlp")]
pub use otlp::OtlpExporter;
#[cfg(feature = "zipkin")]
pub use zipkin::ZipkinExporter;
