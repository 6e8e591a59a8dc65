//! The README's quick start, end to end: the summarize example serves, prints its
//! spans on stdout, and flushes them on SIGTERM.

#[cfg(any(feature = "zipkin", feature = "jaeger", feature = "otlp"))]
use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn example_binary() -> PathBuf {
    example("summarize")
}

/// The example built with this test's features.
///
/// `target/<profile>/examples/<name>` is whichever build of the example cargo
/// linked last. After the README's quick start (`--features axum,logs`) it can
/// be a build without the exporters these tests use, and a later `cargo test`
/// whose own build is already fresh does not link it back. Cargo keeps every
/// feature set's build beside it as `<name>-<hash>`, so the newest one that can
/// run this test's exporters is used instead.
fn example(name: &str) -> PathBuf {
    static SUMMARIZE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    // tests run from target/<profile>/deps; cargo builds examples next to it.
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().join("examples");
    let linked = dir.join(name);
    if name != "summarize" {
        assert!(
            linked.exists(),
            "{} missing: run `cargo test --all-features`",
            linked.display()
        );
        return linked;
    }
    SUMMARIZE
        .get_or_init(|| {
            if runs_our_exporters(&linked) {
                return linked;
            }
            let mut builds: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(&dir)
                .unwrap()
                .filter_map(|entry| {
                    let entry = entry.ok()?;
                    let file = entry.file_name().into_string().ok()?;
                    let hash = file.strip_prefix(name)?.strip_prefix('-')?;
                    hash.bytes()
                        .all(|b| b.is_ascii_hexdigit())
                        .then(|| Some((entry.metadata().ok()?.modified().ok()?, entry.path())))?
                })
                .collect();
            builds.sort();
            builds
                .into_iter()
                .rev()
                .map(|(_, path)| path)
                .find(|path| runs_our_exporters(path))
                .unwrap_or_else(|| {
                    panic!(
                        "no build of the {name} example in {} has this test's exporters: \
                         run `cargo build --all-features --examples`",
                        dir.display()
                    )
                })
        })
        .clone()
}

/// Whether the example accepts every exporter these tests are compiled with
/// (`--print-config` refuses an exporter its build left out).
fn runs_our_exporters(bin: &std::path::Path) -> bool {
    let compiled = [
        ("zipkin", cfg!(feature = "zipkin")),
        ("jaeger", cfg!(feature = "jaeger")),
        ("otlp", cfg!(feature = "otlp")),
    ];
    compiled.iter().filter(|(_, on)| *on).all(|(exporter, _)| {
        Command::new(bin)
            .arg("--print-config")
            .env("OTEL_TRACES_EXPORTER", exporter)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    })
}

