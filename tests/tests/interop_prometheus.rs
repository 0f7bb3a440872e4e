//! A real Prometheus scrapes the demo service, once in OpenMetrics and once in text 0.0.4,
//! and what its HTTP API returns equals what the service recorded: counters, gauges, every
//! histogram bucket, sums, counts and summary quantiles, label values with backslash, quote,
//! newline and UTF-8 intact, and no scrape failures counted by Prometheus.

use std::collections::BTreeMap;

use examples::{ByMethod, DemoMetrics, Method, Request, PATHS};
use prometheus_client::encoding::Format;
use prometheus_client::http::{MetricsService, Server};
use prometheus_client::parse::parse_families;
use tests::http::{get, TestServer};
use tests::prometheus::{Prometheus, Series};

fn float(label: &str) -> f64 {
    match label {
        "+Inf" => f64::INFINITY,
        other => other.parse().expect("a float label"),
    }
}

fn one(series: &[Series], what: &str) -> f64 {
    assert_eq!(series.len(), 1, "{what}: {series:?}");
    series[0].1
}

async fn check_job(prometheus: &Prometheus, demo: &DemoMetrics, job: &str) {
    let up = prometheus.query(&format!("up{{job=\"{job}\"}}")).await;
    assert_eq!(one(&up, "up"), 1.0);

    let requests = prometheus
        .query(&format!("demo_http_requests_total{{job=\"{job}\"}}"))
        .await;
    let mut paths_seen = std::collections::BTreeSet::new();
    for (labels, value) in &requests {
        let request = Request {
            method: Method::from_label(&labels["method"]).expect("a known method"),
            path: labels["path"].clone(),
            status: labels["status"].parse().expect("status"),
        };
        let recorded = demo.requests.get_or_create(&request);
        assert_eq!(*value, recorded.get() as f64, "{job}: {labels:?}");
        paths_seen.insert(labels["path"].clone());
    }
    assert_eq!(
        requests.len(),
        demo.requests.len(),
        "{job}: every series arrived"
    );
    let paths: std::collections::BTreeSet<String> = PATHS.iter().map(|p| p.to_string()).collect();
    assert_eq!(paths_seen, paths, "{job}: label values came back intact");

    let temperature = prometheus
        .query(&format!(
            "demo_machine_temperature_celsius{{job=\"{job}\"}}"
        ))
        .await;
    assert_eq!(one(&temperature, "temperature"), demo.temperature.get());
    let in_flight = prometheus
        .query(&format!("demo_http_in_flight_requests{{job=\"{job}\"}}"))
        .await;
    assert_eq!(one(&in_flight, "in flight"), demo.in_flight.get() as f64);

    for (method, label) in [(Method::Get, "GET"), (Method::Post, "POST")] {
        let recorded = demo.latency.get_or_create(&ByMethod { method }).snapshot();
        let selector = format!("{{job=\"{job}\",method=\"{label}\"}}");
        let buckets = prometheus
            .query(&format!(
                "demo_http_request_duration_seconds_bucket{selector}"
            ))
            .await;
        // Prometheus 2.x stores `le` as written: proof of which format each job read.
        let one_second = if job == "openmetrics" { "1.0" } else { "1" };
        assert!(
            buckets.iter().any(|(l, _)| l["le"] == one_second),
            "{job}: {buckets:?}"
        );
        let mut got: Vec<(f64, f64)> = buckets.iter().map(|(l, v)| (float(&l["le"]), *v)).collect();
        got.sort_by(|a, b| a.0.total_cmp(&b.0));
        let want: Vec<(f64, f64)> = recorded
            .buckets
            .iter()
            .map(|(le, c)| (*le, *c as f64))
            .collect();
        assert_eq!(got, want, "{job} {label}: buckets");
        let sum = prometheus
            .query(&format!("demo_http_request_duration_seconds_sum{selector}"))
            .await;
        assert_eq!(one(&sum, "sum"), recorded.sum, "{job} {label}: sum");
        let count = prometheus
            .query(&format!(
                "demo_http_request_duration_seconds_count{selector}"
            ))
            .await;
        assert_eq!(
            one(&count, "count"),
            recorded.count as f64,
            "{job} {label}: count"
        );
    }

    let quantiles = prometheus
        .query(&format!("demo_http_response_size_bytes{{job=\"{job}\"}}"))
        .await;
    let mut got: Vec<(f64, f64)> = quantiles
        .iter()
        .map(|(l, v)| (float(&l["quantile"]), *v))
        .collect();
    got.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(got, demo.response_size.quantiles(), "{job}: quantiles");
    let (sum, count) = demo.response_size.sum_and_count();
    let got_sum = prometheus
        .query(&format!(
            "demo_http_response_size_bytes_sum{{job=\"{job}\"}}"
        ))
        .await;
    assert_eq!(one(&got_sum, "summary sum"), sum);
    let got_count = prometheus
        .query(&format!(
            "demo_http_response_size_bytes_count{{job=\"{job}\"}}"
        ))
        .await;
    assert_eq!(one(&got_count, "summary count"), count as f64);

    let info = prometheus
        .query(&format!("demo_build_info{{job=\"{job}\"}}"))
        .await;
    assert_eq!(one(&info, "info"), 1.0);
    let phase = prometheus
        .query(&format!(
            "demo_phase{{job=\"{job}\",demo_phase=\"serving\"}}"
        ))
        .await;
    assert_eq!(one(&phase, "stateset"), 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_reads_exactly_what_the_service_recorded() {
    let demo = DemoMetrics::new().expect("registers");
    demo.simulate_traffic(500);
    let negotiated = TestServer::start(Server::builder(demo.registry.clone())).await;
    let text_only = MetricsService::builder(demo.registry.clone())
        .format(Format::Text)
        .build()
        .expect("valid");
    let text = TestServer::start(Server::with_service(text_only)).await;
    let scrape_configs = format!(
        "  - job_name: openmetrics\n    static_configs: [{{targets: ['{}']}}]\n  - job_name: text\n    static_configs: [{{targets: ['{}']}}]\n",
        negotiated.addr, text.addr
    );
    let Some(prometheus) = Prometheus::start(&scrape_configs).await else {
        return;
    };
    // Two scrapes of each target, so the values queried are settled.
    prometheus
        .wait_until("done scraping", || async {
            let scrapes = prometheus.query("count_over_time(up[1m]) >= 2").await;
            scrapes.len() == 2
        })
        .await;

    let targets = prometheus.api("/api/v1/targets").await;
    for target in targets["data"]["activeTargets"]
        .as_array()
        .expect("targets")
    {
        assert_eq!(target["health"], "up", "{target}");
        assert_eq!(target["lastError"], "", "{target}");
    }
    check_job(&prometheus, &demo, "openmetrics").await;
    check_job(&prometheus, &demo, "text").await;

    // Prometheus' own counters of rejected samples and failed scrapes stay at zero.
    let own = get(prometheus.addr, "/metrics", &[]).await;
    let families = parse_families(&own.body, Format::Text).expect("Prometheus' own metrics parse");
    let mut checked = 0;
    for family in families
        .iter()
        .filter(|f| f.name.starts_with("prometheus_target_scrapes_"))
    {
        for sample in &family.samples {
            assert_eq!(sample.value, 0.0, "{} {:?}", sample.name, sample.labels);
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} failure counters found");
    let failures: BTreeMap<&str, f64> = [
        "prometheus_target_scrape_pool_exceeded_target_limit_total",
        "prometheus_target_scrapes_sample_duplicate_timestamp_total",
    ]
    .into_iter()
    .filter_map(|n| families.sample(n, &[]).map(|v| (n, v)))
    .collect();
    assert!(failures.values().all(|v| *v == 0.0), "{failures:?}");
    drop(prometheus);
    negotiated.stop().await;
    text.stop().await;
}
