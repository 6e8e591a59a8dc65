//! [`ClientResponseBody`]: the response body of a traced call. The CLIENT span
//! lasts until its last frame (streaming answers are common), reads gRPC status
//! from trailers, and ends marked cancelled when the body is dropped early.

use std::borrow::Cow;
use std::fmt;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::call::{Call, ClientSpan};
use crate::conventions::failure::Failure;
use crate::metrics::ClientMeasure;

pin_project! {
    /// The response body a traced call returns: the inner body, frame for frame.
    ///
    /// ```
    /// use http_body_util::BodyExt;
    /// use tower_otel_tracing::client::ClientResponseBody;
    ///
    /// async fn text(resp: http::Response<ClientResponseBody<String>>) -> String {
    ///     let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    ///     String::from_utf8_lossy(&bytes).into_owned()
    /// }
    /// ```
    pub struct ClientResponseBody<B>
    where
        B: Body,
    {
        #[pin]
        inner: B,
        span: Option<ClientSpan>,
        measure: Option<Box<ClientMeasure>>,
    }

    impl<B> PinnedDrop for ClientResponseBody<B>
    where
        B: Body,
    {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // A body complete without being polled to its end is not cancelled.
            if this.inner.is_end_stream() {
                Call {
                    span: this.span,
                    measure: this.measure,
                }
                .end();
            }
        }
    }
}

impl<B: Body> ClientResponseBody<B> {
    pub(crate) fn new(
        inner: B,
        span: Option<ClientSpan>,
        measure: Option<Box<ClientMeasure>>,
    ) -> Self {
        ClientResponseBody {
            inner,
            span,
            measure,
        }
    }
}

impl<B> Body for ClientResponseBody<B>
where
    B: Body,
    B::Error: fmt::Display,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        let result = ready!(this.inner.as_mut().poll_frame(cx));
        let done = match &result {
            Some(Ok(frame)) => {
                if let (Some(trailers), Some(span)) = (frame.trailers_ref(), this.span.as_mut()) {
                    span.grpc_status(trailers);
                }
                frame.is_trailers() || this.inner.is_end_stream()
            }
            Some(Err(err)) => {
                let mut call = Call {
                    span: this.span,
                    measure: this.measure,
                };
                call.fail(Failure {
                    kind: Cow::Borrowed(std::any::type_name::<B::Error>()),
                    message: Cow::Owned(err.to_string()),
                });
                call.end();
                true
            }
            None => true,
        };
        if done {
            Call {
                span: this.span,
                measure: this.measure,
            }
            .end();
        }
        Poll::Ready(result)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B: Body> fmt::Debug for ClientResponseBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientResponseBody")
            .field("recorded", &self.span.is_some())
            .finish_non_exhaustive()
    }
}
