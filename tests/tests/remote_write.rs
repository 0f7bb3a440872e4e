//! Remote write 1.0 from the pull server: into Debian's Prometheus (started with
//! `--web.enable-remote-write-receiver`), every stored sample reads back with its value and
//! timestamp, also across a 30 s outage of the receiver; against scripted receivers, a full
//! queue drops and counts, a 4xx is not retried, a 5xx is.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus_client::http::Server;
use prometheus_client::pull::{
    is_stale, Config, PullServer, RemoteWrite, RemoteWriteStats, SelectLimits, Storage, Target,
};
use prometheus_client::{Counter, Family, Gauge, Registry};
use tests::http::TestServer;
use tests::prometheus::{url_encode, Prometheus};
use tests::pull::{Answer, FakeTarget};

/// Float samples by series: `(timestamp in ms, value bits)`, stale markers left out.
type Samples = BTreeMap<Vec<(String, String)>, Vec<(i64, u64)>>;

/// Every float sample `storage` holds, but stale markers (Prometheus' API never shows them).
fn stored(storage: &dyn Storage) -> Samples {
    storage
        .select(&[], 0, i64::MAX, SelectLimits::unlimited())
        .expect("no limits")
        .into_iter()
        .map(|(labels, samples)| {
            let samples = samples
                .into_iter()
                .filter(|(_, v)| !is_stale(*v))
                .map(|(t, v)| (t, v.to_bits()))
                .collect();
            (labels.to_vec(), samples)
        })
        .collect()
}

