use prometheus_client::Metrics;

#[derive(Metrics)]
struct App<T> {
    /// Anything.
    value: T,
}

fn main() {}
