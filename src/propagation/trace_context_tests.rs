//! Tests of the W3C Trace Context propagator: the grammar, the tracestate rules
//! and limits, the flags, and the round trip.
use std::collections::HashMap;

use super::*;

const TRACE: &str = "12345678901234567890123456789012";
const SPAN: &str = "1234567890123456";

/// Header maps that can hold a name twice, as HTTP can.
struct Headers(Vec<(&'static str, String)>);

impl Extractor for Headers {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| *k).collect()
    }
    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let all: Vec<&str> = self
            .0
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
            .collect();
        (!all.is_empty()).then_some(all)
    }
}

fn extract(headers: &[(&'static str, &str)]) -> Context {
    let headers = Headers(headers.iter().map(|(k, v)| (*k, v.to_string())).collect());
    TraceContextPropagator::new().extract_with_context(&Context::new(), &headers)
}

fn inject(cx: &Context) -> HashMap<String, String> {
    let mut out = HashMap::new();
    TraceContextPropagator::new().inject_context(cx, &mut out);
    out
}

#[test]
fn traceparent_grammar() {
    let ok = |v: &str| parse_traceparent(v).is_some();
    assert!(ok(&format!("00-{TRACE}-{SPAN}-01")));
    assert!(ok(&format!(" \t00-{TRACE}-{SPAN}-00\t ")));
    assert!(ok(&format!("cc-{TRACE}-{SPAN}-01")));
    assert!(ok(&format!("cc-{TRACE}-{SPAN}-01-what-comes-next")));
    for bad in [
        format!("cc-{TRACE}-{SPAN}-01.what-comes-next"),
        format!("ff-{TRACE}-{SPAN}-01"),
        format!(".0-{TRACE}-{SPAN}-01"),
        format!("0.-{TRACE}-{SPAN}-01"),
        format!("000-{TRACE}-{SPAN}-01"),
        format!("0-{TRACE}-{SPAN}-01"),
        format!("0A-{TRACE}-{SPAN}-01"),
        format!("00-{}-{SPAN}-01", "0".repeat(32)),
        format!("00-.2345678901234567890123456789012-{SPAN}-01"),
        format!("00-{}-{SPAN}-01", TRACE.to_uppercase().replace('1', "A")),
        format!("00-{TRACE}3-{SPAN}-01"),
        format!("00-{}-{SPAN}-01", &TRACE[1..]),
        format!("00-{TRACE}-0000000000000000-01"),
        format!("00-{TRACE}-.234567890123456-01"),
        format!("00-{TRACE}-{SPAN}7-01"),
        format!("00-{TRACE}-{}-01", &SPAN[1..]),
        format!("00-{TRACE}-{SPAN}-.0"),
        format!("00-{TRACE}-{SPAN}-001"),
        format!("00-{TRACE}-{SPAN}-1"),
        format!("00-{TRACE}-{SPAN}-01-extra"),
        format!("00_{TRACE}-{SPAN}-01"),
        String::new(),
    ] {
        assert!(!ok(&bad), "{bad:?} must restart the trace");
    }
}

#[test]
fn only_known_flags_are_read() {
    let p = parse_traceparent(&format!("00-{TRACE}-{SPAN}-ff")).unwrap();
    assert_eq!(p.flags.to_u8(), 0x03);
    let p = parse_traceparent(&format!("00-{TRACE}-{SPAN}-02")).unwrap();
    assert!(!p.flags.is_sampled());
    assert_eq!(p.flags.to_u8(), 0x02);
}

#[test]
fn two_traceparents_restart_the_trace_and_drop_tracestate() {
    let cx = extract(&[
        ("traceparent", &format!("00-{TRACE}-{SPAN}-01")),
        ("traceparent", &format!("00-{TRACE}-{SPAN}-01")),
        ("tracestate", "foo=1"),
    ]);
    assert!(!cx.span().span_context().is_valid());
    assert!(inject(&cx).is_empty());
}

#[test]
fn tracestate_grammar_and_rules() {
    let list = |values: &[&'static str]| parse_tracestate(values.iter().copied());
    assert_eq!(list(&[]), Some(vec![]));
    assert_eq!(list(&["", " , \t,"]), Some(vec![]));
    assert_eq!(
        list(&["foo=1 \t , \t bar=2", "baz=3"]),
        Some(vec![("foo", "1"), ("bar", "2"), ("baz", "3")])
    );
    // Leading spaces belong to the value; a key seen again keeps its first value.
    assert_eq!(list(&["foo= 1,foo=2", "foo=3"]), Some(vec![("foo", " 1")]));
    for key in ["foo@", "foo@@bar", "foo@bar@baz", "t@vvvvvvvvvvvvvvv"] {
        let member = format!("{key}=1");
        let member: &'static str = Box::leak(member.into_boxed_str());
        assert_eq!(list(&[member]), Some(vec![(key, "1")]), "{key}");
    }
    let longest: &'static str = Box::leak(format!("{}=1", "z".repeat(256)).into_boxed_str());
    assert_eq!(list(&[longest]).map(|l| l.len()), Some(1));
    let too_long: &'static str = Box::leak(format!("{}=1", "z".repeat(257)).into_boxed_str());
    for bad in [
        "foo =1",
        "FOO=1",
        "foo.bar=1",
        "@foo=1,bar=2",
        "foo=bar=baz",
        "foo=,bar=3",
        "foo",
        "foo=1 2\u{7f}",
        "=1",
        too_long,
    ] {
        assert_eq!(list(&["ok=1", bad]), None, "{bad:?} discards the list");
    }
    let members: Vec<String> = (1..=33).map(|i| format!("k{i}={i}")).collect();
    let all: &'static str = Box::leak(members[..32].join(",").into_boxed_str());
    assert_eq!(list(&[all]).map(|l| l.len()), Some(32));
    let over: &'static str = Box::leak(members.join(",").into_boxed_str());
    assert_eq!(list(&[over]), None);
}

#[test]
fn tracestate_travels_as_received_even_where_the_sdk_refuses_keys() {
    let cx = extract(&[
        ("traceparent", &format!("00-{TRACE}-{SPAN}-01")),
        ("tracestate", "foo@bar@baz=1"),
        ("tracestate", " ,rojo=00f067aa0ba902b7 ,"),
        ("tracestate", "congo=t61rcWkgMzE"),
    ]);
    let sc = cx.span().span_context().clone();
    assert_eq!(sc.trace_state().get("rojo"), Some("00f067aa0ba902b7"));
    assert_eq!(sc.trace_state().get("foo@bar@baz"), None);
    let out = inject(&cx);
    assert_eq!(
        out["tracestate"],
        "foo@bar@baz=1,rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
    );
    // A span context whose state was changed since sends its own state.
    let changed = SpanContext::new(
        sc.trace_id(),
        SpanId::from(7),
        sc.trace_flags(),
        false,
        sc.trace_state().insert("mine", "1").unwrap(),
    );
    let out = inject(&cx.with_remote_span_context(changed));
    assert_eq!(
        out["tracestate"],
        "mine=1,rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
    );
}

#[test]
fn long_lists_are_cut_by_whole_entries_long_ones_first() {
    // Entries of 128 characters: 32 of them are 4,127 with the commas.
    let normal = |i: usize| format!("k{i:02}={}", "v".repeat(124));
    let cut_of = |members: &[String]| {
        let parsed: Vec<(&str, &str)> =
            members.iter().map(|m| m.split_once('=').unwrap()).collect();
        cut_to_length(&parsed)
    };
    let mut members: Vec<String> = (0..32).map(normal).collect();
    let cut = cut_of(&members);
    assert!(cut.len() <= MAX_TRACESTATE_LEN, "{}", cut.len());
    assert_eq!(cut, members[..31].join(","), "the right-most entry goes");

    members[31] = normal(31);
    members[3] = format!("long={}", "x".repeat(200));
    let cut = cut_of(&members);
    assert!(
        !cut.contains("long="),
        "the entry over 128 characters goes first"
    );
    assert!(cut.ends_with(&normal(31)), "and is enough here");
    assert_eq!(cut.split(',').count(), 31);

    // A list within the limit is sent whole.
    assert_eq!(cut_to_length(&[("a", "1"), ("b", "2")]), "a=1,b=2");
}

#[test]
fn flags_out_are_sampled_and_random_only() {
    let sc = SpanContext::new(
        TraceId::from(5),
        SpanId::from(6),
        TraceFlags::new(0xff),
        false,
        TraceState::NONE,
    );
    let out = inject(&Context::new().with_remote_span_context(sc.clone()));
    assert_eq!(
        out["traceparent"],
        "00-00000000000000000000000000000005-0000000000000006-03"
    );
    let plain = SpanContext::new(
        sc.trace_id(),
        sc.span_id(),
        TraceFlags::SAMPLED,
        false,
        TraceState::NONE,
    );
    let cx = Context::new().with_remote_span_context(plain);
    // Made here (nothing says it was received): random goes out.
    assert!(inject(&cx)["traceparent"].ends_with("-03"));
    // Received without the flag: it stays off; a mark for another trace does not count.
    let received = not_random_mark(cx.clone(), sc.trace_id());
    assert!(inject(&received)["traceparent"].ends_with("-01"));
    assert!(inject(&not_random_mark(cx, TraceId::from(9)))["traceparent"].ends_with("-03"));
    // What extraction marks: a caller without the flag, and one with it.
    let cx = extract(&[("traceparent", &format!("00-{TRACE}-{SPAN}-01"))]);
    assert!(inject(&cx)["traceparent"].ends_with("-01"));
    let cx = extract(&[("traceparent", &format!("00-{TRACE}-{SPAN}-03"))]);
    assert!(inject(&cx)["traceparent"].ends_with("-03"));
}

#[test]
fn what_is_accepted_and_injected_reads_back_the_same() {
    for (tp, ts) in [
        (format!("00-{TRACE}-{SPAN}-03"), "a=1,b@c=2"),
        (format!("cc-{TRACE}-{SPAN}-00-future"), ""),
        (format!("00-{TRACE}-{SPAN}-01"), "x=  y"),
    ] {
        let cx = extract(&[("traceparent", &tp), ("tracestate", ts)]);
        let once = inject(&cx);
        let again = extract(&[
            ("traceparent", &once["traceparent"]),
            (
                "tracestate",
                once.get("tracestate").map_or("", String::as_str),
            ),
        ]);
        assert_eq!(cx.span().span_context(), again.span().span_context());
        assert_eq!(once, inject(&again));
    }
}

#[test]
fn traceparent_text_is_what_format_writes() {
    let mut x: u128 = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210;
    for flags in [0u8, 1, 2, 3] {
        for _ in 0..50 {
            // A cheap mix so every digit position sees every value.
            x = x.rotate_left(7) ^ x.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            let (trace, span) = (TraceId::from(x), SpanId::from(x as u64));
            assert_eq!(
                traceparent(trace, span, flags),
                format!("00-{trace}-{span}-{flags:02x}")
            );
        }
    }
}
