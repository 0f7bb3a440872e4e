//! The pull server against hostile clients and targets: every query and scrape limit, over
//! HTTP, leaves it serving.

use std::time::{Duration, Instant};

use prometheus_client::pull::{Config, Limits, PullServer, QueryLimits, Target};
use serde_json::Value;
use tests::http::get;
use tests::prometheus::url_encode;
use tests::pull::{Answer, FakeTarget};

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).expect("JSON")
}

/// `GET /api/v1/query?query=…`: the status and the JSON answer.
async fn query(pull: &PullServer, promql: &str) -> (u16, Value) {
    let reply = get(
        pull.api_addr(),
        &format!("/api/v1/query?query={}", url_encode(promql)),
        &[],
    )
    .await;
    (reply.status.as_u16(), json(&reply.body))
}

/// `POST /api/v1/query` with this form, over a raw connection: the whole answer.
async fn post_form(addr: std::net::SocketAddr, form: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    let request = format!(
        "POST /api/v1/query HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    );
    stream.write_all(request.as_bytes()).await.expect("sends");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("reads");
    String::from_utf8_lossy(&answer).into_owned()
}

async fn start(config: Config) -> PullServer {
    PullServer::start(config, "127.0.0.1:0")
        .await
        .expect("starts")
}

fn text_target(body: &'static str) -> impl Fn(usize) -> Answer + Send + Sync + 'static {
    move |_| Answer::ok("text/plain; version=0.0.4", body.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_queries_get_their_errors_and_the_server_keeps_serving() {
    let target = FakeTarget::start(text_target("m{i=\"1\"} 1\nm{i=\"2\"} 2\nm{i=\"3\"} 3\n")).await;
    let config = Config::new()
        .scrape_interval(Duration::from_millis(100))
        .target(Target::new(target.url()).job("t"));
    let config = Config {
        query: QueryLimits {
            max_samples: 2,
            ..Default::default()
        },
        ..config
    };
    let pull = start(config).await;
    pull.wait_for_scrapes(1).await;
    let deep = format!("{}m", "-".repeat(30_000));
    let nested = format!("{}m{}", "(".repeat(5_000), ")".repeat(5_000));
    for (promql, status, error_type, says) in [
        (deep.as_str(), 400, "bad_data", "nests deeper"),
        (nested.as_str(), 400, "bad_data", "nests deeper"),
        ("m offset Inf", 400, "bad_data", "invalid duration"),
        ("m offset NaN", 400, "bad_data", "invalid duration"),
        ("m[1e30]", 400, "bad_data", "invalid duration"),
        ("sum(", 400, "bad_data", "invalid query"),
        (
            "m",
            422,
            "execution",
            "query processing would load too many samples into memory in query execution",
        ),
    ] {
        let (got, answer) = query(&pull, promql).await;
        assert_eq!(got, status, "{answer}");
        assert_eq!(answer["errorType"], error_type, "{answer}");
        let error = answer["error"].as_str().expect("an error");
        assert!(error.contains(says), "{error}");
    }
    let long = post_form(pull.api_addr(), &format!("query={}", "m".repeat(70_000))).await;
    assert!(long.starts_with("HTTP/1.1 400"), "{long}");
    assert!(long.contains("longer than the limit of 65536"), "{long}");
    let (ok, answer) = query(&pull, "m{i=\"2\"} * 2").await;
    assert_eq!(
        (ok, &answer["data"]["result"][0]["value"][1]),
        (200, &Value::from("4"))
    );
    let metrics = get(pull.api_addr(), "/metrics", &[]).await.text();
    for line in [
        "pull_queries_total{outcome=\"bad_data\"} 7",
        "pull_queries_total{outcome=\"execution\"} 1",
        "pull_queries_total{outcome=\"success\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    pull.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn series_and_labels_need_no_time_range() {
    let target = FakeTarget::start(text_target("up_ish{a=\"x\"} 1\nother 2\n")).await;
    let pull = start(
        Config::new()
            .scrape_interval(Duration::from_millis(100))
            .target(Target::new(target.url()).job("t")),
    )
    .await;
    pull.wait_for_scrapes(1).await;
    let series = json(
        &get(pull.api_addr(), "/api/v1/series?match[]=up_ish", &[])
            .await
            .body,
    );
    assert_eq!(series["status"], "success", "{series}");
    assert_eq!(series["data"][0]["a"], "x", "{series}");
    assert_eq!(series["data"].as_array().map(Vec::len), Some(1));
    let values = json(
        &get(
            pull.api_addr(),
            "/api/v1/label/__name__/values?match[]=%7Bjob%3D%22t%22%7D",
            &[],
        )
        .await
        .body,
    );
    assert!(values["data"]
        .as_array()
        .is_some_and(|v| v.contains(&Value::from("other")) && v.contains(&Value::from("up"))));
    let names = json(
        &get(pull.api_addr(), "/api/v1/labels?start=0", &[])
            .await
            .body,
    );
    assert!(names["data"]
        .as_array()
        .is_some_and(|v| v.contains(&Value::from("a"))));
    let bad = get(pull.api_addr(), "/api/v1/series?match[]=sum(up_ish)", &[]).await;
    assert_eq!(bad.status, 400, "{}", bad.text());
    pull.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrapes_are_refused_and_counted_as_prometheus_counts_them() {
    let future = FakeTarget::start(|_| {
        let ahead = prometheus_client_now_ms() + 3_600_000;
        Answer::ok("text/plain", format!("ahead 1 {ahead}\nnow 1\n").as_bytes())
    })
    .await;
    let name_twice = FakeTarget::start(text_target("a{__name__=\"b\"} 1\n")).await;
    let over_limit = FakeTarget::start(text_target("a 1\nb 2\nc 3\nd 4\ne 5\n")).await;
    let churn = FakeTarget::start(|n| {
        Answer::ok(
            "text/plain",
            format!("s{{n=\"{}\"}} 1\nkeep 1\n", n / 2).as_bytes(),
        )
    })
    .await;
    let limited = |url: String, limits: Limits| Target::new(url).limits(limits);
    let config = Config::new()
        .scrape_interval(Duration::from_millis(100))
        .target(Target::new(future.url()).job("future"))
        .target(Target::new(name_twice.url()).job("name_twice"))
        .target(
            limited(
                over_limit.url(),
                Limits {
                    sample_limit: 2,
                    ..Default::default()
                },
            )
            .job("over_limit"),
        )
        .target(Target::new(churn.url()).job("churn"))
        .target(
            limited(
                churn.url(),
                Limits {
                    series_limit: 3,
                    ..Default::default()
                },
            )
            .job("churn_limited"),
        );
    let pull = start(config).await;
    pull.wait_for_scrapes(4).await;
    let status: Vec<_> = pull.targets();
    let by_job = |job: &str| {
        status
            .iter()
            .find(|s| s.target.job == job)
            .expect("a target")
            .clone()
    };
    assert_eq!(by_job("future").up, Some(true));
    assert!(by_job("name_twice")
        .last_error
        .contains("\"__name__\" is not unique"));
    assert!(by_job("over_limit")
        .last_error
        .contains("sample limit of 2"));
    assert!(by_job("churn_limited")
        .last_error
        .contains("series limit of 3"));
    let value = |promql: &str| match pull.query(promql).expect("valid") {
        prometheus_client::pull::QueryValue::Vector(v) => v.first().map(|p| p.1),
        _ => None,
    };
    assert_eq!(value("ahead"), None, "a sample an hour ahead is not stored");
    assert_eq!(value("now"), Some(1.0));
    assert_eq!(
        value("scrape_samples_scraped{job=\"over_limit\"}"),
        Some(5.0)
    );
    assert_eq!(value("up{job=\"over_limit\"}"), Some(0.0));
    // `churn` sends a new series every second scrape: one added, then none.
    let added = value("scrape_series_added{job=\"churn\"}").expect("recorded");
    assert!(added == 0.0 || added == 1.0, "{added}");
    let metrics = get(pull.api_addr(), "/metrics", &[]).await.text();
    for line in [
        "pull_samples_refused_total{reason=\"too_far_ahead\"}",
        "pull_scrape_failures_total{job=\"name_twice\",reason=\"duplicate_label\"}",
        "pull_scrape_failures_total{job=\"over_limit\",reason=\"sample_limit\"}",
        "pull_scrape_failures_total{job=\"churn_limited\",reason=\"series_limit\"}",
        "pull_series ",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    pull.shutdown().await;
}

fn prometheus_client_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_bomb_stops_at_the_default_body_limit() {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let line = b"a 1\n".repeat(1 << 16);
    for _ in 0..(Limits::DEFAULT_BODY_SIZE_LIMIT / line.len() + 2) {
        encoder.write_all(&line).expect("in memory");
    }
    let bomb = encoder.finish().expect("in memory");
    assert!(bomb.len() < Limits::DEFAULT_BODY_SIZE_LIMIT / 50);
    let target = FakeTarget::start(move |_| {
        Answer::with_headers(
            200,
            "Content-Type: text/plain\r\nContent-Encoding: gzip\r\n",
            &bomb,
        )
    })
    .await;
    let pull = start(
        Config::new()
            .scrape_interval(Duration::from_millis(500))
            .target(Target::new(target.url())),
    )
    .await;
    pull.wait_for_scrapes(1).await;
    let error = pull.targets()[0].last_error.clone();
    assert!(
        error.contains("body size limit of 67108864 bytes"),
        "{error}"
    );
    pull.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_scrapes_itself() {
    let pull = start(Config {
        scrape_self: true,
        ..Config::new().scrape_interval(Duration::from_millis(100))
    })
    .await;
    pull.wait_for_scrapes(2).await;
    let (status, answer) = query(&pull, "pull_scrapes_total{job=\"pull\"}").await;
    assert_eq!(status, 200);
    assert_eq!(
        answer["data"]["result"][0]["metric"]["instance"],
        pull.api_addr().to_string()
    );
    pull.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_heavy_queries_does_not_delay_scrapes() {
    // 2,000 series, so each query below reads 2,000 × 50 samples.
    let mut body = String::new();
    for i in 0..2_000 {
        body.push_str(&format!("load{{i=\"{i}\"}} {i}\n"));
    }
    let body: &'static str = Box::leak(body.into_boxed_str());
    let target = FakeTarget::start(text_target(body)).await;
    let interval = Duration::from_millis(200);
    let pull = start(
        Config::new()
            .scrape_interval(interval)
            .target(Target::new(target.url()).job("load")),
    )
    .await;
    pull.wait_for_scrapes(3).await;
    let started = Instant::now();
    let addr = pull.api_addr();
    let heavy = url_encode("sum by (job) (rate(load[1h]))");
    let burst: Vec<_> = (0..40)
        .map(|_| {
            let path = format!("/api/v1/query?query={heavy}");
            tokio::spawn(async move {
                let deadline = Instant::now() + Duration::from_secs(3);
                while Instant::now() < deadline {
                    assert_eq!(get(addr, &path, &[]).await.status, 200);
                }
            })
        })
        .collect();
    for task in burst {
        task.await.expect("the client ran");
    }
    let elapsed = started.elapsed();
    // The scrape timestamps during the burst: scraping went on. A gap may stretch on a busy
    // shared machine (two cores, a CI run beside), so only a stall of several intervals
    // fails: the queries' own time is seconds.
    let samples = match pull
        .query(&format!("up{{job=\"load\"}}[{}ms]", elapsed.as_millis()))
        .expect("valid")
    {
        prometheus_client::pull::QueryValue::Matrix(series) => series[0].1.clone(),
        other => panic!("a matrix: {other:?}"),
    };
    assert!(
        samples.len() >= 10,
        "{} scrapes in {elapsed:?}",
        samples.len()
    );
    let worst = samples
        .windows(2)
        .map(|w| w[1].0 - w[0].0)
        .max()
        .unwrap_or(0);
    assert!(
        worst < 5 * interval.as_millis() as i64,
        "a scrape came {worst} ms after the one before"
    );
    pull.shutdown().await;
}
