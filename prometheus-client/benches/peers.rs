//! Ours against `prometheus`, `prometheus-client` and `metrics` on the same workloads, in one
//! run: `cargo bench --bench peers`. Rows are named after the workloads
//! of the performance issue (a to h) and the exemplar paths (i); BENCHMARKS.md records a run
//! and explains each row.

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkGroup, Criterion, Throughput,
};

#[path = "support/exposition.rs"]
mod exposition;
#[path = "support/peers.rs"]
mod peers;

use peers::{label_pairs, metrics_rs, ours, pcr, prom};
use prometheus_client::Counter;

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    g.sample_size(30);
    g
}

/// Runs an operation on 2 threads at once, `iters` times each; the time per operation per
/// thread. `worker(t)` makes thread `t`'s operation, with any state of its own, so that the
/// harness adds nothing shared between the threads.
fn on_two_threads<W: FnMut() + Send + 'static>(
    iters: u64,
    worker: impl Fn(usize) -> W,
) -> Duration {
    let start = Arc::new(Barrier::new(3));
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let (mut op, start) = (worker(t), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                for _ in 0..iters {
                    op();
                }
            })
        })
        .collect();
    start.wait();
    let began = Instant::now();
    threads.into_iter().for_each(|t| t.join().expect("worker"));
    began.elapsed()
}

/// a, b: a counter's `inc` on a handle, on one thread and shared by two.
fn counters(c: &mut Criterion) {
    let ours = prometheus_client::Counter::new();
    let prom = prometheus::IntCounter::new("c", "A counter.").expect("valid");
    let pcr = prometheus_client_peer::metrics::counter::Counter::<u64>::default();
    let metrics = metrics::counter!("c");
    let mut g = group(c, "a_counter_inc");
    g.bench_function("ours", |b| b.iter(|| black_box(&ours).inc()));
    g.bench_function("prometheus", |b| b.iter(|| black_box(&prom).inc()));
    g.bench_function("prometheus_client", |b| b.iter(|| black_box(&pcr).inc()));
    g.bench_function("metrics", |b| b.iter(|| black_box(&metrics).increment(1)));
    g.finish();
    let mut g = group(c, "b_counter_inc_2");
    let (o, p, q, m) = (ours.clone(), prom.clone(), pcr.clone(), metrics.clone());
    g.bench_function("ours", |b| {
        b.iter_custom(|n| {
            on_two_threads(n, |_| {
                let o = o.clone();
                move || o.inc()
            })
        })
    });
    g.bench_function("prometheus", |b| {
        b.iter_custom(|n| {
            on_two_threads(n, |_| {
                let p = p.clone();
                move || p.inc()
            })
        })
    });
    g.bench_function("prometheus_client", |b| {
        b.iter_custom(|n| {
            on_two_threads(n, |_| {
                let q = q.clone();
                move || {
                    q.inc();
                }
            })
        })
    });
    g.bench_function("metrics", |b| {
        b.iter_custom(|n| {
            on_two_threads(n, |_| {
                let m = m.clone();
                move || m.increment(1)
            })
        })
    });
    g.finish();
}

