use prometheus_client::{Counter, Metrics};

#[derive(Metrics)]
struct App(Counter);

fn main() {}
