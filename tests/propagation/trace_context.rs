//! W3C Trace Context, Level 1 and 2, judged the way the W3C test suite judges a
//! service: by what it sends onward. A service with the server layer receives a
//! request carrying the case's headers and calls a receiver through the client
//! layer; the receiver keeps the headers each call carried. One test per case
//! of the suite (written from the specification and the suite's intent), all on
//! loopback.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::Harness;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::routing::post;
use axum::{Extension, Router};
use http::HeaderMap;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry::trace::SpanKind;
use serde::Deserialize;
use tower::ServiceExt;
use tower_otel_tracing::{TraceInfo, TracingConfig};

const TRACE: &str = "12345678901234567890123456789012";
const SPAN: &str = "1234567890123456";

type Seen = Arc<Mutex<Vec<(usize, HeaderMap)>>>;

/// What the service under test saw and sent.
struct Outcome {
    /// Headers of each onward call, in call order.
    calls: Vec<HeaderMap>,
    info: TraceInfo,
    response: HeaderMap,
}

struct Rig {
    harness: Harness,
    service: SocketAddr,
    seen: Seen,
}

#[derive(Deserialize)]
struct Calls {
    n: usize,
}

impl Rig {
    async fn start() -> Rig {
        Self::with(1.0, |b| b).await
    }

    async fn with(
        rate: f64,
        f: impl FnOnce(
            tower_otel_tracing::TracingLayerBuilder,
        ) -> tower_otel_tracing::TracingLayerBuilder,
    ) -> Rig {
        let seen: Seen = Arc::default();
        let receiver = Router::new()
            .route(
                "/callback/{i}",
                post(
                    |State(seen): State<Seen>, Path(i): Path<usize>, headers: HeaderMap| async move {
                        seen.lock().unwrap().push((i, headers));
                    },
                ),
            )
            .with_state(seen.clone());
        let receiver = serve(receiver).await;

        let cfg = TracingConfig {
            sample_rate: Some(rate),
            ..Default::default()
        };
        let harness = Harness::with(cfg, f);
        let client = tower::Layer::layer(
            &harness.layer.client(),
            Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>(),
        );
        // The service under test: `/test?n=N` makes N calls back, one after another.
        let service = Router::new()
            .route(
                "/test",
                post(
                    move |Query(calls): Query<Calls>, Extension(info): Extension<TraceInfo>| {
                        let client = client.clone();
                        async move {
                            for i in 0..calls.n {
                                let req =
                                    http::Request::post(format!("http://{receiver}/callback/{i}"))
                                        .body(Full::new(Bytes::from_static(b"[]")))
                                        .unwrap();
                                let resp = client.clone().oneshot(req).await.expect("callback");
                                resp.into_body().collect().await.unwrap();
                            }
                            format!(
                                "{} {} {} {}",
                                info.trace_id, info.span_id, info.sampled, info.random
                            )
                        }
                    },
                ),
            )
            .layer(harness.layer.clone());
        let service = serve(service).await;
        Rig {
            harness,
            service,
            seen,
        }
    }

