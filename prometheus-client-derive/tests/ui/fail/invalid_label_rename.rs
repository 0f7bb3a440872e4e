use prometheus_client::LabelSet;

#[derive(Clone, PartialEq, Eq, Hash, LabelSet)]
struct Labels {
    #[label(rename = "status-code")]
    status: u16,
}

fn main() {}
