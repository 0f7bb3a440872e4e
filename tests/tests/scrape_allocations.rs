//! A steady scrape allocates per scrape, not per sample: the pull server finds each series
//! by its text in the target's scrape cache, so no labels are parsed, merged or allocated
//! again. Its own test binary, because it installs dhat's counting allocator.

use std::time::Duration;

use prometheus_client::pull::{Config, PullServer, Target};
use tests::pull::{Answer, FakeTarget};

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

/// Heap blocks allocated per scrape of a target with `series` series, in steady state.
async fn blocks_per_scrape(series: usize) -> f64 {
    let mut body = String::from("# TYPE requests counter\n");
    for i in 0..series {
        body.push_str(&format!(
            "requests_total{{path=\"/api/{i}\",method=\"GET\"}} {i}\n"
        ));
    }
    let body: &'static str = Box::leak(body.into_boxed_str());
    let target =
        FakeTarget::start(move |_| Answer::ok("text/plain; version=0.0.4", body.as_bytes())).await;
    let config = Config::new()
        // Room for the first, uncached scrape under the counting allocator, which is slow.
        .scrape_interval(Duration::from_millis(300))
        .target(Target::new(target.url()).job("steady"));
    let pull = PullServer::start(config, "127.0.0.1:0")
        .await
        .expect("starts");
    // Scrape by scrape after a warm-up, the median: each series' samples grow their buffer
    // now and then (all series in the same scrape), which the median leaves out.
    pull.wait_for_scrapes(8).await;
    let mut each = Vec::new();
    for _ in 0..9 {
        let before = dhat::HeapStats::get().total_blocks;
        pull.wait_for_scrapes(1).await;
        each.push(dhat::HeapStats::get().total_blocks - before);
    }
    let up = pull.query("up").expect("valid");
    assert!(
        format!("{up:?}").contains("1.0"),
        "the scrapes succeeded: {up:?}"
    );
    pull.shutdown().await;
    each.sort_unstable();
    each[each.len() / 2] as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steady_scrapes_allocate_nothing_per_sample() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let small = blocks_per_scrape(1_000).await;
    let large = blocks_per_scrape(4_000).await;
    // Without the cache, each sample allocated its labels: five blocks or more.
    let per_extra_sample = (large - small) / 3_000.0;
    eprintln!("median heap blocks a scrape: {small:.0} for 1,000 series, {large:.0} for 4,000");
    assert!(
        per_extra_sample < 0.1,
        "{small:.0} blocks a scrape of 1,000 series, {large:.0} of 4,000: \
         {per_extra_sample:.2} per extra sample"
    );
}