    /// Sends `headers` (in order; a name may repeat) to the service, which makes
    /// `n` calls onward.
    async fn run(&self, headers: &[(&str, &str)], n: usize) -> Outcome {
        self.seen.lock().unwrap().clear();
        let mut req = http::Request::post(format!("http://{}/test?n={n}", self.service))
            .body(Full::new(Bytes::new()))
            .unwrap();
        for (name, value) in headers {
            req.headers_mut().append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                http::HeaderValue::from_str(value).unwrap(),
            );
        }
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let resp = tokio::time::timeout(Duration::from_secs(10), client.request(req))
            .await
            .expect("the service answers in time")
            .unwrap();
        assert_eq!(resp.status(), 200);
        let response = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8(body.to_vec()).unwrap();
        let words: Vec<&str> = body.split(' ').collect();
        let info = TraceInfo {
            trace_id: opentelemetry::trace::TraceId::from_hex(words[0]).unwrap(),
            span_id: opentelemetry::trace::SpanId::from_hex(words[1]).unwrap(),
            sampled: words[2] == "true",
            random: words[3] == "true",
        };
        let mut seen = self.seen.lock().unwrap().clone();
        seen.sort_by_key(|(i, _)| *i);
        assert_eq!(seen.len(), n, "every call reached the receiver");
        Outcome {
            calls: seen.into_iter().map(|(_, h)| h).collect(),
            info,
            response,
        }
    }

    /// The one call's trace context, for a single-call case.
    async fn one(&self, headers: &[(&str, &str)]) -> (Traceparent, Vec<(String, String)>) {
        let outcome = self.run(headers, 1).await;
        let call = &outcome.calls[0];
        (traceparent(call), tracestate(call))
    }
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[derive(Debug, PartialEq, Eq, Clone)]
struct Traceparent {
    trace_id: String,
    parent_id: String,
    flags: u8,
}

/// The call's one `traceparent`, which must be version 00 in its exact form.
fn traceparent(headers: &HeaderMap) -> Traceparent {
    let all: Vec<_> = headers.get_all("traceparent").iter().collect();
    assert_eq!(all.len(), 1, "exactly one traceparent goes out: {all:?}");
    let v = all[0].to_str().unwrap();
    let parts: Vec<&str> = v.split('-').collect();
    let hex = |s: &str, n: usize| {
        s.len() == n && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    assert!(
        parts.len() == 4
            && parts[0] == "00"
            && hex(parts[1], 32)
            && hex(parts[2], 16)
            && hex(parts[3], 2),
        "{v:?} is not a version 00 traceparent"
    );
    assert_ne!(parts[1], "0".repeat(32));
    assert_ne!(parts[2], "0".repeat(16));
    let flags = u8::from_str_radix(parts[3], 16).unwrap();
    assert_eq!(flags & !0x03, 0, "unknown flags go out as zero");
    Traceparent {
        trace_id: parts[1].to_owned(),
        parent_id: parts[2].to_owned(),
        flags,
    }
}

/// The call's `tracestate` members, every header combined.
fn tracestate(headers: &HeaderMap) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for value in headers.get_all("tracestate") {
        for member in value.to_str().unwrap().split(',') {
            let member = member.trim_matches([' ', '\t']);
            if member.is_empty() {
                continue;
            }
            let (k, v) = member.split_once('=').expect("key=value");
            out.push((k.to_owned(), v.to_owned()));
        }
    }
    out
}

fn get<'a>(state: &'a [(String, String)], key: &str) -> Option<&'a str> {
    state
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn tp(flags: &str) -> String {
    format!("00-{TRACE}-{SPAN}-{flags}")
}

// --- Level 1: traceparent ---

#[tokio::test]
async fn both_headers_missing_start_a_valid_trace() {
    let rig = Rig::start().await;
    let (parent, state) = rig.one(&[]).await;
    assert_eq!(parent.flags & 1, 1, "sample_rate 1.0 samples the new trace");
    assert!(state.is_empty());
}

#[tokio::test]
async fn a_traceparent_is_continued_with_a_new_parent_id() {
    let rig = Rig::start().await;
    let (parent, _) = rig.one(&[("traceparent", &tp("01"))]).await;
    assert_eq!(parent.trace_id, TRACE);
    assert_ne!(parent.parent_id, SPAN);
}

#[tokio::test]
async fn header_names_are_case_insensitive() {
    let rig = Rig::start().await;
    for name in ["traceparent", "TRACEPARENT", "TraceParent"] {
        let (parent, _) = rig.one(&[(name, &tp("01"))]).await;
        assert_eq!(parent.trace_id, TRACE, "{name}");
    }
    for name in ["tracestate", "TRACESTATE", "TraceState"] {
        let (_, state) = rig
            .one(&[("traceparent", &tp("00")), (name, "foo=1")])
            .await;
        assert_eq!(get(&state, "foo"), Some("1"), "{name}");
    }
}

