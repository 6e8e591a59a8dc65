use std::fmt;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use http::{Request, Response};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanContext, SpanKind, TraceContextExt, TraceFlags, Tracer};
use opentelemetry::Context;
use opentelemetry_http::HeaderExtractor;
use opentelemetry_sdk::trace::IdGenerator;
use tower_service::Service;

use crate::attributes::{
    exclusion_url, request_attributes, sanitize_method, span_name, HTTP_ROUTE,
};
use crate::body::ResponseBody;
use crate::connection;
use crate::future::ResponseFuture;
use crate::grpc;
use crate::layer::Shared;
use crate::recorded_headers;
use crate::request_body::RequestBody;
use crate::request_span::{ChildNames, RequestSpan};
use crate::sampler::presampled;
use crate::trace_info::TraceInfo;

/// The service [`TracingLayer`](crate::TracingLayer) wraps around yours.
///
/// The inner service sees the request body wrapped in [`RequestBody`] (so each frame
/// it reads can be recorded) and returns its response, whose body is wrapped in
/// [`ResponseBody`] (so the server span lasts until the last frame is sent).
///
/// ```
/// use tower::ServiceExt;
/// use tower_otel_tracing::{RequestBody, TracingConfig, TracingLayer};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let svc = tower::ServiceBuilder::new()
///     .layer(TracingLayer::from_config(TracingConfig::default()))
///     .service_fn(|_req: http::Request<RequestBody<String>>| async {
///         Ok::<_, std::convert::Infallible>(http::Response::new(String::from("ok")))
///     });
/// let resp = svc.oneshot(http::Request::new(String::new())).await.unwrap();
/// assert_eq!(resp.status(), 200);
/// # }
/// ```
#[derive(Clone)]
pub struct TracingService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> TracingService<S> {
    pub(crate) fn new(inner: S, shared: Arc<Shared>) -> Self {
        TracingService { inner, shared }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: fmt::Debug> fmt::Debug for TracingService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracingService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

/// How a request is traced, decided when it arrives.
pub(crate) enum Tracked {
    /// Tracing is off: no span, no context.
    Untraced,
    /// An excluded URL: no span, and a context that suppresses every span made
    /// while it runs and carries a not-sampled trace to outgoing calls.
    Excluded(Context),
    /// Not recorded, but it has a trace id and a context that handlers and
    /// outgoing calls see (so downstream services do not sample it either).
    Unsampled(Context),
    /// Recorded.
    Sampled(Arc<RequestSpan>),
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for TracingService<S>
where
    S: Service<Request<RequestBody<ReqBody>>, Response = Response<ResBody>>,
    S::Error: fmt::Display,
    ResBody: http_body::Body,
    ResBody::Error: fmt::Display,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let tracked = start(&self.shared, &mut req);
        let body_span = match &tracked {
            Tracked::Sampled(rs) => Some(rs.clone()),
            _ => None,
        };
        let req = req.map(|b| RequestBody::new(b, body_span));
        let headers = match tracked {
            Tracked::Untraced | Tracked::Excluded(_) => None,
            _ => self.shared.trace_headers.clone(),
        };
        ResponseFuture::new(self.inner.call(req), tracked, headers)
    }
}

/// Decides how `req` is traced and, when sampled, starts its server span.
/// Everything costly (attributes, the span name, an SDK span) happens only once a
/// request is known to be recorded.
fn start<B>(shared: &Arc<Shared>, req: &mut Request<B>) -> Tracked {
    if shared.disabled {
        return Tracked::Untraced;
    }
    if let Some(excluded) = &shared.excluded {
        let (local, _) = connection::addresses(req.extensions(), shared.local_addr);
        if excluded.is_excluded(&exclusion_url(req, local)) {
            return excluded_context(shared);
        }
    }
    let parent_cx = extract_parent(shared, req.headers());

    if let Some(policy) = shared.policy {
        let parent = parent_cx.span().span_context().clone();
        let trace_id = if parent.is_valid() {
            parent.trace_id()
        } else {
            shared.ids.new_trace_id()
        };
        if !policy.sampled(&parent, trace_id) {
            return unsampled(shared, req, &parent_cx, &parent, trace_id);
        }
        let (name, attributes, grpc) = describe(shared, req);
        let children = ChildNames::new(&shared.options, &name);
        let builder = shared
            .tracer
            .span_builder(name)
            .with_kind(SpanKind::Server)
            .with_attributes(attributes);
        let span = presampled(|| shared.tracer.build_with_context(builder, &parent_cx));
        return sampled(shared, req, parent_cx.with_span(span), children, grpc);
    }

    // A user-supplied provider samples; ask it with a bare span first.
    let (name, attributes, grpc) = describe(shared, req);
    let children = ChildNames::new(&shared.options, &name);
    let builder = shared.tracer.span_builder(name).with_kind(SpanKind::Server);
    let mut span = shared.tracer.build_with_context(builder, &parent_cx);
    if opentelemetry::trace::Span::is_recording(&span) {
        opentelemetry::trace::Span::set_attributes(&mut span, attributes);
        sampled(shared, req, parent_cx.with_span(span), children, grpc)
    } else {
        let sc = opentelemetry::trace::Span::span_context(&span).clone();
        insert_info(req, &sc, false);
        Tracked::Unsampled(parent_cx.with_span(span))
    }
}

/// What an excluded request runs under. Suppression stops the SDK from recording
/// any span the handler makes (directly or through the tracing bridge), whatever
/// the sampler says; the not-sampled span context makes outgoing calls tell the
/// callee not to record either. It costs what an unsampled request costs.
fn excluded_context(shared: &Shared) -> Tracked {
    let sc = SpanContext::new(
        shared.ids.new_trace_id(),
        shared.ids.new_span_id(),
        TraceFlags::default(),
        false,
        opentelemetry::trace::TraceState::default(),
    );
    Tracked::Excluded(
        Context::current()
            .with_telemetry_suppressed()
            .with_remote_span_context(sc),
    )
}

/// The remote parent and baggage. Most requests carry neither header; skipping
/// the propagators for them keeps the common unsampled path short.
fn extract_parent(shared: &Shared, headers: &http::HeaderMap) -> Context {
    if shared.propagation.any_field_in(headers) {
        shared
            .propagation
            .composite
            .extract(&HeaderExtractor(headers))
    } else {
        Context::current()
    }
}

fn unsampled<B>(
    shared: &Shared,
    req: &mut Request<B>,
    parent_cx: &Context,
    parent: &SpanContext,
    trace_id: opentelemetry::trace::TraceId,
) -> Tracked {
    let sc = SpanContext::new(
        trace_id,
        shared.ids.new_span_id(),
        TraceFlags::default(),
        false,
        parent.trace_state().clone(),
    );
    insert_info(req, &sc, false);
    Tracked::Unsampled(parent_cx.with_remote_span_context(sc))
}

fn sampled<B>(
    shared: &Arc<Shared>,
    req: &mut Request<B>,
    cx: Context,
    children: ChildNames,
    grpc: bool,
) -> Tracked {
    insert_info(req, cx.span().span_context(), true);
    Tracked::Sampled(Arc::new(RequestSpan::new(
        shared.clone(),
        cx,
        children,
        grpc,
    )))
}

/// The server span's name and attributes, and whether the request is gRPC.
fn describe<B>(shared: &Shared, req: &Request<B>) -> (String, Vec<opentelemetry::KeyValue>, bool) {
    let method = sanitize_method(req.method());
    // Only recorded requests need the connection's addresses.
    let (local, peer) = connection::addresses(req.extensions(), shared.local_addr);
    let route = if shared.options.route_names {
        matched_route(req)
    } else {
        None
    };
    let name = span_name(method, route.unwrap_or(req.uri().path()));
    let mut attributes = request_attributes(req, method, local, peer, &shared.texts);
    if let Some(route) = route {
        attributes.push(opentelemetry::KeyValue::new(HTTP_ROUTE, route.to_owned()));
    }
    recorded_headers::push(
        &shared.recorded_headers.request,
        req.headers(),
        &mut attributes,
    );
    let grpc = grpc::is_grpc(req);
    if grpc {
        grpc::push_rpc_attributes(req.uri().path(), &mut attributes);
    }
    (name, attributes, grpc)
}

/// The route template the router matched (`/users/{id}`), where the stack knows one.
fn matched_route<B>(req: &Request<B>) -> Option<&str> {
    #[cfg(feature = "axum")]
    if let Some(path) = req.extensions().get::<axum::extract::MatchedPath>() {
        return Some(path.as_str());
    }
    let _ = req;
    None
}

fn insert_info<B>(req: &mut Request<B>, sc: &SpanContext, sampled: bool) {
    req.extensions_mut().insert(TraceInfo {
        trace_id: sc.trace_id(),
        span_id: sc.span_id(),
        sampled,
    });
}
