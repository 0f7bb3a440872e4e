use prometheus_client::LabelSet;

#[derive(Clone, PartialEq, Eq, Hash, LabelSet)]
struct Labels {
    le: String,
}

fn main() {}
