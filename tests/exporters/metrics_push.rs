//! The metrics push (`metrics.exporter: otlp`), decoded with
//! opentelemetry-proto from a loopback receiver: what a collector gets, in
//! either temporality, over HTTP and gRPC. Pushes are made by a flush or the
//! last one on shutdown (the interval is left at 60 s), so each test knows
//! exactly which push holds what; one test lets the interval push.

use std::collections::HashSet;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{metric, HistogramDataPoint, Metric};
use prost::Message;

use crate::common::receiver::Receiver;
use crate::common::*;
use crate::metrics::{app, traffic};
use tower_otel_tracing::config::{MetricsExporter, Temporality};
use tower_otel_tracing::TracingConfig;

const CUMULATIVE: i32 = 2;
const DELTA: i32 = 1;

fn config(endpoint: String, temporality: Temporality) -> TracingConfig {
    let mut cfg = TracingConfig {
        sample_rate: Some(1.0),
        service_name: Some("metered".into()),
        ..Default::default()
    };
    cfg.metrics.exporter = Some(MetricsExporter::Otlp);
    cfg.metrics.otlp.endpoint = Some(endpoint);
    cfg.metrics.otlp.temporality = Some(temporality);
    cfg.metrics.otlp.timeout = Some(5.0);
    cfg
}

/// Spans in memory (to know which traces were exported), metrics to `rx`;
/// no `OTEL_*` variable of the process applies.
fn harness(cfg: TracingConfig) -> Harness {
    Harness::with(cfg, |b| b.env_vars(Vec::<(String, String)>::new()))
}

fn decode(body: &[u8]) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest::decode(body).expect("ExportMetricsServiceRequest")
}

fn metric<'a>(req: &'a ExportMetricsServiceRequest, name: &str) -> Option<&'a Metric> {
    req.resource_metrics[0].scope_metrics[0]
        .metrics
        .iter()
        .find(|m| m.name == name)
}

fn value<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Any> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

fn text(s: &str) -> Option<Any> {
    Some(Any::StringValue(s.to_owned()))
}

/// The histogram's temporality and its points with every pair of `want`.
fn points(
    req: &ExportMetricsServiceRequest,
    name: &str,
    want: &[(&str, Any)],
) -> (i32, Vec<HistogramDataPoint>) {
    let m = metric(req, name).unwrap_or_else(|| panic!("no {name}"));
    let Some(metric::Data::Histogram(h)) = &m.data else {
        panic!("{name} is no histogram: {:?}", m.data)
    };
    let points = h
        .data_points
        .iter()
        .filter(|p| want.iter().all(|(k, v)| value(&p.attributes, k) == Some(v)))
        .cloned()
        .collect();
    (h.aggregation_temporality, points)
}

fn users(req: &ExportMetricsServiceRequest) -> (i32, Vec<HistogramDataPoint>) {
    points(
        req,
        "http.server.request.duration",
        &[("http.route", Any::StringValue("/users/{id}".into()))],
    )
}

