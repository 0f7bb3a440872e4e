//! `promtool check metrics` (Prometheus' own parser and linter) on our text output.

use prometheus_client::encoding::Format;
use tests::edge_cases::edge_cases;
use tests::external::{promtool_check, tool, PROMTOOL};

#[test]
fn demo_service_has_no_errors_and_no_lint_findings() {
    if !tool(PROMTOOL, "promtool checks our text output") {
        return;
    }
    let demo = examples::DemoMetrics::new().expect("registers");
    demo.simulate_traffic(1_000);
    let body = demo
        .registry
        .encode_to_string(Format::Text)
        .expect("encodes");
    let (ok, printed) = promtool_check(body.as_bytes());
    assert!(
        ok && printed.trim().is_empty(),
        "promtool says:\n{printed}\non:\n{body}"
    );
}

#[test]
fn edge_cases_parse_without_errors() {
    if !tool(PROMTOOL, "promtool checks our text output") {
        return;
    }
    let edge = edge_cases().expect("builds");
    let body = edge
        .registry
        .encode_to_string(Format::Text)
        .expect("encodes");
    let (_, printed) = promtool_check(body.as_bytes());
    // Lint findings about naming are allowed here (the names are chosen for coverage, not
    // style); parse errors are not.
    assert!(
        !printed.contains("error while linting"),
        "promtool could not parse:\n{printed}"
    );
    assert!(
        !printed.to_lowercase().contains("parse"),
        "promtool reported:\n{printed}"
    );
}

#[test]
fn promtool_rejects_a_broken_exposition() {
    if !tool(PROMTOOL, "promtool checks our text output") {
        return;
    }
    let (ok, printed) = promtool_check(b"# TYPE a counter\na{b=\"unterminated} 1\n");
    assert!(!ok, "promtool accepted a broken body: {printed}");
}
