//! A library that records through the `metrics` crate's macros, exposed beside the
//! application's own metrics from one registry.
//!
//! ```text
//! cargo run --example facade
//! ```

use std::process::ExitCode;

use prometheus_client::encoding::Format;
use prometheus_client::facade::{Matcher, MetricsRecorder};
use prometheus_client::{Buckets, Counter, Registry};

/// Stands for any crate instrumented with `metrics`: it knows nothing of this one.
mod cache {
    use metrics::{counter, describe_counter, describe_histogram, histogram, Unit};

    pub(crate) fn describe() {
        describe_counter!("cache.lookups", "Cache lookups, by outcome.");
        describe_histogram!(
            "cache.load_seconds",
            Unit::Seconds,
            "Time to load a missing entry."
        );
    }

    pub(crate) fn get(key: u32) {
        if key % 3 == 0 {
            counter!("cache.lookups", "outcome" => "miss").increment(1);
            histogram!("cache.load_seconds").record(f64::from(key) / 1000.0);
        } else {
            counter!("cache.lookups", "outcome" => "hit").increment(1);
        }
    }
}

fn main() -> ExitCode {
    let registry = Registry::new();
    let requests = match registry.register("app_requests", "Requests served.", Counter::new()) {
        Ok(counter) => counter,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let buckets = match Buckets::new(&[0.005, 0.05, 0.5]) {
        Ok(buckets) => buckets,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let installed = MetricsRecorder::builder(&registry)
        .buckets(Matcher::Suffix("_seconds".into()), buckets)
        .install();
    if let Err(e) = installed {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    cache::describe();
    for key in 0..30 {
        requests.inc();
        cache::get(key);
    }
    match registry.encode_to_string(Format::OpenMetrics) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
