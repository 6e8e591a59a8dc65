//! [`RequestBody`]: records each request body frame the service reads.

use std::fmt;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use bytes::Buf;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use crate::clock::{tick, Tick};
use crate::conventions::message::Message;
use crate::record::Recording;

pin_project! {
    /// The request body the inner service receives from
    /// [`TracingService`](crate::layer::TracingService).
    ///
    /// Each frame the service reads is recorded as an `http receive` span of type
    /// `http.request`, covering the wait for the frame (a point when it was there at once),
    /// up to `max_frame_spans` data frames; every data frame and its bytes are
    /// counted on the server span (`tower_otel_tracing.request.*`).
    /// Frameworks accept it wherever they accept a body: axum's `Router` takes any
    /// `http_body::Body<Data = Bytes>`.
    ///
    /// ```
    /// use http_body_util::BodyExt;
    /// use tower_otel_tracing::layer::RequestBody;
    ///
    /// // A plain tower handler behind the layer reads it like any body.
    /// async fn handler(req: http::Request<RequestBody<String>>) -> usize {
    ///     req.into_body().collect().await.map(|c| c.to_bytes().len()).unwrap_or(0)
    /// }
    /// ```
    pub struct RequestBody<B> {
        #[pin]
        inner: B,
        span: Option<Recording>,
        frame_start: Option<Tick>,
    }
}

impl<B> RequestBody<B> {
    pub(crate) fn new(inner: B, span: Option<Recording>) -> Self {
        RequestBody {
            inner,
            span,
            frame_start: None,
        }
    }

    /// The wrapped body.
    ///
    /// ```
    /// use tower::ServiceExt;
    /// use tower_otel_tracing::layer::RequestBody;
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let svc = tower::ServiceBuilder::new()
    ///     .layer(TracingLayer::from_config(TracingConfig::default()))
    ///     .service_fn(|req: http::Request<RequestBody<String>>| async move {
    ///         // Code that needs the concrete body type; frames read from it are not recorded.
    ///         let body: String = req.into_body().into_inner();
    ///         Ok::<_, std::convert::Infallible>(http::Response::new(body))
    ///     });
    /// let resp = svc.oneshot(http::Request::new("hello".to_owned())).await?;
    /// let body = http_body_util::BodyExt::collect(resp.into_body()).await?;
    /// assert_eq!(&body.to_bytes()[..], b"hello");
    /// # Ok(())
    /// # }
    /// ```
    pub fn into_inner(self) -> B {
        self.inner
    }
}

impl<B: Body> Body for RequestBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let Some(rs) = this.span.as_ref() else {
            return this.inner.poll_frame(cx);
        };
        // A frame's span covers the wait for it: from the first poll that
        // found nothing, or none at all when the frame was there at once (one
        // clock read, not two, and none for the poll that finds the body over).
        let result = match this.inner.poll_frame(cx) {
            Poll::Pending => {
                this.frame_start.get_or_insert_with(tick);
                return Poll::Pending;
            }
            Poll::Ready(result) => result,
        };
        let start = this.frame_start.take();
        // HTTP/2 often ends a body with an empty DATA frame: not a message read.
        if let Some(Ok(frame)) = &result {
            match frame.data_ref() {
                Some(data) if data.has_remaining() => rs.received(start, data.remaining()),
                Some(_) => {}
                // Trailers: one message at most, never counted against the cap.
                None => rs.frame(Message::Request, start),
            }
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

impl<B> fmt::Debug for RequestBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBody")
            .field("traced", &self.span.is_some())
            .finish_non_exhaustive()
    }
}