#[tokio::test]
async fn duplicated_traceparent_restarts_the_trace() {
    let rig = Rig::start().await;
    let (parent, state) = rig
        .one(&[
            (
                "traceparent",
                "00-12345678901234567890123456789011-1234567890123456-01",
            ),
            ("traceparent", &tp("01")),
            ("tracestate", "foo=1"),
        ])
        .await;
    assert_ne!(parent.trace_id, TRACE);
    assert_ne!(parent.trace_id, "12345678901234567890123456789011");
    assert!(state.is_empty(), "tracestate goes with a restarted trace");
}

/// Values that must be continued, and values that must restart the trace.
#[tokio::test]
async fn traceparent_versions_ids_flags_and_whitespace() {
    let rig = Rig::start().await;
    let continued = [
        tp("01"),
        tp("00"),
        format!("cc-{TRACE}-{SPAN}-01"),
        format!("cc-{TRACE}-{SPAN}-01-what-the-future-will-be-like"),
        format!(" {}", tp("01")),
        format!("\t{}", tp("01")),
        format!("{} ", tp("01")),
        format!("{}\t", tp("01")),
        format!("\t {} \t", tp("01")),
    ];
    for value in &continued {
        let (parent, _) = rig.one(&[("traceparent", value)]).await;
        assert_eq!(parent.trace_id, TRACE, "{value:?} is continued");
    }
    let restarted = [
        format!("cc-{TRACE}-{SPAN}-01.what-the-future-will-be-like"),
        format!("ff-{TRACE}-{SPAN}-01"),
        format!(".0-{TRACE}-{SPAN}-01"),
        format!("0.-{TRACE}-{SPAN}-01"),
        format!("000-{TRACE}-{SPAN}-01"),
        format!("0000-{TRACE}-{SPAN}-01"),
        format!("0-{TRACE}-{SPAN}-01"),
        format!("00-{TRACE}-0000000000000000-01"),
        format!("00-{TRACE}-.234567890123456-01"),
        format!("00-{TRACE}-123456789012345.-01"),
        format!("00-{TRACE}-12345678901234567-01"),
        format!("00-{TRACE}-123456789012345-01"),
        format!("00-{TRACE}-{SPAN}-.0"),
        format!("00-{TRACE}-{SPAN}-0."),
        format!("00-{TRACE}-{SPAN}-001"),
        format!("00-{TRACE}-{SPAN}-1"),
    ];
    for value in &restarted {
        let (parent, _) = rig.one(&[("traceparent", value)]).await;
        assert_ne!(parent.trace_id, TRACE, "{value:?} restarts the trace");
    }
    // Broken trace ids: the new one is none of the pieces.
    for (value, not) in [
        (
            format!("00-{}-{SPAN}-01", "0".repeat(32)),
            vec!["0".repeat(32)],
        ),
        (
            format!("00-.2345678901234567890123456789012-{SPAN}-01"),
            vec![".2345678901234567890123456789012".to_owned()],
        ),
        (
            format!("00-1234567890123456789012345678901.-{SPAN}-01"),
            vec!["1234567890123456789012345678901.".to_owned()],
        ),
        (
            format!("00-123456789012345678901234567890123-{SPAN}-01"),
            vec![
                TRACE.to_owned(),
                "23456789012345678901234567890123".to_owned(),
            ],
        ),
        (
            format!("00-1234567890123456789012345678901-{SPAN}-01"),
            vec!["1234567890123456789012345678901".to_owned()],
        ),
    ] {
        let (parent, _) = rig.one(&[("traceparent", &value)]).await;
        for not in not {
            assert!(!parent.trace_id.contains(&not), "{value:?}");
        }
    }
}

// --- Level 1: tracestate ---

#[tokio::test]
async fn tracestate_without_traceparent_is_dropped() {
    let rig = Rig::start().await;
    let (_, one) = rig.one(&[("tracestate", "foo=1")]).await;
    let (_, two) = rig.one(&[("tracestate", "foo=1,bar=2")]).await;
    assert!(one.is_empty() && two.is_empty());
}

