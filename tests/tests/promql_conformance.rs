//! Prometheus' own PromQL engine tests (`promql/testdata/*.test` at v2.42.0), from
//! `../shared/conformance/promql/` beside the repository (or `PROMQL_CONFORMANCE_DIR`): every
//! eval must give what its file expects, instant and as a range query. Where the files are
//! absent the test says so and passes, except under `CI=true`, where it fails.

use std::path::PathBuf;

use examples::promql_conformance::run;
use tests::external::in_ci;

#[test]
fn every_eval_of_prometheus_engine_tests_passes() {
    let dir = std::env::var_os("PROMQL_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/promql")
        });
    if !dir.is_dir() {
        assert!(
            !in_ci(),
            "PromQL conformance files missing at {} but CI=true",
            dir.display()
        );
        eprintln!("skipped: no PromQL conformance files at {}", dir.display());
        return;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("readable folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "test"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .test files in {}", dir.display());
    let (mut passed, mut failures) = (0, Vec::new());
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable file");
        let name = file
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let outcome = run(&name, &text);
        passed += outcome.passed;
        failures.extend(outcome.failures.iter().map(ToString::to_string));
    }
    eprintln!("{passed} passed, {} failed", failures.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(passed > 100, "only {passed} evals ran");
}
