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
use super::call::Call;
use crate::conventions::failure::Failure;

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
        call: Option<Call>,
    }
}

impl<F> ClientResponseFuture<F> {
    pub(crate) fn new(inner: F, call: Call) -> Self {
        let call = (call.span.is_some() || call.measure.is_some()).then_some(call);
        ClientResponseFuture { inner, call }
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
        let call = this.call.take();
        Poll::Ready(match output {
            Ok(response) => {
                let mut call = call;
                if let Some(call) = &mut call {
                    call.response(response.status().as_u16(), response.headers());
                }
                Ok(response.map(|body| ClientResponseBody::new(body, call)))
            }
            Err(err) => {
                if let Some(mut call) = call {
                    call.fail(Failure {
                        kind: Cow::Borrowed(std::any::type_name::<E>()),
                        message: Cow::Owned(err.to_string()),
                    });
                    call.end();
                }
                Err(err)
            }
        })
    }
}

impl<F> fmt::Debug for ClientResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientResponseFuture")
            .field(
                "recorded",
                &self.call.as_ref().is_some_and(|c| c.span.is_some()),
            )
            .finish_non_exhaustive()
    }
}
