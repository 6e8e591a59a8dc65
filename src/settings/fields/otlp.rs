//! The `otlp` section's settings.

use super::*;
use crate::config::redact::url_credentials;
use crate::config::validate;
use crate::config::{Compression, ConfigError, ConfigErrorKind, ExporterType, OtlpProtocol};

pub(super) static ROWS: &[&Field] = &[
    &OTLP_PROTOCOL,
    &OTLP_ENDPOINT,
    &OTLP_COMPRESSION,
    &OTLP_HTTP_CERTIFICATE_FILE,
    &OTLP_HTTP_HEADERS,
    &OTLP_GRPC_HEADERS,
    &OTLP_GRPC_INSECURE,
];

pub(crate) static OTLP_PROTOCOL: Field = Field {
    key: "otlp.protocol",
    config: Some("otlp.protocol"),
    vars: &[
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    ],
    expected: "http (http/protobuf) or grpc",
    default: DefaultText::Shown,
    secret: false,
    exporter: Some(ExporterType::Otlp),
    from_config: |_, c, s| Ok(set(c.otlp.protocol, |p| s.otlp.protocol = p)),
    from_env: |_, v, s| otlp_protocol(v).map(|p| s.otlp.protocol = p).map(|()| true),
    show: |s| match s.otlp.protocol {
        OtlpProtocol::Http => "http".to_owned(),
        OtlpProtocol::Grpc => "grpc".to_owned(),
    },
};

pub(crate) static OTLP_ENDPOINT: Field = Field {
    key: "otlp.endpoint",
    config: Some("otlp.endpoint"),
    // The generic variable is a base URL (`/v1/traces` is appended); the
    // signal-specific one is used as given, and wins.
    vars: &[
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ],
    expected: "an http:// or https:// URL",
    default: DefaultText::Shown,
    secret: false,
    exporter: Some(ExporterType::Otlp),
    from_config: |f, c, s| {
        let Some(url) = &c.otlp.endpoint else {
            return Ok(false);
        };
        s.otlp.endpoint =
            validate::http_url(url).map_err(|why| f.bad(Some(&url_credentials(url)), why))?;
        Ok(true)
    },
    from_env: |var, v, s| {
        let url = env_url(v)?;
        s.otlp.endpoint = if var == "OTEL_EXPORTER_OTLP_ENDPOINT" {
            format!("{}/v1/traces", url.trim_end_matches('/'))
        } else {
            url
        };
        Ok(true)
    },
    show: |s| url_credentials(&s.otlp.endpoint).into_owned(),
};

pub(crate) static OTLP_COMPRESSION: Field = Field {
    key: "otlp.compression",
    config: Some("otlp.compression"),
    vars: &[
        "OTEL_EXPORTER_OTLP_COMPRESSION",
        "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
    ],
    expected: "gzip or none",
    default: DefaultText::Shown,
    secret: false,
    exporter: Some(ExporterType::Otlp),
    from_config: |_, c, s| Ok(set(c.otlp.compression, |v| s.otlp.compression = v)),
    from_env: |_, v, s| {
        compression(v)
            .map(|c| s.otlp.compression = c)
            .map(|()| true)
    },
    show: |s| match s.otlp.compression {
        Compression::Gzip => "gzip".to_owned(),
        Compression::None => "none".to_owned(),
    },
};

pub(crate) static OTLP_HTTP_CERTIFICATE_FILE: Field = Field {
    key: "otlp.http.certificate_file",
    config: Some("otlp.http.certificate_file"),
    vars: &[
        "OTEL_EXPORTER_OTLP_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
    ],
    expected: "a readable PEM file of CA certificates",
    default: DefaultText::ShownWith("web PKI roots"),
    secret: false,
    exporter: Some(ExporterType::Otlp),
    from_config: |f, c, s| {
        let Some(path) = &c.otlp.http.certificate_file else {
            return Ok(false);
        };
        let cert = certificate(path)
            .map_err(|why| ConfigError::of_kind(ConfigErrorKind::File, f.error_path(), why))?;
        s.otlp.certificate = Some(cert);
        Ok(true)
    },
    from_env: |_, v, s| {
        let cert = certificate(std::path::Path::new(v))?;
        s.otlp.certificate = Some(cert);
        Ok(true)
    },
    show: |s| {
        s.otlp
            .certificate
            .as_ref()
            .map_or(String::new(), |c| c.path.display().to_string())
    },
};

pub(crate) static OTLP_HTTP_HEADERS: Field = Field {
    key: "otlp.http.headers",
    config: Some("otlp.http.headers"),
    vars: &["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"],
    expected: "header names and values; in env comma-separated name=value pairs (values URL-encoded); the variables set the gRPC headers too",
    default: DefaultText::Shown,
    secret: true,
    exporter: Some(ExporterType::Otlp),
    from_config: |f, c, s| {
        let Some(map) = &c.otlp.http.headers else { return Ok(false) };
        s.otlp.http_headers = config_headers(f, map)?;
        Ok(true)
    },
    from_env: otlp_headers_from_env,
    show: |s| show_headers(&s.otlp.http_headers),
};

pub(crate) static OTLP_GRPC_HEADERS: Field = Field {
    key: "otlp.grpc.headers",
    config: Some("otlp.grpc.headers"),
    vars: &[],
    expected: "metadata names and values",
    default: DefaultText::Shown,
    secret: true,
    exporter: Some(ExporterType::Otlp),
    from_config: |f, c, s| {
        let Some(map) = &c.otlp.grpc.headers else {
            return Ok(false);
        };
        s.otlp.grpc_headers = config_headers(f, map)?;
        Ok(true)
    },
    from_env: no_env,
    show: |s| show_headers(&s.otlp.grpc_headers),
};

pub(crate) static OTLP_GRPC_INSECURE: Field = Field {
    key: "otlp.grpc.insecure",
    config: Some("otlp.grpc.insecure"),
    vars: &[],
    expected: "true or false; true needs an http:// endpoint",
    default: DefaultText::Shown,
    secret: false,
    exporter: Some(ExporterType::Otlp),
    from_config: |_, c, s| Ok(set(c.otlp.grpc.insecure, |b| s.otlp.insecure = b)),
    from_env: no_env,
    show: |s| s.otlp.insecure.to_string(),
};