#[tokio::test]
async fn tracestate_with_traceparent_is_carried() {
    let rig = Rig::start().await;
    let (parent, state) = rig
        .one(&[("traceparent", &tp("00")), ("tracestate", "foo=1,bar=2")])
        .await;
    assert_eq!(parent.trace_id, TRACE);
    assert_eq!(get(&state, "foo"), Some("1"));
    assert_eq!(get(&state, "bar"), Some("2"));
}

#[tokio::test]
async fn empty_tracestate_headers_are_accepted() {
    let rig = Rig::start().await;
    let (parent, state) = rig
        .one(&[("traceparent", &tp("00")), ("tracestate", "")])
        .await;
    assert_eq!(parent.trace_id, TRACE);
    assert!(state.is_empty());
    for headers in [["foo=1", ""], ["", "foo=1"]] {
        let (parent, state) = rig
            .one(&[
                ("traceparent", &tp("00")),
                ("tracestate", headers[0]),
                ("tracestate", headers[1]),
            ])
            .await;
        assert_eq!(parent.trace_id, TRACE);
        assert_eq!(state, vec![("foo".to_owned(), "1".to_owned())]);
    }
}

#[tokio::test]
async fn several_tracestate_headers_combine_in_order() {
    let rig = Rig::start().await;
    let (_, state) = rig
        .one(&[
            ("traceparent", &tp("00")),
            ("tracestate", "foo=1,bar=2"),
            ("tracestate", "rojo=1,congo=2"),
            ("tracestate", "baz=3"),
        ])
        .await;
    let keys: Vec<&str> = state.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["foo", "bar", "rojo", "congo", "baz"]);
}

#[tokio::test]
async fn duplicated_tracestate_keys_keep_one_value() {
    let rig = Rig::start().await;
    for headers in [
        vec!["foo=1,foo=1"],
        vec!["foo=1,foo=2"],
        vec!["foo=1", "foo=1"],
        vec!["foo=1", "foo=2"],
    ] {
        let mut sent = vec![("traceparent", tp("00"))];
        sent.extend(headers.iter().map(|h| ("tracestate", h.to_string())));
        let sent: Vec<(&str, &str)> = sent.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (parent, state) = rig.one(&sent).await;
        assert_eq!(parent.trace_id, TRACE);
        assert_eq!(
            state,
            vec![("foo".to_owned(), "1".to_owned())],
            "{headers:?}"
        );
    }
}

#[tokio::test]
async fn every_allowed_character_is_carried() {
    let rig = Rig::start().await;
    let key = "abcdefghijklmnopqrstuvwxyz0123456789_-*/";
    let vendor_key = format!("{key}@a-z0-9_-*/");
    let value: String = (0x20u8..=0x7e)
        .filter(|c| *c != b',' && *c != b'=')
        .map(char::from)
        .collect();
    for key in [key.to_owned(), vendor_key] {
        let member = format!("{key}={value}");
        let (_, state) = rig
            .one(&[("traceparent", &tp("00")), ("tracestate", &member)])
            .await;
        assert_eq!(get(&state, &key), Some(value.as_str()), "{key}");
    }
}

#[tokio::test]
async fn whitespace_around_members_is_ignored() {
    let rig = Rig::start().await;
    for header in [
        "foo=1 \t , \t bar=2, \t baz=3",
        "foo=1\t \t,\t \tbar=2,\t \tbaz=3",
        " foo=1",
        "\tfoo=1",
        "foo=1 ",
        "foo=1\t",
        "\t foo=1 \t",
    ] {
        let (parent, state) = rig
            .one(&[("traceparent", &tp("00")), ("tracestate", header)])
            .await;
        assert_eq!(parent.trace_id, TRACE);
        assert_eq!(get(&state, "foo"), Some("1"), "{header:?}");
    }
}