/// c: find a child by two label values (100 combinations, cycling) and `inc` it.
fn family_lookup(c: &mut Criterion) {
    let pairs: Arc<Vec<(&'static str, &'static str)>> = Arc::new(label_pairs(100, 10));
    let ours = ours::Labeled::new(["a", "b"]);
    let prom = prom::labeled("lookup");
    let pcr = pcr::Labeled::default();
    for (a, b) in pairs.iter() {
        ours.get_or_create(&[*a, *b]);
        prom.with_label_values(&[*a, *b]);
        // Create every child up front: the workload measures lookups of existing children.
        drop(pcr.get_or_create(&[("a", *a), ("b", *b)]));
        drop(metrics::counter!("lookup", "a" => *a, "b" => *b));
    }
    let mut g = group(c, "c_family_lookup_inc");
    let cycle = |pairs: &Arc<Vec<(&'static str, &'static str)>>| {
        let pairs = Arc::clone(pairs);
        let mut i = 0;
        move || {
            i = (i + 1) % 100;
            pairs[i]
        }
    };
    let mut next = cycle(&pairs);
    g.bench_function("ours", |b| {
        b.iter(|| {
            let (a, x) = next();
            ours.with(&[a, x], |c| c.inc())
        })
    });
    // The same family bounded to 1,000 children and idle expiry: lookups of existing
    // children take the same path.
    let limited = ours::Labeled::new(["a", "b"])
        .with_max_children(1000, prometheus_client::Overflow::Refuse)
        .with_idle_expiry(std::time::Duration::from_secs(600));
    for (a, b) in pairs.iter() {
        limited.get_or_create(&[*a, *b]);
    }
    let mut next = cycle(&pairs);
    g.bench_function("ours_with_child_limit", |b| {
        b.iter(|| {
            let (a, x) = next();
            limited.with(&[a, x], |c| c.inc())
        })
    });
    // The lookup that returns a handle: an `Arc` clone and drop more than `with`.
    let mut next = cycle(&pairs);
    g.bench_function("ours_get_or_create", |b| {
        b.iter(|| {
            let (a, x) = next();
            ours.get_or_create(&[a, x]).inc()
        })
    });
    let mut next = cycle(&pairs);
    g.bench_function("prometheus", |b| {
        b.iter(|| {
            let (a, x) = next();
            prom.with_label_values(&[a, x]).inc()
        })
    });
    let mut next = cycle(&pairs);
    g.bench_function("prometheus_client", |b| {
        b.iter(|| {
            let (a, x) = next();
            pcr.get_or_create(&[("a", a), ("b", x)]).inc();
        })
    });
    let mut next = cycle(&pairs);
    g.bench_function("metrics", |b| {
        b.iter(|| {
            let (a, x) = next();
            metrics::counter!("lookup", "a" => a, "b" => x).increment(1)
        })
    });
    g.finish();

    let mut g = group(c, "c_family_lookup_inc_2");
    let two = |op: Arc<dyn Fn(&'static str, &'static str) + Send + Sync>| {
        let pairs = Arc::clone(&pairs);
        move |n: u64| {
            // Each thread cycles through the 100 children on its own, half a cycle apart.
            on_two_threads(n, |t| {
                let (op, pairs) = (Arc::clone(&op), Arc::clone(&pairs));
                let mut i = t * 50;
                move || {
                    i = (i + 1) % 100;
                    let (a, b) = pairs[i];
                    op(a, b)
                }
            })
        }
    };
    let o = ours.clone();
    let run = two(Arc::new(move |a, b| o.with(&[a, b], Counter::inc)));
    g.bench_function("ours", |b| b.iter_custom(&run));
    let p = prom.clone();
    let run = two(Arc::new(move |a, b| p.with_label_values(&[a, b]).inc()));
    g.bench_function("prometheus", |b| b.iter_custom(&run));
    let q = pcr.clone();
    let run = two(Arc::new(move |a, b| {
        q.get_or_create(&[("a", a), ("b", b)]).inc();
    }));
    g.bench_function("prometheus_client", |b| b.iter_custom(&run));
    let run = two(Arc::new(|a, b| {
        metrics::counter!("lookup", "a" => a, "b" => b).increment(1)
    }));
    g.bench_function("metrics", |b| b.iter_custom(&run));
    g.finish();
}

