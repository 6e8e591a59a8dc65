//! W3C Trace Context, Level 1 and 2: the `traceparent` and `tracestate` headers,
//! read strictly and written from the caller's span.
//!
//! Written from the specification (<https://www.w3.org/TR/trace-context-2/>,
//! sections "Traceparent Header", "Tracestate Header" and "Processing Model"):
//!
//! - `traceparent`: surrounding spaces and tabs are ignored; the version is two
//!   lowercase hex digits and not `ff`; version `00` is exactly 55 characters, a
//!   higher version at least 55, its known fields read and the rest ignored; ids
//!   are lowercase hex and not all zeros. Two `traceparent` headers make the
//!   context invalid. Any failure restarts the trace and drops `tracestate`.
//! - `tracestate`: every header is combined in order (RFC 9110 field order);
//!   empty and whitespace-only members are skipped; keys and values follow the
//!   specification's grammar (keys up to 256 characters of `a-z 0-9 _ - * / @`,
//!   `tenant@system` included; values up to 256 printable characters but `,` and
//!   `=`, not ending in a space). A list that cannot be parsed (a member that
//!   breaks the grammar, or more than 32 members) is discarded whole, as the
//!   processing model allows: a half-understood list is worse than none. A key
//!   seen twice keeps its first (left-most, most recent) value.
//! - At most [`MAX_TRACESTATE_LEN`] characters of `tracestate` are sent onward;
//!   longer lists are cut by whole entries, entries over 128 characters first,
//!   then from the right, as the specification says.
//! - Level 2's random-trace-id flag: set on every trace id this process starts
//!   (the SDK's and the layer's generators are random), kept as it came on a
//!   trace continued from a caller. Other flags are sent as zero. The SDK builds
//!   root spans without the flag, so a trace counts as made here unless it came
//!   from a caller that did not set it, which extraction marks in the context
//!   (B3 and Jaeger callers too: they carry no such flag). Marking the
//!   received side keeps the common root path free of a context value and its
//!   allocations (`benches/peers`: `callgrind.py ours_rate0`).
//!
//! The SDK's `TraceState` accepts fewer keys than the specification now does
//! (no `@` beyond position 241, one `@` at most), so the list as received travels
//! beside the span context in the `Context`, and is what is injected while the
//! span context still carries the state it was extracted with.

use std::sync::Arc;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::propagation::{text_map_propagator::FieldIter, Extractor, Injector};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;

const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";

/// The random-trace-id flag of Trace Context Level 2.
///
/// ```
/// use opentelemetry::propagation::TextMapPropagator;
/// use opentelemetry::trace::TraceContextExt;
/// use std::collections::HashMap;
/// use tower_otel_tracing::propagation::{TraceContextPropagator, RANDOM};
///
/// let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03";
/// let headers = HashMap::from([("traceparent".to_string(), traceparent.to_string())]);
/// let cx = TraceContextPropagator::new().extract(&headers);
/// let flags = cx.span().span_context().trace_flags();
/// assert!(flags.is_sampled() && flags & RANDOM == RANDOM);
/// ```
pub const RANDOM: TraceFlags = TraceFlags::new(0x02);

/// The most `tracestate` characters sent onward. The specification asks for at
/// least 512; 32 members of the longest legal form would be 16,447 characters,
/// more than many servers accept in one header.
///
/// ```
/// use opentelemetry::propagation::TextMapPropagator;
/// use std::collections::HashMap;
/// use tower_otel_tracing::propagation::{TraceContextPropagator, MAX_TRACESTATE_LEN};
///
/// let members: Vec<String> = (0..20).map(|i| format!("k{i}={}", "v".repeat(250))).collect();
/// let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
/// let incoming = HashMap::from([
///     ("traceparent".to_string(), traceparent.to_string()),
///     ("tracestate".to_string(), members.join(",")),
/// ]);
/// let propagator = TraceContextPropagator::new();
/// let mut outgoing = HashMap::new();
/// propagator.inject_context(&propagator.extract(&incoming), &mut outgoing);
/// // Cut by whole entries from the right: the caller's first members survive.
/// assert!(outgoing["tracestate"].len() <= MAX_TRACESTATE_LEN);
/// assert!(outgoing["tracestate"].starts_with("k0="));
/// ```
pub const MAX_TRACESTATE_LEN: usize = 4096;

