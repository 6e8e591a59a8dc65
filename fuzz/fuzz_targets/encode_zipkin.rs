//! Arbitrary spans through our Zipkin v2 JSON writer: serde_json must parse the
//! body, it must satisfy tests/zipkin-v2-schema.json (jsonschema, formats
//! checked), and every span must carry its input after the mapping the README
//! and `exporter::tags` document: lower-case hex ids, upper-case kind (none for
//! INTERNAL), microseconds, duration at least 1, `localEndpoint.serviceName`
//! from the resource, tags as text (resource, attributes, scope, status; a later
//! key replaces an earlier one, and no key appears twice), events as
//! annotations (without repeats), and the peer of a server or client span as `remoteEndpoint`.
//! Values are checked by reading the text back, not by formatting them again.
#![no_main]

mod common;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::LazyLock;
use std::time::{SystemTime, UNIX_EPOCH};

use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use opentelemetry::trace::{SpanId, SpanKind, Status};
use opentelemetry::{Array, KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::trace::SpanExporter as _;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value as Json;
use tower_otel_tracing::exporter::ZipkinExporter;
use tower_otel_tracing::TracingConfig;

static SCHEMA: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    let schema: Json =
        serde_json::from_str(include_str!("../../tests/zipkin-v2-schema.json")).unwrap();
    jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
});

