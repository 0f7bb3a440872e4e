//! Both servers under one storm of hostile clients at once — connections held open a byte at
//! a time, bodies that never finish, huge headers and forms, deep and huge queries, malformed
//! times — keep answering normal requests, answer every hostile request they read with its
//! error, and keep their heap bounded. Its own test binary, because it installs dhat's
//! counting allocator.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::http::Server;
use prometheus_client::pull::{ApiLimits, Config, PullServer, QueryLimits, QueryValue, Target};
use prometheus_client::{Counter, Family, Histogram, Registry};
use tests::http::{get, TestServer};
use tests::prometheus::url_encode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

/// How long the storm lasts.
const STORM: Duration = Duration::from_secs(4);

fn registry() -> Registry {
    let registry = Registry::new();
    let requests: Family<[String; 1], Counter> = Family::new(["path"]);
    for i in 0..100 {
        requests.get_or_create(&[format!("/page/{i}")]).inc();
    }
    registry
        .register("requests", "Requests.", requests)
        .expect("valid");
    let latency = Histogram::default();
    latency.observe(0.2);
    registry
        .register("latency_seconds", "Latency.", latency)
        .expect("valid");
    registry
}

/// Writes `request` (as far as the server reads it) and reads the answer until the server
/// closes, for at most `wait`: the answer's text.
async fn exchange(addr: SocketAddr, request: &[u8], wait: Duration) -> String {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return String::new();
    };
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(wait, async {
        let _ = stream.write_all(request).await;
        let _ = stream.read_to_end(&mut answer).await;
    })
    .await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// A client that sends a request's headers one byte every 100 ms and never finishes them:
/// reconnects whenever the server cuts it off, until `stop`. Counts the cut-offs.
async fn slowloris(addr: SocketAddr, stop: Arc<AtomicBool>, cut_off: Arc<AtomicUsize>) {
    let headers = b"GET /metrics HTTP/1.1\r\nHost: h\r\nX-Slow: ";
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut stream) = TcpStream::connect(addr).await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let mut sent = 0;
        while !stop.load(Ordering::Relaxed) {
            let byte = headers.get(sent).copied().unwrap_or(b'a');
            if stream.write_all(&[byte]).await.is_err() {
                cut_off.fetch_add(1, Ordering::Relaxed);
                break;
            }
            sent += 1;
            let mut probe = [0u8; 1];
            if let Ok(Ok(0)) =
                tokio::time::timeout(Duration::from_millis(100), stream.read(&mut probe)).await
            {
                cut_off.fetch_add(1, Ordering::Relaxed);
                break;
            }
        }
    }
}

/// A `POST` that announces a body and sends it one byte every 200 ms, until `stop`.
async fn slow_body(addr: SocketAddr, path: &str, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut stream) = TcpStream::connect(addr).await else {
            continue;
        };
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nquery=up"
        );
        if stream.write_all(head.as_bytes()).await.is_err() {
            continue;
        }
        while !stop.load(Ordering::Relaxed) && stream.write_all(b"+").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn post(path: &str, form: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    )
    .into_bytes()
}

fn get_request(path_and_query: &str) -> Vec<u8> {
    format!("GET {path_and_query} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").into_bytes()
}

fn huge_headers(path: &str) -> Vec<u8> {
    let padding = "a".repeat(1 << 20);
    format!("GET {path} HTTP/1.1\r\nHost: h\r\nX-Pad: {padding}\r\n\r\n").into_bytes()
}

/// Every hostile request the pull server's API gets, with the statuses it may answer.
fn hostile_api_requests() -> Vec<(String, Vec<u8>, &'static [u16])> {
    let form = |query: &str| format!("query={}", url_encode(query));
    let deep_minus = format!("{}up", "-".repeat(30_000));
    let deep_brackets = format!("{}up{}", "(".repeat(5_000), ")".repeat(5_000));
    let long = format!("up{}", " + up".repeat(20_000));
    let huge_form = format!("query=up&pad={}", "a".repeat(2 << 20));
    let mut requests = vec![
        (
            "nested unary minus".to_owned(),
            post("/api/v1/query", &form(&deep_minus)),
            &[400][..],
        ),
        (
            "nested brackets".into(),
            post("/api/v1/query", &form(&deep_brackets)),
            &[400],
        ),
        (
            "100 KB query".into(),
            post("/api/v1/query", &form(&long)),
            &[400],
        ),
        (
            "2 MiB form".into(),
            post("/api/v1/query", &huge_form),
            &[413],
        ),
        (
            "huge headers".into(),
            huge_headers("/api/v1/query?query=up"),
            &[431],
        ),
    ];
    for (what, path) in [
        (
            "offset Inf",
            format!("/api/v1/query?query={}", url_encode("up offset Inf")),
        ),
        (
            "offset NaN",
            format!("/api/v1/query?query={}", url_encode("up offset NaN")),
        ),
        (
            "range 1e30",
            format!("/api/v1/query?query={}", url_encode("up[1e30]")),
        ),
        ("time abc", "/api/v1/query?query=up&time=abc".into()),
        ("time 1e400", "/api/v1/query?query=up&time=1e400".into()),
        ("time NaN", "/api/v1/query?query=up&time=NaN".into()),
        (
            "step 0",
            "/api/v1/query_range?query=up&start=0&end=10&step=0".into(),
        ),
        (
            "step -1",
            "/api/v1/query_range?query=up&start=0&end=10&step=-1".into(),
        ),
        (
            "end before start",
            "/api/v1/query_range?query=up&start=10&end=0&step=1".into(),
        ),
        (
            "too many points",
            "/api/v1/query_range?query=up&start=0&end=86400&step=0.001".into(),
        ),
        (
            "start -9e18",
            "/api/v1/query_range?query=up&start=-9e18&end=0&step=1".into(),
        ),
        (
            "series bad match",
            format!("/api/v1/series?match[]={}", url_encode("{")),
        ),
        ("labels bad start", "/api/v1/labels?start=yesterday".into()),
    ] {
        requests.push((what.into(), get_request(&path), &[400]));
    }
    requests
}

