//! The OpenMetrics project's parser test cases: every case must get the expected verdict.
//!
//! The cases live outside the project, in `../shared/conformance/openmetrics/` next to the
//! repository (or where `OPENMETRICS_CONFORMANCE_DIR` points). Where they are absent the test
//! says so and passes, except under `CI=true`, where it fails.

use std::path::PathBuf;

use prometheus_client::encoding::Format;
use prometheus_client::parse::validate;

fn cases_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("OPENMETRICS_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/openmetrics")
        });
    if dir.is_dir() {
        return Some(dir);
    }
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !in_ci,
        "conformance cases missing at {} but CI=true",
        dir.display()
    );
    eprintln!("skipped: no conformance cases at {}", dir.display());
    None
}

#[test]
fn every_openmetrics_case_gets_the_expected_verdict() {
    let Some(dir) = cases_dir() else {
        return;
    };
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("readable cases folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("test.json").is_file())
        .collect();
    cases.sort();
    assert!(
        cases.len() > 100,
        "expected the whole suite, found {} cases",
        cases.len()
    );
    let mut disagreements = Vec::new();
    let (mut accepted, mut rejected) = (0, 0);
    for case in &cases {
        let spec = std::fs::read_to_string(case.join("test.json")).expect("test.json");
        let should_parse = spec.replace(' ', "").contains("\"shouldParse\":true");
        let input = std::fs::read(case.join("metrics")).expect("metrics file");
        let result = validate(&input, Format::OpenMetrics);
        if result.is_ok() {
            accepted += 1;
        } else {
            rejected += 1;
        }
        if result.is_ok() != should_parse {
            let name = case
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let verdict = match result {
                Ok(()) => "accepted, should be rejected".to_owned(),
                Err(e) => format!("rejected ({e}), should be accepted"),
            };
            disagreements.push(format!("{name}: {verdict}"));
        }
    }
    eprintln!("{accepted} cases accepted, {rejected} rejected");
    assert!(accepted > 10 && rejected > 10, "both verdicts must occur");
    assert!(
        disagreements.is_empty(),
        "{} of {} cases disagree:\n{}",
        disagreements.len(),
        cases.len(),
        disagreements.join("\n")
    );
}
