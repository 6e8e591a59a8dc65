//! To the Jaeger agent: one `emitBatch` compact-Thrift message per UDP datagram.

use crate::exporter::body_size::BodySize;
use std::net::{ToSocketAddrs, UdpSocket};
use std::sync::atomic::{AtomicI32, Ordering};

use super::model::{
    write_emit_batch, write_emit_batch_head, write_emit_batch_tail, write_span, Process, Span,
};
use super::protocol::{Compact, Protocol};

/// A span's bytes in compact Thrift before the first batch says.
const COMPACT_SPAN_BYTES: usize = 384;

/// The largest datagram payload the agent accepts (its default, and BentoML's).
pub(crate) const MAX_PACKET_SIZE: usize = 65_000;

pub(crate) struct AgentClient {
    host: String,
    port: u16,
    split_oversized: bool,
    max_packet_size: usize,
    sequence: AtomicI32,
    /// The encoded spans of a batch (compact Thrift).
    body: BodySize,
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
            body: BodySize::new(COMPACT_SPAN_BYTES),
        }
    }

    pub(crate) fn target(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The `emitBatch` message for these spans, compact protocol.
    pub(crate) fn encode(&self, process: &Process, spans: &[Span<'_>]) -> Vec<u8> {
        let seq = self.sequence.fetch_add(1, Ordering::Relaxed);
        let mut out = Compact::new(Vec::with_capacity(self.body.capacity(spans.len())));
        write_emit_batch(&mut out, seq, process, spans);
        out.into_inner()
    }

    /// Sends the spans, splitting batches that do not fit one datagram when
    /// allowed. Each span is encoded once, then as many as fit go into each
    /// datagram: encoding the whole batch first and again per part doubled the
    /// export thread's work (`benches/peers`: `callgrind.py --export
    /// jaeger_agent`). Nothing over the limit is ever sent.
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
        for packet in self.packets(process, spans, &mut emitted) {
            socket
                .send_to(&packet, addr)
                .map_err(|e| format!("UDP send to Jaeger agent {}: {e}", self.target()))?;
            emitted.datagrams += 1;
        }
        Ok(emitted)
    }

    /// The datagrams for these spans, each at most `max_packet_size` bytes;
    /// what cannot be sent is counted in `emitted`.
    fn packets(
        &self,
        process: &Process,
        spans: &[Span<'_>],
        emitted: &mut Emitted,
    ) -> Vec<Vec<u8>> {
        let mut encoded = Compact::new(Vec::with_capacity(self.body.capacity(spans.len())));
        let mut ends = Vec::with_capacity(spans.len());
        for span in spans {
            write_span(&mut encoded, span);
            ends.push(encoded.len());
        }
        let body = encoded.into_inner();
        self.body.learn(spans.len(), body.len());
        let span_bytes = |from: usize, to: usize| {
            let start = if from == 0 { 0 } else { ends[from - 1] };
            start..ends[to - 1]
        };
        // The head grows with the span count's varint: the whole batch's is
        // the longest any part can need.
        let seq = self.sequence.fetch_add(1, Ordering::Relaxed);
        let head_bound = self.head(seq, process, spans.len(), 0).len() + TAIL_LEN;
        let mut packets = Vec::new();
        if !self.split_oversized || spans.len() < 2 {
            let size = head_bound + body.len();
            if size > self.max_packet_size {
                emitted.dropped_spans += spans.len();
                emitted.dropped_sizes.push(size);
            } else if !spans.is_empty() {
                packets.push(self.packet(seq, process, spans.len(), &body));
            }
            return packets;
        }
        let mut seq = Some(seq);
        let mut from = 0;
        while from < spans.len() {
            let mut to = from;
            while to < spans.len()
                && head_bound + span_bytes(from, to + 1).len() <= self.max_packet_size
            {
                to += 1;
            }
            if to == from {
                // One span alone does not fit.
                emitted.dropped_spans += 1;
                emitted
                    .dropped_sizes
                    .push(head_bound + span_bytes(from, from + 1).len());
                from += 1;
                continue;
            }
            let seq = seq
                .take()
                .unwrap_or_else(|| self.sequence.fetch_add(1, Ordering::Relaxed));
            packets.push(self.packet(seq, process, to - from, &body[span_bytes(from, to)]));
            from = to;
        }
        packets
    }

    fn head(&self, seq: i32, process: &Process, span_count: usize, room: usize) -> Compact {
        let mut out = Compact::new(Vec::with_capacity(512 + room));
        write_emit_batch_head(&mut out, seq, process, span_count);
        out
    }

    /// A whole `emitBatch` message around `span_count` spans encoded in `spans`.
    fn packet(&self, seq: i32, process: &Process, span_count: usize, spans: &[u8]) -> Vec<u8> {
        let mut out = self.head(seq, process, span_count, spans.len() + TAIL_LEN);
        out.raw(spans);
        write_emit_batch_tail(&mut out);
        out.into_inner()
    }
}

/// What [`write_emit_batch_tail`] writes in the compact protocol: two field stops.
const TAIL_LEN: usize = 2;

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::super::model::{Tag, TagValue};
    use super::*;

    fn span(i: usize, value_len: usize) -> Span<'static> {
        Span {
            trace_id_low: i as i64,
            trace_id_high: 7,
            span_id: 1000 + i as i64,
            parent_span_id: 0,
            operation_name: "POST /summarize",
            references: &[],
            flags: 1,
            start_time: 1_700_000_000_000_000 + i as i64,
            duration: 250,
            // Leaked: a test's spans live to its end.
            tags: Vec::leak(vec![Tag {
                key: Cow::Borrowed("payload"),
                value: TagValue::Str(Cow::Owned("x".repeat(value_len + i % 7))),
            }]),
            written_tags: &super::super::model::NO_TAGS,
            logs: Vec::new(),
        }
    }

    fn process() -> Process {
        Process {
            service_name: "summarize".into(),
            tags: Vec::new(),
        }
    }

    /// The message the whole-batch writer makes for `spans` under `seq`.
    fn whole(seq: i32, spans: &[Span<'_>]) -> Vec<u8> {
        let mut out = Compact::new(Vec::new());
        write_emit_batch(&mut out, seq, &process(), spans);
        out.into_inner()
    }

    #[test]
    fn a_batch_that_fits_is_one_message_byte_for_byte() {
        let client = AgentClient::new("localhost", 0, true);
        let spans: Vec<_> = (0..20).map(|i| span(i, 100)).collect();
        let mut emitted = Emitted::default();
        let packets = client.packets(&process(), &spans, &mut emitted);
        assert_eq!(packets, vec![whole(0, &spans)]);
        assert_eq!(emitted.dropped_spans, 0);
    }

    #[test]
    fn split_parts_are_whole_messages_of_consecutive_spans_under_the_limit() {
        let client = AgentClient::new("localhost", 0, true);
        let spans: Vec<_> = (0..600).map(|i| span(i, 400)).collect();
        let mut emitted = Emitted::default();
        let packets = client.packets(&process(), &spans, &mut emitted);
        assert!(packets.len() >= 4, "{} datagrams", packets.len());
        assert_eq!(emitted.dropped_spans, 0);
        // Each datagram is exactly the message the whole-batch writer makes
        // for its spans, in order, and every span is in exactly one.
        let mut next = 0;
        for (seq, packet) in packets.iter().enumerate() {
            assert!(packet.len() <= MAX_PACKET_SIZE, "{}", packet.len());
            let n = (1..=spans.len() - next)
                .find(|&n| whole(seq as i32, &spans[next..next + n]) == *packet)
                .expect("a datagram that is not a run of consecutive spans");
            next += n;
        }
        assert_eq!(next, spans.len());
    }

    #[test]
    fn a_span_too_big_alone_is_dropped_and_the_others_sent() {
        let client = AgentClient::new("localhost", 0, true);
        let mut spans: Vec<_> = (0..5).map(|i| span(i, 100)).collect();
        spans[2] = span(2, 70_000);
        let mut emitted = Emitted::default();
        let packets = client.packets(&process(), &spans, &mut emitted);
        assert_eq!(emitted.dropped_spans, 1);
        assert!(emitted.dropped_sizes[0] > MAX_PACKET_SIZE);
        assert_eq!(packets.len(), 2);
        assert_eq!(packets[0], whole(0, &spans[..2]));
        assert_eq!(packets[1], whole(1, &spans[3..]));
    }

    #[test]
    fn without_splitting_an_oversized_batch_is_dropped_whole() {
        let client = AgentClient::new("localhost", 0, false);
        let spans: Vec<_> = (0..300).map(|i| span(i, 400)).collect();
        let mut emitted = Emitted::default();
        let packets = client.packets(&process(), &spans, &mut emitted);
        assert!(packets.is_empty());
        assert_eq!(emitted.dropped_spans, 300);
        assert_eq!(emitted.dropped_sizes, vec![whole(0, &spans).len()]);
    }
}
