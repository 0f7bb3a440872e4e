//! A `tower` layer recording the RED metrics (rate, errors, duration) of any tower, axum or
//! hyper service (feature `tower`; `axum` adds axum's matched route).
//!
//! It registers three families, named as Prometheus' client libraries name them:
//!
//! | family | type | labels |
//! |---|---|---|
//! | `http_requests_total` | counter | `method`, `route`, `code` |
//! | `http_request_duration_seconds` | histogram | `method`, `route`, `code` |
//! | `http_requests_in_flight` | gauge | `method`, `route` |
//!
//! Every label has a bounded set of values, so a client cannot grow the families:
//! - `method`: the nine standard methods as written (`GET`, ...), anything else `OTHER`;
//! - `route`: the route *pattern* the request matched, never the raw path: axum's
//!   `MatchedPath` (feature `axum`; the layer must then be added with `Router::layer` or
//!   `route_layer`, inside the router, where the match is known), or a [`RouteName`] a
//!   router or middleware put in the request's extensions; otherwise `unmatched`;
//! - `code`: the response status (`200`), or its class (`2xx`) with [`StatusLabel::Class`];
//!   a service error (no response) is `error`. A request whose future is dropped before it
//!   answers (the client went away) leaves the in-flight gauge and is not counted.
//!
//! The duration is from the call to the response head. Use a sub-registry
//! ([`Registry::sub_registry_with_prefix`]) for other names.
//!
//! ```
//! use prometheus_client::middleware::{HttpMetricsLayer, RouteName, StatusLabel};
//! use prometheus_client::{encoding::Format, Registry};
//! use tower::{Service, ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let registry = Registry::new();
//! let layer = HttpMetricsLayer::builder().status(StatusLabel::Class).register(&registry)?;
//! let mut service = ServiceBuilder::new().layer(layer).service_fn(|_req: http::Request<()>| async {
//!     Ok::<_, std::convert::Infallible>(http::Response::new(()))
//! });
//! let mut request = http::Request::get("/users/42").body(())?;
//! request.extensions_mut().insert(RouteName::new("/users/{id}"));
//! service.ready().await?.call(request).await?;
//! let text = registry.encode_to_string(Format::Text)?;
//! assert!(text.contains("http_requests_total{method=\"GET\",route=\"/users/{id}\",code=\"2xx\"} 1\n"));
//! # Ok(())
//! # }
//! ```

mod labels;
mod service;

use std::sync::Arc;

pub use labels::{RouteName, StatusLabel};
pub use service::{HttpMetricsService, ResponseFuture};

#[cfg(doc)]
use crate::DEFAULT_BUCKETS;
use crate::{Buckets, Counter, Family, Gauge, Histogram, RegisterError, Registry};

type ThreeLabels = (String, String, String);

/// The families the layer records into.
struct Families {
    requests: Family<ThreeLabels, Counter>,
    duration: Family<ThreeLabels, Histogram>,
    in_flight: Family<(String, String), Gauge<i64>>,
    status: StatusLabel,
}

/// Configures an [`HttpMetricsLayer`].
///
/// ```
/// use prometheus_client::middleware::{HttpMetricsLayer, StatusLabel};
/// use prometheus_client::{Buckets, Registry};
///
/// let registry = Registry::new();
/// let layer = HttpMetricsLayer::builder()
///     .buckets(Buckets::new(&[0.005, 0.05, 0.5, 5.0])?)
///     .status(StatusLabel::Code)
///     .register(&registry)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct HttpMetricsLayerBuilder {
    buckets: Buckets,
    status: StatusLabel,
}

impl HttpMetricsLayerBuilder {
    /// The latency histogram's buckets (default: [`DEFAULT_BUCKETS`], 5 ms to 10 s).
    #[must_use]
    pub fn buckets(mut self, buckets: Buckets) -> Self {
        self.buckets = buckets;
        self
    }

    /// Whether `code` is the status code or its class (default: the code).
    #[must_use]
    pub fn status(mut self, status: StatusLabel) -> Self {
        self.status = status;
        self
    }

    /// Registers the three families in `registry` (all or none) and gives the layer.
    pub fn register(self, registry: &Registry) -> Result<HttpMetricsLayer, RegisterError> {
        let buckets = self.buckets;
        let families = Families {
            requests: Family::new(["method", "route", "code"]),
            duration: Family::new_with_constructor(["method", "route", "code"], move || {
                Histogram::new(buckets.clone())
            }),
            in_flight: Family::new(["method", "route"]),
            status: self.status,
        };
        registry.register(
            "http_requests",
            "Requests answered, by method, matched route and status.",
            families.requests.clone(),
        )?;
        let rest = registry
            .register_with_unit(
                "http_request_duration",
                "Time from a request's arrival to its response head.",
                "seconds",
                families.duration.clone(),
            )
            .and_then(|_| {
                registry.register(
                    "http_requests_in_flight",
                    "Requests being served, by method and matched route.",
                    families.in_flight.clone(),
                )
            });
        if let Err(e) = rest {
            registry.unregister("http_requests_total");
            registry.unregister("http_request_duration_seconds");
            return Err(e);
        }
        Ok(HttpMetricsLayer {
            families: Arc::new(families),
        })
    }
}

/// The `tower::Layer` (see the [module](self)); cheap to clone, all clones record into the
/// same families.
#[derive(Clone)]
pub struct HttpMetricsLayer {
    families: Arc<Families>,
}

impl HttpMetricsLayer {
    /// A builder with the defaults: [`DEFAULT_BUCKETS`], status codes.
    pub fn builder() -> HttpMetricsLayerBuilder {
        HttpMetricsLayerBuilder {
            buckets: Buckets::default(),
            status: StatusLabel::Code,
        }
    }
}

impl std::fmt::Debug for HttpMetricsLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpMetricsLayer")
            .field("status", &self.families.status)
            .finish()
    }
}

impl<S> tower::Layer<S> for HttpMetricsLayer {
    type Service = HttpMetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpMetricsService::new(inner, Arc::clone(&self.families))
    }
}