#[tokio::test]
async fn an_illegal_member_discards_the_list() {
    let rig = Rig::start().await;
    for header in [
        "foo =1",
        "FOO=1",
        "foo.bar=1",
        "@foo=1,bar=2",
        "foo=bar=baz",
        "foo=,bar=3",
    ] {
        let (parent, state) = rig
            .one(&[("traceparent", &tp("00")), ("tracestate", header)])
            .await;
        assert_eq!(parent.trace_id, TRACE, "traceparent stands: {header:?}");
        assert!(state.is_empty(), "{header:?} discards the list: {state:?}");
    }
}

#[tokio::test]
async fn keys_with_at_signs_follow_the_key_grammar() {
    let rig = Rig::start().await;
    for key in ["foo@", "foo@@bar", "foo@bar@baz"] {
        let header = format!("{key}=1,bar=2");
        let (_, state) = rig
            .one(&[("traceparent", &tp("00")), ("tracestate", &header)])
            .await;
        assert_eq!(get(&state, key), Some("1"), "{key}");
        assert_eq!(get(&state, "bar"), Some("2"));
    }
}

#[tokio::test]
async fn at_most_32_members() {
    let rig = Rig::start().await;
    let members: Vec<String> = (1..=33).map(|i| format!("bar{i:02}={i:02}")).collect();
    let headers =
        |members: &[String]| -> Vec<String> { members.chunks(10).map(|c| c.join(",")).collect() };
    let mut sent = vec![("traceparent", tp("00"))];
    sent.extend(
        headers(&members[..32])
            .into_iter()
            .map(|h| ("tracestate", h)),
    );
    let sent: Vec<(&str, &str)> = sent.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (_, state) = rig.one(&sent).await;
    assert_eq!(state.len(), 32);
    assert_eq!(get(&state, "bar01"), Some("01"));

    let mut sent = vec![("traceparent", tp("00"))];
    sent.extend(headers(&members).into_iter().map(|h| ("tracestate", h)));
    let sent: Vec<(&str, &str)> = sent.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (_, state) = rig.one(&sent).await;
    assert!(
        state.is_empty(),
        "33 members are not a list: {}",
        state.len()
    );
}

#[tokio::test]
async fn key_length_limits() {
    let rig = Rig::start().await;
    for key in [
        "z".repeat(256),
        format!("{}@{}", "t".repeat(241), "v".repeat(14)),
        format!("{}@v", "t".repeat(242)),
        format!("t@{}", "v".repeat(15)),
    ] {
        let member = format!("{key}=1");
        let (_, state) = rig
            .one(&[
                ("traceparent", &tp("00")),
                ("tracestate", "foo=1"),
                ("tracestate", &member),
            ])
            .await;
        assert_eq!(get(&state, "foo"), Some("1"));
        assert_eq!(
            get(&state, &key),
            Some("1"),
            "a key of {} characters",
            key.len()
        );
    }
    let member = format!("{}=1", "z".repeat(257));
    let (_, state) = rig
        .one(&[
            ("traceparent", &tp("00")),
            ("tracestate", "foo=1"),
            ("tracestate", &member),
        ])
        .await;
    assert!(
        state.is_empty(),
        "a key of 257 characters discards the list"
    );
}

// --- Level 1: several calls ---

