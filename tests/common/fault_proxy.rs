//! A fault-injecting proxy of the tests' own, on 127.0.0.1: TCP (the HTTP and
//! gRPC exporters) and UDP (the Jaeger agent). Plain std threads, a bounded
//! number of connections, everything stopped and joined on drop. The fault is
//! switched at run time with `set`, and applies from the next bytes on, on new
//! and pooled connections alike, so a test can end a fault and see the same
//! pipeline deliver again.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Connections served at once; more are reset on accept.
const MAX_CONNECTIONS: usize = 64;
/// How long a pump waits on one side before looking at the other (and at stop).
const POLL: Duration = Duration::from_millis(2);
/// Neither HTTP/1, nor HTTP/2, nor anything else.
const GARBAGE: &[u8] =
    b"\x16\x03\x01\xff\xff garbage \x00\x01\x02\xde\xad\xbe\xef\r\n\r\nNOT HTTP\r\n";

/// What the TCP proxy does to a connection's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forwards both ways untouched.
    Pass,
    /// Forwards, waiting this long each time the talk turns (request, then
    /// answer): added latency.
    Delay(Duration),
    /// Passes the first half of a request's first bytes on, then resets both
    /// connections (RST): the receiver sees a request cut short.
    ResetMidRequest,
    /// Forwards the request, lets the first half of the answer's first chunk
    /// through, then resets: the receiver processed a request whose answer is lost.
    ResetMidResponse,
    /// As `ResetMidResponse`, but ends with a clean close (FIN): a truncated answer.
    TruncateResponse,
    /// Reads the request and holds it, answering nothing, the connection open:
    /// a collector that hangs. When the fault ends, what it held goes on and the
    /// connection works again, as after a pause.
    Stall,
    /// As `Stall`, but for good on the connections it caught (new ones pass once
    /// the fault ends): a path that died silently, with no reset ever coming.
    BlackHole,
    /// Answers the request's first bytes with garbage and closes; nothing reaches
    /// the receiver.
    Garbage,
}

impl Fault {
    /// Every fault, in the order the chaos tests apply them.
    pub const ALL: [Fault; 7] = [
        Fault::Delay(Duration::from_millis(150)),
        Fault::ResetMidRequest,
        Fault::ResetMidResponse,
        Fault::TruncateResponse,
        Fault::Stall,
        Fault::BlackHole,
        Fault::Garbage,
    ];
}

#[derive(Debug, Default)]
struct TcpCounters {
    connections: AtomicU64,
    applied: AtomicU64,
}

/// The fault in force, and whether it ends after acting once.
#[derive(Debug, Clone, Copy)]
struct Setting {
    fault: Fault,
    once: bool,
}

impl Setting {
    fn get(setting: &Mutex<Setting>) -> Fault {
        setting.lock().unwrap().fault
    }

    /// The fault acted: counts it, and ends a one-shot fault.
    fn acted(setting: &Mutex<Setting>, counters: &TcpCounters) {
        counters.applied.fetch_add(1, Ordering::SeqCst);
        let mut s = setting.lock().unwrap();
        if s.once {
            *s = Setting {
                fault: Fault::Pass,
                once: false,
            };
        }
    }
}

pub struct TcpProxy {
    pub addr: SocketAddr,
    fault: Arc<Mutex<Setting>>,
    counters: Arc<TcpCounters>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TcpProxy {
    /// A proxy in front of `upstream`, passing everything until told otherwise.
    pub fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let fault = Arc::new(Mutex::new(Setting {
            fault: Fault::Pass,
            once: false,
        }));
        let counters = Arc::new(TcpCounters::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (f, c, st) = (fault.clone(), counters.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut conns: Vec<JoinHandle<()>> = Vec::new();
            while !st.load(Ordering::SeqCst) {
                let client = match listener.accept() {
                    Ok((client, _)) => client,
                    Err(_) => {
                        std::thread::sleep(POLL);
                        continue;
                    }
                };
                let (done, live): (Vec<_>, Vec<_>) =
                    conns.into_iter().partition(|h| h.is_finished());
                for h in done {
                    let _ = h.join();
                }
                conns = live;
                if conns.len() >= MAX_CONNECTIONS || client.set_nonblocking(false).is_err() {
                    reset(client);
                    continue;
                }
                c.connections.fetch_add(1, Ordering::SeqCst);
                let (f, c, st) = (f.clone(), c.clone(), st.clone());
                conns.push(std::thread::spawn(move || {
                    pump(client, upstream, &f, &st, &c);
                }));
            }
            for h in conns {
                let _ = h.join();
            }
        });
        TcpProxy {
            addr,
            fault,
            counters,
            stop,
            thread: Some(thread),
        }
    }

