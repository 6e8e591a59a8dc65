//! The `zipkin` section's settings.

use super::*;
use crate::config::redact::url_credentials;
use crate::config::validate;
use crate::config::ExporterType;

pub(super) static ROWS: &[Field] = &[
    Field {
        key: "zipkin.endpoint",
        config: Some("zipkin.endpoint"),
        vars: &["OTEL_EXPORTER_ZIPKIN_ENDPOINT"],
        expected: "an http:// or https:// URL",
        default: DEFAULT_ZIPKIN_ENDPOINT,
        secret: false,
        exporter: Some(ExporterType::Zipkin),
        from_config: |c, s| {
            let Some(url) = &c.zipkin.endpoint else {
                return Ok(false);
            };
            s.zipkin.endpoint = validate::http_url(url)
                .map_err(|why| bad("zipkin.endpoint", Some(&url_credentials(url)), why))?;
            Ok(true)
        },
        from_env: |_, v, s| env_url(v).map(|u| s.zipkin.endpoint = u).map(|()| true),
        show: |s| url_credentials(&s.zipkin.endpoint).into_owned(),
    },
    Field {
        key: "zipkin.local_node_ipv4",
        config: Some("zipkin.local_node_ipv4"),
        vars: &[],
        expected: "an IPv4 address",
        default: "none",
        secret: false,
        exporter: Some(ExporterType::Zipkin),
        from_config: |c, s| {
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
    },
    Field {
        key: "zipkin.local_node_ipv6",
        config: Some("zipkin.local_node_ipv6"),
        vars: &[],
        expected: "an IPv6 address",
        default: "none",
        secret: false,
        exporter: Some(ExporterType::Zipkin),
        from_config: |c, s| {
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
    },
    Field {
        key: "zipkin.local_node_port",
        config: Some("zipkin.local_node_port"),
        vars: &[],
        expected: "a port",
        default: "none",
        secret: false,
        exporter: Some(ExporterType::Zipkin),
        from_config: |c, s| {
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
    },
];
