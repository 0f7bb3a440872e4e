//! The whole round trip: what a service records equals what the pull server returns after a
//! scrape, for every metric type, label values that need escaping and float edge values,
//! through every format (text, OpenMetrics, protobuf); series that disappear end with a stale
//! marker; and a real client (`promtool query`) reads from the pull server.

use std::time::Duration;

use prometheus_client::encoding::Format;
use prometheus_client::http::{MetricsService, Server};
use prometheus_client::pull::{is_stale, Config, PullServer, QueryValue, ScrapeProtocol, Target};
use prometheus_client::{Counter, Family, Registry};
use std::collections::BTreeMap;

use tests::edge_cases::{canonical_labels, edge_cases};
use tests::external::{tool, PROMTOOL};
use tests::http::TestServer;
use tests::pull::{job_series, latest, name_and_own_labels};

/// Serves `registry` and starts a pull server scraping it as job `app` every 200 ms.
async fn serve_and_scrape(registry: Registry) -> (TestServer, PullServer) {
    let server = TestServer::start(Server::builder(registry)).await;
    let config = Config::new()
        .scrape_interval(Duration::from_millis(200))
        .target(Target::new(server.url()).job("app"));
    let pull = PullServer::start(config, "127.0.0.1:0")
        .await
        .expect("starts");
    (server, pull)
}

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan() && !is_stale(a))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_edge_case_survives_the_round_trip_in_every_format() {
    let edge = edge_cases().expect("builds");
    let negotiated = TestServer::start(Server::builder(edge.registry.clone())).await;
    let text = MetricsService::builder(edge.registry.clone())
        .format(Format::Text)
        .build()
        .expect("valid");
    let text = TestServer::start(Server::with_service(text)).await;
    let config = Config::new()
        .scrape_interval(Duration::from_millis(200))
        .target(Target::new(negotiated.url()).job("openmetrics"))
        .target(Target::new(text.url()).job("text"))
        .target(
            Target::new(negotiated.url())
                .job("protobuf")
                .scrape_protocols([ScrapeProtocol::PrometheusProto]),
        );
    let pull = PullServer::start(config, "127.0.0.1:0")
        .await
        .expect("starts");
    pull.wait_for_scrapes(1).await;
    for (job, format) in [
        ("openmetrics", Format::OpenMetrics),
        ("text", Format::Text),
        ("protobuf", Format::Protobuf),
    ] {
        // What the pull server stored for this job, keyed like the expectations: `le` and
        // `quantile` normalised, `job` and `instance` set aside.
        let stored: BTreeMap<(String, BTreeMap<String, String>), f64> =
            job_series(pull.storage().as_ref(), job)
                .into_iter()
                .map(|(labels, v)| {
                    let (name, own) = name_and_own_labels(labels);
                    ((name, canonical_labels(own.into_iter().collect())), v)
                })
                .collect();
        let wanted: Vec<_> = edge
            .samples
            .iter()
            .filter(|s| format != Format::OpenMetrics || !s.text_only)
            .collect();
        for sample in &wanted {
            let key = (sample.name.clone(), sample.labels.clone());
            let got = stored
                .get(&key)
                .unwrap_or_else(|| panic!("{job}: {key:?} not stored"));
            assert!(
                same(*got, sample.value),
                "{job}: {key:?}: stored {got:?}, recorded {:?}",
                sample.value
            );
        }
        assert_eq!(
            stored.len(),
            wanted.len(),
            "{job}: nothing more, nothing less"
        );
    }
    pull.shutdown().await;
    negotiated.stop().await;
    text.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_follow_traffic_and_removed_series_go_stale() {
    let registry = Registry::new();
    let requests = registry
        .register(
            "requests",
            "Requests.",
            Family::<[String; 1], Counter>::new(["path"]),
        )
        .expect("valid");
    let (server, pull) = serve_and_scrape(registry).await;
    requests.get_or_create(&["/a"]).inc();
    requests.get_or_create(&["/b"]).inc_by(5);
    pull.wait_for_scrapes(2).await;
    let value = |q: &str| match pull.query(q).expect("valid query") {
        QueryValue::Vector(v) => v.iter().map(|p| p.1).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!(value("requests_total{path=\"/a\"}"), [1.0]);
    assert_eq!(value("sum(requests_total)"), [6.0]);
    requests.get_or_create(&["/a"]).inc_by(2);
    assert!(requests.remove(&["/b"]));
    pull.wait_for_scrapes(2).await;
    assert_eq!(value("requests_total{path=\"/a\"}"), [3.0]);
    assert!(
        value("requests_total{path=\"/b\"}").is_empty(),
        "a removed series ends"
    );
    let stored = latest(
        pull.storage().as_ref(),
        &[
            ("__name__", "requests_total"),
            ("path", "/b"),
            ("job", "app"),
            ("instance", &server.addr.to_string()),
        ],
    );
    assert!(
        stored.is_some_and(is_stale),
        "a stale marker ends it: {stored:?}"
    );
    pull.shutdown().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promtool_queries_the_pull_server() {
    if !tool(PROMTOOL, "promtool is a real Prometheus API client") {
        return;
    }
    let registry = Registry::new();
    let jobs = registry
        .register(
            "jobs",
            "Jobs.",
            Family::<[String; 1], Counter>::new(["queue"]),
        )
        .expect("valid");
    jobs.get_or_create(&["mail"]).inc_by(4);
    jobs.get_or_create(&["sms"]).inc_by(3);
    let (server, pull) = serve_and_scrape(registry).await;
    pull.wait_for_scrapes(1).await;
    let url = format!("http://{}", pull.api_addr());
    let output = tokio::process::Command::new(PROMTOOL)
        .args(["query", "instant", &url, "sum by (queue) (jobs_total)"])
        .output()
        .await
        .expect("promtool runs");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut lines: Vec<&str> = printed
        .lines()
        .map(|l| l.split(" @[").next().unwrap_or_default())
        .collect();
    lines.sort();
    assert_eq!(
        lines,
        ["{queue=\"mail\"} => 4", "{queue=\"sms\"} => 3"],
        "{printed}"
    );
    let top = tokio::process::Command::new(PROMTOOL)
        .args(["query", "instant", &url, "topk(1, jobs_total)"])
        .output()
        .await
        .expect("promtool runs");
    assert!(
        String::from_utf8_lossy(&top.stdout).contains("queue=\"mail\"") && top.status.success(),
        "{}",
        String::from_utf8_lossy(&top.stderr)
    );
    // A function Prometheus added after 2.42.
    let bad = tokio::process::Command::new(PROMTOOL)
        .args([
            "query",
            "instant",
            &url,
            "sort_by_label(jobs_total, \"queue\")",
        ])
        .output()
        .await
        .expect("promtool runs");
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("sort_by_label"),
        "the error names what is unsupported: {}",
        String::from_utf8_lossy(&bad.stderr)
    );
    pull.shutdown().await;
    server.stop().await;
}
