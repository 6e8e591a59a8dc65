//! Arbitrary bytes as every context header the propagators read, through the
//! whole layer: it must never panic, and the request must always be answered.
//! Spans are recorded but not kept (`exporter_type: none`), so memory stays flat.
#![no_main]

use std::convert::Infallible;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;
use tower_otel_tracing::config::ConfigFormat;
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

fuzz_target!(|data: &[u8]| {
    let (layer, rt) = layer();
    let mut req = http::Request::get("/fuzz").body(String::new()).unwrap();
    // Each header takes the bytes up to the next 0xff separator.
    for (name, value) in HEADERS.iter().zip(data.split(|b| *b == 0xff)) {
        if let Ok(v) = http::HeaderValue::from_bytes(value) {
            req.headers_mut().insert(*name, v);
        }
    }
    let svc = tower::ServiceBuilder::new()
        .layer(layer.clone())
        .service_fn(|_req: http::Request<_>| async {
            Ok::<_, Infallible>(http::Response::new(String::from("ok")))
        });
    let resp = rt.block_on(svc.oneshot(req)).unwrap();
    assert_eq!(resp.status(), 200);
});
