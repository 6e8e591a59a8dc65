//! tonic behind the layer, over real HTTP/2 with a tonic client: BentoML's span
//! name, `rpc.*` attributes, the status from `grpc-status`, one send span per
//! streamed message.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::common::*;
use opentelemetry::trace::Status;
use opentelemetry::Value;
use tonic::server::NamedService;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::ServingStatus;

/// A raw service that fails every call with INTERNAL (a trailers-only response).
#[derive(Clone)]
struct Broken;

impl NamedService for Broken {
    const NAME: &'static str = "demo.Broken";
}

impl<B: Send + 'static> tower::Service<http::Request<B>> for Broken {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _req: http::Request<B>) -> Self::Future {
        Box::pin(async { Ok(tonic::Status::internal("model crashed").into_http()) })
    }
}

struct Server {
    url: String,
    reporter: tonic_health::server::HealthReporter,
    task: tokio::task::JoinHandle<()>,
}

async fn start(h: &Harness) -> Server {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("summarize", ServingStatus::Serving)
        .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = tonic::transport::Server::builder()
        .layer(h.layer.clone())
        .add_service(health)
        .add_service(Broken);
    let task = tokio::spawn(async move {
        let _ = router
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await;
    });
    Server {
        url: format!("http://{addr}"),
        reporter,
        task,
    }
}

async fn client(url: &str) -> HealthClient<tonic::transport::Channel> {
    let channel = tonic::transport::Endpoint::from_shared(url.to_owned())
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .unwrap();
    HealthClient::new(channel)
}

fn check(service: &str) -> HealthCheckRequest {
    HealthCheckRequest {
        service: service.to_owned(),
    }
}

#[tokio::test]
async fn unary_call_gets_bentoml_name_and_rpc_attributes() {
    let h = Harness::sampled();
    let server = start(&h).await;
    let mut client = client(&server.url).await;
    let resp = client.check(check("summarize")).await.unwrap();
    assert_eq!(resp.into_inner().status, ServingStatus::Serving as i32);
    let spans = h.wait_for_server_spans(1).await;
    server.task.abort();

    let span = one_server_span(&spans);
    assert_eq!(span.name, "POST /grpc.health.v1.Health/Check");
    assert_eq!(str_attr(span, "http.flavor"), Some("2"));
    assert_eq!(str_attr(span, "rpc.system"), Some("grpc"));
    assert_eq!(str_attr(span, "rpc.service"), Some("grpc.health.v1.Health"));
    assert_eq!(str_attr(span, "rpc.method"), Some("Check"));
    assert_eq!(int_attr(span, "rpc.grpc.status_code"), Some(0));
    assert_eq!(span.status, Status::Unset);
    let children = children_of(&spans, span);
    assert_eq!(
        of_type(&children, "http.request").len(),
        1,
        "one request message"
    );
    assert_eq!(of_type(&children, "http.response.start").len(), 1);
    assert_eq!(
        of_type(&children, "http.response.body").len(),
        1,
        "one response message"
    );
    assert_eq!(of_type(&children, "http.response.trailers").len(), 1);
}

#[tokio::test]
async fn client_error_codes_stay_unset_server_faults_are_errors() {
    let h = Harness::sampled();
    let server = start(&h).await;
    let mut health = client(&server.url).await;
    let err = health.check(check("no-such-service")).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);

    // INTERNAL from a raw service, trailers-only.
    let channel = tonic::transport::Endpoint::from_shared(server.url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let codec = tonic_prost_codec();
    let err = grpc
        .unary::<HealthCheckRequest, tonic_health::pb::HealthCheckResponse, _>(
            tonic::Request::new(check("x")),
            "/demo.Broken/Run".parse().unwrap(),
            codec,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Internal);
    let spans = h.wait_for_server_spans(2).await;
    server.task.abort();

    let servers = server_spans(&spans);
    let not_found = servers.iter().find(|s| s.name.ends_with("/Check")).unwrap();
    assert_eq!(int_attr(not_found, "rpc.grpc.status_code"), Some(5));
    assert_eq!(
        not_found.status,
        Status::Unset,
        "NOT_FOUND is the caller's problem"
    );
    let broken = servers
        .iter()
        .find(|s| s.name == "POST /demo.Broken/Run")
        .unwrap();
    assert_eq!(int_attr(broken, "rpc.grpc.status_code"), Some(13));
    assert!(
        matches!(&broken.status, Status::Error { description } if description.contains("model crashed"))
    );
    assert_eq!(attr(broken, "http.status_code"), Some(&Value::I64(200)));
}

