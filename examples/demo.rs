//! A demo web service's metrics, declared with the derive macros: every metric type, a
//! labelled family with typed labels, a nested group, and label values and HELP text that
//! need escaping. Each simulated request carries a trace id, attached as an exemplar to its
//! request counter and latency bucket. The examples print, serve or scrape it; the tests
//! check it with external parsers and a real Prometheus.

#[path = "promql_conformance.rs"]
pub mod promql_conformance;

use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};

use prometheus_client::{
    Counter, Family, Gauge, Histogram, Info, LabelSet, LabelValue, Metrics, NativeHistogram,
    RegisterError, Registry, StateSet, Summary,
};

/// An HTTP method, as a label value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, LabelValue)]
#[label_value(rename_all = "UPPERCASE")]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
}

impl Method {
    /// The method a label value names.
    pub fn from_label(value: &str) -> Option<Method> {
        match value {
            "GET" => Some(Method::Get),
            "POST" => Some(Method::Post),
            _ => None,
        }
    }
}

/// The labels of a served request.
#[derive(Clone, Debug, PartialEq, Eq, Hash, LabelSet)]
pub struct Request {
    /// Its method.
    pub method: Method,
    /// Its path, query string included.
    pub path: String,
    /// The status answered.
    pub status: u16,
}

/// Labels by method alone.
#[derive(Clone, Debug, PartialEq, Eq, Hash, LabelSet)]
pub struct ByMethod {
    /// The method.
    pub method: Method,
}

/// Background work, a nested group.
#[derive(Metrics)]
#[metrics(prefix = "jobs")]
pub struct JobMetrics {
    /// Background jobs processed.
    pub processed: Counter,
}

/// The service's metrics, all registered by one call.
#[derive(Metrics)]
#[metrics(prefix = "demo")]
pub struct ServiceMetrics {
    /// Requests served, by method, path and status.
    /// Paths keep their query strings and backslashes (\) as sent.
    #[metric(name = "http_requests")]
    pub requests: Family<Request, Counter>,
    /// Time to serve a request.
    #[metric(
        name = "http_request_duration",
        unit = "seconds",
        buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0]
    )]
    pub latency: Family<ByMethod, Histogram>,
    /// Time to serve a request, as a native histogram: buckets at most 10% wide wherever
    /// the values fall (schema 3), read by Prometheus over protobuf.
    #[metric(
        name = "http_request_duration_native",
        unit = "seconds",
        native(bucket_factor = 1.1)
    )]
    pub latency_native: NativeHistogram,
    /// Size of responses.
    #[metric(
        name = "http_response_size",
        unit = "bytes",
        objectives = [(0.5, 0.05), (0.9, 0.01), (0.99, 0.001)]
    )]
    pub response_size: Summary,
    /// Requests being served now.
    #[metric(name = "http_in_flight_requests")]
    pub in_flight: Gauge<i64>,
    /// Temperature of the "main" board.
    #[metric(name = "machine_temperature", unit = "celsius")]
    pub temperature: Gauge,
    /// Lifecycle phase of the service.
    #[metric(states = ["starting", "serving", "draining"])]
    pub phase: StateSet,
    /// Version of the running build.
    #[metric(info = [("version", env!("CARGO_PKG_VERSION"))])]
    pub build: Info,
    /// Background work, registered with the `jobs` prefix inside `demo`.
    #[metric(flatten)]
    pub jobs: JobMetrics,
}

/// The demo's registry and its metrics (which it dereferences to).
pub struct DemoMetrics {
    /// The registry holding every metric.
    pub registry: Registry,
    /// The metrics.
    pub metrics: ServiceMetrics,
}

impl Deref for DemoMetrics {
    type Target = ServiceMetrics;
    fn deref(&self) -> &ServiceMetrics {
        &self.metrics
    }
}

/// The paths the demo traffic uses: a quote, a backslash, UTF-8 and a newline among them.
pub const PATHS: [&str; 5] = [
    "/",
    "/search?q=\"rust\"",
    "/files/C:\\temp",
    "/café/ünïcødé/日本",
    "/multi\nline",
];

impl DemoMetrics {
    /// Registers the demo metrics in a new registry.
    ///
    /// ```
    /// let demo = examples::DemoMetrics::new()?;
    /// demo.simulate_traffic(10);
    /// assert_eq!(demo.in_flight.get(), 0);
    /// # Ok::<(), prometheus_client::RegisterError>(())
    /// ```
    pub fn new() -> Result<Self, RegisterError> {
        let registry = Registry::new();
        let metrics = ServiceMetrics::register(&registry)?;
        metrics.jobs.processed.inc_by(3);
        Ok(DemoMetrics { registry, metrics })
    }

    /// The demo service as `serve` and `roundtrip` run it: the demo metrics and the
    /// process's own families ([`prometheus_client::process`]).
    ///
    /// ```
    /// use prometheus_client::encoding::Format;
    ///
    /// let demo = examples::DemoMetrics::with_process_metrics()?;
    /// let text = demo.registry.encode_to_string(Format::Text)?;
    /// # #[cfg(target_os = "linux")]
    /// assert!(text.contains("\nprocess_open_fds "));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_process_metrics() -> Result<Self, RegisterError> {
        let demo = Self::new()?;
        prometheus_client::process::register(&demo.registry)?;
        Ok(demo)
    }

    /// Serves `n` simulated requests, deterministically: the same `n` gives the same metrics
    /// (quantile sketches aside, which depend on time only through their window).
    pub fn simulate_traffic(&self, n: u64) {
        // "serving" is one of the states declared above.
        let _ = self.phase.set("serving");
        for i in 0..n {
            self.in_flight.inc();
            let method = if i % 4 == 0 {
                Method::Post
            } else {
                Method::Get
            };
            let path = PATHS[(i % PATHS.len() as u64) as usize].to_owned();
            let status = if i % 10 == 7 { 500 } else { 200 };
            let request = Request {
                method,
                path,
                status,
            };
            // A trace id is always 16 hex digits, well within an exemplar's 128 characters.
            let trace = next_trace_id();
            let trace = [("trace_id", trace.as_str())];
            self.requests.with(&request, |requests| {
                requests
                    .inc_with_exemplar(&trace)
                    .unwrap_or_else(|_| requests.inc());
            });
            let seconds = 0.003 * ((i % 17) + 1) as f64;
            self.latency.with(&ByMethod { method }, |latency| {
                latency
                    .observe_with_exemplar(seconds, &trace)
                    .unwrap_or_else(|_| latency.observe(seconds));
            });
            self.latency_native.observe(seconds);
            self.response_size.observe(512.0 + ((i * 37) % 1000) as f64);
            self.in_flight.dec();
        }
        self.temperature.set(41.5 + (n % 7) as f64 * 0.25);
    }
}

/// The trace id of the next simulated request: 16 hex digits, distinct in this process.
pub fn next_trace_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0x4bf9_2f35_77b3_4da6);
    format!("{:016x}", NEXT.fetch_add(1, Ordering::Relaxed))
}
