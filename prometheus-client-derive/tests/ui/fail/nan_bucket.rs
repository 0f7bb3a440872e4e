use prometheus_client::{Histogram, Metrics};

#[derive(Metrics)]
struct App {
    /// Latency.
    #[metric(buckets = [0.1, f64::NAN])]
    latency: Histogram,
}

fn main() {}
