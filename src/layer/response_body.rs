//! [`ResponseBody`]: records each frame sent, and ends the server span after the
//! last one, or as cancelled when the body is dropped before it.

use std::borrow::Cow;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use bytes::Buf;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use crate::clock::{tick, Tick};
use crate::conventions::failure::{panic_message, Failure};
use crate::conventions::message::Message;
use crate::metrics::Measure;
use crate::record::Recording;

pin_project! {
    /// The response body of [`TracingService`](crate::layer::TracingService).
    ///
    /// Each frame it yields is recorded as an `http send` span of type
    /// `http.response.body`, up to `max_frame_spans` data frames; every data frame
    /// and its bytes are counted on the server span
    /// (`tower_otel_tracing.response.*`). The server span ends after the last
    /// frame, or, if the body is dropped before that (the client went away), ends
    /// marked cancelled (`http.cancelled` in the legacy conventions,
    /// `tower_otel_tracing.cancelled` in the stable ones; never an error).
    ///
    /// ```
    /// use tower::ServiceExt;
    /// use tower_otel_tracing::layer::ResponseBody;
    /// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let svc = tower::ServiceBuilder::new()
    ///     .layer(TracingLayer::from_config(TracingConfig::default()))
    ///     .service_fn(|_req: http::Request<_>| async {
    ///         Ok::<_, std::convert::Infallible>(http::Response::new(String::from("ok")))
    ///     });
    /// let resp: http::Response<ResponseBody<String>> =
    ///     svc.oneshot(http::Request::new(String::new())).await.unwrap();
    /// # }
    /// ```
    pub struct ResponseBody<B>
    where
        B: Body,
    {
        #[pin]
        inner: B,
        state: Option<SendState>,
        // An unsampled request's measure, ended with the body.
        measured: Option<Measure>,
    }

    impl<B> PinnedDrop for ResponseBody<B>
    where
        B: Body,
    {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(state) = this.state.take() {
                // A body already complete (e.g. empty) may be dropped without a poll.
                if this.inner.is_end_stream() {
                    state.finish(None);
                } else {
                    state.rs.end_cancelled();
                }
            }
            if let Some(measured) = this.measured.take() {
                measured.end_sent(None);
            }
        }
    }
}

struct SendState {
    rs: Recording,
    /// When a poll first found the next frame not ready: a send span covers the wait.
    frame_start: Option<Tick>,
    /// Whether a data frame was sent (its span may have been capped).
    data_frames: bool,
}

impl SendState {
    /// Ends the exchange. A response with no data frame still sends one (empty)
    /// body message, as ASGI does, so its span is recorded too.
    fn finish(self, start: Option<Tick>) {
        if !self.data_frames {
            self.rs.frame(Message::ResponseBody, start);
        }
        self.rs.end();
    }
}

impl<B: Body> ResponseBody<B> {
    pub(crate) fn traced(inner: B, rs: Recording) -> Self {
        ResponseBody {
            inner,
            state: Some(SendState {
                rs,
                frame_start: None,
                data_frames: false,
            }),
            measured: None,
        }
    }

    pub(crate) fn untraced(inner: B) -> Self {
        ResponseBody {
            inner,
            state: None,
            measured: None,
        }
    }

    /// An unsampled request's response: not recorded, but measured until
    /// its last frame.
    pub(crate) fn measured(inner: B, measure: Measure) -> Self {
        ResponseBody {
            inner,
            state: None,
            measured: Some(measure),
        }
    }
}

impl<B> Body for ResponseBody<B>
where
    B: Body,
    B::Error: fmt::Display,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        let Some(state) = this.state.as_mut() else {
            let result = this.inner.as_mut().poll_frame(cx);
            if let Some(measured) = this.measured.as_mut() {
                let failure = match &result {
                    Poll::Ready(Some(Ok(frame))) => {
                        if let Some(data) = frame.data_ref() {
                            measured.sent(data.remaining() as u64);
                        } else if let Some(trailers) = frame.trailers_ref() {
                            measured.trailers(trailers);
                        }
                        if !this.inner.is_end_stream() {
                            return result;
                        }
                        None
                    }
                    Poll::Ready(Some(Err(_))) => Some(std::any::type_name::<B::Error>()),
                    Poll::Ready(None) => None,
                    Poll::Pending => return result,
                };
                if let Some(measured) = this.measured.take() {
                    measured.end_sent(failure);
                }
            }
            return result;
        };
        let mut inner = this.inner.as_mut();
        let result = match panic::catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll_frame(cx))) {
            // As in the request body: the span covers the wait, if any.
            Ok(Poll::Pending) => {
                state.frame_start.get_or_insert_with(tick);
                return Poll::Pending;
            }
            Ok(Poll::Ready(result)) => result,
            Err(payload) => {
                state.rs.fail(Failure {
                    kind: Cow::Borrowed("panic"),
                    message: Cow::Owned(panic_message(&*payload)),
                });
                state.rs.end();
                *this.state = None;
                panic::resume_unwind(payload)
            }
        };
        let start = state.frame_start.take();
        let done = match &result {
            Some(Ok(frame)) if frame.is_data() => {
                // An empty DATA frame (HTTP/2 end of stream) sends no message.
                if let Some(data) = frame.data_ref().filter(|d| d.has_remaining()) {
                    state.data_frames = true;
                    state.rs.sent(start, data.remaining());
                }
                this.inner.is_end_stream()
            }
            Some(Ok(frame)) => {
                if let Some(trailers) = frame.trailers_ref() {
                    state.rs.grpc_status(trailers);
                }
                state.rs.frame(Message::ResponseTrailers, start);
                true
            }
            Some(Err(err)) => {
                state.rs.fail(Failure {
                    kind: Cow::Borrowed(std::any::type_name::<B::Error>()),
                    message: Cow::Owned(err.to_string()),
                });
                true
            }
            None => true,
        };
        if done {
            if let Some(state) = this.state.take() {
                state.finish(start);
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

impl<B: Body> fmt::Debug for ResponseBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseBody")
            .field("traced", &self.state.is_some())
            .finish_non_exhaustive()
    }
}
