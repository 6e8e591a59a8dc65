//! OTLP/HTTP: our protobuf encoding, optional gzip, and retries of transient
//! failures within the export timeout, over the shared blocking transport.

use std::fmt;
use std::io::Write as _;
use std::time::{Duration, Instant};

use crate::config::{Compression, ConfigError};
use crate::exporter::transport::{HttpTransport, PostError};
use crate::settings::OtlpSettings;

/// Retries after the first attempt, and the backoff between them (doubling), as
/// the OTLP exporter specification recommends.
const MAX_RETRIES: u32 = 3;
const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_millis(1600);
/// Spreads the retries of many instances that failed at the same moment.
const MAX_JITTER_MS: u64 = 100;

/// Posts encoded OTLP requests (spans or metrics) to one endpoint.
#[derive(Debug)]
pub(crate) struct HttpExporter {
    transport: HttpTransport,
    gzip: bool,
    timeout: Duration,
}

impl HttpExporter {
    pub(crate) fn new(transport: HttpTransport, gzip: bool, timeout: Duration) -> Self {
        HttpExporter {
            transport,
            gzip,
            timeout,
        }
    }

    /// The exporter an OTLP section describes (its endpoint, headers,
    /// certificate, compression and timeout), for whichever signal it is.
    pub(crate) fn from_settings(settings: &OtlpSettings) -> Result<Self, ConfigError> {
        let transport = HttpTransport::new(
            &settings.endpoint,
            settings.timeout,
            settings.certificate.as_ref(),
        )?
        .with_headers(&settings.http_headers);
        let gzip = settings.compression == Compression::Gzip;
        Ok(HttpExporter::new(transport, gzip, settings.timeout))
    }

    /// Posts an encoded request (gzipped first when configured); transient failures (429, 502, 503, 504, no
    /// answer) are retried with backoff, or after `Retry-After`, while the timeout
    /// allows. The error says what the last attempt got.
    pub(crate) fn send(&self, body: Vec<u8>) -> Result<(), SendError> {
        let (body, encoding) = if self.gzip {
            let zipped = gzip(&body).map_err(|message| SendError {
                status: None,
                message,
            })?;
            (zipped, Some("gzip"))
        } else {
            (body, None)
        };
        let deadline = Instant::now() + self.timeout;
        let mut backoff = INITIAL_BACKOFF;
        let mut attempt = 0;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let error = match self.transport.post_with(
                "application/x-protobuf",
                encoding,
                &body,
                Some(remaining.max(Duration::from_millis(1))),
            ) {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            let wait = match &error {
                PostError::Status {
                    status: 429 | 503,
                    retry_after,
                    ..
                } => retry_after.unwrap_or(backoff),
                PostError::Status {
                    status: 502 | 504, ..
                }
                | PostError::Transport(_) => backoff,
                PostError::Status { status, .. } => {
                    return Err(SendError {
                        status: Some(*status),
                        message: error.to_string(),
                    })
                }
            };
            let wait = wait + jitter();
            attempt += 1;
            if attempt > MAX_RETRIES || Instant::now() + wait >= deadline {
                let tries = if attempt == 1 {
                    String::new()
                } else {
                    format!(" (after {attempt} attempts)")
                };
                let status = match &error {
                    PostError::Status { status, .. } => Some(*status),
                    PostError::Transport(_) => None,
                };
                return Err(SendError {
                    status,
                    message: format!("{error}{tries}"),
                });
            }
            std::thread::sleep(wait);
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}

/// Why a send failed: what the last attempt got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SendError {
    /// The last answer's status; none when there was no answer (or the body
    /// could not be compressed).
    pub(crate) status: Option<u16>,
    message: String,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

fn jitter() -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()));
    Duration::from_millis(nanos % (MAX_JITTER_MS + 1))
}

fn gzip(body: &[u8]) -> Result<Vec<u8>, String> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4 + 64),
        flate2::Compression::fast(),
    );
    encoder
        .write_all(body)
        .and_then(|()| encoder.finish())
        .map_err(|e| format!("gzip: {e}"))
}
