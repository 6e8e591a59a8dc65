//! A loopback HTTP receiver standing in for a collector: records every request,
//! answers with a chosen status. It runs on its own thread and runtime, so a test
//! that blocks (e.g. on `force_flush`) cannot starve it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::Router;

#[derive(Debug, Clone)]
pub struct Captured {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub received_at: Instant,
}

#[derive(Default)]
struct State {
    captured: Mutex<Vec<Captured>>,
    status: AtomicU16,
    /// Statuses for the next requests, in order, before `status` applies again.
    script: Mutex<std::collections::VecDeque<u16>>,
    delay_ms: AtomicU64,
}

pub struct Receiver {
    pub addr: SocketAddr,
    state: Arc<State>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// An https receiver presenting this server config (certificate chain and key).
    pub fn start_tls(tls: Arc<tokio_rustls::rustls::ServerConfig>) -> Self {
        Self::start_with(Some(tls))
    }

    fn start_with(tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>) -> Self {
        let state = Arc::new(State::default());
        state.status.store(200, Ordering::SeqCst);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let st = state.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let app = Router::new().fallback(
                    move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                        let st = st.clone();
                        async move {
                            let delay = st.delay_ms.load(Ordering::SeqCst);
                            if delay > 0 {
                                tokio::time::sleep(Duration::from_millis(delay)).await;
                            }
                            st.captured.lock().unwrap().push(Captured {
                                method,
                                uri,
                                headers,
                                body,
                                received_at: Instant::now(),
                            });
                            let scripted = st.script.lock().unwrap().pop_front();
                            let status =
                                scripted.unwrap_or_else(|| st.status.load(Ordering::SeqCst));
                            let mut resp = axum::response::IntoResponse::into_response(
                                StatusCode::from_u16(status).unwrap(),
                            );
                            if status == 429 || status == 503 {
                                // Throttling answers say when to come back.
                                resp.headers_mut().insert(
                                    "retry-after",
                                    axum::http::HeaderValue::from_static("1"),
                                );
                            }
                            resp
                        }
                    },
                );
                match tls {
                    None => axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = stop_rx.await;
                        })
                        .await
                        .unwrap(),
                    Some(tls) => serve_tls(listener, app, tls, stop_rx).await,
                }
            });
        });
        let addr = addr_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        Receiver {
            addr,
            state,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The status every later request is answered with.
    pub fn respond_with(&self, status: u16) {
        self.state.status.store(status, Ordering::SeqCst);
    }

    /// Answers the next requests with these statuses, in order.
    pub fn script(&self, statuses: &[u16]) {
        self.state
            .script
            .lock()
            .unwrap()
            .extend(statuses.iter().copied());
    }

    /// Makes every later answer wait this long.
    pub fn delay(&self, d: Duration) {
        self.state
            .delay_ms
            .store(d.as_millis() as u64, Ordering::SeqCst);
    }

    pub fn requests(&self) -> Vec<Captured> {
        self.state.captured.lock().unwrap().clone()
    }

    /// Waits (bounded) for at least `n` requests.
    pub fn wait_for(&self, n: usize) -> Vec<Captured> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = self.requests();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An address on which nothing listens (bound, then released).
pub fn dead_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

async fn serve_tls(
    listener: tokio::net::TcpListener,
    app: Router,
    tls: Arc<tokio_rustls::rustls::ServerConfig>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    loop {
        let (tcp, _) = tokio::select! {
            accepted = listener.accept() => accepted.unwrap(),
            _ = &mut stop => return,
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            // A client that rejects our certificate ends the handshake: fine.
            let Ok(stream) = acceptor.accept(tcp).await else {
                return;
            };
            let svc = hyper_util::service::TowerToHyperService::new(app);
            let _ =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
        });
    }
}

/// A CA and a certificate it signed for 127.0.0.1 and localhost.
pub struct TestPki {
    pub ca_pem: String,
    pub server: Arc<tokio_rustls::rustls::ServerConfig>,
}

impl TestPki {
    pub fn new() -> Self {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "tower-otel-tracing test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
        let key = rcgen::KeyPair::generate().unwrap();
        let params =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .unwrap();
        let cert = params.signed_by(&key, &issuer).unwrap();
        let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
        let server = tokio_rustls::rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone(), ca_cert.der().clone()],
                tokio_rustls::rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .unwrap();
        TestPki {
            ca_pem: ca_cert.pem(),
            server: Arc::new(server),
        }
    }
}