/// d: `observe` on a histogram with the default buckets, one thread and two.
fn histograms(c: &mut Criterion) {
    let ours = prometheus_client::Histogram::default();
    let prom =
        prometheus::Histogram::with_opts(prometheus::HistogramOpts::new("h", "A histogram."))
            .expect("valid");
    let pcr = pcr::histogram();
    let metrics = metrics::histogram!("h");
    let value = |i: &mut u64| {
        *i = i.wrapping_add(1);
        (*i % 64) as f64 * 0.01
    };
    let mut g = group(c, "d_histogram_observe");
    let mut i = 0;
    g.bench_function("ours", |b| b.iter(|| ours.observe(value(&mut i))));
    g.bench_function("prometheus", |b| b.iter(|| prom.observe(value(&mut i))));
    g.bench_function("prometheus_client", |b| {
        b.iter(|| pcr.observe(value(&mut i)))
    });
    g.bench_function("metrics", |b| b.iter(|| metrics.record(value(&mut i))));
    g.finish();
    let mut g = group(c, "d_histogram_observe_2");
    let (o, p, q, m) = (ours.clone(), prom.clone(), pcr.clone(), metrics.clone());
    g.bench_function("ours", |b| {
        b.iter_custom(|n| {
            on_two_threads(n, |_| {
                let o = o.clone();
                move || o.observe(0.042)
            })
        })
    });
    g.bench_function("prometheus", |b| {
        b.iter_custom(|n| {
            on_two_threads(n, |_| {
                let p = p.clone();
                move || p.observe(0.042)
            })
        })
    });
    g.bench_function("prometheus_client", |b| {
        b.iter_custom(|n| {
            on_two_threads(n, |_| {
                let q = q.clone();
                move || q.observe(0.042)
            })
        })
    });
    g.bench_function("metrics", |b| {
        b.iter_custom(|n| {
            on_two_threads(n, |_| {
                let m = m.clone();
                move || m.record(0.042)
            })
        })
    });
    g.finish();
}

/// e: `set` on an f64 gauge.
fn gauges(c: &mut Criterion) {
    let ours = prometheus_client::Gauge::new();
    let prom = prometheus::Gauge::new("g", "A gauge.").expect("valid");
    let pcr =
        prometheus_client_peer::metrics::gauge::Gauge::<f64, std::sync::atomic::AtomicU64>::default(
        );
    let metrics = metrics::gauge!("g");
    let mut g = group(c, "e_gauge_set");
    let mut v = 0.0;
    g.bench_function("ours", |b| {
        b.iter(|| {
            v += 0.5;
            ours.set(v)
        })
    });
    g.bench_function("prometheus", |b| {
        b.iter(|| {
            v += 0.5;
            prom.set(v)
        })
    });
    g.bench_function("prometheus_client", |b| {
        b.iter(|| {
            v += 0.5;
            pcr.set(v);
        })
    });
    g.bench_function("metrics", |b| {
        b.iter(|| {
            v += 0.5;
            metrics.set(v)
        })
    });
    g.finish();
}

/// f: encode 10,000 counter series (100 families × 100 label sets), and 1,000 histograms
/// (100 families × 10 label sets).
fn encode(c: &mut Criterion) {
    for (name, histograms, families, sets) in [
        ("f_encode_10000_counters", false, 100, 100),
        ("f_encode_1000_histograms", true, 100, 10),
    ] {
        let (o, p, q, m) = peers::registries(histograms, families, sets);
        let mut buf = Vec::new();
        let bytes = ours::encode(&o, &mut buf);
        eprintln!(
            "{name}: ours {bytes} B, prometheus {} B, prometheus-client {} B, metrics {} B",
            prom::encode(&p, &mut Vec::new()),
            pcr::encode(&q, &mut String::new()),
            metrics_rs::encode(&m)
        );
        let mut g = group(c, name);
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function("ours", |b| b.iter(|| ours::encode(&o, &mut buf)));
        let mut pbuf = Vec::new();
        g.bench_function("prometheus", |b| b.iter(|| prom::encode(&p, &mut pbuf)));
        let mut qbuf = String::new();
        g.bench_function("prometheus_client", |b| {
            b.iter(|| pcr::encode(&q, &mut qbuf))
        });
        g.bench_function("metrics", |b| b.iter(|| metrics_rs::encode(&m)));
        g.finish();
    }
}

