//! The `jaeger` section's settings.

use super::*;
use crate::config::redact::{url_credentials, MASK};
use crate::config::validate;
use crate::config::{ConfigError, ConfigErrorKind, ExporterType, JaegerProtocol};

pub(super) static ROWS: &[&Field] = &[
    &JAEGER_PROTOCOL,
    &JAEGER_COLLECTOR_ENDPOINT,
    &JAEGER_THRIFT_AGENT_HOST_NAME,
    &JAEGER_THRIFT_AGENT_PORT,
    &JAEGER_THRIFT_UDP_SPLIT_OVERSIZED_BATCHES,
    &JAEGER_GRPC_INSECURE,
    &JAEGER_USER,
    &JAEGER_PASSWORD,
];

pub(crate) static JAEGER_PROTOCOL: Field = Field {
    key: "jaeger.protocol",
    config: Some("jaeger.protocol"),
    vars: &[],
    expected: "thrift",
    default: DefaultText::Shown,
    secret: false,
    exporter: Some(ExporterType::Jaeger),
    from_config: |f, c, _| match c.jaeger.protocol {
        Some(JaegerProtocol::Grpc) => Err(ConfigError::of_kind(
            ConfigErrorKind::Unsupported,
            f.error_path(),
            "`grpc` is not supported: Jaeger ingests OTLP natively, use \
             `exporter_type: otlp` with Jaeger's OTLP port instead (or `protocol: thrift`)",
        )),
        other => Ok(other.is_some()),
    },
    from_env: no_env,
    show: |_| "thrift".to_owned(),
};

pub(crate) static JAEGER_COLLECTOR_ENDPOINT: Field = Field {
    key: "jaeger.collector_endpoint",
    config: Some("jaeger.collector_endpoint"),
    vars: &["OTEL_EXPORTER_JAEGER_ENDPOINT"],
    expected: "an http:// or https:// URL",
    default: DefaultText::ShownWith("the agent"),
    secret: false,
    exporter: Some(ExporterType::Jaeger),
    from_config: |f, c, s| {
        let Some(url) = &c.jaeger.collector_endpoint else {
            return Ok(false);
        };
        let url = validate::http_url(url).map_err(|why| f.bad(Some(&url_credentials(url)), why))?;
        s.jaeger.collector_endpoint = Some(url);
        Ok(true)
    },
    from_env: |_, v, s| {
        env_url(v)
            .map(|u| s.jaeger.collector_endpoint = Some(u))
            .map(|()| true)
    },
    show: |s| {
        s.jaeger
            .collector_endpoint
            .as_deref()
            .map_or(String::new(), |u| url_credentials(u).into_owned())
    },
};

pub(crate) static JAEGER_THRIFT_AGENT_HOST_NAME: Field = Field {
    key: "jaeger.thrift.agent_host_name",
    config: Some("jaeger.thrift.agent_host_name"),
    vars: &["OTEL_EXPORTER_JAEGER_AGENT_HOST"],
    expected: "a host name or IP address",
    default: DefaultText::Shown,
    secret: false,
    exporter: Some(ExporterType::Jaeger),
    from_config: |f, c, s| {
        let Some(host) = &c.jaeger.thrift.agent_host_name else {
            return Ok(false);
        };
        s.jaeger.agent_host_name =
            validate::host(host).map_err(|why| f.bad(Some(&format!("{host:?}")), why))?;
        Ok(true)
    },
    from_env: |_, v, s| {
        validate::host(v)
            .map(|h| s.jaeger.agent_host_name = h)
            .map(|()| true)
    },
    show: |s| s.jaeger.agent_host_name.clone(),
};

pub(crate) static JAEGER_THRIFT_AGENT_PORT: Field = Field {
    key: "jaeger.thrift.agent_port",
    config: Some("jaeger.thrift.agent_port"),
    vars: &["OTEL_EXPORTER_JAEGER_AGENT_PORT"],
    expected: "a port from 1 to 65535",
    default: DefaultText::Shown,
    secret: false,
    exporter: Some(ExporterType::Jaeger),
    from_config: |f, c, s| {
        let Some(port) = c.jaeger.thrift.agent_port else {
            return Ok(false);
        };
        s.jaeger.agent_port = validate::port(port).map_err(|why| f.bad(Some(&port), why))?;
        Ok(true)
    },
    from_env: |_, v, s| {
        let port = v
            .parse::<u16>()
            .map_err(|_| "expected a port from 1 to 65535".to_owned())?;
        s.jaeger.agent_port = validate::port(port)?;
        Ok(true)
    },
    show: |s| s.jaeger.agent_port.to_string(),
};

pub(crate) static JAEGER_THRIFT_UDP_SPLIT_OVERSIZED_BATCHES: Field = Field {
    key: "jaeger.thrift.udp_split_oversized_batches",
    config: Some("jaeger.thrift.udp_split_oversized_batches"),
    vars: &["OTEL_EXPORTER_JAEGER_AGENT_SPLIT_OVERSIZED_BATCHES"],
    expected: "true or false",
    default: DefaultText::Shown,
    secret: false,
    exporter: Some(ExporterType::Jaeger),
    from_config: |_, c, s| {
        Ok(set(c.jaeger.thrift.udp_split_oversized_batches, |b| {
            s.jaeger.udp_split_oversized_batches = b
        }))
    },
    from_env: |_, v, s| {
        validate::boolean(v)
            .map(|b| s.jaeger.udp_split_oversized_batches = b)
            .map(|()| true)
    },
    show: |s| s.jaeger.udp_split_oversized_batches.to_string(),
};

pub(crate) static JAEGER_GRPC_INSECURE: Field = Field {
    key: "jaeger.grpc.insecure",
    config: Some("jaeger.grpc.insecure"),
    vars: &[],
    expected: "false (the gRPC protocol is not supported)",
    default: DefaultText::Shown,
    secret: false,
    exporter: Some(ExporterType::Jaeger),
    from_config: |f, c, _| match c.jaeger.grpc.insecure {
        Some(true) => Err(ConfigError::of_kind(
            ConfigErrorKind::Unsupported,
            f.error_path(),
            "plaintext gRPC applies to `jaeger.protocol: grpc`, which is not supported: \
             Jaeger ingests OTLP natively, use `exporter_type: otlp` (`otlp.grpc.insecure`)",
        )),
        other => Ok(other.is_some()),
    },
    from_env: no_env,
    show: |_| "false".to_owned(),
};

pub(crate) static JAEGER_USER: Field = Field {
    key: "jaeger.user",
    config: None,
    vars: &["OTEL_EXPORTER_JAEGER_USER"],
    expected: "a user name (collector basic auth)",
    default: DefaultText::Shown,
    secret: false,
    exporter: Some(ExporterType::Jaeger),
    from_config: no_config,
    from_env: |_, v, s| {
        s.jaeger.user = Some(v.to_owned());
        Ok(true)
    },
    show: |s| s.jaeger.user.clone().unwrap_or_default(),
};

pub(crate) static JAEGER_PASSWORD: Field = Field {
    key: "jaeger.password",
    config: None,
    vars: &["OTEL_EXPORTER_JAEGER_PASSWORD"],
    expected: "a password (collector basic auth)",
    default: DefaultText::Shown,
    secret: true,
    exporter: Some(ExporterType::Jaeger),
    from_config: no_config,
    from_env: |_, v, s| {
        s.jaeger.password = Some(v.to_owned());
        Ok(true)
    },
    show: |s| {
        s.jaeger
            .password
            .as_ref()
            .map_or(String::new(), |_| MASK.to_owned())
    },
};