/// The most members a `tracestate` list may have.
const MAX_MEMBERS: usize = 32;

/// Entries longer than this go first when a list is cut to length.
const LONG_ENTRY: usize = 128;

/// What extraction learnt of a trace that the span context cannot hold.
#[derive(Debug)]
struct Received {
    trace_id: TraceId,
    /// The caller did not say the trace id is random.
    not_random: bool,
    /// The `tracestate` list as received (empty: none), and what the SDK's
    /// `TraceState` kept of it: while the span context still carries exactly
    /// that, nobody changed the state and the list is sent as received.
    state: Option<(TraceState, Arc<str>)>,
}

/// Marks `cx` as continuing `trace_id` from a caller that did not say it is
/// random (B3, Jaeger, or a W3C caller without the flag).
pub(crate) fn not_random_mark(cx: Context, trace_id: TraceId) -> Context {
    cx.with_value(Received {
        trace_id,
        not_random: true,
        state: None,
    })
}

/// Whether the trace of `cx`'s span has a random trace id, as Level 2's flag
/// says: the flag is on, or the trace was not received without it.
fn is_random(cx: &Context) -> bool {
    let span = cx.span();
    let sc = span.span_context();
    sc.trace_flags().to_u8() & RANDOM.to_u8() != 0
        || !cx
            .get::<Received>()
            .is_some_and(|r| r.not_random && r.trace_id == sc.trace_id())
}

/// The `traceparent` of `cx`'s span as it goes on the wire (sampled and random
/// flags only), or `None` without a valid span. Injection and the
/// `server-timing` trace metric both write it.
pub(crate) fn traceparent_of(cx: &Context) -> Option<String> {
    let span = cx.span();
    let sc = span.span_context();
    if !sc.is_valid() {
        return None;
    }
    let mut flags = sc.trace_flags().to_u8() & TraceFlags::SAMPLED.to_u8();
    if is_random(cx) {
        flags |= RANDOM.to_u8();
    }
    Some(traceparent(sc.trace_id(), sc.span_id(), flags))
}

/// The random-trace-id flag of a trace continued from `parent`, or started here
/// when `parent` is not valid (our ids are random).
pub(crate) fn random_flag(parent: &SpanContext) -> TraceFlags {
    if !parent.is_valid() || parent.trace_flags().to_u8() & RANDOM.to_u8() != 0 {
        RANDOM
    } else {
        TraceFlags::default()
    }
}

/// W3C Trace Context propagator (`traceparent`, `tracestate`), strict on the way
/// in and Level 2 on the way out.
///
/// The layer uses it for the `tracecontext` format, for extraction, for the
/// client layer's injection and as the global propagator; it is public so other
/// code can read and write headers exactly as the layer does.
///
/// ```
/// use opentelemetry::propagation::TextMapPropagator;
/// use opentelemetry::trace::TraceContextExt;
/// use std::collections::HashMap;
/// use tower_otel_tracing::propagation::TraceContextPropagator;
///
/// let propagator = TraceContextPropagator::new();
/// let mut headers = HashMap::new();
/// headers.insert(
///     "traceparent".to_string(),
///     "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03".to_string(),
/// );
/// let cx = propagator.extract(&headers);
/// let sc = cx.span().span_context().clone();
/// assert!(sc.is_sampled());
/// assert_eq!(sc.trace_flags().to_u8() & 0x02, 0x02); // random trace id
///
/// // A version this propagator does not know is read for its known fields.
/// headers.insert(
///     "traceparent".to_string(),
///     "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-comes-next".to_string(),
/// );
/// assert!(propagator.extract(&headers).span().span_context().is_valid());
/// ```
#[derive(Debug, Clone)]
pub struct TraceContextPropagator {
    fields: [String; 2],
}

