//! Runs Prometheus' PromQL engine test files against the pull server's engine: one line per
//! failing eval (file:line, query, what differed), then `N passed, M failed`; exits 0 only
//! when none failed.
//!
//! ```text
//! cargo run --example promql_test -- ../shared/conformance/promql/*.test
//! ```

use std::io::Write;
use std::process::ExitCode;

use examples::promql_conformance::run;

fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: promql_test FILE...");
        return ExitCode::from(2);
    }
    let (mut passed, mut failed) = (0, 0);
    // A closed pipe (`| head`) ends the output, not the run.
    let mut out = std::io::stdout().lock();
    for file in &files {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("{file}: {e}");
                return ExitCode::from(2);
            }
        };
        let outcome = run(file, &text);
        for failure in &outcome.failures {
            let _ = writeln!(out, "{failure}");
        }
        passed += outcome.passed;
        failed += outcome.failures.len();
    }
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
