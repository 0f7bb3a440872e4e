use prometheus_client::LabelValue;

#[derive(LabelValue)]
#[label_value(rename_all = "Title Case")]
enum Method {
    Get,
}

fn main() {}
