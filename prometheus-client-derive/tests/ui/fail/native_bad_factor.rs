use prometheus_client::{Metrics, NativeHistogram};

#[derive(Metrics)]
struct App {
    /// Latency.
    #[metric(native(bucket_factor = 0.9))]
    latency: NativeHistogram,
}

fn main() {}
