use prometheus_client::Metrics;

#[derive(Metrics)]
enum App {
    One,
}

fn main() {}