    /// Applies `fault` from the next bytes on.
    pub fn set(&self, fault: Fault) {
        *self.fault.lock().unwrap() = Setting { fault, once: false };
    }

    /// Applies `fault` once (to the next request or answer it acts on), then passes.
    pub fn set_once(&self, fault: Fault) {
        *self.fault.lock().unwrap() = Setting { fault, once: true };
    }

    /// Times a fault other than `Delay` acted on a connection.
    pub fn applied(&self) -> u64 {
        self.counters.applied.load(Ordering::SeqCst)
    }

    /// Connections accepted.
    pub fn connections(&self) -> u64 {
        self.counters.connections.load(Ordering::SeqCst)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Closes with a reset (RST) instead of a FIN: linger on, zero seconds.
fn reset(stream: TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket fd and a pointer to a `linger` of the stated length.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    drop(stream);
}

fn would_block(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Where a stalled connection is.
enum Stalled {
    No,
    /// The request bytes held until the stall ends.
    Held(Vec<u8>),
    Forever,
}

/// A stall holds this much at most; then the connection is reset.
const MAX_HELD: usize = 4 << 20;

fn connect(upstream: SocketAddr) -> Option<TcpStream> {
    let u = TcpStream::connect_timeout(&upstream, Duration::from_secs(2)).ok()?;
    let _ = u.set_nodelay(true);
    let _ = u.set_read_timeout(Some(POLL));
    let _ = u.set_write_timeout(Some(Duration::from_secs(2)));
    Some(u)
}

/// Moves one connection's bytes both ways on one thread (so a reset closes the
/// only descriptor), applying the fault in force.
fn pump(
    mut client: TcpStream,
    upstream: SocketAddr,
    fault: &Mutex<Setting>,
    stop: &AtomicBool,
    counters: &TcpCounters,
) {
    let _ = client.set_nodelay(true);
    let _ = client.set_read_timeout(Some(POLL));
    let _ = client.set_write_timeout(Some(Duration::from_secs(2)));
    let applied = || Setting::acted(fault, counters);
    let mut up: Option<TcpStream> = None;
    // The fault the last request bytes were forwarded under: it decides the answer.
    let mut answer = Fault::Pass;
    let mut stalled = Stalled::No;
    // Which way the last bytes went (true: to the receiver), for `Delay`.
    let mut last_up: Option<bool> = None;
    let mut buf = vec![0u8; 64 * 1024];
    while !stop.load(Ordering::SeqCst) {
        if matches!(stalled, Stalled::Held(_)) && Setting::get(fault) != Fault::Stall {
            // The stall is over: what it held goes on, and so does the connection.
            let Stalled::Held(held) = std::mem::replace(&mut stalled, Stalled::No) else {
                unreachable!()
            };
            if up.is_none() {
                up = connect(upstream);
            }
            let sent = up.as_mut().is_some_and(|u| u.write_all(&held).is_ok());
            if !sent {
                reset(client);
                return;
            }
            answer = Fault::Pass;
        }
        match client.read(&mut buf) {
            Ok(0) => return,
            Ok(n) if !matches!(stalled, Stalled::No) => {
                if let Stalled::Held(held) = &mut stalled {
                    if held.len() + n > MAX_HELD {
                        reset(client);
                        return;
                    }
                    held.extend_from_slice(&buf[..n]);
                }
                continue;
            }
            Ok(n) => {
                let f = Setting::get(fault);
                match f {
                    Fault::Stall => {
                        applied();
                        stalled = Stalled::Held(buf[..n].to_vec());
                        continue;
                    }
                    Fault::BlackHole => {
                        applied();
                        stalled = Stalled::Forever;
                        continue;
                    }
                    Fault::Garbage => {
                        applied();
                        let _ = client.write_all(GARBAGE);
                        let _ = client.shutdown(Shutdown::Write);
                        return;
                    }
                    Fault::ResetMidRequest => {
                        applied();
                        if up.is_none() {
                            up = connect(upstream);
                        }
                        if let Some(mut u) = up.take() {
                            let _ = u.write_all(&buf[..n / 2]);
                            reset(u);
                        }
                        reset(client);
                        return;
                    }
                    _ => {}
                }
                if up.is_none() {
                    up = connect(upstream);
                    if up.is_none() {
                        reset(client);
                        return;
                    }
                }
                if let Fault::Delay(d) = f {
                    if last_up != Some(true) {
                        std::thread::sleep(d);
                    }
                }
                last_up = Some(true);
                if up.as_mut().unwrap().write_all(&buf[..n]).is_err() {
                    reset(client);
                    return;
                }
                answer = f;
            }
            Err(e) if would_block(&e) => {}
            Err(_) => return,
        }
        if !matches!(stalled, Stalled::No) {
            continue;
        }
        let Some(u) = up.as_mut() else {
            continue;
        };
        match u.read(&mut buf) {
            Ok(0) => {
                let _ = client.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => {
                match answer {
                    Fault::TruncateResponse | Fault::ResetMidResponse => {
                        applied();
                        let _ = client.write_all(&buf[..n / 2]);
                        if answer == Fault::TruncateResponse {
                            let _ = client.shutdown(Shutdown::Both);
                        } else {
                            reset(client);
                        }
                        return;
                    }
                    Fault::Delay(d) if last_up != Some(false) => std::thread::sleep(d),
                    _ => {}
                }
                last_up = Some(false);
                if client.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
            Err(e) if would_block(&e) => {}
            Err(_) => {
                reset(client);
                return;
            }
        }
    }
}

/// What the UDP proxy does to datagrams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatagramFault {
    Pass,
    /// Holds each datagram this long.
    Delay(Duration),
    /// Drops every datagram.
    DropAll,
    /// Drops every n-th datagram.
    DropEvery(u64),
    /// Swaps each pair: the first waits for the second (or 50 ms).
    Reorder,
    /// A token bucket, full when the fault is set: a datagram that does not fit
    /// the tokens left is dropped.
    RateLimit {
        bytes_per_sec: u64,
        burst: u64,
    },
}

#[derive(Debug, Default)]
struct UdpCounters {
    received: AtomicU64,
    forwarded: AtomicU64,
    dropped: AtomicU64,
    reordered: AtomicU64,
    largest: AtomicUsize,
}

pub struct UdpProxy {
    pub addr: SocketAddr,
    fault: Arc<Mutex<DatagramFault>>,
    counters: Arc<UdpCounters>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl UdpProxy {
    pub fn start(upstream: SocketAddr) -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the proxy");
        socket
            .set_read_timeout(Some(Duration::from_millis(5)))
            .unwrap();
        enlarge_receive_buffer(&socket);
        let addr = socket.local_addr().unwrap();
        let fault = Arc::new(Mutex::new(DatagramFault::Pass));
        let counters = Arc::new(UdpCounters::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (f, c, st) = (fault.clone(), counters.clone(), stop.clone());
        let thread = std::thread::spawn(move || relay(&socket, upstream, &f, &st, &c));
        UdpProxy {
            addr,
            fault,
            counters,
            stop,
            thread: Some(thread),
        }
    }

    pub fn set(&self, fault: DatagramFault) {
        *self.fault.lock().unwrap() = fault;
    }

    /// The largest datagram the proxy ever received.
    pub fn largest(&self) -> usize {
        self.counters.largest.load(Ordering::SeqCst)
    }

    pub fn received(&self) -> u64 {
        self.counters.received.load(Ordering::SeqCst)
    }

    pub fn forwarded(&self) -> u64 {
        self.counters.forwarded.load(Ordering::SeqCst)
    }

    pub fn dropped(&self) -> u64 {
        self.counters.dropped.load(Ordering::SeqCst)
    }

    pub fn reordered(&self) -> u64 {
        self.counters.reordered.load(Ordering::SeqCst)
    }
}

impl Drop for UdpProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn relay(
    socket: &UdpSocket,
    upstream: SocketAddr,
    fault: &Mutex<DatagramFault>,
    stop: &AtomicBool,
    c: &UdpCounters,
) {
    // Larger than any IPv4 UDP payload, so no datagram is cut.
    let mut buf = vec![0u8; 1 << 16];
    let mut delayed: VecDeque<(Instant, Vec<u8>)> = VecDeque::new();
    let mut held: Option<(Instant, Vec<u8>)> = None;
    let mut seen = 0u64;
    let mut tokens = 0f64;
    let mut last = DatagramFault::Pass;
    let mut refilled = Instant::now();
    let send = |d: &[u8]| {
        if socket.send_to(d, upstream).is_ok() {
            c.forwarded.fetch_add(1, Ordering::SeqCst);
        } else {
            c.dropped.fetch_add(1, Ordering::SeqCst);
        }
    };
    while !stop.load(Ordering::SeqCst) {
        while delayed
            .front()
            .is_some_and(|(due, _)| *due <= Instant::now())
        {
            let (_, d) = delayed.pop_front().unwrap();
            send(&d);
        }
        if held
            .as_ref()
            .is_some_and(|(at, _)| at.elapsed() > Duration::from_millis(50))
        {
            send(&held.take().unwrap().1);
        }
        let n = match socket.recv(&mut buf) {
            Ok(n) => n,
            Err(_) => continue,
        };
        c.received.fetch_add(1, Ordering::SeqCst);
        c.largest.fetch_max(n, Ordering::SeqCst);
        seen += 1;
        let datagram = &buf[..n];
        let now = *fault.lock().unwrap();
        if let DatagramFault::RateLimit { burst, .. } = now {
            if last != now {
                // A rate limit starts with a full bucket.
                tokens = burst as f64;
                refilled = Instant::now();
            }
        }
        last = now;
        match now {
            DatagramFault::Pass => send(datagram),
            DatagramFault::Delay(d) => delayed.push_back((Instant::now() + d, datagram.to_vec())),
            DatagramFault::DropAll => {
                c.dropped.fetch_add(1, Ordering::SeqCst);
            }
            DatagramFault::DropEvery(every) => {
                if seen % every.max(1) == 0 {
                    c.dropped.fetch_add(1, Ordering::SeqCst);
                } else {
                    send(datagram);
                }
            }
            DatagramFault::Reorder => match held.take() {
                None => held = Some((Instant::now(), datagram.to_vec())),
                Some((_, first)) => {
                    send(datagram);
                    send(&first);
                    c.reordered.fetch_add(1, Ordering::SeqCst);
                }
            },
            DatagramFault::RateLimit {
                bytes_per_sec,
                burst,
            } => {
                tokens = (tokens + refilled.elapsed().as_secs_f64() * bytes_per_sec as f64)
                    .min(burst as f64);
                refilled = Instant::now();
                if (n as f64) <= tokens {
                    tokens -= n as f64;
                    send(datagram);
                } else {
                    c.dropped.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
    }
}

/// Room in the kernel for bursts of 65000-byte datagrams while the relay thread
/// is descheduled (root may exceed rmem_max).
pub fn enlarge_receive_buffer(socket: &UdpSocket) {
    let size: libc::c_int = 8 << 20;
    for opt in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
        // SAFETY: a valid socket fd and a pointer to a c_int of the stated length.
        let rc = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                opt,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            return;
        }
    }
}
