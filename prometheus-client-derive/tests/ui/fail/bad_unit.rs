use prometheus_client::{Histogram, Metrics};

#[derive(Metrics)]
struct App {
    /// Latency.
    #[metric(unit = "per cent")]
    latency: Histogram,
}

fn main() {}
