//! The exact bytes of every metric type in both formats, against golden files.
//!
//! Run with `UPDATE_GOLDEN=1` to rewrite the files after an intended change, then review the
//! diff: the files are the specification of our output.

use std::path::PathBuf;

use prometheus_client::encoding::Format;
use tests::edge_cases::edge_cases;

fn check_golden(file: &str, format: Format) {
    let edge = edge_cases().expect("edge-case registry builds");
    let actual = edge.registry.encode_to_string(format).expect("encodes");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(file);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &actual).expect("writes golden file");
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 creates it)", path.display()));
    if actual != expected {
        let first = actual
            .lines()
            .zip(expected.lines())
            .position(|(a, e)| a != e)
            .unwrap_or(actual.lines().count().min(expected.lines().count()));
        panic!(
            "{file} differs from line {}:\n  got:  {:?}\n  want: {:?}",
            first + 1,
            actual.lines().nth(first),
            expected.lines().nth(first)
        );
    }
}

#[test]
fn text_format_matches_golden_file() {
    check_golden("edge_cases.prom", Format::Text);
}

#[test]
fn openmetrics_matches_golden_file() {
    check_golden("edge_cases.om.txt", Format::OpenMetrics);
}

#[test]
fn encoding_twice_gives_the_same_bytes() {
    let edge = edge_cases().expect("builds");
    for format in [Format::Text, Format::OpenMetrics] {
        let first = edge.registry.encode_to_string(format).expect("encodes");
        let second = edge.registry.encode_to_string(format).expect("encodes");
        assert_eq!(first, second);
    }
}
