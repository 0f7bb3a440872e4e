use prometheus_client::{Metrics, Summary};

#[derive(Metrics)]
struct App {
    /// Sizes.
    #[metric(objectives = [(0.5, 0.05), (1.5, 0.01)])]
    sizes: Summary,
}

fn main() {}