impl TraceContextPropagator {
    /// The propagator.
    pub fn new() -> Self {
        TraceContextPropagator {
            fields: [TRACEPARENT.to_owned(), TRACESTATE.to_owned()],
        }
    }
}

impl Default for TraceContextPropagator {
    fn default() -> Self {
        Self::new()
    }
}

impl TextMapPropagator for TraceContextPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let Some(traceparent) = traceparent_of(cx) else {
            return;
        };
        injector.set(TRACEPARENT, traceparent);
        let span = cx.span();
        let sc = span.span_context();
        let received = cx
            .get::<Received>()
            .filter(|r| r.trace_id == sc.trace_id())
            .and_then(|r| r.state.as_ref());
        let state = match received {
            Some((kept, header)) if kept == sc.trace_state() => header.to_string(),
            _ => {
                // `TraceState` gives its members only as a header: read it back.
                let header = sc.trace_state().header();
                let members = parse_tracestate(std::iter::once(header.as_str()));
                cut_to_length(&members.unwrap_or_default())
            }
        };
        if !state.is_empty() {
            injector.set(TRACESTATE, state);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let Some(parent) = extract_traceparent(extractor) else {
            return cx.clone();
        };
        let list = extractor
            .get_all(TRACESTATE)
            .and_then(|values| parse_tracestate(values.iter().copied()))
            .unwrap_or_default();
        let not_random = parent.flags.to_u8() & RANDOM.to_u8() == 0;
        if list.is_empty() {
            let cx = cx.with_remote_span_context(parent.span_context(TraceState::NONE));
            return if not_random {
                not_random_mark(cx, parent.trace_id)
            } else {
                cx
            };
        }
        // Built from the right, as `insert` puts each member first; members the
        // SDK's stricter key rules refuse stay only in the header.
        let kept = list.iter().rev().fold(TraceState::NONE, |state, (k, v)| {
            state.insert(*k, *v).unwrap_or(state)
        });
        let header: Arc<str> = cut_to_length(&list).into();
        cx.with_remote_span_context(parent.span_context(kept.clone()))
            .with_value(Received {
                trace_id: parent.trace_id,
                not_random,
                state: Some((kept, header)),
            })
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.fields)
    }
}

/// `00-{trace-id}-{span-id}-{flags}`, written into a fixed buffer: `format!`
/// and the ids' `Display` cost the client layer's unsampled call many times
/// over (`benches/peers`: `callgrind.py client_unsampled`).
pub(crate) fn traceparent(trace_id: TraceId, span_id: SpanId, flags: u8) -> String {
    let mut out = [0u8; 55];
    out[..3].copy_from_slice(b"00-");
    // The slices are exactly twice the input's length, so encoding cannot fail.
    let _ = hex::encode_to_slice(trace_id.to_bytes(), &mut out[3..35]);
    out[35] = b'-';
    let _ = hex::encode_to_slice(span_id.to_bytes(), &mut out[36..52]);
    out[52] = b'-';
    let _ = hex::encode_to_slice([flags], &mut out[53..55]);
    String::from_utf8_lossy(&out).into_owned()
}

/// A parsed `traceparent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Traceparent {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    /// Only the flags this version defines: sampled and random.
    pub(crate) flags: TraceFlags,
}

impl Traceparent {
    fn span_context(self, state: TraceState) -> SpanContext {
        SpanContext::new(self.trace_id, self.span_id, self.flags, true, state)
    }
}

fn extract_traceparent(extractor: &dyn Extractor) -> Option<Traceparent> {
    match extractor.get_all(TRACEPARENT) {
        // Two values cannot both be the caller's parent: neither is trusted.
        Some(values) if values.len() == 1 => parse_traceparent(values[0]),
        Some(_) => None,
        None => extractor.get(TRACEPARENT).and_then(parse_traceparent),
    }
}