fn tonic_prost_codec(
) -> tonic_prost::ProstCodec<HealthCheckRequest, tonic_health::pb::HealthCheckResponse> {
    tonic_prost::ProstCodec::default()
}

#[tokio::test]
async fn server_streaming_gets_one_send_span_per_message() {
    let h = Harness::sampled();
    let server = start(&h).await;
    let mut client = client(&server.url).await;
    let mut stream = client.watch(check("summarize")).await.unwrap().into_inner();
    let first = stream.message().await.unwrap().unwrap();
    assert_eq!(first.status, ServingStatus::Serving as i32);
    server
        .reporter
        .set_service_status("summarize", ServingStatus::NotServing)
        .await;
    let second = tokio::time::timeout(Duration::from_secs(5), stream.message())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(second.status, ServingStatus::NotServing as i32);
    drop(stream); // the client hangs up on the endless stream
    let spans = h.wait_for_server_spans(1).await;
    server.task.abort();

    let span = one_server_span(&spans);
    assert_eq!(span.name, "POST /grpc.health.v1.Health/Watch");
    let children = children_of(&spans, span);
    assert_eq!(
        of_type(&children, "http.response.body").len(),
        2,
        "{children:#?}"
    );
    assert_eq!(attr(span, "http.cancelled"), Some(&Value::Bool(true)));
}

