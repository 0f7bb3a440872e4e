//! A demo web service's metrics: every metric type, with label values and HELP text that need
//! escaping. The examples print or serve it; the tests check it with external parsers.

use prometheus_client::{Counter, Family, Gauge, Histogram, Info, Registry, StateSet, Summary};

/// Any error from setting the demo up.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Requests by method, path and status.
pub type RequestFamily = Family<(String, String, u16), Counter>;

/// The metrics of the demo service, registered in their own registry.
#[derive(Clone, Debug)]
pub struct DemoMetrics {
    /// The registry holding every metric below.
    pub registry: Registry,
    /// Requests served.
    pub requests: RequestFamily,
    /// Request latency by method.
    pub latency: Family<[String; 1], Histogram>,
    /// Response sizes, with quantiles.
    pub response_size: Summary,
    /// Requests being served now.
    pub in_flight: Gauge<i64>,
    /// The machine's temperature.
    pub temperature: Gauge,
    /// The service's lifecycle phase.
    pub phase: StateSet,
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
    /// # Ok::<(), examples::Error>(())
    /// ```
    pub fn new() -> Result<Self, Error> {
        let registry = Registry::new();
        let app = registry.sub_registry_with_prefix("demo")?;
        let requests = app.register(
            "http_requests",
            "Requests served, by method, path and status.\n\
             Paths keep their query strings and backslashes (\\) as sent.",
            RequestFamily::new(["method", "path", "status"]),
        )?;
        let latency = app.register_with_unit(
            "http_request_duration",
            "Time to serve a request.",
            "seconds",
            Family::<[String; 1], Histogram>::new(["method"]),
        )?;
        let sizes = Summary::builder()
            .objective(0.5, 0.05)
            .objective(0.9, 0.01)
            .objective(0.99, 0.001)
            .build()?;
        let response_size =
            app.register_with_unit("http_response_size", "Size of responses.", "bytes", sizes)?;
        let in_flight = app.register(
            "http_in_flight_requests",
            "Requests being served now.",
            Gauge::<i64>::default(),
        )?;
        let temperature = app.register_with_unit(
            "machine_temperature",
            "Temperature of the \"main\" board.",
            "celsius",
            Gauge::new(),
        )?;
        let phase = StateSet::new(["starting", "serving", "draining"])?;
        let phase = app.register("phase", "Lifecycle phase of the service.", phase)?;
        app.register(
            "build",
            "Version of the running build.",
            Info::new(&[("version", env!("CARGO_PKG_VERSION"))])?,
        )?;
        let jobs = app.sub_registry_with_labels([("queue", "emails")])?;
        jobs.register(
            "jobs_processed",
            "Background jobs processed.",
            Counter::new(),
        )?
        .inc_by(3);
        Ok(DemoMetrics {
            registry,
            requests,
            latency,
            response_size,
            in_flight,
            temperature,
            phase,
        })
    }

    /// Serves `n` simulated requests, deterministically: the same `n` gives the same metrics
    /// (quantile sketches aside, which depend on time only through their window).
    pub fn simulate_traffic(&self, n: u64) {
        // "serving" is one of the states given in `new`.
        let _ = self.phase.set("serving");
        for i in 0..n {
            self.in_flight.inc();
            let method = if i % 4 == 0 { "POST" } else { "GET" };
            let path = PATHS[(i % PATHS.len() as u64) as usize];
            let status: u16 = if i % 10 == 7 { 500 } else { 200 };
            self.requests.get_or_create(&(method, path, status)).inc();
            let seconds = 0.003 * ((i % 17) + 1) as f64;
            self.latency.get_or_create(&[method]).observe(seconds);
            self.response_size.observe(512.0 + ((i * 37) % 1000) as f64);
            self.in_flight.dec();
        }
        self.temperature.set(41.5 + (n % 7) as f64 * 0.25);
    }
}
