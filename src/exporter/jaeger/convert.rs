//! OpenTelemetry span -> Jaeger Thrift span, per the OpenTelemetry Jaeger
//! exporter mapping: typed tags, `span.kind`, status tags, events as logs.

use std::borrow::Cow;

use opentelemetry::trace::{SpanId, Status};
use opentelemetry::{InstrumentationScope, Value};
use opentelemetry_sdk::Resource;

use super::model::{Log, Process, RefType, Span, SpanRef, Tag, TagValue, WrittenTags};
use crate::exporter::per_scope::PerScope;
use crate::exporter::tags::{epoch_micros, scope_tags, split_resource, status_code};
use crate::record::kind_name;
use crate::record::SpanView;
use crate::record::{Attributes, ValueRef};

#[derive(Debug, Clone, Default)]
pub(crate) struct Converter;

/// A 128-bit trace id as Jaeger's (low, high) pair of signed 64-bit halves.
fn trace_halves(bytes: [u8; 16]) -> (i64, i64) {
    let id = u128::from_be_bytes(bytes);
    (id as u64 as i64, (id >> 64) as u64 as i64)
}

fn span_id(id: SpanId) -> i64 {
    i64::from_be_bytes(id.to_bytes())
}

impl Converter {
    /// The resource as the Jaeger process: `service.name` and the rest as tags.
    pub(crate) fn process(&self, resource: &Resource) -> Process {
        let (service_name, rest) = split_resource(resource);
        Process {
            service_name: service_name.unwrap_or_default(),
            tags: rest
                .iter()
                .map(|(k, v)| {
                    let value = match self
                        .tag(Cow::Borrowed(k.as_str()), ValueRef::Value(v))
                        .value
                    {
                        TagValue::Str(s) => TagValue::Str(Cow::Owned(s.into_owned())),
                        TagValue::Double(d) => TagValue::Double(d),
                        TagValue::Bool(b) => TagValue::Bool(b),
                        TagValue::Long(l) => TagValue::Long(l),
                    };
                    Tag {
                        key: Cow::Owned(k.clone()),
                        value,
                    }
                })
                .collect(),
        }
    }

    fn tag<'a>(&self, key: Cow<'a, str>, v: ValueRef<'a>) -> Tag<'a> {
        let value = match v {
            ValueRef::Text(s) => TagValue::Str(Cow::Borrowed(s)),
            ValueRef::Value(Value::Bool(b)) => TagValue::Bool(*b),
            ValueRef::Value(Value::I64(i)) => TagValue::Long(*i),
            ValueRef::Value(Value::F64(f)) => TagValue::Double(*f),
            other @ ValueRef::Value(_) => TagValue::Str(other.text()),
        };
        Tag { key, value }
    }

