//! Zipkin's B3 propagation, single-header (`b3`) and multi-header (`X-B3-*`).
//! Written here because the B3 propagator in opentelemetry-zipkin is deprecated
//! and would pull that crate in for a few dozen lines.

use opentelemetry::propagation::{
    text_map_propagator::FieldIter, Extractor, Injector, TextMapPropagator,
};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;

const SINGLE: &str = "b3";
const TRACE_ID: &str = "x-b3-traceid";
const SPAN_ID: &str = "x-b3-spanid";
const SAMPLED: &str = "x-b3-sampled";
const FLAGS: &str = "x-b3-flags";
const PARENT: &str = "x-b3-parentspanid";

/// Which B3 header layout to inject. Extraction accepts both, single first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum B3Encoding {
    /// `b3: {trace}-{span}-{sampled}`.
    Single,
    /// `X-B3-TraceId`, `X-B3-SpanId`, `X-B3-Sampled`.
    Multiple,
}

#[derive(Debug)]
pub(crate) struct B3Propagator {
    encoding: B3Encoding,
    fields: Vec<String>,
}

impl B3Propagator {
    pub(crate) fn new(encoding: B3Encoding) -> Self {
        let fields = [SINGLE, TRACE_ID, SPAN_ID, SAMPLED, FLAGS, PARENT]
            .iter()
            .map(|s| s.to_string())
            .collect();
        B3Propagator { encoding, fields }
    }
}

/// B3 ids are lower-case hex.
fn lower_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// 16 or 32 hex digits; a 64-bit id is the low half of a 128-bit one.
pub(crate) fn parse_trace_id(s: &str) -> Option<TraceId> {
    if !(s.len() == 16 || s.len() == 32) || !lower_hex(s) {
        return None;
    }
    let id = u128::from_str_radix(s, 16).ok()?;
    (id != 0).then(|| TraceId::from(id))
}

fn parse_span_id(s: &str) -> Option<SpanId> {
    if s.len() != 16 || !lower_hex(s) {
        return None;
    }
    let id = u64::from_str_radix(s, 16).ok()?;
    (id != 0).then(|| SpanId::from(id))
}

