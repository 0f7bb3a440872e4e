//! Updates racing scrapes: every rendered snapshot is consistent, and nothing is lost.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use prometheus_client::encoding::Format;
use prometheus_client::{Counter, Family, Histogram, Registry};

/// The value of each sample line `name{labels} value` whose name starts with `prefix`.
fn samples(body: &str, prefix: &str) -> BTreeMap<String, f64> {
    body.lines()
        .filter(|l| l.starts_with(prefix))
        .map(|l| {
            let (key, value) = l.rsplit_once(' ').expect("a sample line");
            (key.to_owned(), value.parse().expect("a float"))
        })
        .collect()
}

#[test]
fn observers_racing_a_scraper_never_show_an_inconsistent_histogram() {
    const PER_THREAD: u64 = 200_000;
    let registry = Registry::new();
    let h = registry
        .register(
            "race",
            "",
            Histogram::with_buckets(&[0.5, 2.5]).expect("valid"),
        )
        .expect("registers");
    let done = Arc::new(AtomicBool::new(false));
    let observers: Vec<_> = [0.5, 2.0]
        .into_iter()
        .map(|v| {
            let h = h.clone();
            thread::spawn(move || (0..PER_THREAD).for_each(|_| h.observe(v)))
        })
        .collect();
    let scraper = {
        let done = Arc::clone(&done);
        thread::spawn(move || {
            let mut snapshots = 0;
            let mut last_count = 0.0;
            loop {
                let finished = done.load(Ordering::Acquire);
                let body = registry.encode_to_string(Format::Text).expect("encodes");
                let s = samples(&body, "race_");
                let low = s["race_bucket{le=\"0.5\"}"];
                let mid = s["race_bucket{le=\"2.5\"}"];
                let inf = s["race_bucket{le=\"+Inf\"}"];
                let count = s["race_count"];
                assert!(low <= mid && mid <= inf, "buckets not cumulative: {body}");
                assert_eq!(count, inf, "_count differs from +Inf bucket: {body}");
                assert_eq!(
                    s["race_sum"],
                    0.5 * low + 2.0 * (mid - low),
                    "_sum of other observations: {body}"
                );
                assert!(count >= last_count, "count went backwards");
                last_count = count;
                snapshots += 1;
                if finished {
                    return (snapshots, count);
                }
            }
        })
    };
    observers
        .into_iter()
        .for_each(|o| o.join().expect("observer"));
    done.store(true, Ordering::Release);
    let (snapshots, final_count) = scraper.join().expect("scraper");
    assert_eq!(
        final_count,
        (2 * PER_THREAD) as f64,
        "every observation counted"
    );
    assert!(snapshots > 1, "the scraper raced the observers");
}

#[test]
fn counters_racing_a_scraper_lose_nothing_and_never_go_back() {
    const THREADS: usize = 4;
    const PER_THREAD: u64 = 50_000;
    let registry = Registry::new();
    let family = registry
        .register("work", "", Family::<[String; 1], Counter>::new(["worker"]))
        .expect("registers");
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let family = family.clone();
            thread::spawn(move || {
                let mine = family.get_or_create(&[t.to_string()]);
                for i in 0..PER_THREAD {
                    mine.inc();
                    // Half the time through the lookup, as a handler without a cached handle.
                    if i % 2 == 0 {
                        family.get_or_create(&["shared"]).inc();
                    }
                }
            })
        })
        .collect();
    let mut last: BTreeMap<String, f64> = BTreeMap::new();
    while workers.iter().any(|w| !w.is_finished()) {
        let body = registry
            .encode_to_string(Format::OpenMetrics)
            .expect("encodes");
        let now = samples(&body, "work_total");
        for (series, value) in &last {
            assert!(
                now[series] >= *value,
                "{series} went from {value} to {}",
                now[series]
            );
        }
        last = now;
    }
    workers.into_iter().for_each(|w| w.join().expect("worker"));
    let body = registry.encode_to_string(Format::Text).expect("encodes");
    let end = samples(&body, "work_total");
    for t in 0..THREADS {
        assert_eq!(
            end[&format!("work_total{{worker=\"{t}\"}}")],
            PER_THREAD as f64
        );
    }
    assert_eq!(
        end["work_total{worker=\"shared\"}"],
        (THREADS as u64 * PER_THREAD / 2) as f64
    );
}
