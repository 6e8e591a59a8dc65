//! opentelemetry-otlp's HTTP exporter on our blocking transport: its encoding,
//! gzip and retries; our TLS roots (`certificate_file`) and timeout, and errors
//! that say what went wrong instead of "network error".

use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use http::{Request, Response};
use opentelemetry_http::{HttpClient, HttpError};

use crate::http_transport::HttpTransport;

#[derive(Debug, Clone)]
pub(crate) struct TransportClient {
    transport: HttpTransport,
    /// The last transport failure, which the OTLP exporter reduces to a status 0.
    last_error: Arc<Mutex<Option<String>>>,
}

impl TransportClient {
    pub(crate) fn new(transport: HttpTransport) -> Self {
        TransportClient {
            transport,
            last_error: Arc::new(Mutex::new(None)),
        }
    }

    /// Takes the last transport error seen, if any.
    pub(crate) fn take_last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

#[async_trait::async_trait]
impl HttpClient for TransportClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        // Blocking is right here: the batch processor exports from its own thread.
        match self.transport.send(request.map(|b| b.to_vec())) {
            Ok(resp) => Ok(resp.map(Bytes::from)),
            Err(e) => {
                *self
                    .last_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(e.clone());
                Err(e.into())
            }
        }
    }
}
