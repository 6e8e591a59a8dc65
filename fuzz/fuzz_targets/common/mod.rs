//! Arbitrary spans, resources and scopes from the fuzzer's bytes, shared by the
//! encoder targets. Built by hand on `arbitrary::Unstructured` because the
//! OpenTelemetry types implement no `Arbitrary`, and so the fuzzer reaches the
//! shapes that matter to the encoders (keys the mappings treat specially,
//! values near varint and Thrift length boundaries, times around the epoch)
//! far sooner than it would from uniform bytes.
#![allow(dead_code)]

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use opentelemetry::trace::{
    Event, Link, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Array, InstrumentationScope, Key, KeyValue, StringValue, Value};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use opentelemetry_sdk::Resource;

/// Keys some mapping reads or writes itself: collisions with them are where a
/// tag-based format can lose or duplicate data.
const SPECIAL_KEYS: &[&str] = &[
    "service.name",
    "error",
    "otel.status_code",
    "otel.status_description",
    "otel.library.name",
    "otel.scope.name",
    "otel.library.version",
    "otel.scope.version",
    "span.kind",
    "event",
    "net.peer.ip",
    "net.peer.port",
    "",
];

/// Lengths around the encodings' boundaries (1- and 2-byte varints, Thrift's
/// i16-sized fields, a UDP datagram).
const HUGE_LENGTHS: &[usize] = &[127, 128, 16_383, 16_384, 65_535, 65_536, 70_000];

pub struct Input {
    pub resource: Resource,
    pub spans: Vec<SpanData>,
}

pub fn input(u: &mut Unstructured<'_>) -> Result<Input> {
    let resource = resource(u)?;
    let scopes: Vec<InstrumentationScope> = (0..u.int_in_range(1..=3)?)
        .map(|_| scope(u))
        .collect::<Result<_>>()?;
    let mut spans = Vec::new();
    for _ in 0..u.int_in_range(0..=4)? {
        let scope = u.choose(&scopes)?.clone();
        spans.push(span(u, scope)?);
    }
    Ok(Input { resource, spans })
}

pub fn string(u: &mut Unstructured<'_>) -> Result<String> {
    Ok(match u.int_in_range(0..=9)? {
        0 => String::new(),
        1 => {
            let unit: String = u.arbitrary()?;
            let unit = if unit.is_empty() {
                "é\"\\\u{1}".into()
            } else {
                unit
            };
            let len = *u.choose(HUGE_LENGTHS)?;
            unit.repeat(len.div_ceil(unit.len()))
        }
        2 => (*u.choose(SPECIAL_KEYS)?).to_owned(),
        _ => u.arbitrary()?,
    })
}

fn key(u: &mut Unstructured<'_>) -> Result<Key> {
    Ok(Key::from(string(u)?))
}

pub fn value(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0..=8)? {
        0 => Value::Bool(u.arbitrary()?),
        1 => Value::I64(u.arbitrary()?),
        2 => Value::F64(f64::from_bits(u.arbitrary()?)),
        3 => Value::F64(*u.choose(&[0.0, -0.0, 0.1, 1e300, f64::NAN, f64::INFINITY])?),
        4 => Value::Array(Array::Bool(u.arbitrary()?)),
        5 => Value::Array(Array::I64(u.arbitrary()?)),
        6 => Value::Array(Array::F64(
            u.arbitrary::<Vec<u64>>()?
                .into_iter()
                .map(f64::from_bits)
                .collect(),
        )),
        7 => Value::Array(Array::String(
            (0..u.int_in_range(0..=3)?)
                .map(|_| string(u).map(StringValue::from))
                .collect::<Result<_>>()?,
        )),
        _ => Value::String(string(u)?.into()),
    })
}

pub fn attributes(u: &mut Unstructured<'_>) -> Result<Vec<KeyValue>> {
    let mut out = Vec::new();
    for _ in 0..u.int_in_range(0..=6)? {
        // A peer port or address the Zipkin remote endpoint can read.
        let kv = match u.int_in_range(0..=9)? {
            0 => KeyValue::new("net.peer.port", u.int_in_range(-1i64..=65_536)?),
            1 => KeyValue::new(
                "net.peer.ip",
                *u.choose(&["10.0.0.1", "::1", "2001:db8::7", "::ffff:1.2.3.4", "1.2.3"])?,
            ),
            _ => KeyValue::new(key(u)?, value(u)?),
        };
        out.push(kv);
    }
    Ok(out)
}