/// A JSON object's members in order, duplicates kept (serde_json's map keeps
/// only the last, which would hide a key written twice).
struct Pairs(Vec<(String, String)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Pairs, A::Error> {
                let mut out = Vec::new();
                while let Some(kv) = m.next_entry()? {
                    out.push(kv);
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Deserialize)]
struct RawSpan {
    tags: Option<Pairs>,
}

fn micros(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn same_f64(text_value: f64, input: f64) -> bool {
    text_value.to_bits() == input.to_bits() || (text_value.is_nan() && input.is_nan())
}

/// A JSON array element as the mapping writes it: numbers as numbers, a double
/// JSON cannot hold as null.
fn json_element_matches(j: &Json, a: &Array, i: usize) -> bool {
    match a {
        Array::Bool(v) => j.as_bool() == Some(v[i]),
        Array::I64(v) => j.as_i64() == Some(v[i]),
        Array::F64(v) if v[i].is_finite() => j.as_f64() == Some(v[i]),
        Array::F64(_) => j.is_null(),
        Array::String(v) => j.as_str() == Some(v[i].as_str()),
        _ => false,
    }
}

fn array_len(a: &Array) -> usize {
    match a {
        Array::Bool(v) => v.len(),
        Array::I64(v) => v.len(),
        Array::F64(v) => v.len(),
        Array::String(v) => v.len(),
        _ => usize::MAX,
    }
}

/// Whether `text` reads back as `v`: strings as they are, scalars in their
/// usual text form, arrays as JSON arrays.
fn text_matches(v: &Value, text: &str) -> bool {
    match v {
        Value::String(s) => s.as_str() == text,
        Value::Bool(b) => text == if *b { "true" } else { "false" },
        Value::I64(i) => text.parse::<i64>().ok() == Some(*i),
        Value::F64(f) => text.parse::<f64>().is_ok_and(|t| same_f64(t, *f)),
        Value::Array(a) => serde_json::from_str::<Vec<Json>>(text).is_ok_and(|items| {
            items.len() == array_len(a)
                && items
                    .iter()
                    .enumerate()
                    .all(|(i, j)| json_element_matches(j, a, i))
        }),
        _ => false,
    }
}

enum Expected<'a> {
    Value(&'a Value),
    Text(&'a str),
}

/// Whether annotation `a` is event `e`, as the mapping writes it: the name, or
/// with attributes `{"name":{"key":value,...}}` (a later key replaces an earlier).
fn annotation_matches(a: &Json, e: &opentelemetry::trace::Event) -> Result<(), String> {
    let fail = |why: &str| Err(format!("{why}: {a} for {e:?}"));
    if a["timestamp"].as_u64() != Some(micros(e.timestamp)) {
        return fail("timestamp");
    }
    let Some(value) = a["value"].as_str() else {
        return fail("value is not a string");
    };
    if e.attributes.is_empty() {
        return if value == e.name {
            Ok(())
        } else {
            fail("name")
        };
    }
    let Ok(outer) = serde_json::from_str::<serde_json::Map<String, Json>>(value) else {
        return fail("value is not a JSON object");
    };
    let Some(inner) = outer.get(e.name.as_ref()).and_then(Json::as_object) else {
        return fail("no attributes object under the name");
    };
    if outer.len() != 1 {
        return fail("more than the name");
    }
    let mut expected: BTreeMap<&str, &Value> = BTreeMap::new();
    for kv in &e.attributes {
        expected.insert(kv.key.as_str(), &kv.value);
    }
    if inner.len() != expected.len() {
        return fail("attribute count");
    }
    for (k, v) in expected {
        let Some(j) = inner.get(k) else {
            return fail("attribute missing");
        };
        let ok = match v {
            Value::Bool(b) => j.as_bool() == Some(*b),
            Value::I64(i) => j.as_i64() == Some(*i),
            Value::F64(f) if f.is_finite() => j.as_f64() == Some(*f),
            Value::F64(_) => j.is_null(),
            other => j.as_str().is_some_and(|t| text_matches(other, t)),
        };
        if !ok {
            return fail(&format!("attribute {k:?}"));
        }
    }
    Ok(())
}

/// Annotations follow the events in order, an event equal to one already
/// written (same microsecond, same value) being left out: the schema has
/// `uniqueItems` on annotations, checked above.
fn check_annotations(annotations: &[Json], events: &[opentelemetry::trace::Event]) {
    let mut next = 0;
    for e in events {
        match annotations.get(next).map(|a| annotation_matches(a, e)) {
            Some(Ok(())) => next += 1,
            mismatch => assert!(
                annotations[..next]
                    .iter()
                    .any(|a| annotation_matches(a, e).is_ok()),
                "event without its annotation: {mismatch:?}"
            ),
        }
    }
    assert_eq!(next, annotations.len(), "annotations beyond the events");
}

fn check_remote(json: &Json, s: &SpanData) {
    let mut ip = None;
    let mut port = None;
    if matches!(s.span_kind, SpanKind::Server | SpanKind::Client) {
        for kv in &s.attributes {
            match (kv.key.as_str(), &kv.value) {
                ("net.peer.ip", Value::String(text)) => {
                    if let Ok(addr) = text.as_str().parse::<IpAddr>() {
                        ip = Some(addr);
                    }
                }
                // The last port attribute decides; one out of range clears it.
                ("net.peer.port", Value::I64(p)) => {
                    port = u16::try_from(*p).ok().filter(|p| *p != 0)
                }
                _ => {}
            }
        }
    }
    let remote = &json["remoteEndpoint"];
    if ip.is_none() && port.is_none() {
        assert!(remote.is_null(), "no peer, yet {remote}");
        return;
    }
    let read = |field: &str| {
        remote[field]
            .as_str()
            .map(|t| t.parse::<IpAddr>().expect("an IP address"))
    };
    let written_ip = read("ipv4").or(read("ipv6"));
    assert_eq!(written_ip, ip, "{remote}");
    if let Some(IpAddr::V4(_)) = ip {
        assert!(remote["ipv4"].is_string(), "{remote}");
    }
    assert_eq!(remote["port"].as_u64(), port.map(u64::from), "{remote}");
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = common::input(&mut Unstructured::new(data)) else {
        return;
    };
    let mut exporter = ZipkinExporter::from_config(&TracingConfig::default()).unwrap();
    exporter.set_resource(&input.resource);
    let body = exporter.encode(&input.spans);

    let json: Json = serde_json::from_slice(&body).expect("our Zipkin body is JSON");
    let errors: Vec<String> = SCHEMA
        .iter_errors(&json)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "schema errors: {errors:#?}");
    let raw: Vec<RawSpan> = serde_json::from_slice(&body).unwrap();
    let spans = json.as_array().unwrap();
    assert_eq!(spans.len(), input.spans.len());

    let service_name = input
        .resource
        .iter()
        .find(|(k, _)| k.as_str() == "service.name")
        .map(|(_, v)| v.to_string());
    for ((j, raw), s) in spans.iter().zip(&raw).zip(&input.spans) {
        assert_eq!(j["traceId"], hex(&s.span_context.trace_id().to_bytes()));
        assert_eq!(j["id"], hex(&s.span_context.span_id().to_bytes()));
        if s.parent_span_id == SpanId::INVALID {
            assert!(j.get("parentId").is_none());
        } else {
            assert_eq!(j["parentId"], hex(&s.parent_span_id.to_bytes()));
        }
        let kind = match s.span_kind {
            SpanKind::Server => Some("SERVER"),
            SpanKind::Client => Some("CLIENT"),
            SpanKind::Producer => Some("PRODUCER"),
            SpanKind::Consumer => Some("CONSUMER"),
            SpanKind::Internal => None,
        };
        assert_eq!(j["kind"].as_str(), kind);
        assert_eq!(j["name"].as_str(), Some(s.name.as_ref()));
        let (start, end) = (micros(s.start_time), micros(s.end_time));
        assert_eq!(j["timestamp"].as_u64(), Some(start));
        assert_eq!(
            j["duration"].as_u64(),
            Some(end.saturating_sub(start).max(1))
        );
        assert_eq!(
            j["localEndpoint"]["serviceName"].as_str(),
            service_name.as_deref()
        );
        check_remote(j, s);

        let annotations = j["annotations"].as_array().map_or(&[][..], |a| a);
        check_annotations(annotations, &s.events);

        let mut expected: BTreeMap<&str, Expected> = BTreeMap::new();
        for (k, v) in input.resource.iter() {
            if k.as_str() != "service.name" {
                expected.insert(k.as_str(), Expected::Value(v));
            }
        }
        for KeyValue { key, value, .. } in &s.attributes {
            expected.insert(key.as_str(), Expected::Value(value));
        }
        let scope = &s.instrumentation_scope;
        if !scope.name().is_empty() {
            expected.insert("otel.library.name", Expected::Text(scope.name()));
            expected.insert("otel.scope.name", Expected::Text(scope.name()));
        }
        if let Some(version) = scope.version() {
            expected.insert("otel.library.version", Expected::Text(version));
            expected.insert("otel.scope.version", Expected::Text(version));
        }
        match &s.status {
            Status::Unset => {}
            Status::Ok => {
                expected.insert("otel.status_code", Expected::Text("OK"));
            }
            Status::Error { description } => {
                expected.insert("otel.status_code", Expected::Text("ERROR"));
                expected.insert("error", Expected::Text(description));
            }
        }
        let tags = raw.tags.as_ref().map_or(&[][..], |t| &t.0[..]);
        let mut seen = std::collections::BTreeSet::new();
        for (k, _) in tags {
            assert!(seen.insert(k.as_str()), "tag {k:?} written twice");
        }
        assert_eq!(tags.len(), expected.len(), "tags {tags:?}");
        for (k, text) in tags {
            let ok = match expected.get(k.as_str()) {
                Some(Expected::Value(v)) => text_matches(v, text),
                Some(Expected::Text(t)) => t == text,
                None => false,
            };
            assert!(ok, "tag {k:?} = {text:?} is not what the input says");
        }
    }
});
