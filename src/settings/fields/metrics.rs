//! The `metrics` section's settings. The `metrics.otlp.*` rows read only what
//! the metrics set for themselves; whatever they leave unset is the traces'
//! value, taken once every row has been read (`settings/metrics.rs`), when the
//! traces' own variables have been applied too.

use super::*;
use crate::config::redact::url_credentials;
use crate::config::validate;
use crate::config::{ExemplarFilter, MetricsExporter, Temporality};

pub(super) static ROWS: &[&Field] = &[
    &METRICS_EXPORTER,
    &METRICS_INTERVAL,
    &METRICS_EXEMPLAR_FILTER,
    &METRICS_SERVER_ADDRESS,
    &METRICS_OTLP_PROTOCOL,
    &METRICS_OTLP_ENDPOINT,
    &METRICS_OTLP_COMPRESSION,
    &METRICS_OTLP_CERTIFICATE_FILE,
    &METRICS_OTLP_HEADERS,
    &METRICS_OTLP_TIMEOUT,
    &METRICS_OTLP_TEMPORALITY,
];

/// Whether `--print-config` shows `field`: the `metrics.otlp.*` rows only when
/// the metrics are pushed over OTLP, as the traces' `otlp.*` rows are shown
/// only when the traces are.
pub(super) fn shown(field: &Field, s: &Settings) -> bool {
    !field.key.starts_with("metrics.otlp.") || s.metrics.exporter == MetricsExporter::Otlp
}

/// The generic OTLP variable that stands for the metrics' own one, in rows that
/// list both.
const GENERIC_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
const GENERIC_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TIMEOUT";

pub(crate) static METRICS_EXPORTER: Field = Field {
    key: "metrics.exporter",
    config: Some("metrics.exporter"),
    vars: &["OTEL_METRICS_EXPORTER"],
    expected: "otlp, console, prometheus or none (prometheus and none push nothing: the pull endpoint serves the metrics either way); the variable may be a comma-separated list, of which the first supported name is used",
    default: DefaultText::Shown,
    secret: false,
    exporter: None,
    from_config: |_, c, s| Ok(set(c.metrics.exporter, |e| s.metrics.exporter = e)),
    from_env: exporter_from_env,
    show: |s| s.metrics.exporter.as_str().to_owned(),
};

pub(crate) static METRICS_INTERVAL: Field = Field {
    key: "metrics.interval",
    config: Some("metrics.interval"),
    vars: &["OTEL_METRIC_EXPORT_INTERVAL"],
    expected: "seconds (config) or milliseconds (env) > 0",
    default: DefaultText::Shown,
    secret: false,
    exporter: None,
    from_config: |f, c, s| {
        let Some(t) = c.metrics.interval else {
            return Ok(false);
        };
        s.metrics.interval = validate::timeout_secs(t).map_err(|why| f.bad(Some(&t), why))?;
        Ok(true)
    },
    from_env: |_, v, s| millis(v).map(|t| s.metrics.interval = t).map(|()| true),
    show: |s| duration(s.metrics.interval),
};

pub(crate) static METRICS_EXEMPLAR_FILTER: Field = Field {
    key: "metrics.exemplar_filter",
    config: Some("metrics.exemplar_filter"),
    vars: &["OTEL_METRICS_EXEMPLAR_FILTER"],
    expected: "trace_based, always_on or always_off",
    default: DefaultText::Shown,
    secret: false,
    exporter: None,
    from_config: |_, c, s| {
        Ok(set(c.metrics.exemplar_filter, |e| {
            s.metrics.exemplar_filter = e
        }))
    },
    from_env: |_, v, s| {
        s.metrics.exemplar_filter = match v.to_ascii_lowercase().as_str() {
            "trace_based" => ExemplarFilter::TraceBased,
            "always_on" => ExemplarFilter::AlwaysOn,
            "always_off" => ExemplarFilter::AlwaysOff,
            _ => return Err("expected trace_based, always_on or always_off".into()),
        };
        Ok(true)
    },
    show: |s| s.metrics.exemplar_filter.as_str().to_owned(),
};

pub(crate) static METRICS_SERVER_ADDRESS: Field = Field {
    key: "metrics.server_address",
    config: Some("metrics.server_address"),
    vars: &["OTEL_RUST_METRICS_SERVER_ADDRESS"],
    expected: "true or false: write `server.address` and `server.port` on the HTTP server metrics",
    default: DefaultText::Shown,
    secret: false,
    exporter: None,
    from_config: |_, c, s| {
        Ok(set(c.metrics.server_address, |b| {
            s.metrics.server_address = b
        }))
    },
    from_env: |_, v, s| {
        validate::boolean(v)
            .map(|b| s.metrics.server_address = b)
            .map(|()| true)
    },
    show: |s| s.metrics.server_address.to_string(),
};

