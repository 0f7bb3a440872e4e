//! Metrics declared as a struct: one derive registers them all, with names from the fields,
//! HELP from the doc comments, units, buckets and typed labels from attributes, and a nested
//! group. A process-wide instance lives in the default registry.
//!
//! ```text
//! cargo run --example derive [-- --format openmetrics]
//! ```

use prometheus_client::encoding::Format;
use prometheus_client::{
    default_registry, Counter, Family, Gauge, Global, Histogram, LabelSet, LabelValue, Metrics,
};

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, LabelValue)]
#[label_value(rename_all = "snake_case")]
enum Outcome {
    Success,
    ClientError,
    ServerError,
}

/// The labels of a served request.
#[derive(Clone, Debug, PartialEq, Eq, Hash, LabelSet)]
struct Route {
    method: &'static str,
    #[label(rename = "code")]
    status: u16,
    outcome: Outcome,
}

/// The connection pool, a nested group.
#[derive(Metrics)]
#[metrics(prefix = "pool")]
struct PoolMetrics {
    /// Connections open now.
    connections: Gauge<i64>,
    /// Waits for a free connection.
    waits: Counter,
}

/// Everything the HTTP service measures.
#[derive(Metrics)]
#[metrics(prefix = "http")]
struct HttpMetrics {
    /// Requests served, by method, code and outcome.
    requests: Family<Route, Counter>,
    /// Time to serve a request.
    #[metric(unit = "seconds", buckets = [0.005, 0.01, 0.05, 0.1, 0.5, 1.0])]
    latency: Histogram,
    /// Bytes sent in response bodies.
    #[metric(name = "response_body", unit = "bytes")]
    sent: Counter,
    #[metric(flatten)]
    pool: PoolMetrics,
}

/// Registered in the default registry the first time it is used.
static HTTP: Global<HttpMetrics> = Global::new();

fn main() {
    let format = match std::env::args().nth(2).as_deref() {
        Some("openmetrics") => Format::OpenMetrics,
        _ => Format::Text,
    };
    let http = HTTP.get();
    if let Some(e) = HTTP.registration_error() {
        eprintln!("the metrics work but are not exported: {e}");
    }
    for (i, status) in [200u16, 200, 404, 500, 200].into_iter().enumerate() {
        let outcome = match status {
            500.. => Outcome::ServerError,
            400.. => Outcome::ClientError,
            _ => Outcome::Success,
        };
        let route = Route {
            method: "GET",
            status,
            outcome,
        };
        http.requests.with(&route, |requests| requests.inc());
        http.latency.observe(0.004 * (i + 1) as f64);
        http.sent.inc_by(512);
    }
    http.pool.connections.set(3);
    http.pool.waits.inc();
    match default_registry().encode_to_string(format) {
        Ok(text) => print!("{text}"),
        Err(e) => eprintln!("encoding failed: {e}"),
    }
}
