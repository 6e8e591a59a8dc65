//! [`ConsoleExporter`]: spans as text, in the OpenTelemetry Collector debug layout.

use std::fmt::{self, Write as _};
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanId, SpanKind, Status};
use opentelemetry::{Array, Value};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use super::Export;
use crate::record::{batch_views, Attributes, FinishedSpans, SpanView, ValueRef};

/// Prints finished spans in the layout of the OpenTelemetry Collector's `debug`
/// exporter (detailed verbosity), the layout BentoML's tracing guide shows, so
/// the quick start needs no collector.
///
/// ```
/// use tower_otel_tracing::exporter::ConsoleExporter;
///
/// let to_stdout = ConsoleExporter::stdout();
/// let to_buffer = ConsoleExporter::new(Vec::<u8>::new());
/// ```
#[derive(Clone)]
pub struct ConsoleExporter {
    out: Arc<Mutex<Box<dyn Write + Send>>>,
    resource: Resource,
}

impl fmt::Debug for ConsoleExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleExporter").finish_non_exhaustive()
    }
}

impl ConsoleExporter {
    /// Writes to standard output.
    pub fn stdout() -> Self {
        ConsoleExporter::new(std::io::stdout())
    }

    /// Writes to any writer (a file, a buffer).
    pub fn new(out: impl Write + Send + 'static) -> Self {
        ConsoleExporter {
            out: Arc::new(Mutex::new(Box::new(out))),
            resource: Resource::builder_empty().build(),
        }
    }

    /// Writes one batch's spans.
    fn write(&self, views: &[SpanView<'_>]) -> OTelSdkResult {
        let text = render(&self.resource, views);
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| OTelSdkError::InternalFailure(format!("console exporter: {e}")))
    }
}

/// As a user's exporter (`TracingLayerBuilder::exporter`, or any SDK pipeline).
impl SpanExporter for ConsoleExporter {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        std::future::ready(self.write(&batch_views(&batch)))
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = resource.clone();
    }
}

/// As the layer's own exporter (`exporter_type: console`): a request's spans
/// are read from its description, as the network exporters read them.
impl Export for ConsoleExporter {
    type Item = FinishedSpans;

    fn export(
        &self,
        batch: Vec<FinishedSpans>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        std::future::ready(self.write(&batch_views(&batch)))
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = resource.clone();
    }
}

/// Renders one batch; spans are grouped by instrumentation scope in order of first appearance.
fn render(resource: &Resource, batch: &[SpanView<'_>]) -> String {
    let mut s = String::with_capacity(512 + batch.len() * 768);
    s.push_str("ResourceSpans #0\nResource SchemaURL: ");
    s.push_str(resource.schema_url().unwrap_or(""));
    s.push_str("\nResource attributes:\n");
    let mut attrs: Vec<_> = resource.iter().collect();
    attrs.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    for (k, v) in attrs {
        let _ = writeln!(s, "     -> {}: {}", k.as_str(), Typed(ValueRef::Value(v)));
    }

    let mut scopes: Vec<&opentelemetry::InstrumentationScope> = Vec::new();
    for span in batch {
        if !scopes.contains(&span.instrumentation_scope) {
            scopes.push(span.instrumentation_scope);
        }
    }
    for (si, scope) in scopes.into_iter().enumerate() {
        let _ = writeln!(s, "ScopeSpans #{si}");
        let _ = writeln!(
            s,
            "ScopeSpans SchemaURL: {}",
            scope.schema_url().unwrap_or("")
        );
        let _ = writeln!(
            s,
            "InstrumentationScope {} {}",
            scope.name(),
            scope.version().unwrap_or("")
        );
        let spans = batch.iter().filter(|sp| sp.instrumentation_scope == scope);
        for (i, span) in spans.enumerate() {
            render_span(&mut s, i, span);
        }
    }
    s
}

fn render_span(s: &mut String, i: usize, span: &SpanView<'_>) {
    let parent = if span.parent_span_id == SpanId::INVALID {
        String::new()
    } else {
        span.parent_span_id.to_string()
    };
    let (code, message) = match span.status {
        Status::Unset => ("Unset", ""),
        Status::Ok => ("Ok", ""),
        Status::Error { description } => ("Error", description.as_ref()),
    };
    let _ = write!(
        s,
        "Span #{i}\n    Trace ID       : {}\n    Parent ID      : {parent}\n    ID             : {}\n    Name           : {}\n    Kind           : {}\n    Start time     : {}\n    End time       : {}\n    Status code    : {code}\n    Status message : {message}\n",
        span.span_context.trace_id(),
        span.span_context.span_id(),
        span.name,
        kind(span.span_kind),
        Timestamp(span.start_time),
        Timestamp(span.end_time),
    );
    if span.attributes.len() > 0 {
        s.push_str("Attributes:\n");
        write_attributes(s, "     -> ", span.attributes);
    }
    if !span.events.is_empty() {
        s.push_str("Events:\n");
        for (ei, event) in span.events.iter().enumerate() {
            let _ = write!(
                s,
                "SpanEvent #{ei}\n     -> Name: {}\n     -> Timestamp: {}\n     -> DroppedAttributesCount: {}\n",
                event.name,
                Timestamp(event.timestamp),
                event.dropped_attributes_count
            );
            if !event.attributes.is_empty() {
                s.push_str("     -> Attributes::\n");
                write_attributes(s, "          -> ", Attributes::List(&event.attributes));
            }
        }
    }
}

fn write_attributes(s: &mut String, indent: &str, attributes: Attributes<'_>) {
    attributes.for_each(|a| {
        let _ = writeln!(s, "{indent}{}: {}", a.key, Typed(a.value));
    });
}

fn kind(kind: &SpanKind) -> &'static str {
    match kind {
        SpanKind::Client => "Client",
        SpanKind::Server => "Server",
        SpanKind::Producer => "Producer",
        SpanKind::Consumer => "Consumer",
        SpanKind::Internal => "Internal",
    }
}