#[tokio::test]
async fn the_last_push_on_shutdown_carries_every_series_with_exemplars_of_exported_traces() {
    let rx = Receiver::start();
    let h = harness(config(rx.url("/v1/metrics"), Temporality::Cumulative));
    let app = app(&h.layer);
    traffic(&app).await;
    // And one call through the layer's client side.
    let client = tower::ServiceBuilder::new()
        .layer(h.layer.client())
        .service_fn(|_req: http::Request<String>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(String::from("a user")))
        });
    let call = http::Request::get("http://users.internal:8080/users/1")
        .body(String::new())
        .unwrap();
    let resp = tower::ServiceExt::oneshot(client, call).await.unwrap();
    http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap();
    let exported: HashSet<(Vec<u8>, Vec<u8>)> = server_spans(&h.spans())
        .iter()
        .map(|s| {
            (
                s.span_context.trace_id().to_bytes().to_vec(),
                s.span_context.span_id().to_bytes().to_vec(),
            )
        })
        .collect();
    assert_eq!(exported.len(), 7);
    h.layer.guard().shutdown().unwrap();

    // Reading the spans flushed the pipeline, which pushed; then the last push.
    let posts = rx.requests();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[1].uri.path(), "/v1/metrics");
    assert_eq!(posts[1].headers["content-type"], "application/x-protobuf");
    let req = decode(&posts[1].body);
    assert_eq!(req.resource_metrics.len(), 1);
    let resource = req.resource_metrics[0].resource.as_ref().unwrap();
    assert_eq!(
        value(&resource.attributes, "service.name"),
        text("metered").as_ref()
    );
    let scope = &req.resource_metrics[0].scope_metrics[0];
    assert_eq!(scope.scope.as_ref().unwrap().name, "tower-otel-tracing");
    assert!(!scope.scope.as_ref().unwrap().version.is_empty());
    for (name, unit) in [
        ("http.server.request.duration", "s"),
        ("http.server.request.body.size", "By"),
        ("http.server.response.body.size", "By"),
        ("http.server.active_requests", "{request}"),
        ("http.client.request.duration", "s"),
    ] {
        let m = metric(&req, name).unwrap_or_else(|| panic!("no {name}"));
        assert_eq!(m.unit, unit, "{name}");
        assert!(!m.description.is_empty(), "{name}");
    }

    // Both users under one series of the template, its attributes typed.
    let (temporality, users) = users(&req);
    assert_eq!(temporality, CUMULATIVE);
    assert_eq!(users.len(), 1);
    let p = &users[0];
    assert_eq!(
        value(&p.attributes, "http.request.method"),
        text("GET").as_ref()
    );
    assert_eq!(value(&p.attributes, "url.scheme"), text("http").as_ref());
    assert_eq!(
        value(&p.attributes, "network.protocol.version"),
        text("1.1").as_ref()
    );
    assert_eq!(
        value(&p.attributes, "http.response.status_code"),
        Some(&Any::IntValue(200))
    );
    assert_eq!(value(&p.attributes, "error.type"), None);
    assert_eq!(p.count, 2);
    assert_eq!(p.bucket_counts.len(), 15);
    assert_eq!(p.bucket_counts.iter().sum::<u64>(), 2);
    let seconds = [
        0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    ];
    assert_eq!(p.explicit_bounds, seconds);
    let sum = p.sum.unwrap();
    assert!(sum > 0.0 && sum < 10.0, "a sum in seconds: {sum}");
    assert!(p.start_time_unix_nano > 0 && p.start_time_unix_nano < p.time_unix_nano);

    // A 5xx: its status code as an int, and as error.type.
    let (_, fail) = points(
        &req,
        "http.server.request.duration",
        &[("http.route", Any::StringValue("/fail".into()))],
    );
    assert_eq!(fail.len(), 1);
    assert_eq!(
        value(&fail[0].attributes, "http.response.status_code"),
        Some(&Any::IntValue(502))
    );
    assert_eq!(
        value(&fail[0].attributes, "error.type"),
        text("502").as_ref()
    );
    // No route matched: no http.route at all.
    let (_, unrouted) = points(
        &req,
        "http.server.request.duration",
        &[("http.response.status_code", Any::IntValue(404))],
    );
    assert_eq!(unrouted.len(), 1);
    assert_eq!(value(&unrouted[0].attributes, "http.route"), None);

    // Bodies: "one" + "two two" + "three three three" = 27 bytes each way.
    let summarize = [("http.route", Any::StringValue("/summarize".into()))];
    for name in [
        "http.server.request.body.size",
        "http.server.response.body.size",
    ] {
        let (_, p) = points(&req, name, &summarize);
        assert_eq!((p[0].count, p[0].sum), (3, Some(27.0)), "{name}");
        assert_eq!(p[0].explicit_bounds[..3], [0.0, 5.0, 10.0], "{name}");
    }

    // Exemplars point at the server spans that were exported, in the bucket
    // of their value.
    let (_, all) = points(&req, "http.server.request.duration", &[]);
    let mut exemplars = 0;
    for p in &all {
        for e in &p.exemplars {
            exemplars += 1;
            assert!(
                exported.contains(&(e.trace_id.clone(), e.span_id.clone())),
                "{e:?} is no exported server span"
            );
            let Some(opentelemetry_proto::tonic::metrics::v1::exemplar::Value::AsDouble(v)) =
                e.value
            else {
                panic!("{e:?}")
            };
            let bucket = seconds.iter().position(|&b| v <= b).unwrap_or(14);
            assert!(p.bucket_counts[bucket] > 0, "{v} in an empty bucket");
            assert!(e.time_unix_nano >= p.start_time_unix_nano);
        }
    }
    assert!(exemplars >= 4, "{exemplars} exemplars");

    // The client call, by its target's address and port (an int).
    let (_, calls) = points(
        &req,
        "http.client.request.duration",
        &[
            ("server.address", Any::StringValue("users.internal".into())),
            ("server.port", Any::IntValue(8080)),
            ("http.response.status_code", Any::IntValue(200)),
        ],
    );
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].count, 1);
    assert_eq!(calls[0].explicit_bounds, seconds);

    // The up-down counter: a non-monotonic cumulative sum, nothing active.
    let active = metric(&req, "http.server.active_requests").unwrap();
    let Some(metric::Data::Sum(sum)) = &active.data else {
        panic!("{:?}", active.data)
    };
    assert!(!sum.is_monotonic);
    assert_eq!(sum.aggregation_temporality, CUMULATIVE);
    assert!(!sum.data_points.is_empty());
    for p in &sum.data_points {
        assert_eq!(
            p.value,
            Some(opentelemetry_proto::tonic::metrics::v1::number_data_point::Value::AsInt(0))
        );
        assert!(
            value(&p.attributes, "http.request.method").is_some(),
            "{p:?}"
        );
    }
    // Nothing overflowed: no overflow series.
    assert!(all
        .iter()
        .all(|p| value(&p.attributes, "otel.metric.overflow").is_none()));
    assert_eq!(h.layer.pipeline().metrics_push_stats().unwrap().pushed, 2);
}

