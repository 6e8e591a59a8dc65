//! The export side, for instruction counting: N requests through this crate's layer
//! (sample rate 1.0, the full tree: server span, `http receive`, two `http send`),
//! exported by one of our real exporters to a loopback sink.
//!
//! ```text
//! cargo build --release -p peers --bin export_loop
//! export_loop sink <port>                      # HTTP/1.1 on tcp/<port>, Jaeger agent on udp/<port>
//! export_loop <exporter> <requests> <port>     # zipkin | otlp | jaeger_agent | jaeger_collector
//! ```
//!
//! `callgrind.py --export` runs the sink natively, then each exporter under callgrind
//! with `--separate-threads=yes` at two request counts, and reports the instructions
//! of every thread but the main one (the batch processor's thread, which is the
//! export side) per span: (export side(N2) - export side(N1)) / (4 (N2 - N1)).
//!
//! Why the real pipeline and not `SpanExporter::export` on hand-made batches: the
//! export side is everything after the request thread hands a finished span over,
//! and that is exactly the batch processor's thread: taking spans off the queue,
//! batching them (512 a batch), our counting and viewer wrappers, encoding, the
//! HTTP POST (or UDP datagrams) on a kept-alive connection, reading the sink's
//! reply, and dropping the spans. Spans made by hand would need cloning a template
//! on the measured thread, or a toggle that leaves out the dequeue and the drop;
//! the layer's own spans on the layer's own pipeline need neither, and are the
//! spans a user exports. The sink runs in its own process, so none of its work is
//! counted; the request thread (the layer's cost, measured per request elsewhere)
//! is thread 1 and is left out.
//!
//! Every run checks that all spans were exported and none failed or was dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};

use tower_otel_tracing::TracingLayer;

/// The exporters this benchmark knows.
const EXPORTERS: &[&str] = &["zipkin", "otlp", "jaeger_agent", "jaeger_collector"];

/// Spans one request exports: server, `http receive`, `http send` (start), `http send` (body).
const SPANS_PER_REQUEST: u64 = 4;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["--list"] => println!("{}", EXPORTERS.join("\n")),
        ["sink", port] => sink(port.parse().expect("port")),
        [exporter, requests, port] => run(
            exporter,
            requests.parse().expect("requests"),
            port.parse().expect("port"),
        ),
        _ => panic!("usage: export_loop sink <port> | export_loop <exporter> <requests> <port>"),
    }
}

/// The layer exporting to the sink on `port`, with the batch settings of every
/// other benchmark here: 512 spans a batch, a queue that never drops, and a delay
/// long enough that only full batches (and the final flush) are exported.
fn layer(exporter: &str, port: u16) -> TracingLayer {
    peers::export_layer(
        exporter,
        port,
        [
            ("OTEL_BSP_MAX_QUEUE_SIZE", "1000000"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "512"),
            ("OTEL_BSP_SCHEDULE_DELAY", "600000"),
        ],
    )
}

fn run(exporter: &str, requests: u64, port: u16) {
    let layer = layer(exporter, port);
    let app = peers::router().layer(layer.clone());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(peers::drive(&app, requests));
    layer.pipeline().force_flush().unwrap();
    let stats = layer.pipeline().stats();
    let want = SPANS_PER_REQUEST * requests;
    assert!(
        stats.exported == want && stats.failed == 0 && stats.dropped == 0,
        "{exporter}: {want} spans expected, {stats:?}"
    );
    eprintln!("{exporter}: {} spans exported", stats.exported);
}

/// A collector stand-in on 127.0.0.1: HTTP/1.1 with keep-alive on tcp/`port`
/// (reads each request's head and `Content-Length` body, answers 200 with an empty
/// body), and a UDP socket on udp/`port` that reads every datagram. Runs until
/// killed; prints what it received per connection.
fn sink(port: u16) {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let udp = UdpSocket::bind(addr).expect("bind udp");
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65_536];
        let (mut datagrams, mut bytes) = (0u64, 0u64);
        while let Ok(n) = udp.recv(&mut buf) {
            datagrams += 1;
            bytes += n as u64;
            if datagrams % 1000 == 0 {
                eprintln!("udp: {datagrams} datagrams, {bytes} bytes");
            }
        }
    });
    let listener = TcpListener::bind(addr).expect("bind tcp");
    println!("listening on {addr}");
    for stream in listener.incoming().flatten() {
        std::thread::spawn(move || {
            let _ = stream.set_nodelay(true);
            match serve(stream) {
                Ok((requests, bytes)) => eprintln!("tcp: {requests} requests, {bytes} body bytes"),
                Err(e) => eprintln!("tcp: {e}"),
            }
        });
    }
}

/// Serves one connection until the client closes it.
fn serve(stream: TcpStream) -> std::io::Result<(u64, u64)> {
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    let (mut requests, mut bytes) = (0u64, 0u64);
    let mut line = String::new();
    let mut body = Vec::new();
    loop {
        // The request line; end of stream between requests is the client closing.
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok((requests, bytes));
        }
        let mut length = 0usize;
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().map_err(std::io::Error::other)?;
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    return Err(std::io::Error::other("chunked bodies are not expected"));
                }
            }
        }
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
        requests += 1;
        bytes += length as u64;
        out.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")?;
    }
}
