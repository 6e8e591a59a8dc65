//! The console exporter prints the OpenTelemetry Collector debug-exporter layout.

use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::common::*;
use tower_otel_tracing::exporter::ConsoleExporter;
use tower_otel_tracing::{ConnectionInfo, TracingConfig, TracingLayer};

#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn prints_the_collector_debug_layout() {
    let buf = SharedBuf::default();
    let layer = TracingLayer::builder(TracingConfig {
        sample_rate: Some(1.0),
        service_name: Some("Summarization".into()),
        ..Default::default()
    })
    .exporter(ConsoleExporter::new(buf.clone()))
    .install_global(false)
    .build()
    .unwrap();
    let tracer = {
        use opentelemetry::trace::TracerProvider as _;
        layer.pipeline().tracer_provider().tracer("test.handler")
    };
    let mut req = post_summarize("some text to summarize");
    req.extensions_mut().insert(ConnectionInfo {
        local_addr: "10.0.0.2:3000".parse().unwrap(),
        peer_addr: "10.0.0.9:59482".parse().unwrap(),
    });
    send(app(tracer).layer(layer.clone()), req).await;
    layer.pipeline().force_flush().unwrap();
    let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();

    for line in [
        "ResourceSpans #0",
        "Resource attributes:",
        "     -> service.name: Str(Summarization)",
        "     -> telemetry.sdk.language: Str(rust)",
        "     -> telemetry.sdk.name: Str(opentelemetry)",
        "ScopeSpans #0",
        &format!(
            "InstrumentationScope tower-otel-tracing {}",
            env!("CARGO_PKG_VERSION")
        ),
        "Span #0",
        "    Name           : POST /summarize http send",
        "    Name           : POST /summarize http receive",
        "    Name           : POST /summarize",
        "    Kind           : Internal",
        "    Kind           : Server",
        "    Status code    : Unset",
        "    Status message : ",
        "Attributes:",
        "     -> http.status_code: Int(200)",
        "     -> type: Str(http.response.start)",
        "     -> type: Str(http.response.body)",
        "     -> http.scheme: Str(http)",
        "     -> http.host: Str(10.0.0.2:3000)",
        "     -> net.host.port: Int(3000)",
        "     -> http.flavor: Str(1.1)",
        "     -> http.target: Str(/summarize)",
        "     -> http.url: Str(http://svc.local:3000/summarize)",
        "     -> http.method: Str(POST)",
        "     -> http.server_name: Str(svc.local:3000)",
        "     -> net.peer.ip: Str(10.0.0.9)",
        "     -> net.peer.port: Int(59482)",
        "InstrumentationScope test.handler ",
    ] {
        assert!(
            out.lines().any(|l| l == line),
            "missing line {line:?} in:\n{out}"
        );
    }
    // Ids and times are in the collector's formats.
    let trace_line = out
        .lines()
        .find(|l| l.starts_with("    Trace ID       : "))
        .unwrap();
    let id = trace_line.trim_start_matches("    Trace ID       : ");
    assert_eq!(id.len(), 32);
    assert!(id
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    let parent_line = out
        .lines()
        .find(|l| l.starts_with("    Parent ID      :") && l.len() > 21)
        .unwrap();
    assert_eq!(parent_line.len(), "    Parent ID      : ".len() + 16);
    let start = out
        .lines()
        .find(|l| l.starts_with("    Start time     : "))
        .unwrap();
    let stamp = start.trim_start_matches("    Start time     : ");
    // 2024-05-10 06:14:04.614485867 +0000 UTC
    assert_eq!(stamp.len(), 39, "{stamp}");
    assert!(stamp.ends_with(" +0000 UTC"));
}

#[tokio::test]
async fn errors_show_status_and_exception_event() {
    let buf = SharedBuf::default();
    let layer = TracingLayer::builder(TracingConfig {
        sample_rate: Some(1.0),
        ..Default::default()
    })
    .exporter(ConsoleExporter::new(buf.clone()))
    .install_global(false)
    .build()
    .unwrap();
    let svc = tower::ServiceBuilder::new()
        .layer(layer.clone())
        .service_fn(|_req: http::Request<_>| async {
            Err::<http::Response<String>, _>(std::io::Error::other("backend down"))
        });
    let _ = tower::ServiceExt::oneshot(svc, get_req("/x")).await;
    layer.pipeline().force_flush().unwrap();
    let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    for line in [
        "    Status code    : Error",
        "    Status message : backend down",
        "Events:",
        "SpanEvent #0",
        "     -> Name: exception",
        "     -> Attributes::",
        "          -> exception.message: Str(backend down)",
    ] {
        assert!(
            out.lines().any(|l| l == line),
            "missing {line:?} in:\n{out}"
        );
    }
}
