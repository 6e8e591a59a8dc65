//! [`ResponseFuture`]: polls the service under the request's context (so handler
//! spans nest under the server span), records errors and panics, and when the
//! response head exists, hands the span on to the response body.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context as TaskContext, Poll};

use http::Response;
use opentelemetry::Context;
use pin_project_lite::pin_project;

use super::decision::Tracked;
use super::response_body::ResponseBody;
use super::state::TraceHeaders;
use crate::conventions::failure::{panic_message, Failure};
use crate::metrics::{Measure, Outcome};
use crate::propagation::traceparent_of;
use crate::record::Recording;

pin_project! {
    /// The response future of [`TracingService`](crate::layer::TracingService).
    ///
    /// While the inner future runs, the request's OpenTelemetry context is current,
    /// so spans made in the handler are children of the server span.
    ///
    /// ```
    /// use tower::{Service, ServiceExt};
    /// use tower_otel_tracing::layer::ResponseFuture;
/// use tower_otel_tracing::{TracingConfig, TracingLayer};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let mut svc = tower::ServiceBuilder::new()
    ///     .layer(TracingLayer::from_config(TracingConfig::default()))
    ///     .service_fn(|_req: http::Request<_>| async {
    ///         Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    ///     });
    /// let future = svc.ready().await.unwrap().call(http::Request::new(String::new()));
    /// let response = future.await.unwrap();
    /// # }
    /// ```
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        state: State,
        trace_headers: Option<Arc<TraceHeaders>>,
    }
}

/// What the future does for its request besides polling the inner future.
enum State {
    Untraced,
    /// Attached while polling, so the handler sees the unsampled trace; and
    /// its measure, when requests are measured.
    Unsampled(Context, Option<Measure>),
    /// Recorded: its record, until the response head exists.
    Recorded(PendingRecord),
    Done,
}

/// If the future is dropped before the response head exists (the client went away
/// mid-handler), the record still ends, as cancelled.
struct PendingRecord(Option<Recording>);

impl Drop for PendingRecord {
    fn drop(&mut self) {
        if let Some(rs) = self.0.take() {
            rs.end_cancelled();
        }
    }
}

impl PendingRecord {
    /// Hands the record on (to the response body, or to be ended here): no longer pending.
    fn into_inner(mut self) -> Option<Recording> {
        self.0.take()
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(
        inner: F,
        tracked: Tracked,
        trace_headers: Option<Arc<TraceHeaders>>,
    ) -> Self {
        let state = match tracked {
            Tracked::Untraced => State::Untraced,
            Tracked::Unsampled(cx, measure) => State::Unsampled(cx, measure),
            Tracked::Excluded(cx) => State::Unsampled(cx, None),
            Tracked::Recorded(rs) => State::Recorded(PendingRecord(Some(rs))),
        };
        ResponseFuture {
            inner,
            state,
            trace_headers,
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: fmt::Display,
    B: http_body::Body,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut inner = this.inner;
        let output = match &*this.state {
            State::Untraced | State::Done | State::Recorded(PendingRecord(None)) => {
                ready!(inner.as_mut().poll(cx))
            }
            State::Unsampled(otel_cx, measure) => {
                let _attached = otel_cx.clone().attach();
                match measure {
                    None => ready!(inner.as_mut().poll(cx)),
                    Some(measure) => {
                        match panic::catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll(cx))) {
                            Ok(poll) => ready!(poll),
                            Err(payload) => {
                                measure.end(&Outcome {
                                    failure: Some("panic"),
                                    ..Outcome::default()
                                });
                                panic::resume_unwind(payload)
                            }
                        }
                    }
                }
            }
            State::Recorded(PendingRecord(Some(rs))) => {
                let _attached = rs.cx().clone().attach();
                match panic::catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll(cx))) {
                    Ok(poll) => ready!(poll),
                    Err(payload) => {
                        rs.fail(Failure {
                            kind: Cow::Borrowed("panic"),
                            message: Cow::Owned(panic_message(&*payload)),
                        });
                        rs.end();
                        if let State::Recorded(pending) = std::mem::replace(this.state, State::Done)
                        {
                            pending.into_inner();
                        }
                        panic::resume_unwind(payload)
                    }
                }
            }
        };
        let state = std::mem::replace(this.state, State::Done);
        Poll::Ready(match output {
            Ok(mut response) => Ok(match state {
                State::Recorded(pending) => {
                    let Some(rs) = pending.into_inner() else {
                        return Poll::Ready(Ok(response.map(ResponseBody::untraced)));
                    };
                    if let Some(names) = this.trace_headers.as_deref() {
                        insert_trace_headers(&mut response, names, rs.cx());
                    }
                    let status = response.status().as_u16();
                    // Sent in one step: the frame begins as it ends.
                    rs.response_started(status, response.headers(), None);
                    rs.grpc_status(response.headers());
                    response.map(|body| ResponseBody::traced(body, rs))
                }
                State::Unsampled(otel_cx, measure) => {
                    if let Some(names) = this.trace_headers.as_deref() {
                        insert_trace_headers(&mut response, names, &otel_cx);
                    }
                    match measure {
                        None => response.map(ResponseBody::untraced),
                        Some(mut measure) => {
                            measure.responded(
                                response.status().as_u16(),
                                response.headers(),
                                || traced_ids(&otel_cx),
                            );
                            response.map(|body| ResponseBody::measured(body, measure))
                        }
                    }
                }
                State::Untraced | State::Done => response.map(ResponseBody::untraced),
            }),
            Err(err) => {
                match state {
                    State::Recorded(pending) => {
                        if let Some(rs) = pending.into_inner() {
                            rs.fail(Failure {
                                kind: Cow::Borrowed(std::any::type_name::<E>()),
                                message: Cow::Owned(err.to_string()),
                            });
                            rs.end();
                        }
                    }
                    State::Unsampled(otel_cx, Some(measure)) => measure.end(&Outcome {
                        failure: Some(std::any::type_name::<E>()),
                        traced: traced_ids(&otel_cx),
                        ..Outcome::default()
                    }),
                    _ => {}
                }
                Err(err)
            }
        })
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

fn insert_trace_headers<B>(response: &mut Response<B>, names: &TraceHeaders, cx: &Context) {
    use opentelemetry::trace::TraceContextExt;
    let span = cx.span();
    let sc = span.span_context();
    let headers = response.headers_mut();
    if let Some(ids) = &names.ids {
        if let Ok(v) = http::HeaderValue::from_str(&sc.trace_id().to_string()) {
            headers.insert(ids.trace_id.clone(), v);
        }
        if let Ok(v) = http::HeaderValue::from_str(&sc.span_id().to_string()) {
            headers.insert(ids.span_id.clone(), v);
        }
    }
    if names.server_timing {
        if let Some(traceparent) = traceparent_of(cx) {
            let mut metric = String::with_capacity(66);
            metric.push_str("trace;desc=");
            metric.push_str(&traceparent);
            // Appended: the service may send server-timing metrics of its own.
            if let Ok(v) = http::HeaderValue::try_from(metric) {
                headers.append(http::header::HeaderName::from_static("server-timing"), v);
            }
        }
    }
}

/// The trace and span of an unsampled request's context, for the exemplars of
/// the `always_on` filter.
fn traced_ids(
    cx: &Context,
) -> Option<(opentelemetry::trace::TraceId, opentelemetry::trace::SpanId)> {
    use opentelemetry::trace::TraceContextExt;
    let span = cx.span();
    let sc = span.span_context();
    sc.is_valid().then(|| (sc.trace_id(), sc.span_id()))
}