/// `1`/`true`/`d` (debug) sample; `0`/`false` do not; anything else is invalid.
fn parse_sampled(s: &str) -> Option<bool> {
    match s {
        "1" | "d" => Some(true),
        "0" => Some(false),
        s if s.eq_ignore_ascii_case("true") => Some(true),
        s if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn span_context(trace: TraceId, span: SpanId, sampled: bool) -> SpanContext {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    SpanContext::new(trace, span, flags, true, TraceState::default())
}

fn extract_single(value: &str) -> Option<SpanContext> {
    let mut parts = value.trim().split('-');
    let trace = parse_trace_id(parts.next()?)?;
    let span = parse_span_id(parts.next()?)?;
    // An absent sampling state defers the decision; like the OpenTelemetry B3
    // propagators, that reads as "not sampled".
    let sampled = match parts.next() {
        Some(s) => parse_sampled(s)?,
        None => false,
    };
    if let Some(parent) = parts.next() {
        parse_span_id(parent)?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(span_context(trace, span, sampled))
}

fn extract_multi(extractor: &dyn Extractor) -> Option<SpanContext> {
    let trace = parse_trace_id(extractor.get(TRACE_ID)?.trim())?;
    let span = parse_span_id(extractor.get(SPAN_ID)?.trim())?;
    let debug = extractor.get(FLAGS).map(str::trim) == Some("1");
    let sampled = match extractor.get(SAMPLED) {
        Some(s) => parse_sampled(s.trim())?,
        None => false,
    };
    Some(span_context(trace, span, debug || sampled))
}

impl TextMapPropagator for B3Propagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        if !sc.is_valid() {
            return;
        }
        let sampled = if sc.is_sampled() { "1" } else { "0" };
        match self.encoding {
            B3Encoding::Single => injector.set(
                SINGLE,
                format!("{}-{}-{sampled}", sc.trace_id(), sc.span_id()),
            ),
            B3Encoding::Multiple => {
                injector.set(TRACE_ID, sc.trace_id().to_string());
                injector.set(SPAN_ID, sc.span_id().to_string());
                injector.set(SAMPLED, sampled.to_owned());
            }
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let sc = match extractor.get(SINGLE) {
            Some(single) => extract_single(single),
            None => extract_multi(extractor),
        };
        match sc {
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

    fn extract(headers: &[(&str, &str)]) -> SpanContext {
        let map: HashMap<String, String> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let cx = B3Propagator::new(B3Encoding::Single).extract(&map);
        cx.span().span_context().clone()
    }

    #[test]
    fn single_header() {
        let sc = extract(&[(
            "b3",
            "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90",
        )]);
        assert_eq!(
            sc.trace_id(),
            TraceId::from_hex("80f198ee56343ba864fe8b2a57d3eff7").unwrap()
        );
        assert_eq!(sc.span_id(), SpanId::from_hex("e457b5a2e4d86bd1").unwrap());
        assert!(sc.is_sampled() && sc.is_remote());
        let sc = extract(&[("b3", "64fe8b2a57d3eff7-e457b5a2e4d86bd1-0")]);
        assert_eq!(
            sc.trace_id(),
            TraceId::from_hex("000000000000000064fe8b2a57d3eff7").unwrap()
        );
        assert!(!sc.is_sampled());
        assert!(
            extract(&[("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-d")]).is_sampled()
        );
        // Every malformed value restarts the trace; none continues a broken parent.
        const T: &str = "80f198ee56343ba864fe8b2a57d3eff7";
        const S: &str = "e457b5a2e4d86bd1";
        for bad in [
            String::from("0"),
            "x-y".into(),
            String::new(),
            "-".into(),
            format!("{T}-{S}-2"),
            format!("{T}-{S}-yes"),
            format!("{T}-{S}-"),
            format!("{T}-{S}-1-zz"),
            format!("{T}-{S}-1-0000000000000000"),
            format!("{T}-{S}-1-{S}-extra"),
            format!("{T}-{S}-1-{S}-"),
            T.to_string(),
            format!("{T}-"),
            format!("{}-{S}-1", &T[1..]),
            format!("{T}0-{S}-1"),
            format!("{}-{S}-1", &T[..17]),
            format!("{}-{S}-1", T.to_uppercase()),
            format!("{}-{S}-1", "0".repeat(32)),
            format!("{}-{S}-1", "0".repeat(16)),
            format!("{T}-{}-1", &S[1..]),
            format!("{T}-{S}0-1"),
            format!("{T}-{}-1", "0".repeat(16)),
            format!("{T}-{}-1", S.to_uppercase()),
            format!("{T}-g457b5a2e4d86bd1-1"),
            format!("{T} -{S}-1"),
            format!("{T}_{S}_1"),
            format!("{T}-{S}-1,{T}-{S}-1"),
        ] {
            assert!(!extract(&[("b3", &bad)]).is_valid(), "{bad:?}");
        }
    }

    #[test]
    fn multi_header() {
        let sc = extract(&[
            ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
            ("x-b3-spanid", "e457b5a2e4d86bd1"),
            ("x-b3-sampled", "1"),
        ]);
        assert!(sc.is_valid() && sc.is_sampled());
        let sc = extract(&[
            ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
            ("x-b3-spanid", "e457b5a2e4d86bd1"),
            ("x-b3-flags", "1"),
        ]);
        assert!(sc.is_sampled(), "debug flag samples");
        assert!(!extract(&[("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7")]).is_valid());
        for (trace, span, sampled) in [
            ("80f198ee56343ba864fe8b2a57d3eff7", "e457b5a2e4d86bd1", "2"),
            ("80f198ee56343ba864fe8b2a57d3eff7", "e457b5a2e4d86bd1", ""),
            ("80f198ee56343ba864fe8b2a57d3eff", "e457b5a2e4d86bd1", "1"),
            ("80F198EE56343BA864FE8B2A57D3EFF7", "e457b5a2e4d86bd1", "1"),
            ("00000000000000000000000000000000", "e457b5a2e4d86bd1", "1"),
            ("80f198ee56343ba864fe8b2a57d3eff7", "0000000000000000", "1"),
            ("80f198ee56343ba864fe8b2a57d3eff7", "e457b5a2e4d86bd", "1"),
            ("80f198ee56343ba864fe8b2a57d3eff7", "", "1"),
            ("", "e457b5a2e4d86bd1", "1"),
        ] {
            let sc = extract(&[
                ("x-b3-traceid", trace),
                ("x-b3-spanid", span),
                ("x-b3-sampled", sampled),
            ]);
            assert!(!sc.is_valid(), "{trace:?} {span:?} {sampled:?}");
        }
    }

    #[test]
    fn inject_round_trips() {
        let sc = SpanContext::new(
            TraceId::from(0x1234u128),
            SpanId::from(0x99u64),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        );
        let cx = Context::new().with_remote_span_context(sc.clone());
        for enc in [B3Encoding::Single, B3Encoding::Multiple] {
            let p = B3Propagator::new(enc);
            let mut map = HashMap::new();
            p.inject_context(&cx, &mut map);
            let back = p.extract(&map);
            assert_eq!(back.span().span_context().trace_id(), sc.trace_id());
            assert_eq!(back.span().span_context().span_id(), sc.span_id());
            assert!(back.span().span_context().is_sampled());
        }
    }
}
