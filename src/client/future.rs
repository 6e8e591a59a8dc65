//! [`ClientResponseFuture`]: waits for the response head, records it, and hands
//! the CLIENT span on to the response body.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http::Response;
use pin_project_lite::pin_project;

use super::body::ClientResponseBody;
use super::call::{Call, ClientSpan};
use crate::conventions::failure::Failure;
use crate::metrics::ClientMeasure;

pin_project! {
    /// The response future of [`TracingClientService`](super::TracingClientService).
    ///
    /// ```
    /// use tower::{Service, ServiceExt};
    /// use tower_otel_tracing::client::ClientResponseFuture;
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let layer = TracingLayer::from_config(TracingConfig::default());
    /// let mut client = tower::ServiceBuilder::new()
    ///     .layer(layer.client())
    ///     .service_fn(|_req: http::Request<String>| async {
    ///         Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    ///     });
    /// let future = client.ready().await.unwrap().call(http::Request::new(String::new()));
    /// let response = future.await.unwrap();
    /// # }
    /// ```
    pub struct ClientResponseFuture<F> {
        #[pin]
        inner: F,
        // A call's two halves, kept apart so that an unmeasured call moves
        // what it did before calls were measured.
        span: Option<ClientSpan>,
        measure: Option<Box<ClientMeasure>>,
    }
}

impl<F> ClientResponseFuture<F> {
    pub(crate) fn new(
        inner: F,
        (span, measure): (Option<ClientSpan>, Option<Box<ClientMeasure>>),
    ) -> Self {
        ClientResponseFuture {
            inner,
            span,
            measure,
        }
    }
}

impl<F, B, E> Future for ClientResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: http_body::Body,
    E: fmt::Display,
{
    type Output = Result<Response<ClientResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let output = ready!(this.inner.poll(cx));
        let mut call = Call {
            span: this.span,
            measure: this.measure,
        };
        Poll::Ready(match output {
            Ok(response) => {
                call.response(response.status().as_u16(), response.headers());
                let (span, measure) = (this.span.take(), this.measure.take());
                Ok(response.map(|body| ClientResponseBody::new(body, span, measure)))
            }
            Err(err) => {
                call.fail(Failure {
                    kind: Cow::Borrowed(std::any::type_name::<E>()),
                    message: Cow::Owned(err.to_string()),
                });
                call.end();
                Err(err)
            }
        })
    }
}

impl<F> fmt::Debug for ClientResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientResponseFuture")
            .field("recorded", &self.span.is_some())
            .finish_non_exhaustive()
    }
}
