//! A realistic exposition of over 1 MB, generated like node_exporter's (CPU, filesystem and
//! network families, Go runtime summaries) plus HTTP histograms, with every metric type.
//! No family has a `# UNIT` (names keep their unit suffixes): openmetrics-parser refuses units
//! on histograms and summaries, which OpenMetrics allows, and would otherwise sit out.

use prometheus_client::{
    Buckets, ConstSummary, Counter, Family, Gauge, Histogram, Info, Registry, StateSet,
};

/// The registry whose exposition the parse benchmarks read.
pub(crate) fn exposition_registry() -> Registry {
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
