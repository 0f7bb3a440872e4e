use prometheus_client::{Counter, Metrics};

#[derive(Metrics)]
struct App {
    /// Requests.
    #[metric(colour = "red")]
    requests: Counter,
}

fn main() {}
