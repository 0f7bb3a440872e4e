//! A scrape of 100,000 series allocates about one body's worth of memory: the body is built
//! once, in a buffer sized from the previous scrape, and handed to hyper without a copy. Its
//! own test binary, because it installs dhat's counting allocator.

use http_body_util::BodyExt;
use prometheus_client::http::MetricsService;
use tests::http::many_series_registry;

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

#[tokio::test(flavor = "current_thread")]
async fn a_scrape_allocates_about_one_body() {
    let registry = many_series_registry();
    let service = MetricsService::new(registry);
    let scrape = || async {
        let request = hyper::Request::get("/metrics")
            .body(())
            .expect("valid request");
        let response = service.handle(request).await;
        response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .len()
    };
    // The first scrape learns the body's size.
    scrape().await;
    let _profiler = dhat::Profiler::builder().testing().build();
    let before = dhat::HeapStats::get();
    let body = scrape().await;
    let after = dhat::HeapStats::get();
    let bytes = after.total_bytes - before.total_bytes;
    let blocks = after.total_blocks - before.total_blocks;
    eprintln!("a {body}-byte body: {bytes} bytes allocated in {blocks} blocks");
    assert!(body > 3_000_000);
    // One buffer of 9/8 of the last body, plus a little for the request and the task.
    assert!(
        bytes < body as u64 * 5 / 4 + 64 * 1024,
        "{bytes} bytes for a {body}-byte body"
    );
    assert!(
        blocks < 64,
        "{blocks} allocations: something allocates per series"
    );
}
