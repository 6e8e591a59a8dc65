//! Log correlation (feature `logs`): every log line written while a request is
//! handled carries the request's `trace_id` and `span_id`, sampled or not (an
//! unsampled request's trace id is still what its callee and its `TraceInfo`
//! show). It wraps tracing-subscriber's fmt output and reads the OpenTelemetry
//! context the layer makes current while the request's handler runs: neither
//! tracing-opentelemetry nor handler changes are needed.
//!
//! The names follow OpenTelemetry's log data model
//! (<https://opentelemetry.io/docs/specs/otel/logs/data-model/#field-traceid>).
//!
//! ```
//! use opentelemetry::trace::Tracer;
//! use tower_otel_tracing::logs::TraceIds;
//! use tower_otel_tracing::{TracingConfig, TracingLayer};
//! # #[derive(Clone, Default)]
//! # struct Out(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
//! # impl std::io::Write for Out {
//! #     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.lock().unwrap().write(b) }
//! #     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
//! # }
//! # let out = Out::default();
//!
//! // In a program, `.init()` instead of `.finish()` and `with_default`.
//! let subscriber = tracing_subscriber::fmt()
//!     .event_format(TraceIds::text(tracing_subscriber::fmt::format()))
//! #   .with_writer({ let out = out.clone(); move || out.clone() })
//!     .finish();
//! let layer = TracingLayer::from_config(TracingConfig::default());
//! tracing::subscriber::with_default(subscriber, || {
//!     // Unsampled (the default rate is 0), yet the line still gets the ids.
//!     let tracer = layer.pipeline().tracer("checkout");
//!     tracer.in_span("charge card", |_cx| tracing::info!("card charged"));
//! });
//! # let line = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
//! assert!(line.starts_with("trace_id="));
//! ```

use std::fmt;

use opentelemetry::trace::TraceContextExt;
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Adds `trace_id` and `span_id` to each log line that has a current trace:
/// in front of a text line (`trace_id=… span_id=… 2026-… INFO …`), as the first
/// fields of a JSON object. Lines outside any request are left as they are.
///
/// ```
/// use tower_otel_tracing::logs::TraceIds;
///
/// // Text, as `tracing_subscriber::fmt()` writes it:
/// let text = tracing_subscriber::fmt()
///     .event_format(TraceIds::text(tracing_subscriber::fmt::format()))
///     .finish();
/// // JSON (tracing-subscriber's `json` feature):
/// let json = tracing_subscriber::fmt()
///     .json()
///     .event_format(TraceIds::json(tracing_subscriber::fmt::format().json()))
///     .finish();
/// ```
#[derive(Debug, Clone)]
pub struct TraceIds<F> {
    inner: F,
    json: bool,
}

impl<F> TraceIds<F> {
    /// Text lines: the ids come first, so colours and layout stay the inner
    /// format's.
    pub fn text(inner: F) -> Self {
        TraceIds { inner, json: false }
    }

    /// JSON objects (one per line): the ids become the object's first fields.
    pub fn json(inner: F) -> Self {
        TraceIds { inner, json: true }
    }
}

impl<S, N, F> FormatEvent<S, N> for TraceIds<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let cx = opentelemetry::Context::current();
        let span = cx.span();
        let sc = span.span_context();
        if !sc.is_valid() {
            return self.inner.format_event(ctx, writer, event);
        }
        if !self.json {
            write!(
                writer,
                "trace_id={} span_id={} ",
                sc.trace_id(),
                sc.span_id()
            )?;
            return self.inner.format_event(ctx, writer, event);
        }
        let mut line = String::new();
        self.inner
            .format_event(ctx, Writer::new(&mut line), event)?;
        match line.strip_prefix('{') {
            Some(rest) => {
                let sep = if rest.starts_with('}') { "" } else { "," };
                write!(
                    writer,
                    "{{\"trace_id\":\"{}\",\"span_id\":\"{}\"{sep}{rest}",
                    sc.trace_id(),
                    sc.span_id()
                )
            }
            None => writer.write_str(&line),
        }
    }
}
