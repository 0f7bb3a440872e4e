use prometheus_client::{Histogram, Metrics};

#[derive(Metrics)]
struct App {
    /// Latency.
    #[metric(buckets = [0.1, 1.0, 0.5])]
    latency: Histogram,
}

fn main() {}