/// Delta: each push has what was measured since the previous one that
/// arrived, starting where it ended; a push that failed is reported again
/// by the next.
#[tokio::test]
async fn delta_pushes_report_what_changed_since_the_last_push_that_arrived() {
    let rx = Receiver::start();
    let h = harness(config(rx.url("/v1/metrics"), Temporality::Delta));
    let app = app(&h.layer);
    for id in [1, 2] {
        send(app.clone(), get_req(&format!("/users/{id}"))).await;
    }
    h.layer.pipeline().force_flush().unwrap();
    let first = decode(&rx.requests()[0].body);
    let (temporality, users1) = users(&first);
    assert_eq!(temporality, DELTA);
    assert_eq!(users1[0].count, 2);

    // Refused: counted as failed, and its requests wait for the next push.
    rx.respond_with(400);
    send(app.clone(), get_req("/users/3")).await;
    let refused = h.layer.pipeline().force_flush();
    assert!(refused.is_err(), "{refused:?}");
    let stats = h.layer.pipeline().metrics_push_stats().unwrap();
    assert_eq!((stats.pushed, stats.failed), (1, 1));

    rx.respond_with(200);
    for id in [4, 5] {
        send(app.clone(), get_req(&format!("/users/{id}"))).await;
    }
    send(app.clone(), get_req("/fail")).await;
    h.layer.guard().shutdown().unwrap();

    let posts = rx.requests();
    assert_eq!(posts.len(), 3, "the first, the refused one, the last");
    let last = decode(&posts[2].body);
    let (temporality, users3) = users(&last);
    assert_eq!(temporality, DELTA);
    assert_eq!(users3.len(), 1);
    assert_eq!(
        users3[0].count, 3,
        "the refused push's request and the two since"
    );
    assert_eq!(users3[0].bucket_counts.iter().sum::<u64>(), 3);
    assert_eq!(
        users3[0].start_time_unix_nano, users1[0].time_unix_nano,
        "from the end of the last push that arrived"
    );
    let (_, fail) = points(
        &last,
        "http.server.request.duration",
        &[("error.type", Any::StringValue("502".into()))],
    );
    assert_eq!(fail[0].count, 1);
    // The up-down counter stays cumulative.
    let active = metric(&last, "http.server.active_requests").unwrap();
    let Some(metric::Data::Sum(sum)) = &active.data else {
        panic!()
    };
    assert_eq!(sum.aggregation_temporality, CUMULATIVE);
    let stats = h.layer.pipeline().metrics_push_stats().unwrap();
    assert_eq!((stats.pushed, stats.failed), (2, 1));
}