/// g: create 10,000 new children in a fresh family (time per child).
fn first_touch(c: &mut Criterion) {
    let pairs = label_pairs(10_000, 100);
    let mut g = group(c, "g_first_touch_10000");
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("ours", |b| {
        b.iter_batched(
            || ours::Labeled::new(["a", "b"]),
            |f| {
                for (a, x) in &pairs {
                    f.get_or_create(&[*a, *x]).inc();
                }
                f
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("prometheus", |b| {
        b.iter_batched(
            || prom::labeled("touch"),
            |f| {
                for (a, x) in &pairs {
                    f.with_label_values(&[*a, *x]).inc();
                }
                f
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("prometheus_client", |b| {
        b.iter_batched(
            pcr::Labeled::default,
            |f| {
                for (a, x) in &pairs {
                    f.get_or_create(&[("a", *a), ("b", *x)]).inc();
                }
                f
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("metrics", |b| {
        b.iter_batched(
            metrics_rs::recorder,
            |r| {
                metrics::with_local_recorder(&r, || {
                    for (a, x) in &pairs {
                        metrics::counter!("touch", "a" => *a, "b" => *x).increment(1)
                    }
                });
                r
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

/// h: parse a realistic exposition of over 1 MB.
fn parse(c: &mut Criterion) {
    use prometheus_client::encoding::Format;
    use prometheus_client::parse::{Entry, Parser};
    let body = exposition::exposition_registry()
        .encode_to_string(Format::Text)
        .expect("encodes");
    let mut g = group(c, "h_parse_text");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("ours", |b| {
        b.iter(|| {
            Parser::new(body.as_bytes(), Format::Text)
                .filter(|e| matches!(e, Ok(Entry::Sample(_))))
                .count()
        })
    });
    g.bench_function("prometheus_parse", |b| {
        b.iter(|| {
            prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_owned())))
                .map(|s| s.samples.len())
        })
    });
    g.finish();
}

/// i: an increment or observation with an exemplar (a 16-digit trace id, and the time),
/// beside client_rust's exemplar types; the other two libraries have no exemplars.
fn exemplars(c: &mut Criterion) {
    type Pairs = Vec<(String, String)>;
    const TRACE: &str = "4bf92f3577b34da6";
    let ours = prometheus_client::Counter::new();
    let pcr = prometheus_client_peer::metrics::exemplar::CounterWithExemplar::<Pairs>::default();
    let mut g = group(c, "i_counter_inc_with_exemplar");
    g.bench_function("ours", |b| {
        b.iter(|| ours.inc_with_exemplar(black_box(&[("trace_id", TRACE)])))
    });
    g.bench_function("prometheus_client", |b| {
        b.iter(|| {
            let labels = vec![("trace_id".to_owned(), black_box(TRACE).to_owned())];
            pcr.inc_by(1, Some(labels), Some(std::time::SystemTime::now()))
        })
    });
    g.finish();
    let ours = prometheus_client::Histogram::default();
    let pcr = prometheus_client_peer::metrics::exemplar::HistogramWithExemplars::<Pairs>::new(
        prometheus_client::DEFAULT_BUCKETS.iter().copied(),
    );
    let mut g = group(c, "i_histogram_observe_with_exemplar");
    g.bench_function("ours", |b| {
        b.iter(|| ours.observe_with_exemplar(black_box(0.042), &[("trace_id", TRACE)]))
    });
    g.bench_function("prometheus_client", |b| {
        b.iter(|| {
            let labels = vec![("trace_id".to_owned(), black_box(TRACE).to_owned())];
            pcr.observe(0.042, Some(labels), Some(std::time::SystemTime::now()))
        })
    });
    g.finish();
}

/// j: `observe` on a native histogram (factor 1.1, 160 buckets at most) and, for scale, on a
/// classic one, with the values of `tests/benches/go/observe_test.go` (client_golang, run
/// with Go beside this bench: no Rust peer has native histograms).
fn native_histograms(c: &mut Criterion) {
    let values: Vec<f64> = (0..1024)
        .map(|i| f64::from(i % 1000 + 1) / 1000.0)
        .collect();
    let config = prometheus_client::NativeConfig::new(1.1)
        .expect("valid")
        .max_buckets(160);
    let native = prometheus_client::NativeHistogram::new(config);
    let classic = prometheus_client::Histogram::default();
    let mut g = group(c, "j_native_histogram_observe");
    let mut i = 0usize;
    g.bench_function("ours_native", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            native.observe(values[i & 1023])
        })
    });
    g.bench_function("ours_classic", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            classic.observe(values[i & 1023])
        })
    });
    g.finish();
}

fn install_metrics_recorder(_: &mut Criterion) {
    let _ = metrics::set_global_recorder(metrics_rs::recorder());
}

criterion_group!(
    benches,
    install_metrics_recorder,
    counters,
    family_lookup,
    histograms,
    gauges,
    encode,
    first_touch,
    parse,
    exemplars,
    native_histograms
);
criterion_main!(benches);
