//! Parsing a realistic exposition of over 1 MB: ours against the Rust crates users would
//! otherwise use, in the same run. `cargo bench -p prometheus-client --bench parse`.
//!
//! The exposition is generated like node_exporter's (CPU, filesystem and network families,
//! Go runtime summaries) plus HTTP histograms, with every metric type, so no capture has to
//! be stored. Criterion reports throughput in bytes; samples per second follow from the
//! sample count printed at the start. No family has a `# UNIT` (names keep their unit
//! suffixes): openmetrics-parser refuses units on histograms and summaries, which OpenMetrics
//! allows, and would otherwise sit the OpenMetrics comparison out.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use prometheus_client::encoding::Format;
use prometheus_client::parse::{parse_families, Entry, Parser};
use prometheus_client::{
    Buckets, ConstSummary, Counter, Family, Gauge, Histogram, Info, Registry, StateSet,
};

fn exposition_registry() -> Registry {
    let r = Registry::new();
    let node = r.sub_registry_with_prefix("node").expect("valid prefix");
    let cpu = node
        .register(
            "cpu_seconds",
            "Seconds the CPUs spent in each mode.",
            Family::<[String; 2], Counter<f64>>::new(["cpu", "mode"]),
        )
        .expect("registers");
    for c in 0..32 {
        for (m, mode) in [
            "idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user",
        ]
        .iter()
        .enumerate()
        {
            cpu.get_or_create(&[c.to_string().as_str(), mode])
                .inc_by(12345.67 * (c + m + 1) as f64);
        }
    }
    for what in ["avail", "free", "size", "files", "files_free", "readonly"] {
        let fs = node
            .register(
                &format!("filesystem_{what}_bytes"),
                "Filesystem space in bytes.",
                Family::<[String; 3], Gauge>::new(["device", "fstype", "mountpoint"]),
            )
            .expect("registers");
        for i in 0..60 {
            let device = format!("/dev/mapper/volume-group-{i}");
            let mount = format!("/var/lib/containers/storage/overlay/{i:04x}/merged");
            fs.get_or_create(&[device.as_str(), "ext4", mount.as_str()])
                .set(1.0e11 / (i + 1) as f64);
        }
    }
    for direction in ["receive", "transmit"] {
        for what in [
            "bytes",
            "packets",
            "errs",
            "drop",
            "fifo",
            "frame",
            "compressed",
            "multicast",
        ] {
            let net = node
                .register(
                    &format!("network_{direction}_{what}"),
                    "Network device statistic.",
                    Family::<[String; 1], Counter>::new(["device"]),
                )
                .expect("registers");
            for i in 0..24 {
                net.get_or_create(&[format!("veth{i:08x}")])
                    .inc_by(987_654_321 * (i + 1));
            }
        }
    }
    let go = r.sub_registry_with_prefix("go").expect("valid prefix");
    go.register(
        "gc_duration_seconds",
        "A summary of the pause duration of garbage collection cycles.",
        ConstSummary::new(
            &[
                (0.0, 1.8e-5),
                (0.25, 3.1e-5),
                (0.5, 4.2e-5),
                (0.75, 6.6e-5),
                (1.0, 0.00123),
            ],
            0.52,
            9876,
        )
        .expect("valid"),
    )
    .expect("registers");
    go.register(
        "goroutines",
        "Number of goroutines that currently exist.",
        Gauge::<i64>::default(),
    )
    .expect("registers")
    .set(42);
    r.register(
        "build",
        "Build information.",
        Info::new(&[("version", "1.8.2"), ("goversion", "go1.22.4")]).expect("valid"),
    )
    .expect("registers");
    r.register(
        "state",
        "Service state.",
        StateSet::new(["starting", "ready", "draining"]).expect("valid"),
    )
    .expect("registers")
    .set("ready")
    .expect("known");
    let buckets = Buckets::exponential(0.001, 2.0, 14).expect("valid");
    let http = r
        .register(
            "http_request_duration_seconds",
            "Latency of HTTP requests.",
            Family::<[String; 3], Histogram>::new_with_constructor(
                ["handler", "method", "code"],
                move || Histogram::new(buckets.clone()),
            ),
        )
        .expect("registers");
    for h in 0..60 {
        for method in ["GET", "POST", "PUT", "DELETE"] {
            for code in ["200", "404", "500"] {
                let child =
                    http.get_or_create(&[format!("/api/v1/resource/{h}").as_str(), method, code]);
                for i in 0..20 {
                    child.observe(0.0007 * ((i * 7 + h) % 97) as f64);
                }
            }
        }
    }
    r
}

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
