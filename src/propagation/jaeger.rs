//! Jaeger's `uber-trace-id: {trace-id}:{span-id}:{parent-span-id}:{flags}`.
//! opentelemetry-jaeger-propagator does not build against opentelemetry 0.33.

use opentelemetry::propagation::{
    text_map_propagator::FieldIter, Extractor, Injector, TextMapPropagator,
};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;

const HEADER: &str = "uber-trace-id";

#[derive(Debug)]
pub(crate) struct JaegerPropagator {
    fields: Vec<String>,
}

impl JaegerPropagator {
    pub(crate) fn new() -> Self {
        JaegerPropagator {
            fields: vec![HEADER.to_owned()],
        }
    }
}

/// Hex without leading zeros is allowed (Jaeger clients trim them).
fn hex_u128(s: &str, max_len: usize) -> Option<u128> {
    if s.is_empty() || s.len() > max_len || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(s, 16).ok()
}

fn extract(value: &str) -> Option<SpanContext> {
    // Some clients URL-encode the separators.
    let value = percent_encoding::percent_decode_str(value)
        .decode_utf8()
        .ok()?;
    let mut parts = value.trim().split(':');
    let trace = hex_u128(parts.next()?, 32)?;
    let span = hex_u128(parts.next()?, 16)?;
    let _parent = hex_u128(parts.next()?, 16)?;
    let flags = hex_u128(parts.next()?, 2)?;
    if parts.next().is_some() || trace == 0 || span == 0 {
        return None;
    }
    // Bit 1: sampled; bit 2: debug, which implies sampled.
    let sampled = flags & 0b11 != 0;
    Some(SpanContext::new(
        TraceId::from(trace),
        SpanId::from(span as u64),
        if sampled {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::default()
        },
        true,
        TraceState::default(),
    ))
}

impl TextMapPropagator for JaegerPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        if sc.is_valid() {
            let flags = if sc.is_sampled() { 1 } else { 0 };
            injector.set(
                HEADER,
                format!("{}:{}:0:{flags}", sc.trace_id(), sc.span_id()),
            );
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        match extractor.get(HEADER).and_then(extract) {
            // No random-trace-id flag in this format: say so to W3C injection.
            Some(sc) => {
                let trace_id = sc.trace_id();
                super::trace_context::not_random_mark(cx.with_remote_span_context(sc), trace_id)
            }
            None => cx.clone(),
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn get(v: &str) -> SpanContext {
        let map = HashMap::from([(HEADER.to_owned(), v.to_owned())]);
        JaegerPropagator::new()
            .extract(&map)
            .span()
            .span_context()
            .clone()
    }

    #[test]
    fn extracts() {
        let sc = get("80f198ee56343ba864fe8b2a57d3eff7:e457b5a2e4d86bd1:0:1");
        assert_eq!(
            sc.trace_id(),
            TraceId::from_hex("80f198ee56343ba864fe8b2a57d3eff7").unwrap()
        );
        assert_eq!(sc.span_id(), SpanId::from_hex("e457b5a2e4d86bd1").unwrap());
        assert!(sc.is_sampled() && sc.is_remote());
        let sc = get("abc%3A1f%3A0%3A0");
        assert_eq!(sc.trace_id(), TraceId::from(0xabc));
        assert_eq!(sc.span_id(), SpanId::from(0x1f));
        assert!(!sc.is_sampled());
        assert!(get("1:2:3:2").is_sampled(), "debug implies sampled");
        // Every malformed value restarts the trace; none continues a broken parent.
        for bad in [
            "",
            ":::",
            "0:1:0:1",
            "1:0:0:1",
            "00000000000000000000000000000000:1:0:1",
            "1:2:3",
            "1:2:3:4:5",
            "xyz:1:0:1",
            "1:xyz:0:1",
            "1:2:xyz:1",
            "1:2:0:x",
            "1:2:0:100",
            "1:2:0:",
            ":2:0:1",
            "1::0:1",
            "123456789012345678901234567890123:2:0:1",
            "1:12345678901234567:0:1",
            "1:2:12345678901234567:1",
            "1 :2:0:1",
            "1:2:0:1,1:2:0:1",
            "1%3G2%3A0%3A1",
            "1%FF:2:0:1",
            "-1:2:0:1",
            "+1:2:0:1",
        ] {
            assert!(!get(bad).is_valid(), "{bad:?}");
        }
    }

    #[test]
    fn injects() {
        let sc = SpanContext::new(
            TraceId::from(5u128),
            SpanId::from(6u64),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        );
        let mut map = HashMap::new();
        JaegerPropagator::new()
            .inject_context(&Context::new().with_remote_span_context(sc), &mut map);
        assert_eq!(
            map[HEADER],
            "00000000000000000000000000000005:0000000000000006:0:1"
        );
    }
}