#[tokio::test]
async fn each_call_has_its_own_parent_id() {
    let rig = Rig::start().await;
    for headers in [
        vec![("traceparent", tp("01"))],
        vec![],
        vec![("traceparent", format!("00-{}-{SPAN}-01", "0".repeat(32)))],
    ] {
        let sent: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let outcome = rig.run(&sent, 3).await;
        let parents: Vec<Traceparent> = outcome.calls.iter().map(traceparent).collect();
        let trace_ids: std::collections::HashSet<_> =
            parents.iter().map(|p| p.trace_id.clone()).collect();
        let parent_ids: std::collections::HashSet<_> =
            parents.iter().map(|p| p.parent_id.clone()).collect();
        assert_eq!(trace_ids.len(), 1, "{headers:?}");
        assert_eq!(parent_ids.len(), 3, "{headers:?}");
        assert!(!trace_ids.contains(&"0".repeat(32)));
        if headers.first().is_some_and(|(_, v)| v.contains(TRACE)) {
            assert!(trace_ids.contains(TRACE));
        }
    }
    // Not recorded: each call still gets a parent id of its own.
    let rig = Rig::with(0.0, |b| b).await;
    for sent in [vec![], vec![("traceparent", tp("00"))]] {
        let sent: Vec<(&str, &str)> = sent.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let outcome = rig.run(&sent, 3).await;
        let parents: std::collections::HashSet<_> = outcome
            .calls
            .iter()
            .map(|c| {
                let p = traceparent(c);
                assert_eq!(p.flags & 1, 0, "not sampled");
                p.parent_id
            })
            .collect();
        assert_eq!(parents.len(), 3, "{sent:?}");
    }

    // Each onward parent id is that call's own CLIENT span.
    let rig = Rig::start().await;
    let outcome = rig.run(&[("traceparent", &tp("01"))], 2).await;
    let mut spans = Vec::new();
    for _ in 0..100 {
        spans = rig.harness.spans();
        if spans
            .iter()
            .filter(|s| s.span_kind == SpanKind::Client)
            .count()
            == 2
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for call in &outcome.calls {
        let parent = traceparent(call);
        let client = spans
            .iter()
            .find(|s| s.span_context.span_id().to_string() == parent.parent_id)
            .expect("the parent id is an exported span");
        assert_eq!(client.span_kind, SpanKind::Client);
        assert_eq!(client.span_context.trace_id().to_string(), TRACE);
    }
}

// --- Level 2: the random-trace-id flag ---

#[tokio::test]
async fn the_random_flag_is_propagated_as_the_caller_set_it() {
    let rig = Rig::start().await;
    for (flags, random) in [("02", true), ("03", true), ("01", false), ("00", false)] {
        let outcome = rig.run(&[("traceparent", &tp(flags))], 1).await;
        let parent = traceparent(&outcome.calls[0]);
        assert_eq!(parent.trace_id, TRACE);
        assert_ne!(parent.parent_id, SPAN);
        assert_eq!(parent.flags & 0x02 != 0, random, "incoming flags {flags}");
        assert_eq!(outcome.info.random, random);
    }
}

#[tokio::test]
async fn trace_ids_made_here_are_flagged_random() {
    // Sampled and not: the flag says how the trace id was made, not the decision.
    for rate in [1.0, 0.0] {
        let rig = Rig::with(rate, |b| b).await;
        let outcome = rig.run(&[], 2).await;
        for call in &outcome.calls {
            let parent = traceparent(call);
            assert_eq!(parent.flags & 0x02, 0x02, "rate {rate}");
            assert_eq!(parent.flags & 0x01, u8::from(rate == 1.0));
            assert_eq!(parent.trace_id, outcome.info.trace_id.to_string());
        }
        assert!(outcome.info.random);
    }
}

// --- The server-timing trace metric ---

#[tokio::test]
async fn server_timing_names_the_server_span_when_asked() {
    let rig = Rig::start().await;
    let outcome = rig.run(&[("traceparent", &tp("03"))], 0).await;
    assert!(
        outcome.response.get("server-timing").is_none(),
        "off by default"
    );

    let rig = Rig::with(1.0, |b| b.server_timing(true)).await;
    for (sent, flags) in [(tp("03"), "03"), (tp("00"), "00")] {
        let outcome = rig.run(&[("traceparent", &sent)], 0).await;
        let metric = outcome.response["server-timing"].to_str().unwrap();
        assert_eq!(
            metric,
            format!(
                "trace;desc=00-{}-{}-{flags}",
                outcome.info.trace_id, outcome.info.span_id
            )
        );
        assert_eq!(outcome.info.trace_id.to_string(), TRACE);
    }
}
