use prometheus_client::{Metrics, StateSet};

#[derive(Metrics)]
struct App {
    /// Phase.
    phase: StateSet,
}

fn main() {}
