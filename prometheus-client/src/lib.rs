//! Fast, exact Prometheus instrumentation.
//!
//! Create metrics, register them, update them from any thread at the cost of an atomic
//! operation, and render them exactly as Prometheus text 0.0.4 or OpenMetrics 1.0.
//!
//! ```
//! use prometheus_client::{Counter, Family, Gauge, Histogram, Registry, encoding::Format};
//!
//! let registry = Registry::new();
//! let requests = registry.register(
//!     "http_requests", "Requests served.",
//!     Family::<(String, u16), Counter>::new(["method", "status"]),
//! )?;
//! let in_flight = registry.register("http_in_flight", "Requests being served.", Gauge::<i64>::default())?;
//! let latency = registry.register_with_unit(
//!     "http_request_duration", "Time to serve a request.", "seconds",
//!     Histogram::with_buckets(&[0.01, 0.1, 1.0])?,
//! )?;
//!
//! // In the request handler: keep the child handle to skip the lookup next time.
//! let ok = requests.get_or_create(&("GET", 200u16));
//! in_flight.inc();
//! ok.inc();
//! latency.observe(0.042);
//! in_flight.dec();
//!
//! assert_eq!(registry.encode_to_string(Format::OpenMetrics)?, "\
//! ## TYPE http_in_flight gauge
//! ## HELP http_in_flight Requests being served.
//! http_in_flight 0
//! ## TYPE http_request_duration_seconds histogram
//! ## UNIT http_request_duration_seconds seconds
//! ## HELP http_request_duration_seconds Time to serve a request.
//! http_request_duration_seconds_bucket{le=\"0.01\"} 0
//! http_request_duration_seconds_bucket{le=\"0.1\"} 1
//! http_request_duration_seconds_bucket{le=\"1.0\"} 1
//! http_request_duration_seconds_bucket{le=\"+Inf\"} 1
//! http_request_duration_seconds_count 1
//! http_request_duration_seconds_sum 0.042
//! ## TYPE http_requests counter
//! ## HELP http_requests Requests served.
//! http_requests_total{method=\"GET\",status=\"200\"} 1
//! ## EOF
//! ");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Derived metrics
//!
//! With the `derive` feature (on by default), a struct of metrics registers itself: names from
//! the fields, HELP from the doc comments, units, buckets, label names and typed label sets
//! from attributes, all checked at compile time.
//!
//! ```
//! use prometheus_client::{
//!     Counter, Family, Global, Histogram, LabelSet, LabelValue, Metrics, Registry, encoding::Format,
//! };
//!
//! #[derive(Clone, Debug, PartialEq, Eq, Hash, LabelValue)]
//! #[label_value(rename_all = "UPPERCASE")]
//! enum Method { Get, Post }
//!
//! #[derive(Debug, LabelSet)]
//! struct Route {
//!     method: Method,
//!     #[label(rename = "code")]
//!     status: u16,
//! }
//!
//! #[derive(Metrics)]
//! #[metrics(prefix = "http")]
//! struct HttpMetrics {
//!     /// Requests served.
//!     requests: Family<Route, Counter>,
//!     /// Time to serve a request.
//!     #[metric(unit = "seconds", buckets = [0.01, 0.1, 1.0])]
//!     latency: Histogram,
//! }
//!
//! let registry = Registry::new();
//! let http = HttpMetrics::register(&registry)?;
//! http.requests.get_or_create(&Route { method: Method::Get, status: 200 }).inc();
//! http.latency.observe(0.05);
//! assert_eq!(registry.encode_to_string(Format::Text)?, "\
//! ## HELP http_latency_seconds Time to serve a request.
//! ## TYPE http_latency_seconds histogram
//! http_latency_seconds_bucket{le=\"0.01\"} 0
//! http_latency_seconds_bucket{le=\"0.1\"} 1
//! http_latency_seconds_bucket{le=\"1\"} 1
//! http_latency_seconds_bucket{le=\"+Inf\"} 1
//! http_latency_seconds_sum 0.05
//! http_latency_seconds_count 1
//! ## HELP http_requests_total Requests served.
//! ## TYPE http_requests_total counter
//! http_requests_total{code=\"200\",method=\"GET\"} 1
//! ");
//! assert_eq!(registry.encode_to_string(Format::OpenMetrics)?, "\
//! ## TYPE http_latency_seconds histogram
//! ## UNIT http_latency_seconds seconds
//! ## HELP http_latency_seconds Time to serve a request.
//! http_latency_seconds_bucket{le=\"0.01\"} 0
//! http_latency_seconds_bucket{le=\"0.1\"} 1
//! http_latency_seconds_bucket{le=\"1.0\"} 1
//! http_latency_seconds_bucket{le=\"+Inf\"} 1
//! http_latency_seconds_count 1
//! http_latency_seconds_sum 0.05
//! ## TYPE http_requests counter
//! ## HELP http_requests Requests served.
//! http_requests_total{code=\"200\",method=\"GET\"} 1
//! ## EOF
//! ");
//!
//! // A process-wide instance, registered in the default registry on first use.
//! static HTTP: Global<HttpMetrics> = Global::new();
//! HTTP.get().latency.observe(0.2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The modules: [`metrics`](crate#metric-types) (one type a file), [`Registry`],
//! [`encoding`] (formats and negotiation), [`labels`] (label sets), [`desc`] (name rules).
//!
//! Features: `derive` (default), `http` (the `/metrics` server and service), `tls` (TLS,
//! client certificates and basic auth from an exporter-toolkit web config, for both servers,
//! and `https://` scrapes), `pull` (the pull server), `protobuf` (the protobuf exposition,
//! written and read), `push` (a Pushgateway client), `metrics` (a recorder for the `metrics`
//! crate's macros), `tower` and `axum` (HTTP middleware). [`process`] is always there.
//!
//! # Metric types
//! [`Counter`], [`Gauge`], [`Histogram`], [`NativeHistogram`], [`Summary`], [`Info`],
//! [`StateSet`], [`Unknown`], and [`Family`] for any of them with labels (bounded with
//! [`Family::with_max_children`] and [`Family::with_idle_expiry`] where needed). Custom metrics implement [`Metric`];
//! values computed at scrape time come from a [`Collector`], which can relay histograms and
//! summaries computed elsewhere as [`ConstHistogram`] and [`ConstSummary`].

