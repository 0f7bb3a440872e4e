//! The request handler: negotiation, compression, limits, errors and self-metrics.

use std::convert::Infallible;
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;
use http_body_util::Full;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{plain, response};
use crate::encoding::{negotiate_with_escaping, Escaping, Format};
use crate::{Buckets, Counter, Family, Histogram, RegisterError, Registry};

/// Serves a registry's metrics for `GET` and `HEAD` requests, whatever their path: mount it
/// on your own route. Cheap to clone; clones share limits and counts.
///
/// ```
/// use http_body_util::BodyExt;
/// use prometheus_client::{Counter, Registry, http::MetricsService};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let registry = Registry::new();
/// registry.register("jobs", "Jobs done.", Counter::new())?.inc();
/// let service = MetricsService::new(registry);
/// let request = hyper::Request::get("/metrics")
///     .header("accept", "application/openmetrics-text;version=1.0.0")
///     .body(())?;
/// let response = service.handle(request).await;
/// assert_eq!(response.status(), 200);
/// assert_eq!(
///     response.headers()["content-type"],
///     "application/openmetrics-text; version=1.0.0; charset=utf-8"
/// );
/// let body = response.into_body().collect().await?.to_bytes();
/// assert!(body.ends_with(b"jobs_total 1\n# EOF\n"));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct MetricsService {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    format: Option<Format>,
    encodes: Arc<Semaphore>,
    size_hint: AtomicUsize,
    errors: AtomicU64,
    self_metrics: Option<SelfMetrics>,
}

/// The handler's own metrics, registered in the served registry when asked for.
struct SelfMetrics {
    requests: Family<[String; 1], Counter>,
    errors: Family<[String; 1], Counter>,
    encode_duration: Histogram,
}

/// Options for a [`MetricsService`].
///
/// ```
/// use prometheus_client::{Registry, encoding::Format, http::MetricsService};
/// let service = MetricsService::builder(Registry::new())
///     .max_concurrent_encodes(2)
///     .format(Format::Text)
///     .self_metrics(true)
///     .build()?;
/// # drop(service);
/// # Ok::<(), prometheus_client::RegisterError>(())
/// ```
#[derive(Debug)]
pub struct MetricsServiceBuilder {
    registry: Registry,
    format: Option<Format>,
    max_concurrent_encodes: usize,
    self_metrics: bool,
}

impl MetricsServiceBuilder {
    /// How many scrapes may encode at once (default 4); more get `503` straight away. An
    /// encode holds its slot until it is done, even when its client has gone.
    pub fn max_concurrent_encodes(mut self, n: usize) -> Self {
        self.max_concurrent_encodes = n.clamp(1, Semaphore::MAX_PERMITS);
        self
    }

    /// Always answer in `format`, whatever the client asks (default: negotiate).
    pub fn format(mut self, format: Format) -> Self {
        self.format = Some(format);
        self
    }

    /// Whether to register the handler's own metrics in the served registry:
    /// `metrics_http_requests_total{code}`, `metrics_http_errors_total{cause}` and
    /// `metrics_http_encode_duration_seconds`. Off by default.
    pub fn self_metrics(mut self, on: bool) -> Self {
        self.self_metrics = on;
        self
    }

    /// Builds the service (registering its own metrics, if asked, which may clash).
    pub fn build(self) -> Result<MetricsService, RegisterError> {
        let self_metrics = if self.self_metrics {
            let r = self.registry.sub_registry_with_prefix("metrics_http")?;
            let buckets = Buckets::exponential(0.0001, 4.0, 10).unwrap_or_default();
            Some(SelfMetrics {
                requests: r.register(
                    "requests",
                    "Scrapes answered, by HTTP status code.",
                    Family::new(["code"]),
                )?,
                errors: r.register(
                    "errors",
                    "Scrapes that failed, by cause (encoding, panic, overloaded).",
                    Family::new(["cause"]),
                )?,
                encode_duration: r.register_with_unit(
                    "encode_duration",
                    "Time to encode the registry for one scrape.",
                    "seconds",
                    Histogram::new(buckets),
                )?,
            })
        } else {
            None
        };
        Ok(MetricsService {
            inner: Arc::new(Inner {
                registry: self.registry,
                format: self.format,
                encodes: Arc::new(Semaphore::new(self.max_concurrent_encodes)),
                size_hint: AtomicUsize::new(4096),
                errors: AtomicU64::new(0),
                self_metrics,
            }),
        })
    }
}

/// Why an encode failed, for the `500` body and the error count.
enum Failure {
    Encoding(String),
    Panic,
}

impl MetricsService {
    /// A service with default options: negotiated format, at most 4 concurrent encodes.
    pub fn new(registry: Registry) -> Self {
        MetricsService {
            inner: Arc::new(Inner {
                registry,
                format: None,
                encodes: Arc::new(Semaphore::new(4)),
                size_hint: AtomicUsize::new(4096),
                errors: AtomicU64::new(0),
                self_metrics: None,
            }),
        }
    }

