//! Scrapes that fail store nothing: target down, HTTP 500, timeout, truncated body, a parse
//! error on the last of 10,000 lines, a gzip bomb, limits one over. Each leaves `up` at 0,
//! an error that says why, and stale markers for what the previous scrape had stored.

use std::io::Write;
use std::time::Duration;

use prometheus_client::pull::{Config, Limits, PullServer, Target};
use tests::pull::{ends_stale, job_series, latest, Answer, FakeTarget};

const TEXT: &str = "text/plain; version=0.0.4";

fn big_body(lines: usize, last: &str) -> Vec<u8> {
    let mut body = String::from("# TYPE big gauge\n");
    for i in 0..lines - 1 {
        body.push_str(&format!("big{{i=\"{i}\"}} {i}\n"));
    }
    body.push_str(last);
    body.into_bytes()
}

/// Scrapes `target` until `scrapes` scrapes are done; returns the pull server.
async fn scrape(target: Target, scrapes: u64) -> PullServer {
    let config = Config::new()
        .scrape_interval(Duration::from_millis(250))
        .scrape_timeout(Duration::from_millis(200))
        .target(target);
    let pull = PullServer::start(config, "127.0.0.1:0")
        .await
        .expect("starts");
    pull.wait_for_scrapes(scrapes).await;
    pull
}

fn up(pull: &PullServer, job: &str, instance: &str) -> Option<f64> {
    latest(
        pull.storage().as_ref(),
        &[("__name__", "up"), ("job", job), ("instance", instance)],
    )
}

