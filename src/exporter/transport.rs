//! The one HTTP client every HTTP exporter (Zipkin, the Jaeger collector,
//! OTLP/HTTP) posts through.
//!
//! It is blocking on purpose: the batch processor exports from its own OS
//! thread with a blocking executor, where an async client has no reactor and
//! silently loses every span. A blocking client there cannot make that mistake.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, HeaderValue};

use crate::config::{ConfigError, ConfigErrorKind};
use crate::settings::fields::otlp::OTLP_HTTP_CERTIFICATE_FILE;
use crate::settings::Certificate;

/// A blocking HTTP POST client bound to one endpoint.
#[derive(Clone)]
pub(crate) struct HttpTransport {
    agent: ureq::Agent,
    endpoint: String,
    headers: Vec<(HeaderName, HeaderValue)>,
}

/// Why one export request failed: enough to act on from a log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PostError {
    /// The server answered, but not with 2xx.
    Status {
        status: u16,
        body: String,
        /// `Retry-After` in seconds, when the server gave one.
        retry_after: Option<Duration>,
    },
    /// No answer: refused, unreachable, timed out, TLS failure.
    Transport(String),
}

impl fmt::Display for PostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PostError::Status { status, body, .. } if body.is_empty() => {
                write!(f, "HTTP {status}")
            }
            PostError::Status { status, body, .. } => write!(f, "HTTP {status}: {body}"),
            PostError::Transport(e) => f.write_str(e),
        }
    }
}

impl HttpTransport {
    /// `timeout` bounds the whole request, connect to last response byte.
    /// `ca`, when given, replaces the built-in web PKI roots for https.
    pub(crate) fn new(
        endpoint: &str,
        timeout: Duration,
        ca: Option<&Certificate>,
    ) -> Result<Self, ConfigError> {
        let mut config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("tower-otel-tracing/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = ca {
            let roots = parse_ca(ca)?;
            config = config.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::Specific(Arc::new(roots)))
                    .build(),
            );
        }
        Ok(HttpTransport {
            agent: config.build().new_agent(),
            endpoint: endpoint.to_owned(),
            headers: Vec::new(),
        })
    }

    /// Sends `Authorization: Basic ...` with every request.
    #[cfg(feature = "jaeger")]
    pub(crate) fn with_basic_auth(mut self, user: &str, password: &str) -> Self {
        use base64::Engine as _;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        if let Ok(mut value) = HeaderValue::from_str(&format!("Basic {token}")) {
            value.set_sensitive(true);
            self.headers.push((http::header::AUTHORIZATION, value));
        }
        self
    }

    /// Sends these (already validated) headers with every request.
    #[cfg(feature = "otlp")]
    pub(crate) fn with_headers(mut self, headers: &[(HeaderName, HeaderValue)]) -> Self {
        self.headers.extend_from_slice(headers);
        self
    }

    #[cfg(any(feature = "zipkin", feature = "jaeger"))]
    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// POSTs `body`; `Ok` only for a 2xx answer.
    #[cfg(any(feature = "zipkin", feature = "jaeger"))]
    pub(crate) fn post(&self, content_type: &str, body: &[u8]) -> Result<(), PostError> {
        self.post_with(content_type, None, body, None)
    }

    /// POSTs `body` with an optional `Content-Encoding`, within `timeout` when given
    /// (else the transport's own); `Ok` only for a 2xx answer.
    pub(crate) fn post_with(
        &self,
        content_type: &str,
        content_encoding: Option<&str>,
        body: &[u8],
        timeout: Option<Duration>,
    ) -> Result<(), PostError> {
        let mut req = self
            .agent
            .post(&self.endpoint)
            .header(http::header::CONTENT_TYPE, content_type);
        if let Some(encoding) = content_encoding {
            req = req.header(http::header::CONTENT_ENCODING, encoding);
        }
        for (name, value) in &self.headers {
            req = req.header(name, value);
        }
        if let Some(timeout) = timeout {
            req = req.config().timeout_global(Some(timeout)).build();
        }
        match req.send(body) {
            Ok(resp) if resp.status().is_success() => Ok(()),
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let retry_after = resp
                    .headers()
                    .get(http::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                // A little of the body says why (Zipkin and collectors explain 400s).
                let body = resp
                    .body_mut()
                    .with_config()
                    .limit(512)
                    .read_to_string()
                    .unwrap_or_default();
                Err(PostError::Status {
                    status,
                    body: body.trim().to_owned(),
                    retry_after,
                })
            }
            Err(e) => Err(PostError::Transport(e.to_string())),
        }
    }
}

impl fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpTransport")
            .field(
                "endpoint",
                &crate::config::redact::url_credentials(&self.endpoint),
            )
            .finish_non_exhaustive()
    }
}

/// The certificates of a PEM file read when the settings were resolved.
fn parse_ca(ca: &Certificate) -> Result<Vec<ureq::tls::Certificate<'static>>, ConfigError> {
    let field = OTLP_HTTP_CERTIFICATE_FILE.error_path();
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&ca.pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c.to_owned()),
            Ok(_) => {}
            Err(e) => {
                return Err(ConfigError::of_kind(
                    ConfigErrorKind::File,
                    field,
                    format!("`{}` is not valid PEM: {e}", ca.path.display()),
                ))
            }
        }
    }
    if certs.is_empty() {
        return Err(ConfigError::of_kind(
            ConfigErrorKind::File,
            field,
            format!("`{}` holds no PEM certificate", ca.path.display()),
        ));
    }
    Ok(certs)
}
