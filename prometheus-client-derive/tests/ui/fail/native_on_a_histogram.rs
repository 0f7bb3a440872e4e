use prometheus_client::{Histogram, Metrics};

#[derive(Metrics)]
struct App {
    /// Latency.
    #[metric(native(bucket_factor = 1.1))]
    latency: Histogram,
}

fn main() {}