/// The RPC conventions of each mode on the OTLP wire (decoded with
/// opentelemetry-proto), on the server and on the client layer, for an OK
/// call, a NOT_FOUND (the caller's: an error only on the client side), an
/// INTERNAL (a server fault) and a cancelled stream.
#[cfg(feature = "otlp")]
#[tokio::test]
async fn every_mode_on_the_otlp_wire_server_and_client() {
    use std::collections::BTreeMap;

    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
    use prost::Message;
    use tower_otel_tracing::config::{ExporterType, Semconv};
    use tower_otel_tracing::{TracingConfig, TracingLayer};

    for (variable, http, rpc) in [
        ("", Semconv::Legacy, Semconv::Legacy),
        ("http,rpc", Semconv::Stable, Semconv::Stable),
        ("http/dup,rpc/dup", Semconv::Dup, Semconv::Dup),
    ] {
        let receiver = crate::common::receiver::Receiver::start();
        let layer = TracingLayer::builder(TracingConfig {
            sample_rate: Some(1.0),
            exporter_type: Some(ExporterType::Otlp),
            otlp: tower_otel_tracing::config::OtlpConfig {
                endpoint: Some(receiver.url("/v1/traces")),
                ..Default::default()
            },
            ..Default::default()
        })
        .install_global(false)
        .env_vars([("OTEL_SEMCONV_STABILITY_OPT_IN", variable)])
        .build()
        .unwrap();
        let h = Harness {
            layer: layer.clone(),
            exporter: Default::default(),
        };
        let server = start(&h).await;
        let channel = tonic::transport::Endpoint::from_shared(server.url.clone())
            .unwrap()
            .connect()
            .await
            .unwrap();
        // Calls through the client layer too.
        let traced = tower::ServiceBuilder::new()
            .layer(layer.client())
            .service(channel);
        let mut health = HealthClient::new(traced.clone());
        health.check(check("summarize")).await.unwrap();
        let err = health.check(check("no-such-service")).await.unwrap_err();
        assert_eq!(err.code(), tonic::Code::NotFound);
        let mut grpc = tonic::client::Grpc::new(traced);
        grpc.ready().await.unwrap();
        let err = grpc
            .unary::<HealthCheckRequest, tonic_health::pb::HealthCheckResponse, _>(
                tonic::Request::new(check("x")),
                "/demo.Broken/Run".parse().unwrap(),
                tonic_prost_codec(),
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::Internal);
        let mut stream = health.watch(check("summarize")).await.unwrap().into_inner();
        stream.message().await.unwrap().unwrap();
        drop(stream);
        drop(health);
        // The watch's server span ends once the server sees the stream gone.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let spans = loop {
            layer.pipeline().force_flush().unwrap();
            let spans: Vec<_> = receiver
                .requests()
                .iter()
                .flat_map(|post| {
                    ExportTraceServiceRequest::decode(&post.body[..])
                        .unwrap()
                        .resource_spans
                })
                .flat_map(|r| r.scope_spans)
                .flat_map(|s| s.spans)
                .filter(|s| s.kind == 2 || s.kind == 3)
                .collect();
            if spans.len() >= 8 || std::time::Instant::now() > deadline {
                break spans;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        server.task.abort();
        let text = |v: &Option<Any>| match v {
            Some(Any::StringValue(s)) => s.clone(),
            Some(Any::IntValue(i)) => i.to_string(),
            Some(Any::BoolValue(b)) => b.to_string(),
            other => format!("{other:?}"),
        };
        let attrs = |s: &opentelemetry_proto::tonic::trace::v1::Span| -> BTreeMap<String, String> {
            s.attributes
                .iter()
                .map(|kv| {
                    (
                        kv.key.clone(),
                        text(&kv.value.as_ref().and_then(|v| v.value.clone())),
                    )
                })
                .collect()
        };
        // (server or client, method, status code, its name, an error for that side)
        let calls = [
            (2, "Check", 0, "OK", false),
            (2, "Check", 5, "NOT_FOUND", false),
            (2, "Run", 13, "INTERNAL", true),
            (3, "Check", 0, "OK", false),
            (3, "Check", 5, "NOT_FOUND", true),
            (3, "Run", 13, "INTERNAL", true),
        ];
        for (kind, method, code, name, error) in calls {
            let service = if method == "Run" {
                "demo.Broken"
            } else {
                "grpc.health.v1.Health"
            };
            let span = spans
                .iter()
                .find(|s| {
                    let a = attrs(s);
                    s.kind == kind
                        && s.status.as_ref().map_or(0, |st| st.code) == if error { 2 } else { 0 }
                        && (a.get("rpc.grpc.status_code") == Some(&code.to_string())
                            || a.get("rpc.status_code").map(String::as_str) == Some(name))
                        && a.values().any(|v| v.ends_with(method))
                })
                .unwrap_or_else(|| panic!("{variable}: kind {kind} {method} {code}: {spans:#?}"));
            let a = attrs(span);
            let what = format!("{variable:?}: kind {kind} {service}/{method} {name}: {a:#?}");
            assert_eq!(a.contains_key("rpc.system"), rpc.legacy(), "{what}");
            assert_eq!(
                a.contains_key("rpc.grpc.status_code"),
                rpc.legacy(),
                "{what}"
            );
            assert_eq!(a.contains_key("rpc.system.name"), rpc.stable(), "{what}");
            assert_eq!(a.contains_key("rpc.status_code"), rpc.stable(), "{what}");
            if rpc.stable() {
                assert_eq!(a["rpc.method"], format!("{service}/{method}"), "{what}");
                assert_eq!(a["rpc.status_code"], name, "{what}");
                assert_eq!(
                    a.get("error.type").map(String::as_str),
                    error.then_some(name),
                    "{what}"
                );
            } else {
                assert_eq!(a["rpc.method"], method, "{what}");
                assert_eq!(a["rpc.grpc.status_code"], code.to_string(), "{what}");
                assert!(!a.contains_key("error.type"), "{what}");
            }
            if kind == 2 {
                let expected_name = if http == Semconv::Stable {
                    format!("{service}/{method}")
                } else {
                    format!("POST /{service}/{method}")
                };
                assert_eq!(span.name, expected_name, "{what}");
            }
            // Nothing of ours in the conventions' namespaces.
            assert!(!a.contains_key("http.cancelled") || http.legacy(), "{what}");
        }
        // The cancelled watch: ours in stable mode, BentoML's key in legacy.
        let watch = spans
            .iter()
            .find(|s| s.kind == 2 && attrs(s).values().any(|v| v.ends_with("Watch")))
            .unwrap_or_else(|| panic!("{variable}: no watch span: {spans:#?}"));
        let a = attrs(watch);
        assert_eq!(
            a.contains_key("http.cancelled"),
            http.legacy(),
            "{variable}: {a:#?}"
        );
        assert_eq!(
            a.contains_key("tower_otel_tracing.cancelled"),
            http.stable(),
            "{variable}: {a:#?}"
        );
        assert_eq!(
            watch.status.as_ref().map_or(0, |s| s.code),
            0,
            "not an error"
        );
    }
}

/// gRPC calls are measured as `rpc.server.call.duration` with the RPC
/// conventions' attributes (the status by name, `error.type` for a server
/// fault), sampled or not: whether the status came in trailers or a
/// trailers-only answer.
#[tokio::test]
async fn calls_are_measured_as_rpc_server_call_duration() {
    for sample_rate in [0.0, 1.0] {
        let h = Harness::new(tower_otel_tracing::TracingConfig {
            sample_rate: Some(sample_rate),
            ..Default::default()
        });
        let metrics = h.layer.metrics();
        let server = start(&h).await;
        let mut health = client(&server.url).await;
        health.check(check("summarize")).await.unwrap();
        health.check(check("summarize")).await.unwrap();
        health.check(check("no-such-service")).await.unwrap_err();
        let channel = tonic::transport::Endpoint::from_shared(server.url.clone())
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut grpc = tonic::client::Grpc::new(channel);
        grpc.ready().await.unwrap();
        grpc.unary::<HealthCheckRequest, tonic_health::pb::HealthCheckResponse, _>(
            tonic::Request::new(check("x")),
            "/demo.Broken/Run".parse().unwrap(),
            tonic_prost_codec(),
        )
        .await
        .unwrap_err();
        server.task.abort();

        let scrape =
            tower::ServiceExt::oneshot(metrics, http::Request::get("/metrics").body(()).unwrap())
                .await
                .unwrap();
        let text = scrape.into_body();
        let parsed = openmetrics_parser::prometheus::parse_prometheus(&text)
            .unwrap_or_else(|e| panic!("{e:?}\n{text}"));
        assert!(
            !parsed
                .families
                .contains_key("http_server_request_duration_seconds"),
            "gRPC calls are RPC metrics:\n{text}"
        );
        let family = &parsed.families["rpc_server_call_duration_seconds"];
        let count = |want: &[(&str, &str)]| -> u64 {
            family
                .iter_samples()
                .filter(|s| {
                    let labels = s.get_labelset().unwrap();
                    want.iter()
                        .all(|(k, v)| labels.get_label_value(k) == Some(*v))
                })
                .map(|s| match &s.value {
                    openmetrics_parser::PrometheusValue::Histogram(h) => h.count.unwrap(),
                    other => panic!("{other:?}"),
                })
                .sum()
        };
        let check_method = ("rpc_method", "grpc.health.v1.Health/Check");
        let grpc_system = ("rpc_system_name", "grpc");
        assert_eq!(
            count(&[
                grpc_system,
                check_method,
                ("rpc_status_code", "OK"),
                ("error_type", "")
            ]),
            2,
            "rate {sample_rate}:\n{text}"
        );
        assert_eq!(
            count(&[
                check_method,
                ("rpc_status_code", "NOT_FOUND"),
                ("error_type", "")
            ]),
            1,
            "rate {sample_rate}: NOT_FOUND is the caller's:\n{text}"
        );
        assert_eq!(
            count(&[
                ("rpc_method", "demo.Broken/Run"),
                ("rpc_status_code", "INTERNAL"),
                ("error_type", "INTERNAL")
            ]),
            1,
            "rate {sample_rate}:\n{text}"
        );
    }
}
