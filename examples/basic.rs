//! Prints the demo service's metrics after some simulated traffic.
//!
//! ```text
//! cargo run --example basic                          # text format 0.0.4
//! cargo run --example basic -- --format openmetrics  # OpenMetrics 1.0
//! ```

use std::io::Write;
use std::process::ExitCode;

use examples::DemoMetrics;
use prometheus_client::encoding::Format;

fn main() -> ExitCode {
    let format = match std::env::args().skip(1).collect::<Vec<_>>().as_slice() {
        [] => Format::Text,
        [flag, value] if flag == "--format" && value == "text" => Format::Text,
        [flag, value] if flag == "--format" && value == "openmetrics" => Format::OpenMetrics,
        _ => {
            eprintln!("usage: basic [--format text|openmetrics]");
            return ExitCode::from(2);
        }
    };
    let demo = match DemoMetrics::new() {
        Ok(demo) => demo,
        Err(e) => {
            eprintln!("registering the demo metrics failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    demo.simulate_traffic(1_000);
    let mut body = Vec::new();
    if let Err(e) = demo.registry.encode(format, &mut body) {
        eprintln!("encoding failed: {e}");
        return ExitCode::FAILURE;
    }
    if std::io::stdout().write_all(&body).is_err() {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