/// Every raw sample Prometheus holds from the last hour.
async fn received(prometheus: &Prometheus) -> Samples {
    let query = url_encode(r#"{__name__=~".+"}[1h]"#);
    let json = prometheus
        .api(&format!("/api/v1/query?query={query}"))
        .await;
    assert_eq!(json["status"], "success", "{json}");
    let mut out = Samples::new();
    for series in json["data"]["result"].as_array().expect("a matrix") {
        let mut labels: Vec<(String, String)> = series["metric"]
            .as_object()
            .expect("labels")
            .iter()
            .map(|(n, v)| (n.clone(), v.as_str().expect("a string").to_owned()))
            .collect();
        labels.sort();
        let samples = series["values"]
            .as_array()
            .expect("values")
            .iter()
            .map(|pair| {
                let seconds = pair[0].as_f64().expect("a time");
                let value: f64 = pair[1]
                    .as_str()
                    .expect("a value")
                    .parse()
                    .expect("a number");
                ((seconds * 1000.0).round() as i64, value.to_bits())
            })
            .collect();
        out.insert(labels, samples);
    }
    out
}

async fn stats_when(
    server: &PullServer,
    what: &str,
    done: impl Fn(&RemoteWriteStats) -> bool,
) -> RemoteWriteStats {
    let start = Instant::now();
    loop {
        let stats = server.remote_write_stats().remove(0);
        if done(&stats) {
            return stats;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "never {what}: {stats:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A service whose counters and gauge change between scrapes.
async fn service() -> TestServer {
    let registry = Registry::new();
    let work = registry
        .register(
            "work",
            "Work done.",
            Family::<[String; 1], Counter>::new(["kind"]),
        )
        .expect("registers");
    let level: Gauge<f64> = registry
        .register("level", "A level.", Gauge::default())
        .expect("registers");
    tokio::spawn(async move {
        for i in 0u64.. {
            for kind in ["a", "b", "c"] {
                work.with(&[kind], |c| c.inc_by(i % 3));
            }
            level.set((i as f64).sin() * 1e3);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    TestServer::start(Server::builder(registry)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_stored_sample_reaches_prometheus_across_a_30_s_outage() {
    let Some(mut receiver) =
        Prometheus::start_with_args("", &["--web.enable-remote-write-receiver"]).await
    else {
        return;
    };
    let target = service().await;
    let remote = RemoteWrite::new(format!("http://{}/api/v1/write", receiver.addr))
        .batch_send_deadline(Duration::from_millis(200))
        .backoff(Duration::from_millis(30), Duration::from_secs(1))
        .timeout(Duration::from_secs(2));
    let config = Config::new()
        .scrape_interval(Duration::from_secs(1))
        .scrape_timeout(Duration::from_secs(1))
        .target(Target::new(target.url()).job("app"))
        .remote_write(remote);
    let server = PullServer::start(config, "127.0.0.1:0")
        .await
        .expect("starts");
    server.wait_for_scrapes(3).await;
    stats_when(&server, "sent", |s| s.sent > 0).await;

    receiver.stop();
    tokio::time::sleep(Duration::from_secs(30)).await;
    let during = server.remote_write_stats().remove(0);
    assert!(during.pending > 100, "scrapes queue up: {during:?}");
    assert!(during.retried > 0, "{during:?}");
    assert_eq!(during.dropped, 0, "the queue has room: {during:?}");
    assert!(!during.last_error.is_empty());

    receiver.restart().await;
    server.wait_for_scrapes(2).await;
    let after = stats_when(&server, "caught up", |s| s.pending < 50).await;
    assert_eq!((after.dropped, after.failed), (0, 0), "{after:?}");
    let storage = Arc::clone(server.storage());
    server.shutdown().await;

    let ours = stored(storage.as_ref());
    let theirs = received(&receiver).await;
    let count = |s: &Samples| s.values().map(Vec::len).sum::<usize>();
    // 4 series and 5 synthetic ones, scraped for over 33 s.
    assert!(count(&ours) > 33 * 9, "{} samples", count(&ours));
    for (labels, samples) in &ours {
        assert_eq!(
            theirs.get(labels),
            Some(samples),
            "{labels:?}: Prometheus has other samples"
        );
    }
    assert_eq!(count(&theirs), count(&ours), "nothing more either");
}

/// A target of `n` gauges.
fn gauges(n: usize) -> Answer {
    let body: String = (0..n).map(|i| format!("g{{i=\"{i}\"}} {i}\n")).collect();
    Answer::ok("text/plain; version=0.0.4", body.as_bytes())
}

async fn start_pull(target: &FakeTarget, remote: RemoteWrite, interval: Duration) -> PullServer {
    let config = Config::new()
        .scrape_interval(interval)
        .scrape_timeout(Duration::from_secs(1))
        .target(Target::new(target.url()).job("g"))
        .remote_write(remote);
    PullServer::start(config, "127.0.0.1:0")
        .await
        .expect("starts")
}

fn nobody_listening() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let addr = listener.local_addr().expect("address");
    format!("http://{addr}/api/v1/write")
}

#[tokio::test]
async fn a_full_queue_drops_what_has_no_room_and_counts_it() {
    let target = FakeTarget::start(|_| gauges(100)).await;
    let remote = RemoteWrite::new(nobody_listening())
        .capacity(50)
        .backoff(Duration::from_millis(10), Duration::from_millis(50));
    let server = start_pull(&target, remote, Duration::from_secs(30)).await;
    server.wait_for_scrapes(1).await;
    // 100 gauges and 5 synthetic series, stored and queued; room for 50.
    let stats = stats_when(&server, "retried", |s| s.retried > 0).await;
    assert_eq!(server.storage().series_count(), 105);
    assert_eq!(
        (stats.pending, stats.dropped, stats.sent),
        (50, 55, 0),
        "{stats:?}"
    );
    assert!(stats.last_error.contains("connect"), "{stats:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn a_4xx_answer_fails_the_batch_without_retrying() {
    let receiver =
        FakeTarget::start(|_| Answer::with_headers(400, "", b"out of order sample")).await;
    let target = FakeTarget::start(|_| gauges(10)).await;
    let remote = RemoteWrite::new(format!("http://{}/api/v1/write", receiver.addr))
        .max_samples_per_send(20)
        .batch_send_deadline(Duration::from_millis(50));
    let server = start_pull(&target, remote, Duration::from_secs(30)).await;
    server.wait_for_scrapes(1).await;
    let stats = stats_when(&server, "failed", |s| s.failed == 15).await;
    assert_eq!(
        (stats.retried, stats.sent, stats.pending),
        (0, 0, 0),
        "{stats:?}"
    );
    assert!(stats.last_error.contains("400"), "{stats:?}");
    assert!(
        stats.last_error.contains("out of order sample"),
        "{stats:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_receiver_s_error_body_is_read_only_so_far() {
    // A body that says 1 GiB and stops after 8 MiB: read whole, it would fail (and say
    // nothing); its first bytes are all the error message needs.
    let mut raw = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 1073741824\r\n\r\n".to_vec();
    raw.extend(std::iter::repeat_n(b'x', 8 << 20));
    let receiver = FakeTarget::start(move |_| Answer::Raw(raw.clone())).await;
    let target = FakeTarget::start(|_| gauges(10)).await;
    let remote = RemoteWrite::new(format!("http://{}/api/v1/write", receiver.addr))
        .shards(1)
        .batch_send_deadline(Duration::from_millis(50));
    let server = start_pull(&target, remote, Duration::from_secs(30)).await;
    server.wait_for_scrapes(1).await;
    let stats = stats_when(&server, "failed", |s| s.failed == 15).await;
    let start: String = stats.last_error.chars().take(80).collect();
    assert!(
        stats.last_error.contains("400 Bad Request: xxxx"),
        "{start}"
    );
    assert!(
        stats.last_error.len() < 1024,
        "{} bytes kept",
        stats.last_error.len()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_5xx_answer_is_retried_until_taken() {
    let receiver = FakeTarget::start(|n| match n {
        0..=2 => Answer::with_headers(503, "", b"busy"),
        _ => Answer::with_headers(204, "", b""),
    })
    .await;
    let target = FakeTarget::start(|_| gauges(10)).await;
    let remote = RemoteWrite::new(format!("http://{}/api/v1/write", receiver.addr))
        .shards(1)
        .max_samples_per_send(20)
        .batch_send_deadline(Duration::from_millis(50))
        .backoff(Duration::from_millis(10), Duration::from_millis(20));
    let server = start_pull(&target, remote, Duration::from_secs(30)).await;
    server.wait_for_scrapes(1).await;
    let stats = stats_when(&server, "sent", |s| s.sent == 15).await;
    // One batch of 15, refused three times.
    assert_eq!(
        (stats.retried, stats.failed, stats.dropped),
        (45, 0, 0),
        "{stats:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn stopping_waits_for_one_request_at_most_when_the_receiver_hangs() {
    let receiver = FakeTarget::start(|_| Answer::Hang).await;
    let target = FakeTarget::start(|_| gauges(100)).await;
    // 105 samples in batches of 2: 53 requests of a second each, were they all tried.
    let remote = RemoteWrite::new(format!("http://{}/api/v1/write", receiver.addr))
        .shards(1)
        .max_samples_per_send(2)
        .batch_send_deadline(Duration::from_millis(10))
        .timeout(Duration::from_secs(1));
    let server = start_pull(&target, remote, Duration::from_secs(30)).await;
    server.wait_for_scrapes(1).await;
    stats_when(&server, "retried", |s| s.retried > 0).await;
    tokio::time::timeout(Duration::from_secs(20), server.shutdown())
        .await
        .expect("stops after the request in flight, dropping the rest");
}