struct Server {
    child: Child,
    addr: SocketAddr,
    /// Every line the example wrote on stderr (its logs).
    stderr: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Server {
    start_with_env(args, &[])
}

fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Server {
    start_example("summarize", "Summarization listening on http://", args, env)
}

/// Starts an example on a free port and waits for the address it reports.
fn start_example(
    name: &str,
    listening: &'static str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Server {
    let mut child = Command::new(example(name))
        .args(["--bind", "127.0.0.1:0"])
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            keep.lock().unwrap().push(line.clone());
            if let Some(rest) = line.strip_prefix(listening) {
                let addr = rest.split([',', ' ']).next().unwrap_or(rest);
                let _ = tx.send(addr.parse::<SocketAddr>().unwrap());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|e| {
            // An example built by another command (`cargo run --example ...` with
            // fewer features) may be the one at this path: say so.
            panic!(
                "the example did not report its address ({e}); it said:\n{}\n(if it lacks a \
             feature, `cargo build --all-features --examples` rebuilds it)",
                lines.lock().unwrap().join("\n")
            )
        });
    Server {
        child,
        addr,
        stderr: lines,
    }
}

fn http(addr: SocketAddr, request: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn post(addr: SocketAddr, body: &str) -> String {
    http(
        addr,
        &format!(
            "POST /summarize HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: curl/8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

/// SIGTERM, then everything the process printed on stdout.
fn stop(mut server: Server) -> String {
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "example did not exit on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut out = String::new();
    server
        .child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    out
}

#[test]
fn quick_start_prints_spans_and_flushes_on_sigterm() {
    let server = start(&[]);
    let addr = server.addr;
    let resp = post(addr, "Tracing shows where time goes. It also shows errors.");
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.ends_with("Tracing shows where time goes.\n"), "{resp}");
    let resp = post(addr, "__boom__");
    assert!(resp.starts_with("HTTP/1.1 500"), "{resp}");
    let resp = http(
        addr,
        &format!("POST /summarize HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"),
    );
    assert!(resp.starts_with("HTTP/1.1 400"), "{resp}");
    let resp = http(
        addr,
        &format!("GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    );
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let resp = http(
        addr,
        &format!("GET /stream?n=4 HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    );
    assert!(resp.contains("chunk 3"), "{resp}");
    // The README's `curl localhost:3000/metrics`: every request but the
    // excluded one, by route and status.
    let resp = http(
        addr,
        &format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    );
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let text = resp.split_once("\r\n\r\n").unwrap().1;
    let parsed = openmetrics_parser::prometheus::parse_prometheus(text)
        .unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    let requests = |route: &str, status: &str| -> u64 {
        parsed.families["http_server_request_duration_seconds"]
            .iter_samples()
            .filter(|s| {
                let labels = s.get_labelset().unwrap();
                labels.get_label_value("http_route") == Some(route)
                    && labels.get_label_value("http_response_status_code") == Some(status)
            })
            .map(|s| match &s.value {
                openmetrics_parser::PrometheusValue::Histogram(h) => h.count.unwrap(),
                other => panic!("{other:?}"),
            })
            .sum()
    };
    for status in ["200", "500", "400"] {
        assert_eq!(requests("/summarize", status), 1, "{status}:\n{text}");
    }
    assert_eq!(requests("/stream", "200"), 1, "{text}");
    assert_eq!(requests("/readyz", "200"), 0, "excluded:\n{text}");
    assert!(!text.contains("otel_metric_overflow"), "{text}");

    let logs = server.stderr.clone();
    let out = stop(server);
    let count = |needle: &str| out.lines().filter(|l| *l == needle).count();
    assert_eq!(count("    Name           : POST /summarize"), 3, "{out}");
    assert_eq!(count("    Name           : GET /metrics"), 0, "{out}");
    // The handler's log line carries the trace id its spans carry.
    let logs = logs.lock().unwrap().join("\n");
    let logged = logs
        .lines()
        .find(|l| l.contains("summarized 52 characters"))
        .unwrap_or_else(|| panic!("{logs}"));
    let trace = logged
        .strip_prefix("trace_id=")
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("{logged}"));
    assert!(
        out.contains(&format!("    Trace ID       : {trace}")),
        "{trace} not among the spans:\n{out}"
    );
    assert_eq!(count("    Name           : GET /stream"), 1, "{out}");
    assert_eq!(
        count("    Name           : GET /stream http send"),
        5,
        "{out}"
    );
    assert_eq!(
        count("    Name           : GET /readyz"),
        0,
        "readyz is excluded:\n{out}"
    );
    assert_eq!(count("    Name           : summarize.model"), 1, "{out}");
    assert_eq!(
        count("    Status code    : Error"),
        2,
        "the 500's server span and its response-start span are ERROR:\n{out}"
    );
    assert!(
        count("     -> service.name: Str(Summarization)") >= 1,
        "{out}"
    );
    assert!(
        count(&format!("     -> http.host: Str({addr})")) >= 1,
        "{out}"
    );
    assert!(count("     -> net.peer.ip: Str(127.0.0.1)") >= 1, "{out}");
}

#[test]
fn config_file_is_used_and_bad_ones_are_explained() {
    let dir = std::env::temp_dir();
    let good = dir.join(format!("tot-quick-{}.yaml", std::process::id()));
    std::fs::write(
        &good,
        "tracing:\n  exporter_type: console\n  sample_rate: 1.0\n  service_name: FromFile\n",
    )
    .unwrap();
    let server = start(&["--config", good.to_str().unwrap()]);
    let resp = post(server.addr, "hello there");
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let out = stop(server);
    std::fs::remove_file(&good).unwrap();
    assert!(out.contains("     -> service.name: Str(FromFile)"), "{out}");

    let bad = dir.join(format!("tot-quick-bad-{}.json", std::process::id()));
    std::fs::write(&bad, r#"{"sample_rate": 2}"#).unwrap();
    let output = Command::new(example_binary())
        .args(["--config", bad.to_str().unwrap(), "--bind", "127.0.0.1:0"])
        .output()
        .unwrap();
    std::fs::remove_file(&bad).unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("tracing.sample_rate"), "{stderr}");
    assert!(stderr.contains('2'), "{stderr}");
}

#[cfg(feature = "zipkin")]
#[test]
fn example_exports_to_zipkin_with_a_config_file() {
    let rx = common::receiver::Receiver::start();
    let dir = std::env::temp_dir();
    let cfg = dir.join(format!("tot-quick-zipkin-{}.yaml", std::process::id()));
    let seed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/config/zipkin.yaml"
    ))
    .unwrap()
    .replace(
        "http://localhost:9411/api/v2/spans",
        &rx.url("/api/v2/spans"),
    );
    std::fs::write(&cfg, seed).unwrap();
    let server = start(&["--config", cfg.to_str().unwrap()]);
    let resp = post(server.addr, "Zipkin shows this trace.");
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let out = stop(server);
    std::fs::remove_file(&cfg).unwrap();
    assert!(out.is_empty(), "nothing on stdout with zipkin: {out}");
    let posts = rx.wait_for(1);
    let spans: Vec<serde_json::Value> = posts
        .iter()
        .flat_map(|p| serde_json::from_slice::<Vec<serde_json::Value>>(&p.body).unwrap())
        .collect();
    let server_span = spans
        .iter()
        .find(|s| s["name"] == "POST /summarize")
        .unwrap();
    assert_eq!(server_span["localEndpoint"]["serviceName"], "Summarization");
    assert_eq!(server_span["localEndpoint"]["ipv6"], "2001:db8::c001");
    assert_eq!(
        spans.len(),
        5,
        "server, receive, 2 sends, handler: {spans:#?}"
    );
}

#[cfg(feature = "zipkin")]
#[test]
fn environment_overrides_the_config_file() {
    let rx = common::receiver::Receiver::start();
    let dir = std::env::temp_dir();
    let cfg = dir.join(format!("tot-quick-env-{}.toml", std::process::id()));
    // The file says console at rate 0; the environment says zipkin, always on.
    std::fs::write(
        &cfg,
        "[tracing]\nexporter_type = \"console\"\nsample_rate = 0.0\nservice_name = \"FileName\"\n",
    )
    .unwrap();
    let endpoint = rx.url("/from-env");
    let env = [
        ("OTEL_TRACES_EXPORTER", "zipkin"),
        ("OTEL_EXPORTER_ZIPKIN_ENDPOINT", endpoint.as_str()),
        ("OTEL_TRACES_SAMPLER", "always_on"),
        ("OTEL_SERVICE_NAME", "EnvName"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "not-a-number"),
    ];
    let printed = Command::new(example_binary())
        .args(["--config", cfg.to_str().unwrap(), "--print-config"])
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(printed.status.success());
    let text = String::from_utf8_lossy(&printed.stdout);
    assert!(
        text.contains("exporter_type               = zipkin  (env OTEL_TRACES_EXPORTER)"),
        "{text}"
    );
    assert!(
        text.contains("sampler                     = always_on  (env OTEL_TRACES_SAMPLER)"),
        "{text}"
    );
    assert!(
        text.contains("service_name                = EnvName  (env OTEL_SERVICE_NAME)"),
        "{text}"
    );
    assert!(
        text.contains("batch.max_queue_size        = 2048  (default)"),
        "{text}"
    );
    let warned = String::from_utf8_lossy(&printed.stderr);
    assert!(
        warned.contains("OTEL_BSP_MAX_QUEUE_SIZE") && warned.contains("not-a-number"),
        "{warned}"
    );

    let server = start_with_env(&["--config", cfg.to_str().unwrap()], &env);
    let resp = post(server.addr, "The environment decides.");
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let out = stop(server);
    std::fs::remove_file(&cfg).unwrap();
    assert!(out.is_empty(), "console was overridden: {out}");
    let posts = rx.wait_for(1);
    assert_eq!(posts[0].uri.path(), "/from-env");
    let spans: Vec<serde_json::Value> = serde_json::from_slice(&posts[0].body).unwrap();
    let server_span = spans
        .iter()
        .find(|s| s["name"] == "POST /summarize")
        .unwrap();
    assert_eq!(server_span["localEndpoint"]["serviceName"], "EnvName");
}

#[cfg(feature = "jaeger")]
#[test]
fn example_exports_to_the_jaeger_collector_with_the_seed_config() {
    let rx = common::receiver::Receiver::start();
    let cfg = std::env::temp_dir().join(format!("tot-quick-jaeger-{}.yaml", std::process::id()));
    let seed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/config/jaeger.yaml"
    ))
    .unwrap()
    .replace("http://localhost:14268", &rx.url(""));
    std::fs::write(&cfg, seed).unwrap();
    let server = start(&["--config", cfg.to_str().unwrap()]);
    let resp = post(server.addr, "Jaeger shows this trace.");
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let out = stop(server);
    std::fs::remove_file(&cfg).unwrap();
    assert!(out.is_empty(), "{out}");
    let posts = rx.wait_for(1);
    assert_eq!(posts[0].headers["content-type"], "application/x-thrift");
    let batch = common::thrift_decode::decode_binary_batch(&posts[0].body);
    assert_eq!(batch.service_name, "Summarization");
    assert!(batch
        .spans
        .iter()
        .any(|s| s.operation_name == "POST /summarize"));
}

#[cfg(feature = "otlp")]
#[test]
fn example_exports_otlp_with_the_seed_config() {
    use prost::Message;
    let rx = common::receiver::Receiver::start();
    let cfg = std::env::temp_dir().join(format!("tot-quick-otlp-{}.yaml", std::process::id()));
    let seed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/config/otlp.yaml"
    ))
    .unwrap()
    .replace("http://localhost:4318", &rx.url(""));
    std::fs::write(&cfg, seed).unwrap();
    let server = start(&["--config", cfg.to_str().unwrap()]);
    let resp = post(server.addr, "The collector shows this trace.");
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let out = stop(server);
    std::fs::remove_file(&cfg).unwrap();
    assert!(out.is_empty(), "{out}");
    let posts = rx.wait_for(1);
    assert_eq!(posts[0].headers["keep-alive"], "timeout=5, max=1000");
    let req = opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest::decode(
        &posts[0].body[..],
    )
    .unwrap();
    let names: Vec<String> = req
        .resource_spans
        .iter()
        .flat_map(|r| r.scope_spans.iter())
        .flat_map(|s| s.spans.iter().map(|sp| sp.name.clone()))
        .collect();
    assert!(names.contains(&"POST /summarize".to_owned()), "{names:?}");
    assert_eq!(names.len(), 5, "{names:?}");
}

/// The README's "two services, one trace": the gateway's SERVER and CLIENT spans
/// and the summarizer's SERVER span share one trace, parent to child.
#[test]
fn gateway_and_summarizer_share_one_trace() {
    let summarizer = start(&[]);
    let upstream = format!("http://{}", summarizer.addr);
    let gateway = start_example(
        "gateway",
        "Gateway listening on http://",
        &["--upstream", &upstream],
        &[],
    );
    let resp = post(gateway.addr, "One trace. Two services.");
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.ends_with("One trace.\n"), "{resp}");
    let gateway_out = stop(gateway);
    let summarizer_out = stop(summarizer);
    // (name, kind) -> (trace, parent, id) from the console layout.
    let spans = |out: &str| -> Vec<[String; 5]> {
        out.split("Span #")
            .skip(1)
            .map(|block| {
                let field = |k: &str| {
                    block
                        .lines()
                        .find_map(|l| l.trim().strip_prefix(k))
                        .map(|v| v.trim_start_matches([' ', ':']).trim().to_owned())
                        .unwrap_or_default()
                };
                [
                    field("Name"),
                    field("Kind"),
                    field("Trace ID"),
                    field("Parent ID"),
                    field("ID "),
                ]
            })
            .collect()
    };
    let (gw, sum) = (spans(&gateway_out), spans(&summarizer_out));
    let find = |list: &[[String; 5]], name: &str, kind: &str| {
        list.iter()
            .find(|s| s[0] == name && s[1] == kind)
            .unwrap_or_else(|| panic!("no {kind} {name} in {list:?}"))
            .clone()
    };
    let gw_server = find(&gw, "POST /summarize", "Server");
    let gw_client = find(&gw, "POST", "Client");
    let sum_server = find(&sum, "POST /summarize", "Server");
    assert_eq!(gw_server[2], gw_client[2]);
    assert_eq!(gw_client[2], sum_server[2], "one trace id");
    assert_eq!(
        gw_client[3], gw_server[4],
        "CLIENT under the gateway's SERVER span"
    );
    assert_eq!(
        sum_server[3], gw_client[4],
        "the summarizer's SERVER under the CLIENT span"
    );
    assert!(
        gateway_out.contains("service.name: Str(Gateway)"),
        "{gateway_out}"
    );
}

/// The README's "keep what matters": with the shipped keep.yaml (and the rate
/// forced to 0 so ordinary requests never show), only the failure and the slow
/// request are printed, each with its reason.
#[test]
fn keep_what_matters_with_the_shipped_config() {
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/config/keep.yaml");
    let server = start_with_env(
        &["--config", cfg],
        &[
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0"),
        ],
    );
    for _ in 0..3 {
        assert!(post(server.addr, "An ordinary request.").starts_with("HTTP/1.1 200"));
    }
    assert!(post(server.addr, "__boom__").starts_with("HTTP/1.1 500"));
    let resp = http(
        server.addr,
        &format!(
            "GET /slow?ms=700 HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            server.addr
        ),
    );
    assert!(resp.contains("slept 700 ms"), "{resp}");
    let out = stop(server);
    let names: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("    Name           : "))
        .filter(|n| !n.contains(" http "))
        .collect();
    assert_eq!(names, ["POST /summarize", "GET /slow"], "{out}");
    assert!(out.contains("-> sampling.reason: Str(error)"), "{out}");
    assert!(out.contains("-> sampling.reason: Str(slow)"), "{out}");
}