/// A value with its OTLP type, as the debug exporter prints it: `Str(x)`, `Int(1)`.
struct Typed<'a>(ValueRef<'a>);

impl fmt::Display for Typed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
            f.write_str("Slice([")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{item}")?;
            }
            f.write_str("])")
        }
        let value = match self.0 {
            ValueRef::Text(text) => return write!(f, "Str({text})"),
            ValueRef::Value(value) => value,
        };
        match value {
            Value::String(v) => write!(f, "Str({})", v.as_str()),
            Value::I64(v) => write!(f, "Int({v})"),
            Value::F64(v) => write!(f, "Double({v})"),
            Value::Bool(v) => write!(f, "Bool({v})"),
            Value::Array(Array::String(v)) => {
                let quoted: Vec<String> = v.iter().map(|s| format!("{:?}", s.as_str())).collect();
                list(f, &quoted)
            }
            Value::Array(Array::I64(v)) => list(f, v),
            Value::Array(Array::F64(v)) => list(f, v),
            Value::Array(Array::Bool(v)) => list(f, v),
            other => write!(f, "Str({other})"),
        }
    }
}

/// `2024-05-10 06:14:04.614485867 +0000 UTC` (the metrics' console push
/// writes its times so too).
pub(crate) struct Timestamp(pub(crate) SystemTime);

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = d.as_secs();
        let (y, m, day) = crate::civil_date::civil_from_days((secs / 86_400) as i64);
        let rem = secs % 86_400;
        write!(
            f,
            "{y:04}-{m:02}-{day:02} {:02}:{:02}:{:02}.{:09} +0000 UTC",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60,
            d.subsec_nanos()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates() {
        let t = UNIX_EPOCH + Duration::new(1_715_321_644, 614_485_867);
        assert_eq!(
            Timestamp(t).to_string(),
            "2024-05-10 06:14:04.614485867 +0000 UTC"
        );
    }

    #[test]
    fn typed_values() {
        assert_eq!(
            Typed(ValueRef::Value(&Value::from("a"))).to_string(),
            "Str(a)"
        );
        assert_eq!(
            Typed(ValueRef::Value(&Value::from(200i64))).to_string(),
            "Int(200)"
        );
        assert_eq!(
            Typed(ValueRef::Value(&Value::from(true))).to_string(),
            "Bool(true)"
        );
        assert_eq!(
            Typed(ValueRef::Value(&Value::from(1.5))).to_string(),
            "Double(1.5)"
        );
        let arr = Value::Array(Array::I64(vec![1, 2]));
        assert_eq!(Typed(ValueRef::Value(&arr)).to_string(), "Slice([1,2])");
        assert_eq!(Typed(ValueRef::Text("t")).to_string(), "Str(t)");
    }
}