fn resource(u: &mut Unstructured<'_>) -> Result<Resource> {
    let mut attrs = attributes(u)?;
    if u.arbitrary()? {
        attrs.push(KeyValue::new("service.name", value(u)?));
    }
    let builder = Resource::builder_empty();
    Ok(if u.arbitrary()? {
        builder.with_schema_url(attrs, string(u)?).build()
    } else {
        builder.with_attributes(attrs).build()
    })
}

fn scope(u: &mut Unstructured<'_>) -> Result<InstrumentationScope> {
    let mut b = InstrumentationScope::builder(string(u)?);
    if u.arbitrary()? {
        b = b.with_version(string(u)?);
    }
    if u.arbitrary()? {
        b = b.with_schema_url(string(u)?);
    }
    Ok(b.with_attributes(attributes(u)?).build())
}

/// Around the epoch, anywhere in u64 nanoseconds, or before the epoch (which
/// every mapping clamps to 0).
pub fn time(u: &mut Unstructured<'_>) -> Result<SystemTime> {
    Ok(match u.int_in_range(0..=3)? {
        0 => UNIX_EPOCH - Duration::from_nanos(u.int_in_range(1..=u64::MAX)?),
        1 => UNIX_EPOCH + Duration::from_nanos(u.int_in_range(0..=2_000)?),
        _ => UNIX_EPOCH + Duration::from_nanos(u.arbitrary()?),
    })
}

fn trace_state(u: &mut Unstructured<'_>) -> Result<TraceState> {
    let entries: Vec<(String, String)> = (0..u.int_in_range(0..=3)?)
        .map(|_| Ok((string(u)?, string(u)?)))
        .collect::<Result<_>>()?;
    // Arbitrary text is rarely a valid entry; fall back to valid ones made from it.
    Ok(
        TraceState::from_key_value(entries.clone()).unwrap_or_else(|_| {
            let valid = entries.iter().enumerate().map(|(i, (_, v))| {
                let value: String = v
                    .chars()
                    .filter(|c| (' '..='~').contains(c) && *c != ',' && *c != '=')
                    .take(255)
                    .collect();
                let value = value.trim_end().to_owned();
                (
                    format!("k{i}"),
                    if value.is_empty() { "v".into() } else { value },
                )
            });
            TraceState::from_key_value(valid).unwrap_or_default()
        }),
    )
}

fn span_context(u: &mut Unstructured<'_>, remote: bool) -> Result<SpanContext> {
    Ok(SpanContext::new(
        TraceId::from_bytes(u.arbitrary()?),
        SpanId::from_bytes(u.arbitrary()?),
        TraceFlags::new(u.arbitrary()?),
        remote,
        trace_state(u)?,
    ))
}

fn kind(u: &mut Unstructured<'_>) -> Result<SpanKind> {
    Ok(u.choose(&[
        SpanKind::Internal,
        SpanKind::Server,
        SpanKind::Client,
        SpanKind::Producer,
        SpanKind::Consumer,
    ])?
    .clone())
}

fn status(u: &mut Unstructured<'_>) -> Result<Status> {
    Ok(match u.int_in_range(0..=2)? {
        0 => Status::Unset,
        1 => Status::Ok,
        _ => Status::Error {
            description: Cow::Owned(string(u)?),
        },
    })
}

fn span(u: &mut Unstructured<'_>, scope: InstrumentationScope) -> Result<SpanData> {
    let context = span_context(u, false)?;
    let parent_span_id = if u.arbitrary()? {
        SpanId::INVALID
    } else {
        SpanId::from_bytes(u.arbitrary()?)
    };
    let mut events = SpanEvents::default();
    for _ in 0..u.int_in_range(0..=3)? {
        let mut e = Event::new(string(u)?, time(u)?, attributes(u)?, 0);
        e.dropped_attributes_count = u.arbitrary()?;
        events.events.push(e);
    }
    events.dropped_count = u.arbitrary()?;
    let mut links = SpanLinks::default();
    for _ in 0..u.int_in_range(0..=2)? {
        let remote: bool = u.arbitrary()?;
        links.links.push(Link::new(
            span_context(u, remote)?,
            attributes(u)?,
            u.arbitrary()?,
        ));
    }
    links.dropped_count = u.arbitrary()?;
    Ok(SpanData {
        span_context: context,
        parent_span_id,
        parent_span_is_remote: u.arbitrary()?,
        span_kind: kind(u)?,
        name: Cow::Owned(string(u)?),
        start_time: time(u)?,
        end_time: time(u)?,
        attributes: attributes(u)?,
        dropped_attributes_count: u.arbitrary()?,
        events,
        links,
        status: status(u)?,
        instrumentation_scope: scope,
    })
}