    fn extend_tags<'a>(&self, tags: &mut Vec<Tag<'a>>, attributes: Attributes<'a>) {
        tags.reserve(attributes.len());
        attributes.for_each(|a| tags.push(self.tag(Cow::Borrowed(a.key), a.value)));
    }

    /// The spans of `batch` (with `scopes`, its scopes' tags), their tags and
    /// references in `lists`.
    pub(crate) fn spans<'a>(
        &self,
        batch: &[SpanView<'a>],
        scopes: &'a ScopeTags<'a>,
        lists: &'a mut Lists<'a>,
    ) -> Vec<Span<'a>> {
        lists
            .tags
            .reserve(batch.iter().map(|s| s.attributes.len() + 4).sum());
        let mut listed = Vec::with_capacity(batch.len());
        for s in batch {
            let from = (lists.tags.len(), lists.references.len());
            let span = self.span(s, scopes.of(s.instrumentation_scope), lists);
            listed.push((
                span,
                from.0..lists.tags.len(),
                from.1..lists.references.len(),
            ));
        }
        let lists: &'a Lists<'a> = lists;
        listed
            .into_iter()
            .map(|(span, tags, references)| Span {
                tags: &lists.tags[tags],
                references: &lists.references[references],
                ..span
            })
            .collect()
    }

    /// `scope_tags`: the span's scope tags, written (`ScopeTags`). Its own
    /// tags and references go to the end of `lists`; the span's are empty.
    fn span<'a>(
        &self,
        s: &SpanView<'a>,
        scope_tags: &'a WrittenTags,
        lists: &mut Lists<'a>,
    ) -> Span<'a> {
        let (trace_id_low, trace_id_high) = trace_halves(s.span_context.trace_id().to_bytes());
        let references = &mut lists.references;
        if s.parent_span_id != SpanId::INVALID {
            // A remote parent gets its CHILD_OF reference too: it is the only
            // place Jaeger records the relationship for a parent it has not seen.
            references.push(SpanRef {
                ref_type: RefType::ChildOf,
                trace_id_low,
                trace_id_high,
                span_id: span_id(s.parent_span_id),
            });
        }
        for link in s.links.iter() {
            let (low, high) = trace_halves(link.span_context.trace_id().to_bytes());
            references.push(SpanRef {
                ref_type: RefType::FollowsFrom,
                trace_id_low: low,
                trace_id_high: high,
                span_id: span_id(link.span_context.span_id()),
            });
        }

        let tags = &mut lists.tags;
        self.extend_tags(tags, s.attributes);
        let str_tag = |key: &'static str, v: Cow<'a, str>| Tag {
            key: Cow::Borrowed(key),
            value: TagValue::Str(v),
        };
        // Every kind, `internal` included, as BentoML's Jaeger exporter writes it.
        tags.push(str_tag("span.kind", Cow::Borrowed(kind_name(s.span_kind))));
        if let Some(code) = status_code(s.status) {
            tags.push(str_tag("otel.status_code", Cow::Borrowed(code)));
        }
        if let Status::Error { description } = s.status {
            tags.push(Tag {
                key: Cow::Borrowed("error"),
                value: TagValue::Bool(true),
            });
            if !description.is_empty() {
                tags.push(str_tag(
                    "otel.status_description",
                    Cow::Borrowed(description.as_ref()),
                ));
            }
        }

        let logs = s
            .events
            .iter()
            .map(|e| {
                let mut fields = Vec::with_capacity(1 + e.attributes.len());
                fields.push(str_tag("event", Cow::Borrowed(e.name.as_ref())));
                self.extend_tags(&mut fields, Attributes::List(&e.attributes));
                Log {
                    timestamp: epoch_micros(e.timestamp) as i64,
                    fields,
                }
            })
            .collect();

        let start = epoch_micros(s.start_time);
        let end = epoch_micros(s.end_time);
        Span {
            trace_id_low,
            trace_id_high,
            span_id: span_id(s.span_context.span_id()),
            parent_span_id: span_id(s.parent_span_id),
            operation_name: s.name,
            references: &[],
            flags: i32::from(s.span_context.trace_flags().to_u8() & 1),
            start_time: start as i64,
            duration: end.saturating_sub(start) as i64,
            tags: &[],
            written_tags: scope_tags,
            logs,
        }
    }
}

/// A batch's tags and references, one list of each for all its spans: a
/// list of each for every span was two allocations a span, all alive until
/// the batch was written, so none came from the allocator's thread cache
/// (`benches/peers`: `callgrind.py --export`).
#[derive(Default)]
pub(crate) struct Lists<'a> {
    tags: Vec<Tag<'a>>,
    references: Vec<SpanRef>,
}

/// Each scope's tags in a batch, written once in both protocols: they come
/// last in every span's list, after the span's own.
pub(crate) struct ScopeTags<'a>(PerScope<'a, WrittenTags>);

impl<'a> ScopeTags<'a> {
    pub(crate) fn new(batch: &[SpanView<'a>]) -> Self {
        let mut scopes = PerScope::new();
        for span in batch {
            scopes.get_or_insert_with(span.instrumentation_scope, |scope| {
                let tags: Vec<Tag<'_>> = scope_tags(scope)
                    .map(|(k, v)| Tag {
                        key: Cow::Borrowed(k),
                        value: TagValue::Str(Cow::Borrowed(v)),
                    })
                    .collect();
                WrittenTags::new(&tags)
            });
        }
        ScopeTags(scopes)
    }

    /// The written tags of `scope`, one of the batch's.
    pub(crate) fn of(&self, scope: &InstrumentationScope) -> &WrittenTags {
        self.0.get(scope).unwrap_or(&super::model::NO_TAGS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_id_halves() {
        let bytes = 0x0af7651916cd43dd_8448eb211c80319c_u128.to_be_bytes();
        let (low, high) = trace_halves(bytes);
        assert_eq!(low as u64, 0x8448eb211c80319c);
        assert_eq!(high as u64, 0x0af7651916cd43dd);
        assert_eq!(span_id(SpanId::from(0xffff_ffff_ffff_ffffu64)), -1);
    }
}