/// Parses one `traceparent` value; `None` restarts the trace.
pub(crate) fn parse_traceparent(value: &str) -> Option<Traceparent> {
    let b = value.trim_matches([' ', '\t']).as_bytes();
    if b.len() < 55 || b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
        return None;
    }
    let version = hex_u8(&b[0..2])?;
    if version == 0xff {
        return None;
    }
    // Version 00 is exactly this long; a later one may add fields after a dash.
    if (version == 0 && b.len() != 55) || (b.len() > 55 && b[55] != b'-') {
        return None;
    }
    let trace_id = u128::from_be_bytes(hex_array::<16>(&b[3..35])?);
    let span_id = u64::from_be_bytes(hex_array::<8>(&b[36..52])?);
    let flags = hex_u8(&b[53..55])?;
    if trace_id == 0 || span_id == 0 {
        return None;
    }
    Some(Traceparent {
        trace_id: TraceId::from(trace_id),
        span_id: SpanId::from(span_id),
        flags: TraceFlags::new(flags & 0x03),
    })
}

fn lower_hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

fn hex_u8(two: &[u8]) -> Option<u8> {
    Some(lower_hex(two[0])? << 4 | lower_hex(two[1])?)
}

fn hex_array<const N: usize>(digits: &[u8]) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = hex_u8(pair)?;
    }
    Some(out)
}

/// Parses the `tracestate` headers, in order, into members; `None` when the
/// list cannot be parsed and is discarded whole.
pub(crate) fn parse_tracestate<'a>(
    values: impl Iterator<Item = &'a str>,
) -> Option<Vec<(&'a str, &'a str)>> {
    let mut members: Vec<(&str, &str)> = Vec::new();
    for value in values {
        for member in value.split(',') {
            let member = member.trim_matches([' ', '\t']);
            if member.is_empty() {
                continue;
            }
            let (key, val) = member.split_once('=')?;
            if !valid_key(key) || !valid_value(val) {
                return None;
            }
            if members.iter().any(|(k, _)| *k == key) {
                continue;
            }
            if members.len() == MAX_MEMBERS {
                return None;
            }
            members.push((key, val));
        }
    }
    Some(members)
}

/// `key = ( lcalpha / DIGIT ) 0*255 ( keychar )`.
fn valid_key(key: &str) -> bool {
    let b = key.as_bytes();
    !b.is_empty()
        && b.len() <= 256
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter().all(|&c| {
            c.is_ascii_lowercase()
                || c.is_ascii_digit()
                || matches!(c, b'_' | b'-' | b'*' | b'/' | b'@')
        })
}

/// `value = 0*255(chr) nblk-chr`: printable ASCII but `,` and `=`, not ending
/// in a space.
fn valid_value(value: &str) -> bool {
    let b = value.as_bytes();
    !b.is_empty()
        && b.len() <= 256
        && b[b.len() - 1] != b' '
        && b.iter()
            .all(|&c| (0x20..=0x7e).contains(&c) && c != b',' && c != b'=')
}

/// The list as one header value, cut by whole entries to
/// [`MAX_TRACESTATE_LEN`]: entries over 128 characters go first, then entries
/// from the right.
fn cut_to_length(members: &[(&str, &str)]) -> String {
    let len = |m: &(&str, &str)| m.0.len() + 1 + m.1.len();
    let mut keep = vec![true; members.len()];
    let mut total: usize = members.iter().map(len).sum::<usize>() + members.len().saturating_sub(1);
    let remove = |i: usize, total: &mut usize, keep: &mut [bool]| {
        keep[i] = false;
        *total = total.saturating_sub(len(&members[i]) + 1);
    };
    for i in (0..members.len()).rev() {
        if total <= MAX_TRACESTATE_LEN {
            break;
        }
        if len(&members[i]) > LONG_ENTRY {
            remove(i, &mut total, &mut keep);
        }
    }
    for i in (0..members.len()).rev() {
        if total <= MAX_TRACESTATE_LEN {
            break;
        }
        if keep[i] {
            remove(i, &mut total, &mut keep);
        }
    }
    let mut out = String::with_capacity(total.min(MAX_TRACESTATE_LEN));
    for (m, _) in members.iter().zip(&keep).filter(|(_, k)| **k) {
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(m.0);
        out.push('=');
        out.push_str(m.1);
    }
    out
}

#[cfg(test)]
#[path = "trace_context_tests.rs"]
mod tests;
