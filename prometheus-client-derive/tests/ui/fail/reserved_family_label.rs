use prometheus_client::{Family, Histogram, Metrics};

#[derive(Metrics)]
struct App {
    /// Latency.
    #[metric(labels = ["path", "__internal"])]
    latency: Family<[String; 2], Histogram>,
}

fn main() {}
