//! The parser never panics, whatever the input, in either format; and whatever it accepts as
//! families can be looked up again.

#![no_main]

use libfuzzer_sys::fuzz_target;
use prometheus_client::encoding::Format;
use prometheus_client::parse::{parse_families, Entry, Parser};

fuzz_target!(|data: &[u8]| {
    let (format, input) = match data.split_first() {
        Some((selector, rest)) if selector % 2 == 1 => (Format::OpenMetrics, rest),
        Some((_, rest)) => (Format::Text, rest),
        None => (Format::Text, data),
    };
    let mut parser = Parser::new(input, format);
    while let Some(entry) = parser.next() {
        match entry {
            Ok(Entry::Sample(sample)) => {
                // Reading the labels again must not fail on what was accepted.
                for label in sample.labels.iter() {
                    assert!(!label.name.is_empty());
                }
                if let Some(exemplar) = sample.exemplar {
                    exemplar.labels.iter().for_each(drop);
                }
            }
            Ok(_) => {}
            Err(error) => {
                assert!(error.line >= 1 && error.column >= 1);
                let _ = error.to_string();
                parser.recover();
            }
        }
    }
    let _ = parse_families(input, format);
});
