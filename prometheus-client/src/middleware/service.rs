//! The service the layer wraps around another, and the future that records the answer.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Instant;

use http::{Request, Response};
use pin_project_lite::pin_project;

use super::labels::{self, Route};
use super::Families;
use crate::Gauge;

/// A service recording the RED metrics of the one it wraps (made by
/// [`HttpMetricsLayer`](super::HttpMetricsLayer)).
#[derive(Clone)]
pub struct HttpMetricsService<S> {
    inner: S,
    families: Arc<Families>,
}

impl<S> HttpMetricsService<S> {
    pub(super) fn new(inner: S, families: Arc<Families>) -> Self {
        HttpMetricsService { inner, families }
    }
}

impl<S: std::fmt::Debug> std::fmt::Debug for HttpMetricsService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpMetricsService")
            .field("inner", &self.inner)
            .finish()
    }
}

impl<S, RequestBody, ResponseBody> tower::Service<Request<RequestBody>> for HttpMetricsService<S>
where
    S: tower::Service<Request<RequestBody>, Response = Response<ResponseBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<RequestBody>) -> Self::Future {
        let method = labels::method(request.method());
        let route = Route::of(request.extensions());
        let in_flight = self
            .families
            .in_flight
            .get_or_create(&(method, route.as_str()));
        in_flight.inc();
        let recording = Recording {
            families: Arc::clone(&self.families),
            method,
            route,
            start: Instant::now(),
            _in_flight: InFlight(in_flight),
        };
        ResponseFuture {
            inner: self.inner.call(request),
            recording: Some(recording),
        }
    }
}

pin_project! {
    /// The wrapped service's future, recording the request when it answers.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        recording: Option<Recording>,
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("answered", &self.recording.is_none())
            .finish()
    }
}

impl<F, ResponseBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResponseBody>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        if let Some(recording) = this.recording.take() {
            recording.finish(result.as_ref().ok().map(|r| r.status().as_u16()));
        }
        Poll::Ready(result)
    }
}

/// What a request's answer is recorded with.
struct Recording {
    families: Arc<Families>,
    method: &'static str,
    route: Route,
    start: Instant,
    _in_flight: InFlight,
}

impl Recording {
    fn finish(self, status: Option<u16>) {
        let seconds = self.start.elapsed().as_secs_f64();
        let mut buffer = itoa::Buffer::new();
        let code = match status {
            Some(status) => self.families.status.label(status, &mut buffer),
            None => "error",
        };
        let labels = (self.method, self.route.as_str(), code);
        self.families.requests.with(&labels, |c| c.inc());
        self.families.duration.with(&labels, |h| h.observe(seconds));
    }
}

/// Takes a request out of the in-flight gauge when it is answered or abandoned.
struct InFlight(Gauge<i64>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}
