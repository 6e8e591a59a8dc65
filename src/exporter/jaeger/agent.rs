//! To the Jaeger agent: one `emitBatch` compact-Thrift message per UDP datagram.

use std::net::{ToSocketAddrs, UdpSocket};
use std::sync::atomic::{AtomicI32, Ordering};

use super::model::{write_emit_batch, Process, Span};
use super::protocol::Compact;

/// The largest datagram payload the agent accepts (its default, and BentoML's).
pub(crate) const MAX_PACKET_SIZE: usize = 65_000;

pub(crate) struct AgentClient {
    host: String,
    port: u16,
    split_oversized: bool,
    max_packet_size: usize,
    sequence: AtomicI32,
}

/// What one export did: datagrams sent, and the spans it had to drop.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Emitted {
    pub(crate) datagrams: usize,
    pub(crate) dropped_spans: usize,
    /// Size of each batch that was dropped for not fitting.
    pub(crate) dropped_sizes: Vec<usize>,
}

impl AgentClient {
    pub(crate) fn new(host: &str, port: u16, split_oversized: bool) -> Self {
        AgentClient {
            host: host.to_owned(),
            port,
            split_oversized,
            max_packet_size: MAX_PACKET_SIZE,
            sequence: AtomicI32::new(0),
        }
    }

    pub(crate) fn target(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The `emitBatch` message for these spans, compact protocol.
    pub(crate) fn encode(&self, process: &Process, spans: &[Span<'_>]) -> Vec<u8> {
        let seq = self.sequence.fetch_add(1, Ordering::Relaxed);
        let mut out = Compact::new(Vec::with_capacity(256 + spans.len() * 256));
        write_emit_batch(&mut out, seq, process, spans);
        out.into_inner()
    }

    /// Sends the spans, splitting batches that do not fit one datagram when
    /// allowed: `ceil(size / max)` parts of `ceil(spans / parts)` spans, again
    /// until each fits. Nothing over the limit is ever sent.
    pub(crate) fn emit(&self, process: &Process, spans: &[Span<'_>]) -> Result<Emitted, String> {
        let addr = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve Jaeger agent {}: {e}", self.target()))?
            .next()
            .ok_or_else(|| format!("Jaeger agent {} has no address", self.target()))?;
        let bind = if addr.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        };
        let socket = UdpSocket::bind(bind).map_err(|e| format!("UDP socket: {e}"))?;
        let mut emitted = Emitted::default();
        self.emit_part(&socket, addr, process, spans, &mut emitted)?;
        Ok(emitted)
    }

    fn emit_part(
        &self,
        socket: &UdpSocket,
        addr: std::net::SocketAddr,
        process: &Process,
        spans: &[Span<'_>],
        emitted: &mut Emitted,
    ) -> Result<(), String> {
        let packet = self.encode(process, spans);
        if packet.len() <= self.max_packet_size {
            socket
                .send_to(&packet, addr)
                .map_err(|e| format!("UDP send to Jaeger agent {}: {e}", self.target()))?;
            emitted.datagrams += 1;
            return Ok(());
        }
        if !self.split_oversized || spans.len() < 2 {
            emitted.dropped_spans += spans.len();
            emitted.dropped_sizes.push(packet.len());
            return Ok(());
        }
        let parts = packet.len().div_ceil(self.max_packet_size);
        let per_part = spans.len().div_ceil(parts);
        for chunk in spans.chunks(per_part) {
            self.emit_part(socket, addr, process, chunk, emitted)?;
        }
        Ok(())
    }
}
