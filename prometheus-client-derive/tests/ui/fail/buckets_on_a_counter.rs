use prometheus_client::{Counter, Metrics};

#[derive(Metrics)]
struct App {
    /// Requests.
    #[metric(buckets = [0.1])]
    requests: Counter,
}

fn main() {}