pub(crate) static METRICS_OTLP_PROTOCOL: Field = Field {
    key: "metrics.otlp.protocol",
    config: Some("metrics.otlp.protocol"),
    vars: &["OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"],
    expected: "http (http/protobuf) or grpc",
    default: DefaultText::ShownWith("as `otlp.protocol`"),
    secret: false,
    exporter: None,
    from_config: |_, c, s| {
        Ok(set(c.metrics.otlp.protocol, |p| {
            s.metrics.otlp.protocol = p
        }))
    },
    from_env: |_, v, s| {
        if v.eq_ignore_ascii_case("http/json") {
            return Err("http/json is not supported: expected http/protobuf or grpc".into());
        }
        otlp_protocol(v)
            .map(|p| s.metrics.otlp.protocol = p)
            .map(|()| true)
    },
    show: |s| match s.metrics.otlp.protocol {
        OtlpProtocol::Http => "http".to_owned(),
        OtlpProtocol::Grpc => "grpc".to_owned(),
    },
};

pub(crate) static METRICS_OTLP_ENDPOINT: Field = Field {
    key: "metrics.otlp.endpoint",
    config: Some("metrics.otlp.endpoint"),
    // The generic variable is a base URL for every signal (`/v1/metrics` is
    // appended over HTTP, once the protocol is known); the metrics' own
    // variable is used as given, and wins.
    vars: &[GENERIC_ENDPOINT, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"],
    expected: "an http:// or https:// URL; `OTEL_EXPORTER_OTLP_ENDPOINT` is a base URL, and yields to `metrics.otlp.endpoint`",
    default: DefaultText::ShownWith(
        "or derived from `otlp.endpoint` when set, `/v1/traces` becoming `/v1/metrics`; http://localhost:4317 over gRPC",
    ),
    secret: false,
    exporter: None,
    from_config: |f, c, s| {
        let Some(url) = &c.metrics.otlp.endpoint else {
            return Ok(false);
        };
        s.metrics.otlp.endpoint =
            validate::http_url(url).map_err(|why| f.bad(Some(&url_credentials(url)), why))?;
        Ok(true)
    },
    from_env: |var, v, s| {
        if var == GENERIC_ENDPOINT {
            // The metrics' own config is more specific than a variable for
            // every signal. An invalid value is the traces' row's warning.
            if s.source(METRICS_OTLP_ENDPOINT.key) == Source::Config {
                return Ok(false);
            }
            let Ok(base) = env_url(v) else {
                return Ok(false);
            };
            s.metrics.otlp.endpoint = base;
            return Ok(true);
        }
        env_url(v)
            .map(|u| s.metrics.otlp.endpoint = u)
            .map(|()| true)
    },
    show: |s| url_credentials(&s.metrics.otlp.endpoint).into_owned(),
};

pub(crate) static METRICS_OTLP_COMPRESSION: Field = Field {
    key: "metrics.otlp.compression",
    config: None,
    vars: &["OTEL_EXPORTER_OTLP_METRICS_COMPRESSION"],
    expected: "gzip or none",
    default: DefaultText::ShownWith("as `otlp.compression`"),
    secret: false,
    exporter: None,
    from_config: no_config,
    from_env: |_, v, s| {
        compression(v)
            .map(|c| s.metrics.otlp.compression = c)
            .map(|()| true)
    },
    show: |s| match s.metrics.otlp.compression {
        Compression::Gzip => "gzip".to_owned(),
        Compression::None => "none".to_owned(),
    },
};

pub(crate) static METRICS_OTLP_CERTIFICATE_FILE: Field = Field {
    key: "metrics.otlp.certificate_file",
    config: None,
    vars: &["OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE"],
    expected: "a readable PEM file of CA certificates",
    default: DefaultText::ShownWith("as `otlp.http.certificate_file`"),
    secret: false,
    exporter: None,
    from_config: no_config,
    from_env: |_, v, s| {
        let cert = certificate(std::path::Path::new(v))?;
        s.metrics.otlp.certificate = Some(cert);
        Ok(true)
    },
    show: |s| {
        s.metrics
            .otlp
            .certificate
            .as_ref()
            .map_or(String::new(), |c| c.path.display().to_string())
    },
};

pub(crate) static METRICS_OTLP_HEADERS: Field = Field {
    key: "metrics.otlp.headers",
    config: Some("metrics.otlp.headers"),
    vars: &["OTEL_EXPORTER_OTLP_METRICS_HEADERS"],
    expected: "header names and values, sent as HTTP headers or gRPC metadata; in env comma-separated name=value pairs (values URL-encoded)",
    default: DefaultText::ShownWith("as `otlp.http.headers`, or `otlp.grpc.headers` over gRPC"),
    secret: true,
    exporter: None,
    from_config: |f, c, s| {
        let Some(map) = &c.metrics.otlp.headers else {
            return Ok(false);
        };
        let headers = config_headers(f, map)?;
        s.metrics.otlp.grpc_headers = headers.clone();
        s.metrics.otlp.http_headers = headers;
        Ok(true)
    },
    from_env: |_, v, s| {
        let headers = env_headers(v)?;
        s.metrics.otlp.grpc_headers = headers.clone();
        s.metrics.otlp.http_headers = headers;
        Ok(true)
    },
    show: |s| {
        show_headers(match s.metrics.otlp.protocol {
            OtlpProtocol::Http => &s.metrics.otlp.http_headers,
            OtlpProtocol::Grpc => &s.metrics.otlp.grpc_headers,
        })
    },
};

pub(crate) static METRICS_OTLP_TIMEOUT: Field = Field {
    key: "metrics.otlp.timeout",
    config: Some("metrics.otlp.timeout"),
    // The generic variable is read here as well as by the traces' `timeout`,
    // which applies it only when the traces are exported over OTLP.
    vars: &[GENERIC_TIMEOUT, "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT"],
    expected: "seconds (config) or milliseconds (env) > 0; `OTEL_EXPORTER_OTLP_TIMEOUT` yields to `metrics.otlp.timeout`",
    default: DefaultText::ShownWith("as `timeout`"),
    secret: false,
    exporter: None,
    from_config: |f, c, s| {
        let Some(t) = c.metrics.otlp.timeout else {
            return Ok(false);
        };
        s.metrics.otlp.timeout = validate::timeout_secs(t).map_err(|why| f.bad(Some(&t), why))?;
        Ok(true)
    },
    from_env: |var, v, s| {
        if var == GENERIC_TIMEOUT {
            // As for the endpoint: the config's metrics section is more
            // specific, and an invalid value is the traces' row's warning.
            if s.source(METRICS_OTLP_TIMEOUT.key) == Source::Config {
                return Ok(false);
            }
            let Ok(t) = millis(v) else { return Ok(false) };
            s.metrics.otlp.timeout = t;
            return Ok(true);
        }
        millis(v).map(|t| s.metrics.otlp.timeout = t).map(|()| true)
    },
    show: |s| duration(s.metrics.otlp.timeout),
};

pub(crate) static METRICS_OTLP_TEMPORALITY: Field = Field {
    key: "metrics.otlp.temporality",
    config: Some("metrics.otlp.temporality"),
    vars: &["OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE"],
    expected: "cumulative or delta (up-down counters stay cumulative, as the specification says); the variable also takes lowmemory, which is delta for these instruments",
    default: DefaultText::Shown,
    secret: false,
    exporter: None,
    from_config: |_, c, s| {
        Ok(set(c.metrics.otlp.temporality, |t| {
            s.metrics.temporality = t
        }))
    },
    from_env: |_, v, s| {
        s.metrics.temporality = match v.to_ascii_lowercase().as_str() {
            "cumulative" => Temporality::Cumulative,
            // `lowmemory` differs from `delta` only for asynchronous counters,
            // which these metrics do not have.
            "delta" | "lowmemory" => Temporality::Delta,
            _ => return Err("expected cumulative, delta or lowmemory".into()),
        };
        Ok(true)
    },
    show: |s| s.metrics.temporality.as_str().to_owned(),
};

/// `OTEL_METRICS_EXPORTER`: one name, or a list of which the first name this
/// crate supports runs (one exporter runs at a time); the other names are
/// warned about. A list with no supported name is invalid.
fn exporter_from_env(var: &'static str, v: &str, s: &mut Settings) -> Result<bool, String> {
    let names: Vec<&str> = v
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    let Some((chosen, exporter)) = names
        .iter()
        .enumerate()
        .find_map(|(i, n)| exporter_from_name(n).map(|e| (i, e)))
    else {
        return Err("expected otlp, console, prometheus or none".into());
    };
    let others: Vec<String> = names
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != chosen)
        .map(|(_, n)| format!("`{n}`"))
        .collect();
    if !others.is_empty() {
        s.warn(format!(
            "{var}={v:?}: using `{}`, the first exporter supported; ignoring {} (one metrics \
             exporter runs at a time)",
            exporter.as_str(),
            others.join(", ")
        ));
    }
    s.metrics.exporter = exporter;
    Ok(true)
}

fn exporter_from_name(name: &str) -> Option<MetricsExporter> {
    match name.to_ascii_lowercase().as_str() {
        "otlp" => Some(MetricsExporter::Otlp),
        // `logging` is the specification's former name for the console.
        "console" | "logging" => Some(MetricsExporter::Console),
        "prometheus" => Some(MetricsExporter::Prometheus),
        "none" => Some(MetricsExporter::None),
        _ => None,
    }
}
