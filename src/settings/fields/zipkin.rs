//! The `zipkin` section's settings.

use super::*;
use crate::config::redact::url_credentials;
use crate::config::validate;
use crate::config::ExporterType;

pub(super) static ROWS: &[&Field] = &[
    &ZIPKIN_ENDPOINT,
    &ZIPKIN_LOCAL_NODE_IPV4,
    &ZIPKIN_LOCAL_NODE_IPV6,
    &ZIPKIN_LOCAL_NODE_PORT,
];

pub(crate) static ZIPKIN_ENDPOINT: Field = Field {
    key: "zipkin.endpoint",
    config: Some("zipkin.endpoint"),
    vars: &["OTEL_EXPORTER_ZIPKIN_ENDPOINT"],
    expected: "an http:// or https:// URL",
    default: DefaultText::Shown,
    secret: false,
    exporter: Some(ExporterType::Zipkin),
    from_config: |f, c, s| {
        let Some(url) = &c.zipkin.endpoint else {
            return Ok(false);
        };
        s.zipkin.endpoint =
            validate::http_url(url).map_err(|why| f.bad(Some(&url_credentials(url)), why))?;
        Ok(true)
    },
    from_env: |_, v, s| env_url(v).map(|u| s.zipkin.endpoint = u).map(|()| true),
    show: |s| url_credentials(&s.zipkin.endpoint).into_owned(),
};

pub(crate) static ZIPKIN_LOCAL_NODE_IPV4: Field = Field {
    key: "zipkin.local_node_ipv4",
    config: Some("zipkin.local_node_ipv4"),
    vars: &[],
    expected: "an IPv4 address",
    default: DefaultText::Shown,
    secret: false,
    exporter: Some(ExporterType::Zipkin),
    from_config: |_, c, s| {
        Ok(set(c.zipkin.local_node_ipv4, |ip| {
            s.zipkin.local_node_ipv4 = Some(ip)
        }))
    },
    from_env: no_env,
    show: |s| {
        s.zipkin
            .local_node_ipv4
            .map_or(String::new(), |ip| ip.to_string())
    },
};

pub(crate) static ZIPKIN_LOCAL_NODE_IPV6: Field = Field {
    key: "zipkin.local_node_ipv6",
    config: Some("zipkin.local_node_ipv6"),
    vars: &[],
    expected: "an IPv6 address",
    default: DefaultText::Shown,
    secret: false,
    exporter: Some(ExporterType::Zipkin),
    from_config: |_, c, s| {
        Ok(set(c.zipkin.local_node_ipv6, |ip| {
            s.zipkin.local_node_ipv6 = Some(ip)
        }))
    },
    from_env: no_env,
    show: |s| {
        s.zipkin
            .local_node_ipv6
            .map_or(String::new(), |ip| ip.to_string())
    },
};

pub(crate) static ZIPKIN_LOCAL_NODE_PORT: Field = Field {
    key: "zipkin.local_node_port",
    config: Some("zipkin.local_node_port"),
    vars: &[],
    expected: "a port",
    default: DefaultText::Shown,
    secret: false,
    exporter: Some(ExporterType::Zipkin),
    from_config: |_, c, s| {
        Ok(set(c.zipkin.local_node_port, |p| {
            s.zipkin.local_node_port = Some(p)
        }))
    },
    from_env: no_env,
    show: |s| {
        s.zipkin
            .local_node_port
            .map_or(String::new(), |p| p.to_string())
    },
};