/// Without a flush, the thread pushes every interval; cumulative pushes
/// repeat what was measured.
#[tokio::test]
async fn the_thread_pushes_every_interval() {
    let rx = Receiver::start();
    let mut cfg = config(rx.url("/v1/metrics"), Temporality::Cumulative);
    cfg.metrics.interval = Some(0.1);
    let h = harness(cfg);
    send(app(&h.layer), get_req("/users/1")).await;
    let posts = rx.wait_for(2);
    assert!(posts.len() >= 2, "{} pushes in 10 s", posts.len());
    let (a, b) = (decode(&posts[0].body), decode(&posts[1].body));
    let (pa, pb) = (&users(&a).1[0], &users(&b).1[0]);
    assert_eq!((pa.count, pb.count), (1, 1));
    assert_eq!(pa.start_time_unix_nano, pb.start_time_unix_nano);
    let apart = Duration::from_nanos(pb.time_unix_nano - pa.time_unix_nano);
    assert!(apart >= Duration::from_millis(50), "{apart:?} apart");
    drop(h);
}

/// A push that fails says so (flush, stats) without the endpoint's
/// credentials or a header's value.
#[tokio::test]
async fn a_failed_push_shows_no_secret() {
    let dead = crate::common::receiver::dead_addr();
    let mut cfg = config(
        format!("http://alice:s3cr3t@{dead}/v1/metrics"),
        Temporality::Cumulative,
    );
    cfg.metrics.otlp.timeout = Some(0.5);
    cfg.metrics.otlp.headers = Some([("x-api-key".to_owned(), "s3cr3t".to_owned())].into());
    let h = harness(cfg);
    send(app(&h.layer), get_req("/users/1")).await;
    let err = h.layer.pipeline().force_flush().unwrap_err().to_string();
    assert!(
        err.contains("metrics push") && !err.contains("s3cr3t"),
        "{err}"
    );
    let shown = format!("{:?}", h.layer);
    assert!(!shown.contains("s3cr3t"), "{shown}");
    let stats = h.layer.pipeline().metrics_push_stats().unwrap();
    assert_eq!((stats.pushed, stats.failed), (0, 1));
}

/// The console push runs through the same thread (its text is unit-tested).
#[tokio::test]
async fn the_console_push_counts_its_pushes() {
    let mut cfg = TracingConfig::default();
    cfg.metrics.exporter = Some(MetricsExporter::Console);
    let h = harness(cfg);
    send(app(&h.layer), get_req("/users/1")).await;
    h.layer.pipeline().force_flush().unwrap();
    let stats = h.layer.pipeline().metrics_push_stats().unwrap();
    assert_eq!((stats.pushed, stats.failed), (1, 0));
}

#[cfg(feature = "otlp-grpc")]
mod grpc {
    use super::*;
    use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
        MetricsService, MetricsServiceServer,
    };
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
    use std::sync::{Arc, Mutex};

    type Got = Vec<(tonic::metadata::MetadataMap, ExportMetricsServiceRequest)>;

    #[derive(Clone, Default)]
    struct Collector {
        got: Arc<Mutex<Got>>,
    }

    #[tonic::async_trait]
    impl MetricsService for Collector {
        async fn export(
            &self,
            request: tonic::Request<ExportMetricsServiceRequest>,
        ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
            let metadata = request.metadata().clone();
            self.got
                .lock()
                .unwrap()
                .push((metadata, request.into_inner()));
            Ok(tonic::Response::new(ExportMetricsServiceResponse {
                partial_success: None,
            }))
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn grpc_push_decodes() {
        let collector = Collector::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(MetricsServiceServer::new(collector.clone()))
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
        );
        let mut cfg = config(format!("http://{addr}"), Temporality::Cumulative);
        cfg.metrics.otlp.protocol = Some(tower_otel_tracing::config::OtlpProtocol::Grpc);
        cfg.metrics.otlp.headers = Some([("x-tenant".to_owned(), "ml".to_owned())].into());
        let h = harness(cfg);
        traffic(&app(&h.layer)).await;
        // Blocks until the last push is answered, by a server on this runtime.
        let guard = h.layer.guard();
        tokio::task::spawn_blocking(move || guard.shutdown())
            .await
            .unwrap()
            .unwrap();
        server.abort();
        let got = collector.got.lock().unwrap().clone();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0.get("x-tenant").unwrap(), "ml");
        let (temporality, users) = users(&got[0].1);
        assert_eq!(temporality, CUMULATIVE);
        assert_eq!(users[0].count, 2);
        let resource = got[0].1.resource_metrics[0].resource.as_ref().unwrap();
        assert_eq!(
            value(&resource.attributes, "service.name"),
            text("metered").as_ref()
        );
    }
}