    /// Options for a service.
    pub fn builder(registry: Registry) -> MetricsServiceBuilder {
        MetricsServiceBuilder {
            registry,
            format: None,
            max_concurrent_encodes: 4,
            self_metrics: false,
        }
    }

    /// How many scrapes failed (encoding errors, panics, overload) since the start.
    pub fn errors(&self) -> u64 {
        self.inner.errors.load(Ordering::Relaxed)
    }

    /// Answers one request. Only its method and headers are read; the body is dropped at once,
    /// so the future is `Send` whatever the body type.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<Full<Bytes>> {
        let (parts, body) = request.into_parts();
        drop(body);
        let response = self.respond(&parts.method, &parts.headers).await;
        if let Some(m) = &self.inner.self_metrics {
            m.requests
                .get_or_create(&[response.status().as_str()])
                .inc();
        }
        response
    }

    async fn respond(&self, method: &Method, headers: &HeaderMap) -> Response<Full<Bytes>> {
        if method != Method::GET && method != Method::HEAD {
            let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return response;
        }
        let Ok(permit) = Arc::clone(&self.inner.encodes).try_acquire_owned() else {
            self.count_error("overloaded");
            return plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many concurrent scrapes\n",
            );
        };
        let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
        let (negotiated, escaping) = negotiate_with_escaping(accept.unwrap_or_default());
        let format = self.inner.format.unwrap_or(negotiated);
        let gzip = headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(accepts_gzip);
        match self.encode((format, escaping), gzip, permit).await {
            Ok(body) => {
                let mut response = response(StatusCode::OK, format.content_type(), body);
                let h = response.headers_mut();
                // A registry with UTF-8 names says how it wrote them, as client_golang does.
                if self.inner.registry.allows_utf8_names() {
                    let value =
                        format!("{}; escaping={}", format.content_type(), escaping.as_str());
                    if let Ok(value) = HeaderValue::from_str(&value) {
                        h.insert(header::CONTENT_TYPE, value);
                    }
                }
                h.insert(
                    header::VARY,
                    HeaderValue::from_static("Accept, Accept-Encoding"),
                );
                if gzip {
                    h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                }
                response
            }
            Err(Failure::Encoding(reason)) => {
                self.count_error("encoding");
                plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("encoding failed: {reason}\n"),
                )
            }
            Err(Failure::Panic) => {
                self.count_error("panic");
                plain(StatusCode::INTERNAL_SERVER_ERROR, "encoding panicked\n")
            }
        }
    }

    /// Encodes on a blocking thread, so a large registry does not stall the runtime and a
    /// panicking collector is caught as a failed task. The slot (`permit`) goes with the
    /// task: a client that hangs up does not free it before the encode ends.
    async fn encode(
        &self,
        (format, escaping): (Format, Escaping),
        gzip: bool,
        permit: OwnedSemaphorePermit,
    ) -> Result<Vec<u8>, Failure> {
        let inner = Arc::clone(&self.inner);
        let task = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let start = Instant::now();
            // Sized like the last body, so the buffer is allocated once and never regrown.
            let mut body = Vec::with_capacity(inner.size_hint.load(Ordering::Relaxed));
            inner
                .registry
                .encode_with_escaping(format, escaping, &mut body)
                .map_err(|e| Failure::Encoding(e.to_string()))?;
            inner
                .size_hint
                .store(body.len() + body.len() / 8, Ordering::Relaxed);
            if let Some(m) = &inner.self_metrics {
                m.encode_duration.observe(start.elapsed().as_secs_f64());
            }
            if !gzip {
                return Ok(body);
            }
            let mut encoder =
                GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::fast());
            encoder
                .write_all(&body)
                .and_then(|()| encoder.finish())
                .map_err(|e| Failure::Encoding(format!("gzip: {e}")))
        });
        task.await.unwrap_or(Err(Failure::Panic))
    }

    fn count_error(&self, cause: &str) {
        self.inner.errors.fetch_add(1, Ordering::Relaxed);
        if let Some(m) = &self.inner.self_metrics {
            m.errors.get_or_create(&[cause]).inc();
        }
    }
}

/// Whether an `Accept-Encoding` value allows gzip (`gzip` or `*`, not with `q=0`).
fn accepts_gzip(value: &str) -> bool {
    value.split(',').any(|coding| {
        let mut parts = coding.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
    })
}

impl<B> hyper::service::Service<Request<B>> for MetricsService {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: Request<B>) -> Self::Future {
        let service = self.clone();
        let (parts, _) = request.into_parts();
        let request = Request::from_parts(parts, ());
        Box::pin(async move { Ok(service.handle(request).await) })
    }
}

impl std::fmt::Debug for MetricsService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsService")
            .field("format", &self.inner.format)
            .field("errors", &self.errors())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::accepts_gzip;

    #[test]
    fn gzip_is_accepted_unless_refused() {
        assert!(accepts_gzip("gzip"));
        assert!(accepts_gzip("deflate, GZIP;q=0.5"));
        assert!(accepts_gzip("*"));
        assert!(!accepts_gzip("gzip;q=0"));
        assert!(!accepts_gzip("identity"));
        assert!(!accepts_gzip(""));
    }
}
