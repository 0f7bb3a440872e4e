//! Python's `prometheus_client` parsers (text and OpenMetrics) read back exactly what went in:
//! every sample, label value and HELP text, floats bit for bit.

use std::collections::BTreeMap;

use prometheus_client::encoding::Format;
use tests::edge_cases::{canonical_labels, edge_cases, EdgeCases};
use tests::external::{python_client, python_parse, ParsedSample};

fn key(name: &str, labels: &BTreeMap<String, String>) -> String {
    format!("{name}{labels:?}")
}

fn same_value(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn check_samples(edge: &EdgeCases, parsed: &[ParsedSample], format: Format) {
    let mut got: BTreeMap<String, f64> = BTreeMap::new();
    for s in parsed {
        let k = key(&s.name, &canonical_labels(s.labels.clone()));
        assert!(
            got.insert(k.clone(), s.value).is_none(),
            "{format:?}: {k} parsed twice"
        );
    }
    let wanted = edge
        .samples
        .iter()
        .filter(|s| format == Format::Text || !s.text_only);
    for want in wanted {
        let k = key(&want.name, &want.labels);
        match got.remove(&k) {
            Some(v) => assert!(
                same_value(v, want.value),
                "{format:?}: {k} read back as {v:?}, {:?} went in",
                want.value
            ),
            None => panic!("{format:?}: {k} was not read back"),
        }
    }
    assert!(got.is_empty(), "{format:?}: samples nobody wrote: {got:?}");
}

fn check_families(edge: &EdgeCases, parsed: &[ParsedSample], format: Format) {
    for family in &edge.families {
        let (name, wanted_type) = match format {
            Format::OpenMetrics => (family.openmetrics_name.as_str(), family.openmetrics_type),
            _ => (family.text_name.as_str(), ""),
        };
        let seen = parsed
            .iter()
            .find(|s| s.family == name || s.family == name.trim_end_matches("_total"))
            .unwrap_or_else(|| panic!("{format:?}: no family {name}"));
        assert_eq!(seen.help, family.help, "{format:?}: HELP of {name}");
        if !wanted_type.is_empty() {
            assert_eq!(seen.family_type, wanted_type, "{format:?}: TYPE of {name}");
        }
    }
}

/// Python's parser for `format` reads back every sample and family of the edge cases.
fn python_reads_back_the_edge_cases(format: Format) {
    if !python_client() {
        return;
    }
    let edge = edge_cases().expect("builds");
    let body = edge.registry.encode_to_string(format).expect("encodes");
    let parsed = python_parse(body.as_bytes(), format)
        .unwrap_or_else(|e| panic!("Python's {format:?} parser rejects our output: {e}"));
    check_samples(&edge, &parsed, format);
    check_families(&edge, &parsed, format);
}

#[test]
fn python_text_parser_reads_back_what_went_in() {
    python_reads_back_the_edge_cases(Format::Text);
}

#[test]
fn python_openmetrics_parser_reads_back_what_went_in() {
    python_reads_back_the_edge_cases(Format::OpenMetrics);
}

#[test]
fn python_parsers_accept_the_demo_service() {
    if !python_client() {
        return;
    }
    let demo = examples::DemoMetrics::new().expect("registers");
    demo.simulate_traffic(500);
    for format in [Format::Text, Format::OpenMetrics] {
        let body = demo.registry.encode_to_string(format).expect("encodes");
        let parsed =
            python_parse(body.as_bytes(), format).unwrap_or_else(|e| panic!("{format:?}: {e}"));
        let total: f64 = parsed
            .iter()
            .filter(|s| s.name == "demo_http_requests_total")
            .map(|s| s.value)
            .sum();
        assert_eq!(total, 500.0, "{format:?}: requests add up");
    }
}

#[test]
fn python_openmetrics_parser_rejects_a_broken_exposition() {
    // The check above would pass vacuously if the parser accepted anything.
    if !python_client() {
        return;
    }
    let broken = b"# TYPE a counter\na_total -1\n# EOF\n";
    assert!(python_parse(broken, Format::OpenMetrics).is_err());
}
