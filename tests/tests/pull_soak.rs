//! The pull server under a steady load for a long while: 100 targets of 1,000 series each,
//! scraped every second, for 10 minutes, with a 2-minute retention so the store reaches its
//! steady size. No scrape may be missed, and once retention is reached, memory stays flat.
//! Retention drops whole chunks (120 samples, 2 minutes at 1 s), so the store holds between
//! 2 and 4 minutes of samples and reaches its steady size after about 4 minutes.
//!
//! Gated: it runs only with `PULL_SOAK=1` (`PULL_SOAK_SECONDS` changes its length), in a
//! release build, as README says:
//!
//! ```text
//! PULL_SOAK=1 cargo test --release -p tests --test pull_soak -- --nocapture
//! ```

use std::time::{Duration, Instant};

use prometheus_client::http::Server;
use prometheus_client::pull::{Config, Matcher, PullServer, SelectLimits, Target};
use prometheus_client::{Counter, Family, Registry};
use tests::http::TestServer;

const TARGETS: usize = 100;
const SERIES: usize = 1000;
const INTERVAL: Duration = Duration::from_secs(1);
const RETENTION: Duration = Duration::from_secs(120);

fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kib * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_targets_for_ten_minutes_miss_no_scrape_in_flat_memory() {
    if std::env::var_os("PULL_SOAK").is_none() {
        eprintln!("skipped: set PULL_SOAK=1 to run the 10-minute soak (release build advised)");
        return;
    }
    let seconds: u64 = std::env::var("PULL_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    // Retention, and a chunk's span that may outlive it, then a minute to settle.
    let steady_from = RETENTION + INTERVAL * 120 + Duration::from_secs(60);
    assert!(
        seconds >= steady_from.as_secs() + 60,
        "PULL_SOAK_SECONDS must leave a minute after {steady_from:?}"
    );
    // 1,000 counters, served by 100 servers (as many targets: 100,000 series).
    let registry = Registry::new();
    let family = registry
        .register(
            "soak_work",
            "Work.",
            Family::<[String; 1], Counter>::new(["i"]),
        )
        .expect("registers");
    let counters: Vec<Counter> = (0..SERIES)
        .map(|i| family.get_or_create(&[i.to_string()]))
        .collect();
    let mut services = Vec::new();
    for _ in 0..TARGETS {
        services.push(TestServer::start(Server::builder(registry.clone())).await);
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        for round in 0usize.. {
            tick.tick().await;
            for (i, c) in counters.iter().enumerate() {
                if (i + round) % 7 == 0 {
                    c.inc();
                }
            }
        }
    });
    let mut config = Config::new()
        .scrape_interval(INTERVAL)
        .scrape_timeout(INTERVAL)
        .retention(RETENTION);
    for service in &services {
        config = config.target(Target::new(service.url()).job("soak"));
    }
    let server = PullServer::start(config, "127.0.0.1:0")
        .await
        .expect("starts");

    let start = Instant::now();
    let mut steady_rss = None;
    let mut peak_after = 0;
    while start.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_secs(10)).await;
        let rss = resident_bytes();
        let elapsed = start.elapsed();
        eprintln!(
            "{:>4} s: {} series, RSS {:.1} MiB",
            elapsed.as_secs(),
            server.storage().series_count(),
            rss as f64 / (1 << 20) as f64
        );
        if elapsed >= steady_from {
            match steady_rss {
                None => steady_rss = Some(rss),
                Some(_) => peak_after = peak_after.max(rss),
            }
        }
    }

    let elapsed = start.elapsed().as_secs();
    for status in server.targets() {
        let url = &status.target.url;
        assert_eq!(status.up, Some(true), "{url}: {}", status.last_error);
        assert!(
            status.scrapes + 2 >= elapsed,
            "{url}: {} scrapes in {elapsed} s",
            status.scrapes
        );
    }
    // Within the retention, every target's `up` has a sample every interval: no gap.
    let ups = server
        .storage()
        .select(
            &[Matcher::Equal("__name__".into(), "up".into())],
            0,
            i64::MAX,
            SelectLimits::unlimited(),
        )
        .expect("no limits");
    assert_eq!(ups.len(), TARGETS);
    for (labels, samples) in &ups {
        let widest = samples
            .windows(2)
            .map(|w| w[1].0 - w[0].0)
            .max()
            .unwrap_or(0);
        assert!(
            widest < 2 * INTERVAL.as_millis() as i64,
            "{labels:?}: a gap of {widest} ms between scrapes"
        );
        assert!(
            samples.iter().all(|(_, v)| *v == 1.0),
            "{labels:?} was down"
        );
    }
    let steady = steady_rss.expect("ran past the retention");
    assert!(
        peak_after <= steady + steady / 10,
        "memory grew after retention was reached: {steady} then up to {peak_after} bytes"
    );
    server.shutdown().await;
}
