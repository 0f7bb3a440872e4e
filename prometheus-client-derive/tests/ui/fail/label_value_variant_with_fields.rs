use prometheus_client::LabelValue;

#[derive(LabelValue)]
enum Method {
    Get,
    Other(String),
}

fn main() {}
