//! Allocations, counted with dhat's allocator, for the workloads where they matter: per encode
//! (f), per created child (g) and per lookup of an existing child (c), for every library.
//! `cargo bench --bench peers_alloc` prints a table.

#[path = "support/peers.rs"]
mod peers;

use peers::{label_pairs, metrics_rs, ours, pcr, prom};
use prometheus_client::Counter;

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

/// Allocations made by `f`.
fn allocations(f: impl FnOnce()) -> u64 {
    let before = dhat::HeapStats::get().total_blocks;
    f();
    dhat::HeapStats::get().total_blocks - before
}

fn main() {
    // `cargo bench` passes --bench; this is not a criterion bench, so there is nothing to filter.
    let _profiler = dhat::Profiler::builder().testing().build();
    println!(
        "{:<32} {:>12} {:>12} {:>18} {:>12}",
        "allocations", "ours", "prometheus", "prometheus_client", "metrics"
    );
    for (name, histograms, families, sets) in [
        ("f: per encode, 10,000 counters", false, 100, 100),
        ("f: per encode, 1,000 histograms", true, 100, 10),
    ] {
        let (o, p, q, m) = peers::registries(histograms, families, sets);
        let (mut ob, mut pb, mut qb) = (Vec::new(), Vec::new(), String::new());
        // The second encode of each, with its buffer already grown by the first.
        ours::encode(&o, &mut ob);
        prom::encode(&p, &mut pb);
        pcr::encode(&q, &mut qb);
        metrics_rs::encode(&m);
        let a = allocations(|| {
            ours::encode(&o, &mut ob);
        });
        let b = allocations(|| {
            prom::encode(&p, &mut pb);
        });
        let c = allocations(|| {
            pcr::encode(&q, &mut qb);
        });
        let d = allocations(|| {
            metrics_rs::encode(&m);
        });
        println!("{name:<32} {a:>12} {b:>12} {c:>18} {d:>12}");
    }
    let pairs = label_pairs(10_000, 100);
    let per_child = |total: u64| total as f64 / pairs.len() as f64;
    let f = ours::Labeled::new(["a", "b"]);
    let a = allocations(|| {
        for (x, y) in &pairs {
            f.get_or_create(&[*x, *y]).inc();
        }
    });
    let pf = prom::labeled("touch");
    let b = allocations(|| {
        for (x, y) in &pairs {
            pf.with_label_values(&[*x, *y]).inc();
        }
    });
    let qf = pcr::Labeled::default();
    let c = allocations(|| {
        for (x, y) in &pairs {
            qf.get_or_create(&[("a", *x), ("b", *y)]).inc();
        }
    });
    let recorder = metrics_rs::recorder();
    let d = allocations(|| {
        metrics::with_local_recorder(&recorder, || {
            for (x, y) in &pairs {
                metrics::counter!("touch", "a" => *x, "b" => *y).increment(1)
            }
        })
    });
    println!(
        "{:<32} {:>12.2} {:>12.2} {:>18.2} {:>12.2}",
        "g: per new child",
        per_child(a),
        per_child(b),
        per_child(c),
        per_child(d)
    );
    let hits = &pairs[..1000];
    let ours_lookups = || {
        for (x, y) in hits {
            f.with(&[*x, *y], Counter::inc);
        }
    };
    let prom_lookups = || {
        for (x, y) in hits {
            pf.with_label_values(&[*x, *y]).inc();
        }
    };
    let pcr_lookups = || {
        for (x, y) in hits {
            qf.get_or_create(&[("a", *x), ("b", *y)]).inc();
        }
    };
    let metrics_lookups = || {
        metrics::with_local_recorder(&recorder, || {
            for (x, y) in hits {
                metrics::counter!("touch", "a" => *x, "b" => *y).increment(1)
            }
        })
    };
    // Every child is looked up once before counting: what a hit costs once lookups are warm
    // (ours then finds the children in this thread's table).
    ours_lookups();
    prom_lookups();
    pcr_lookups();
    metrics_lookups();
    let a = allocations(ours_lookups);
    let b = allocations(prom_lookups);
    let c = allocations(pcr_lookups);
    let d = allocations(metrics_lookups);
    println!(
        "{:<32} {:>12.2} {:>12.2} {:>18.2} {:>12.2}",
        "c: per lookup of an existing child",
        a as f64 / 1000.0,
        b as f64 / 1000.0,
        c as f64 / 1000.0,
        d as f64 / 1000.0
    );
}
