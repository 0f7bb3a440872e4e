//! Parsing a realistic exposition of over 1 MB: ours against the Rust crates users would
//! otherwise use, in the same run. `cargo bench --bench parse`.
//!
//! The exposition is generated like node_exporter's (CPU, filesystem and network families,
//! Go runtime summaries) plus HTTP histograms, with every metric type, so no capture has to
//! be stored. Criterion reports throughput in bytes; samples per second follow from the
//! sample count printed at the start. The input is described in `support/exposition.rs`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use prometheus_client::encoding::Format;
use prometheus_client::parse::{parse_families, Entry, Parser};

#[path = "support/exposition.rs"]
mod exposition;
use exposition::exposition_registry;

fn bench_parsers(c: &mut Criterion) {
    let registry = exposition_registry();
    for format in [Format::Text, Format::OpenMetrics] {
        let body = registry.encode_to_string(format).expect("encodes");
        assert!(
            body.len() > 1_000_000,
            "{} bytes is not over 1 MB",
            body.len()
        );
        let samples = Parser::new(body.as_bytes(), format)
            .filter(|e| matches!(e, Ok(Entry::Sample(_))))
            .count();
        let name = match format {
            Format::OpenMetrics => "parse_openmetrics",
            _ => "parse_text",
        };
        eprintln!("{name}: {} bytes, {samples} samples", body.len());
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.sample_size(20);
        group.bench_function("ours_iterate", |b| {
            b.iter(|| {
                let mut sum = 0.0;
                for entry in Parser::new(black_box(body.as_bytes()), format) {
                    if let Ok(Entry::Sample(s)) = entry {
                        sum += s.value;
                    }
                }
                sum
            })
        });
        group.bench_function("ours_families", |b| {
            b.iter(|| parse_families(black_box(body.as_bytes()), format).map(|f| f.len()))
        });
        match format {
            Format::OpenMetrics => {
                if let Err(e) = openmetrics_parser::openmetrics::parse_openmetrics(&body) {
                    eprintln!("openmetrics-parser rejects this input ({e:?}); left out");
                } else {
                    group.bench_function("openmetrics_parser", |b| {
                        b.iter(|| {
                            openmetrics_parser::openmetrics::parse_openmetrics(black_box(&body))
                                .is_ok()
                        })
                    });
                }
            }
            _ => {
                let lines = || black_box(&body).lines().map(|l| Ok(l.to_owned()));
                if let Err(e) = prometheus_parse::Scrape::parse(lines()) {
                    eprintln!("prometheus-parse rejects this input ({e}); left out");
                } else {
                    group.bench_function("prometheus_parse", |b| {
                        b.iter(|| prometheus_parse::Scrape::parse(lines()).map(|s| s.samples.len()))
                    });
                }
                if let Err(e) = openmetrics_parser::prometheus::parse_prometheus(&body) {
                    eprintln!("openmetrics-parser rejects this input ({e:?}); left out");
                } else {
                    group.bench_function("openmetrics_parser", |b| {
                        b.iter(|| {
                            openmetrics_parser::prometheus::parse_prometheus(black_box(&body))
                                .is_ok()
                        })
                    });
                }
            }
        }
        group.finish();
    }
}

criterion_group!(benches, bench_parsers);
criterion_main!(benches);
