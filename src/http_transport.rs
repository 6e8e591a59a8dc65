//! The one HTTP client every HTTP exporter posts through.
//!
//! It is blocking on purpose: the SDK's batch processor exports from its own OS
//! thread with a blocking executor, where an async client has no reactor and
//! silently loses every span. A blocking client there cannot make that mistake.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, HeaderValue};

use crate::error::ConfigError;

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
    /// `ca_file`, when given, replaces the built-in web PKI roots for https.
    pub(crate) fn new(
        endpoint: &str,
        timeout: Duration,
        ca_file: Option<(&str, &Path)>,
    ) -> Result<Self, ConfigError> {
        let mut config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("tower-otel-tracing/", env!("CARGO_PKG_VERSION")));
        if let Some((field, path)) = ca_file {
            let roots = load_ca(field, path)?;
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
        let token = base64(format!("{user}:{password}").as_bytes());
        if let Ok(mut value) = HeaderValue::from_str(&format!("Basic {token}")) {
            value.set_sensitive(true);
            self.headers.push((http::header::AUTHORIZATION, value));
        }
        self
    }

    /// Sends these headers with every request; `field` names them in errors.
    #[cfg(feature = "otlp")]
    pub(crate) fn with_headers<'h>(
        mut self,
        field: &str,
        headers: impl IntoIterator<Item = (&'h String, &'h String)>,
    ) -> Result<Self, ConfigError> {
        for (name, value) in headers {
            let problem = crate::redact::header_name_problem(name)
                .or_else(|| crate::redact::header_value_problem(value));
            let (Some(name), Some(mut value)) = (
                HeaderName::from_bytes(name.as_bytes()).ok(),
                HeaderValue::from_str(value).ok(),
            ) else {
                return Err(ConfigError::new(
                    format!("{field}.{name}"),
                    problem.unwrap_or_else(|| "invalid header".to_owned()),
                ));
            };
            value.set_sensitive(true);
            self.headers.push((name, value));
        }
        Ok(self)
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
            .field("endpoint", &crate::redact::url_credentials(&self.endpoint))
            .finish_non_exhaustive()
    }
}

fn load_ca(field: &str, path: &Path) -> Result<Vec<ureq::tls::Certificate<'static>>, ConfigError> {
    let pem = std::fs::read(path)
        .map_err(|e| ConfigError::new(field, format!("cannot read `{}`: {e}", path.display())))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(e) => {
                return Err(ConfigError::new(
                    field,
                    format!("`{}` is not valid PEM: {e}", path.display()),
                ))
            }
        }
    }
    if certs.is_empty() {
        return Err(ConfigError::new(
            field,
            format!("`{}` holds no PEM certificate", path.display()),
        ));
    }
    Ok(certs)
}

/// Standard base64 with padding (RFC 4648), for the basic-auth header.
#[cfg(feature = "jaeger")]
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(all(test, feature = "jaeger"))]
mod tests {
    use super::base64;

    #[test]
    fn base64_vectors() {
        // RFC 4648 section 10.
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }
}
