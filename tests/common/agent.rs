//! A loopback Jaeger agent: a thread reads datagrams as they come (the kernel
//! buffer holds only a few 65,000-byte datagrams, so it is enlarged too) and
//! keeps them whole. Stopped and joined on drop.
#![allow(dead_code)]

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::fault_proxy::enlarge_receive_buffer;

pub struct Agent {
    pub addr: SocketAddr,
    got: Arc<Mutex<Vec<Vec<u8>>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Agent {
    pub fn start() -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(10)))
            .unwrap();
        enlarge_receive_buffer(&socket);
        let addr = socket.local_addr().unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (g, st) = (got.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 70_000];
            while !st.load(Ordering::SeqCst) {
                if let Ok(n) = socket.recv(&mut buf) {
                    g.lock().unwrap().push(buf[..n].to_vec());
                }
            }
        });
        Agent {
            addr,
            got,
            stop,
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// How many datagrams came so far.
    pub fn datagrams(&self) -> usize {
        self.got.lock().unwrap().len()
    }

    /// Every datagram so far, in the order they came.
    pub fn received(&self) -> Vec<Vec<u8>> {
        self.got.lock().unwrap().clone()
    }

    /// The datagrams received once `quiet` has passed with no new one (bounded
    /// by 10 s), taken: the next call sees only later ones.
    pub fn drain(&self, quiet: Duration) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut count = usize::MAX;
        let mut since = Instant::now();
        while Instant::now() < deadline {
            let now = self.datagrams();
            if now != count {
                count = now;
                since = Instant::now();
            } else if since.elapsed() >= quiet {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        std::mem::take(&mut *self.got.lock().unwrap())
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
