//! The settings every request and exporter share: on/off, exporter, sampling,
//! limits, exclusions, resource, propagation and batching.

use std::time::Duration;

use super::*;
use crate::config::validate;
use crate::config::{ExcludedUrls, KeepDetail, Propagator};
use crate::settings::Sampler;

pub(super) static ROWS: &[&Field] = &[
    &DISABLED,
    &EXPORTER_TYPE,
    &SAMPLER,
    &TIMEOUT,
    &MAX_TAG_VALUE_LENGTH,
    &EXCLUDED_URLS,
    &RESOURCE_ATTRIBUTES,
    &SERVICE_NAME,
    &PROPAGATORS,
    &SEMCONV,
    &KEEP_ERRORS,
    &KEEP_SLOWER_THAN,
    &KEEP_DETAIL,
    &KEEP_DESPITE_CALLER,
    &MAX_FRAME_SPANS,
    &BATCH_SCHEDULE_DELAY,
    &BATCH_MAX_QUEUE_SIZE,
    &BATCH_MAX_EXPORT_BATCH_SIZE,
];

pub(crate) static DISABLED: Field = Field {
    key: "disabled",
    config: None,
    vars: &["OTEL_SDK_DISABLED"],
    expected: "true or false",
    default: DefaultText::Shown,
    secret: false,
    exporter: None,
    from_config: no_config,
    from_env: |_, v, s| validate::boolean(v).map(|b| s.disabled = b).map(|()| true),
    show: |s| s.disabled.to_string(),
};

pub(crate) static EXPORTER_TYPE: Field = Field {
    key: "exporter_type",
    config: Some("exporter_type"),
    vars: &["OTEL_TRACES_EXPORTER"],
    expected: "zipkin, jaeger, otlp, console, in_memory or none",
    default: DefaultText::Shown,
    secret: false,
    exporter: None,
    from_config: |_, c, s| Ok(set(c.exporter_type, |t| s.exporter = t)),
    from_env: |_, v, s| exporter_from_name(v).map(|t| s.exporter = t).map(|()| true),
    show: |s| s.exporter.as_str().to_owned(),
};

pub(crate) static SAMPLER: Field = Field {
    key: "sampler",
    config: Some("sample_rate"),
    vars: &["OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG"],
    expected: "a ratio from 0 to 1 (`sample_rate`); a sampler name and its ratio (env)",
    default: DefaultText::Shown,
    secret: false,
    exporter: None,
    from_config: |f, c, s| {
        let Some(rate) = c.sample_rate else {
            return Ok(false);
        };
        let rate = validate::ratio(rate).map_err(|why| f.bad(Some(&rate), why))?;
        s.sampler = Sampler::ParentBasedTraceIdRatio(rate);
        Ok(true)
    },
    from_env: sampler_from_env,
    show: |s| s.sampler.to_string(),
};

pub(crate) static TIMEOUT: Field = Field {
    key: "timeout",
    config: Some("timeout"),
    vars: &[
        "OTEL_BSP_EXPORT_TIMEOUT",
        "OTEL_EXPORTER_ZIPKIN_TIMEOUT",
        "OTEL_EXPORTER_JAEGER_TIMEOUT",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    ],
    expected: "seconds (config) or milliseconds (env) > 0; an exporter's own variable applies only when it runs",
    default: DefaultText::Shown,
    secret: false,
    exporter: None,
    from_config: |f, c, s| {
        let Some(t) = c.timeout else { return Ok(false) };
        s.timeout = validate::timeout_secs(t).map_err(|why| f.bad(Some(&t), why))?;
        Ok(true)
    },
    from_env: timeout_from_env,
    show: |s| duration(s.timeout),
};