#![deny(missing_docs)]

mod collector;
mod derive_support;
pub mod desc;
pub mod encoding;
#[cfg(feature = "metrics")]
pub mod facade;
#[cfg(feature = "http")]
pub mod http;
pub mod labels;
mod metrics;
#[cfg(feature = "tower")]
pub mod middleware;
pub mod parse;
pub mod process;
#[cfg(feature = "pull")]
pub mod pull;
#[cfg(feature = "push")]
pub mod push;
mod registry;
mod sync;

pub use collector::{CollectError, CollectedFamilies, Collector};
pub use derive_support::{Global, Metrics};
pub use desc::MetricType;
pub use labels::{LabelError, LabelSet, LabelValue};
pub use metrics::buckets::{BucketError, Buckets, DEFAULT_BUCKETS};
pub use metrics::child_limits::Overflow;
pub use metrics::constant::{ConstHistogram, ConstMetricError, ConstSummary};
pub use metrics::counter::{Counter, NegativeIncrement};
pub use metrics::exemplar::{Exemplar, ExemplarError, MAX_EXEMPLAR_CHARS};
pub use metrics::family::Family;
pub use metrics::gauge::Gauge;
pub use metrics::histogram::{Histogram, HistogramSnapshot, HistogramTimer};
pub use metrics::info::Info;
pub use metrics::native::{
    NativeConfig, NativeConfigError, NativeHistogram, NativeSnapshot, DEFAULT_ZERO_THRESHOLD,
    MAX_BUCKET_LIMIT,
};
pub use metrics::stateset::{StateSet, StateSetError, MAX_STATES};
pub use metrics::summary::{Summary, SummaryBuilder, SummaryError};
pub use metrics::timestamped::Timestamped;
pub use metrics::unknown::Unknown;
pub use metrics::{ChildLabels, Metric, Number, TypedMetric};
pub use registry::{default_registry, EncodeError, RegisterError, Registry};

/// Derives [`LabelSet`] for a struct whose fields are label values.
#[cfg(feature = "derive")]
pub use prometheus_client_derive::LabelSet;
/// Derives [`LabelValue`] for a fieldless enum.
#[cfg(feature = "derive")]
pub use prometheus_client_derive::LabelValue;
/// Derives [`Metrics`] for a struct whose fields are metrics; see the crate-level docs.
#[cfg(feature = "derive")]
pub use prometheus_client_derive::Metrics;
