use prometheus_client::{Metrics, NativeHistogram};

#[derive(Metrics)]
struct App {
    /// Latency.
    #[metric(native(resolution = 3))]
    latency: NativeHistogram,
}

fn main() {}