pub(crate) static MAX_TAG_VALUE_LENGTH: Field = Field {
    key: "max_tag_value_length",
    config: Some("max_tag_value_length"),
    // The span-specific limit comes last: it wins over the general one.
    vars: &[
        "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
        "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    ],
    expected: "a positive number of characters",
    default: DefaultText::Shown,
    secret: false,
    exporter: None,
    from_config: |f, c, s| {
        let Some(n) = c.max_tag_value_length else {
            return Ok(false);
        };
        let n = validate::positive(n)
            .map_err(|_| f.bad(Some(&n), "expected a positive number of characters".into()))?;
        s.max_tag_value_length = Some(n);
        Ok(true)
    },
    from_env: |_, v, s| {
        count(v)
            .map(|n| s.max_tag_value_length = Some(n))
            .map(|()| true)
    },
    show: |s| {
        s.max_tag_value_length
            .map_or("unlimited".to_owned(), |n| n.to_string())
    },
};

pub(crate) static EXCLUDED_URLS: Field = Field {
    key: "excluded_urls",
    config: Some("excluded_urls"),
    vars: &["OTEL_RUST_EXCLUDED_URLS"],
    expected: "regular expressions, comma-separated or a list",
    default: DefaultText::Shown,
    secret: false,
    exporter: None,
    from_config: |_, c, s| Ok(set(c.excluded_urls.clone(), |e| s.excluded_urls = Some(e))),
    from_env: |_, v, s| {
        let list = ExcludedUrls::from_comma_separated(v)
            .map_err(|_| "expected comma-separated valid regular expressions".to_owned())?;
        s.excluded_urls = Some(list);
        Ok(true)
    },
    show: |s| {
        s.excluded_urls
            .as_ref()
            .map_or(String::new(), |e| e.patterns().join(","))
    },
};

pub(crate) static RESOURCE_ATTRIBUTES: Field = Field {
    key: "resource_attributes",
    config: None,
    vars: &["OTEL_RESOURCE_ATTRIBUTES"],
    expected: "comma-separated key=value pairs (values URL-encoded)",
    default: DefaultText::Shown,
    secret: false,
    exporter: None,
    from_config: no_config,
    from_env: resource_from_env,
    show: |s| {
        let pairs: Vec<String> = s
            .resource_attributes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        pairs.join(",")
    },
};

pub(crate) static SERVICE_NAME: Field = Field {
    key: "service_name",
    config: Some("service_name"),
    vars: &["OTEL_SERVICE_NAME"],
    expected: "a non-empty name",
    default: DefaultText::Described("the binary's name"),
    secret: false,
    exporter: None,
    from_config: |f, c, s| {
        let Some(name) = &c.service_name else {
            return Ok(false);
        };
        s.service_name =
            validate::name(name).map_err(|why| f.bad(Some(&format!("{name:?}")), why))?;
        Ok(true)
    },
    from_env: |_, v, s| validate::name(v).map(|n| s.service_name = n).map(|()| true),
    show: |s| s.service_name.clone(),
};

pub(crate) static PROPAGATORS: Field = Field {
    key: "propagators",
    config: Some("propagators"),
    vars: &["OTEL_PROPAGATORS"],
    expected: "tracecontext, baggage, b3, b3multi, jaeger, none",
    default: DefaultText::Shown,
    secret: false,
    exporter: None,
    from_config: |_, c, s| Ok(set(c.propagators.clone(), |p| s.propagators = p)),
    from_env: |_, v, s| {
        let list = v
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(Propagator::from_name)
            .collect::<Option<Vec<_>>>()
            .ok_or("expected a comma-separated list of tracecontext, baggage, b3, b3multi, jaeger, none")?;
        s.propagators = list;
        Ok(true)
    },
    show: |s| {
        s.propagators
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(",")
    },
};

pub(crate) static SEMCONV: Field = Field {
    key: "semconv",
    config: Some("semconv"),
    vars: &["OTEL_SEMCONV_STABILITY_OPT_IN"],
    expected: "legacy, stable or dup, for HTTP and RPC; the variable: a comma-separated list where `http` and `rpc` mean stable for that domain and `http/dup` and `rpc/dup` both (they win)",
    default: DefaultText::Shown,
    secret: false,
    exporter: None,
    from_config: |_, c, s| {
        Ok(set(c.semconv, |m| {
            s.semconv = m;
            s.rpc_semconv = m;
        }))
    },
    from_env: semconv_from_env,
    show: |s| {
        if s.semconv == s.rpc_semconv {
            s.semconv.as_str().to_owned()
        } else {
            format!("{} (rpc: {})", s.semconv, s.rpc_semconv)
        }
    },
};

pub(crate) static KEEP_ERRORS: Field = Field {
    key: "keep_errors",
    config: Some("keep_errors"),
    vars: &["OTEL_RUST_KEEP_ERRORS"],
    expected: "true or false",
    default: DefaultText::Shown,
    secret: false,
    exporter: None,
    from_config: |_, c, s| Ok(set(c.keep_errors, |b| s.keep.errors = b)),
    from_env: |_, v, s| {
        validate::boolean(v)
            .map(|b| s.keep.errors = b)
            .map(|()| true)
    },
    show: |s| s.keep.errors.to_string(),
};

pub(crate) static KEEP_SLOWER_THAN: Field = Field {
    key: "keep_slower_than",
    config: Some("keep_slower_than"),
    vars: &["OTEL_RUST_KEEP_SLOWER_THAN"],
    expected: "seconds > 0",
    default: DefaultText::Shown,
    secret: false,
    exporter: None,
    from_config: |f, c, s| {
        let Some(t) = c.keep_slower_than else {
            return Ok(false);
        };
        let t = validate::timeout_secs(t).map_err(|_| {
            f.bad(
                Some(&t),
                "expected a number of seconds greater than 0".into(),
            )
        })?;
        s.keep.slower_than = Some(t);
        Ok(true)
    },
    from_env: |_, v, s| {
        let t = v
            .parse::<f64>()
            .ok()
            .and_then(|t| validate::timeout_secs(t).ok())
            .ok_or("expected a number of seconds greater than 0")?;
        s.keep.slower_than = Some(t);
        Ok(true)
    },
    show: |s| s.keep.slower_than.map_or("none".to_owned(), duration),
};

pub(crate) static KEEP_DETAIL: Field = Field {
    key: "keep_detail",
    config: Some("keep_detail"),
    vars: &["OTEL_RUST_KEEP_DETAIL"],
    expected: "server or full",
    default: DefaultText::Shown,
    secret: false,
    exporter: None,
    from_config: |_, c, s| Ok(set(c.keep_detail, |d| s.keep.detail = d)),
    from_env: |_, v, s| {
        s.keep.detail = match v.to_ascii_lowercase().as_str() {
            "server" => KeepDetail::Server,
            "full" => KeepDetail::Full,
            _ => return Err("expected server or full".into()),
        };
        Ok(true)
    },
    show: |s| s.keep.detail.as_str().to_owned(),
};

pub(crate) static KEEP_DESPITE_CALLER: Field = Field {
    key: "keep_despite_caller",
    config: Some("keep_despite_caller"),
    vars: &["OTEL_RUST_KEEP_DESPITE_CALLER"],
    expected: "true or false",
    default: DefaultText::Shown,
    secret: false,
    exporter: None,
    from_config: |_, c, s| Ok(set(c.keep_despite_caller, |b| s.keep.despite_caller = b)),
    from_env: |_, v, s| {
        validate::boolean(v)
            .map(|b| s.keep.despite_caller = b)
            .map(|()| true)
    },
    show: |s| s.keep.despite_caller.to_string(),
};

pub(crate) static MAX_FRAME_SPANS: Field = Field {
    key: "max_frame_spans",
    config: Some("max_frame_spans"),
    vars: &["OTEL_RUST_MAX_FRAME_SPANS"],
    expected: "a number of frame spans per request and direction; 0: unlimited",
    default: DefaultText::Shown,
    secret: false,
    exporter: None,
    from_config: |_, c, s| Ok(set(c.max_frame_spans, |n| s.max_frame_spans = n)),
    from_env: |_, v, s| {
        let n = v
            .parse::<usize>()
            .map_err(|_| "expected a number of spans (0: unlimited)".to_owned())?;
        s.max_frame_spans = n;
        Ok(true)
    },
    show: |s| match s.max_frame_spans {
        0 => "unlimited".to_owned(),
        n => n.to_string(),
    },
};

pub(crate) static BATCH_SCHEDULE_DELAY: Field = Field {
    key: "batch.schedule_delay",
    config: None,
    vars: &["OTEL_BSP_SCHEDULE_DELAY"],
    expected: "milliseconds",
    default: DefaultText::ShownAndFor(ExporterType::Console),
    secret: false,
    exporter: None,
    from_config: no_config,
    from_env: |_, v, s| {
        let ms = v
            .parse::<u64>()
            .map_err(|_| "expected milliseconds".to_owned())?;
        s.batch.schedule_delay = Duration::from_millis(ms);
        Ok(true)
    },
    show: |s| duration(s.batch.schedule_delay),
};

pub(crate) static BATCH_MAX_QUEUE_SIZE: Field = Field {
    key: "batch.max_queue_size",
    config: None,
    vars: &["OTEL_BSP_MAX_QUEUE_SIZE"],
    expected: "a positive integer",
    default: DefaultText::Shown,
    secret: false,
    exporter: None,
    from_config: no_config,
    from_env: |_, v, s| count(v).map(|n| s.batch.max_queue_size = n).map(|()| true),
    show: |s| s.batch.max_queue_size.to_string(),
};

pub(crate) static BATCH_MAX_EXPORT_BATCH_SIZE: Field = Field {
    key: "batch.max_export_batch_size",
    config: None,
    vars: &["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"],
    expected: "a positive integer (at most the queue size)",
    default: DefaultText::Shown,
    secret: false,
    exporter: None,
    from_config: no_config,
    from_env: |_, v, s| {
        count(v)
            .map(|n| s.batch.max_export_batch_size = n)
            .map(|()| true)
    },
    show: |s| s.batch.max_export_batch_size.to_string(),
};
