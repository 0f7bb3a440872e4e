use prometheus_client::{Counter, Metrics};

#[derive(Metrics)]
struct App {
    /// Requests.
    requests: Counter,
    /// Requests again.
    #[metric(name = "requests_total")]
    again: Counter,
}

fn main() {}