async fn assert_fails(answer: Answer, limits: Limits, error_contains: &str) {
    let fake = FakeTarget::start(move |_| answer.clone()).await;
    let pull = scrape(Target::new(fake.url()).job("fault").limits(limits), 1).await;
    assert_eq!(up(&pull, "fault", &fake.addr.to_string()), Some(0.0));
    assert!(
        job_series(pull.storage().as_ref(), "fault").is_empty(),
        "nothing stored"
    );
    let error = pull.targets()[0].last_error.clone();
    assert!(
        error.contains(error_contains),
        "{error:?} should mention {error_contains:?}"
    );
    pull.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_is_down() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let pull = scrape(
        Target::new(format!("http://127.0.0.1:{port}/metrics")).job("down"),
        1,
    )
    .await;
    assert_eq!(up(&pull, "down", &format!("127.0.0.1:{port}")), Some(0.0));
    assert!(pull.targets()[0].last_error.contains("connecting failed"));
    pull.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_errors_timeouts_and_truncated_bodies() {
    assert_fails(
        Answer::with_headers(500, "", b"oops"),
        Limits::default(),
        "status 500",
    )
    .await;
    assert_fails(Answer::Hang, Limits::default(), "timeout").await;
    let mut truncated =
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n".to_vec();
    truncated.extend_from_slice(b"a 1\nb 2\n");
    assert_fails(Answer::Raw(truncated), Limits::default(), "HTTP failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timed_out_scrapes_leave_no_task_behind() {
    let fake = FakeTarget::start(|_| Answer::Hang).await;
    let pull = scrape(Target::new(fake.url()).job("hang"), 2).await;
    let tasks = || {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    };
    let after_two = tasks();
    pull.wait_for_scrapes(6).await;
    // Each hanging scrape costs the fake target a task; the pull server must not keep one.
    let growth = tasks().saturating_sub(after_two);
    assert!(
        growth <= 6 + 1,
        "{growth} more tasks after 6 more timed-out scrapes"
    );
    pull.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parse_error_on_the_last_of_10000_lines_stores_nothing_and_marks_stale() {
    let good = big_body(10_000, "big{i=\"last\"} 1\n");
    let bad = big_body(10_000, "big{i=\"last\"} not-a-number\n");
    let fake =
        FakeTarget::start(move |n| Answer::ok(TEXT, if n == 0 { &good } else { &bad })).await;
    let pull = scrape(Target::new(fake.url()).job("big"), 1).await;
    let instance = fake.addr.to_string();
    assert_eq!(up(&pull, "big", &instance), Some(1.0));
    assert_eq!(job_series(pull.storage().as_ref(), "big").len(), 10_000);
    pull.wait_for_scrapes(1).await;
    assert_eq!(up(&pull, "big", &instance), Some(0.0));
    let series = job_series(pull.storage().as_ref(), "big");
    assert_eq!(series.len(), 10_000, "no series from the failed scrape");
    assert!(
        ends_stale(&series),
        "every series of the good scrape ends with a stale marker"
    );
    assert!(
        pull.targets()[0].last_error.contains("10001:"),
        "{}",
        pull.targets()[0].last_error
    );
    pull.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_going_back_in_time_are_refused_and_counted() {
    // Honoured timestamps: the second scrape sends an older one, the third another value at
    // the same time.
    let fake = FakeTarget::start(|n| {
        let body = match n {
            0 => "a 1 5000\n",
            1 => "a 2 4000\n",
            _ => "a 3 5000\n",
        };
        Answer::ok(TEXT, body.as_bytes())
    })
    .await;
    let pull = scrape(Target::new(fake.url()).job("clock"), 3).await;
    let status = &pull.targets()[0];
    assert_eq!(status.up, Some(true));
    assert_eq!(status.out_of_order, 1);
    assert!(status.duplicates >= 1);
    let series = job_series(pull.storage().as_ref(), "clock");
    assert_eq!(series.len(), 1);
    assert_eq!(series[0].1, 1.0, "the first value stays");
    pull.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_bomb_over_the_body_limit() {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let line = b"bomb{pad=\"00000000000000000000000000000000000000000000\"} 1\n";
    for _ in 0..(64 << 20) / line.len() {
        encoder.write_all(line).expect("compresses");
    }
    let compressed = encoder.finish().expect("compresses");
    assert!(
        compressed.len() < 1 << 20,
        "{} bytes compressed",
        compressed.len()
    );
    let answer = Answer::with_headers(
        200,
        "Content-Type: text/plain\r\nContent-Encoding: gzip\r\n",
        &compressed,
    );
    let limits = Limits {
        body_size_limit: 1 << 20,
        ..Limits::default()
    };
    assert_fails(answer, limits, "body size limit of 1048576 bytes").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_exactly_at_pass_and_one_over_fail() {
    let body = b"a{x=\"1\"} 1\na{x=\"2\"} 2\na{x=\"3\"} 3\n".to_vec();
    let at = FakeTarget::start({
        let body = body.clone();
        move |_| Answer::ok(TEXT, &body)
    })
    .await;
    let pull = scrape(
        Target::new(at.url()).job("at").limits(Limits {
            sample_limit: 3,
            ..Limits::default()
        }),
        1,
    )
    .await;
    assert_eq!(up(&pull, "at", &at.addr.to_string()), Some(1.0));
    assert_eq!(job_series(pull.storage().as_ref(), "at").len(), 3);
    pull.shutdown().await;
    assert_fails(
        Answer::ok(TEXT, &body),
        Limits {
            sample_limit: 2,
            ..Limits::default()
        },
        "sample limit of 2",
    )
    .await;
    // Three labels each: x, job, instance.
    assert_fails(
        Answer::ok(TEXT, &body),
        Limits {
            label_limit: 2,
            ..Limits::default()
        },
        "label limit of 2",
    )
    .await;
    let long = b"a{x=\"12345678901\"} 1\n".to_vec();
    assert_fails(
        Answer::ok(TEXT, &long),
        Limits {
            label_value_length_limit: 10,
            ..Limits::default()
        },
        "value length limit",
    )
    .await;
    let long_name = b"a{abcdefghijklmnopqrstuvwxyz=\"1\"} 1\n".to_vec();
    assert_fails(
        Answer::ok(TEXT, &long_name),
        Limits {
            label_name_length_limit: 10,
            ..Limits::default()
        },
        "name length limit",
    )
    .await;
}
