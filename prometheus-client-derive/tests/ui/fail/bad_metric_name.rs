use prometheus_client::{Counter, Metrics};

#[derive(Metrics)]
struct App {
    /// Lives.
    #[metric(name = "9lives")]
    lives: Counter,
}

fn main() {}
