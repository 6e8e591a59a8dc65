//! Arbitrary bytes as every context header the propagators read, through the
//! whole layer: it must never panic, and the request must always be answered.
//! Spans are recorded but not kept (`exporter_type: none`), so memory stays flat.
//!
//! The same headers go through the W3C Trace Context propagator alone, with a
//! round-trip property: whatever it accepts and injects reads back as the same
//! span context, and injecting that again writes the same headers.
#![no_main]

use std::convert::Infallible;
use std::sync::OnceLock;

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use tower::ServiceExt;
use tower_otel_tracing::config::ConfigFormat;
use tower_otel_tracing::propagation::TraceContextPropagator;
use tower_otel_tracing::{TracingConfig, TracingLayer};

const HEADERS: [&str; 9] = [
    "traceparent",
    "tracestate",
    "baggage",
    "b3",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-sampled",
    "uber-trace-id",
    "user-agent",
];

fn layer() -> &'static (TracingLayer, tokio::runtime::Runtime) {
    static LAYER: OnceLock<(TracingLayer, tokio::runtime::Runtime)> = OnceLock::new();
    LAYER.get_or_init(|| {
        let cfg = TracingConfig::parse(
            "exporter_type: none\nsample_rate: 1.0\npropagators: [tracecontext, baggage, b3, jaeger]\nmax_tag_value_length: 64",
            ConfigFormat::Yaml,
        )
        .unwrap();
        let layer = TracingLayer::builder(cfg)
            .install_global(false)
            .env_vars(Vec::<(String, String)>::new())
            .build()
            .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        (layer, rt)
    })
}

/// Every value of a name, as a server sees repeated headers.
struct Headers<'a>(&'a http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let all: Vec<&str> = self
            .0
            .get_all(key)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        (!all.is_empty()).then_some(all)
    }
}

fn round_trip(headers: &http::HeaderMap) {
    let propagator = TraceContextPropagator::new();
    let cx = propagator.extract(&Headers(headers));
    let span = cx.span();
    let sc = span.span_context();
    if !sc.is_valid() {
        return;
    }
    let mut once = HashMap::new();
    propagator.inject_context(&cx, &mut once);
    let back = propagator.extract(&once);
    let back_span = back.span();
    let again = back_span.span_context();
    assert_eq!(sc.trace_id(), again.trace_id());
    assert_eq!(sc.span_id(), again.span_id());
    assert_eq!(sc.trace_flags(), again.trace_flags());
    let mut twice = HashMap::new();
    propagator.inject_context(&back, &mut twice);
    assert_eq!(once, twice);
}

fuzz_target!(|data: &[u8]| {
    let (layer, rt) = layer();
    let mut req = http::Request::get("/fuzz").body(String::new()).unwrap();
    // Each header takes the bytes up to the next 0xff separator; a newline in
    // one makes several headers of that name.
    for (name, value) in HEADERS.iter().zip(data.split(|b| *b == 0xff)) {
        for value in value.split(|b| *b == b'\n') {
            if let Ok(v) = http::HeaderValue::from_bytes(value) {
                req.headers_mut().append(*name, v);
            }
        }
    }
    round_trip(req.headers());
    let svc = tower::ServiceBuilder::new()
        .layer(layer.clone())
        .service_fn(|_req: http::Request<_>| async {
            Ok::<_, Infallible>(http::Response::new(String::from("ok")))
        });
    let resp = rt.block_on(svc.oneshot(req)).unwrap();
    assert_eq!(resp.status(), 200);
});
