//! Serves one stack on 127.0.0.1 over HTTP/1.1 for the loopback load test
//! (`loopback.py`), or a span receiver (Zipkin or OTLP over HTTP) that answers 202
//! to every POST.
//!
//! ```text
//! serve <stack> <port> [--zipkin http://127.0.0.1:9411/api/v2/spans]
//! serve <stack> <port> [--otlp http://127.0.0.1:4318/v1/traces]
//! serve receiver <port>
//! ```
//!
//! One current-thread runtime: the script pins the process to one core and the load
//! generator to another, so every stack gets the same single core.

use std::convert::Infallible;
use std::net::SocketAddr;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (name, port) = match args.as_slice() {
        [name, port, ..] => (name.as_str(), port.parse::<u16>().expect("port")),
        _ => panic!("usage: serve <stack|receiver> <port> [--zipkin URL | --otlp URL]"),
    };
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    if name == "receiver" {
        let receiver = tower::service_fn(|req: http::Request<Incoming>| async move {
            // Read the whole batch, as a collector would, then accept it.
            let _ = req.into_body().collect().await;
            Ok::<_, Infallible>(
                http::Response::builder()
                    .status(202)
                    .body(String::new())
                    .unwrap(),
            )
        });
        rt.block_on(serve(addr, receiver));
        return;
    }
    let stack = peers::build_with(
        name,
        &peers::Options {
            zipkin: flag("--zipkin"),
            otlp: flag("--otlp"),
            ..Default::default()
        },
    );
    if let Some(dispatch) = &stack.dispatch {
        tracing::dispatcher::set_global_default(dispatch.clone()).unwrap();
    }
    rt.block_on(async {
        match stack.app.clone() {
            peers::App::Routed(app) => serve(addr, app).await,
            peers::App::Around(app) => serve(addr, app).await,
            peers::App::Client(_) => panic!("{name} is a client stack: nothing to serve"),
        }
    });
    stack.shutdown();
}

/// Accepts connections until SIGTERM/Ctrl-C, each served by hyper's HTTP/1.1.
async fn serve<S, B>(addr: SocketAddr, svc: S)
where
    S: tower::Service<http::Request<Incoming>, Response = http::Response<B>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let mut term =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).unwrap();
    println!("listening on {addr}");
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(_) => continue,
            },
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        };
        let _ = stream.set_nodelay(true);
        let svc = TowerToHyperService::new(svc.clone());
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
