//! Reading a protobuf exposition never panics, whatever the bytes; what it accepts is checked
//! (valid names, bounds in order), and families built from it can be looked up again.

#![no_main]

use libfuzzer_sys::fuzz_target;
use prometheus_client::desc::{is_valid_label_name, is_valid_metric_name};
use prometheus_client::encoding::Format;
use prometheus_client::parse::{parse_families, protobuf_samples};

fuzz_target!(|data: &[u8]| {
    for sample in protobuf_samples(data) {
        match sample {
            Ok(sample) => {
                assert!(is_valid_metric_name(&sample.name));
                assert!(sample.labels.iter().all(|(n, _)| is_valid_label_name(n)));
            }
            Err(error) => {
                assert!(error.line >= 1 && error.column >= 1);
                let _ = error.to_string();
            }
        }
    }
    if let Ok(families) = parse_families(data, Format::Protobuf) {
        for family in families.iter() {
            assert!(families.get(&family.name).is_some());
        }
    }
});