/// The status of a raw answer, if there was one.
fn status(answer: &str) -> Option<u16> {
    answer.get(9..12)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_servers_keep_serving_within_their_limits_under_a_storm() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let metrics = TestServer::start(
        Server::builder(registry())
            .max_connections(16)
            .header_read_timeout(Duration::from_secs(1))
            .request_timeout(Duration::from_secs(2))
            .max_connection_age(Duration::from_secs(3)),
    )
    .await;
    let config = Config {
        query: QueryLimits {
            timeout: Duration::from_secs(5),
            ..QueryLimits::default()
        },
        api: ApiLimits {
            max_connections: 16,
            header_read_timeout: Duration::from_secs(1),
            ..ApiLimits::default()
        },
        ..Config::new()
            .scrape_interval(Duration::from_millis(500))
            .target(Target::new(metrics.url()).job("app"))
    };
    let pull = PullServer::start(config, "127.0.0.1:0")
        .await
        .expect("starts");
    pull.wait_for_scrapes(1).await;
    let baseline = dhat::HeapStats::get();

    let stop = Arc::new(AtomicBool::new(false));
    let cut_off = Arc::new(AtomicUsize::new(0));
    let mut storm = JoinSet::new();
    for addr in [metrics.addr, pull.api_addr()] {
        for _ in 0..40 {
            storm.spawn(slowloris(addr, Arc::clone(&stop), Arc::clone(&cut_off)));
        }
        storm.spawn(slow_body(addr, "/metrics", Arc::clone(&stop)));
        storm.spawn(slow_body(addr, "/api/v1/query", Arc::clone(&stop)));
    }
    // Hostile requests that get an answer: each must get its own, whatever else goes on.
    let mut answered = JoinSet::new();
    for (what, request, allowed) in hostile_api_requests() {
        let addr = pull.api_addr();
        answered.spawn(async move {
            let answer = exchange(addr, &request, Duration::from_secs(30)).await;
            (what, status(&answer), allowed)
        });
    }
    for _ in 0..4 {
        let addr = metrics.addr;
        answered.spawn(async move {
            let answer = exchange(addr, &huge_headers("/metrics"), Duration::from_secs(30)).await;
            (
                "huge headers on /metrics".to_owned(),
                status(&answer),
                &[431][..],
            )
        });
    }
    // Normal clients, all through the storm: each request is answered, late perhaps.
    let mut normal = Vec::new();
    let started = tokio::time::Instant::now();
    while started.elapsed() < STORM {
        let scrape =
            tokio::time::timeout(Duration::from_secs(20), get(metrics.addr, "/metrics", &[]));
        let query = tokio::time::timeout(
            Duration::from_secs(20),
            get(pull.api_addr(), "/api/v1/query?query=up", &[]),
        );
        let (scrape, query) = tokio::join!(scrape, query);
        normal.push((
            scrape.map(|r| r.status.as_u16()),
            query.map(|r| r.status.as_u16()),
        ));
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    stop.store(true, Ordering::Relaxed);
    while let Some(result) = answered.join_next().await {
        let (what, status, allowed) = result.expect("task");
        assert!(
            status.is_some_and(|s| allowed.contains(&s)),
            "{what}: answered {status:?}, expected one of {allowed:?}"
        );
    }
    storm.abort_all();
    while storm.join_next().await.is_some() {}

    for (scrape, query) in &normal {
        assert_eq!(*scrape, Ok(200), "a normal scrape during the storm");
        assert_eq!(*query, Ok(200), "a normal query during the storm");
    }
    assert!(
        cut_off.load(Ordering::Relaxed) >= 32,
        "slow clients were cut off {} times",
        cut_off.load(Ordering::Relaxed)
    );
    // Both still serve, and the pull server still scrapes.
    pull.wait_for_scrapes(2).await;
    assert_eq!(get(metrics.addr, "/metrics", &[]).await.status, 200);
    match pull.query("up").expect("answers") {
        QueryValue::Vector(up) => assert_eq!(up.first().map(|s| s.1), Some(1.0)),
        other => panic!("{other:?}"),
    }
    // The heap: the storm's peak is bounded by the limits (16 connections of at most 64 KiB
    // of headers or 1 MiB of form per server, the query threads' text), and what the storm
    // took is given back.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = dhat::HeapStats::get();
    eprintln!(
        "heap: {} bytes before, peak {} during, {} after the storm ({} normal rounds)",
        baseline.curr_bytes,
        after.max_bytes,
        after.curr_bytes,
        normal.len()
    );
    assert!(
        after.max_bytes < baseline.curr_bytes + (96 << 20),
        "peak heap {} bytes over a baseline of {}",
        after.max_bytes,
        baseline.curr_bytes
    );
    assert!(
        after.curr_bytes < baseline.curr_bytes + (8 << 20),
        "heap after the storm {} bytes, baseline {}",
        after.curr_bytes,
        baseline.curr_bytes
    );
    pull.shutdown().await;
    metrics.stop().await;
}
