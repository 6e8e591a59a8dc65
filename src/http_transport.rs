//! The one HTTP client every HTTP exporter posts through.
//!
//! It is blocking on purpose: the SDK's batch processor exports from its own OS
//! thread with a blocking executor, where an async client has no reactor and
//! silently loses every span. A blocking client there cannot make that mistake.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::error::ConfigError;

/// A blocking HTTP POST client bound to one endpoint.
#[derive(Clone)]
pub(crate) struct HttpTransport {
    agent: ureq::Agent,
    endpoint: String,
}

/// Why one export request failed: enough to act on from a log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PostError {
    /// The server answered, but not with 2xx.
    Status { status: u16, body: String },
    /// No answer: refused, unreachable, timed out, TLS failure.
    Transport(String),
}

impl fmt::Display for PostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PostError::Status { status, body } if body.is_empty() => write!(f, "HTTP {status}"),
            PostError::Status { status, body } => write!(f, "HTTP {status}: {body}"),
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
        })
    }

    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// POSTs `body`; `Ok` only for a 2xx answer.
    pub(crate) fn post(&self, content_type: &str, body: &[u8]) -> Result<(), PostError> {
        let req = self
            .agent
            .post(&self.endpoint)
            .header(http::header::CONTENT_TYPE, content_type);
        match req.send(body) {
            Ok(resp) if resp.status().is_success() => Ok(()),
            Ok(mut resp) => {
                let status = resp.status().as_u16();
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
                })
            }
            Err(e) => Err(PostError::Transport(e.to_string())),
        }
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
