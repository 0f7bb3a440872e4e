//! Native histograms on the wire: the protobuf fields client_golang writes (schema, zero
//! bucket, spans and deltas), the text fallback, and the demo service scraped both by a real
//! Prometheus with native histograms enabled and by our pull server over protobuf: both
//! compute the quantile the observations imply, within the schema's resolution, and give
//! the same answers on the same histogram.

use std::sync::Arc;
use std::time::Duration;

use examples::DemoMetrics;

use prometheus_client::encoding::protobuf::schema::{BucketSpan, MetricFamily};
use prometheus_client::encoding::Format;
use prometheus_client::http::Server;
use prometheus_client::pull::{Config, PullServer, QueryValue, ScrapeProtocol, Target};
use prometheus_client::{Buckets, Family, NativeConfig, NativeHistogram, Registry};
use prost::Message;
use serde_json::Value;
use tests::http::{get, TestServer};
use tests::prometheus::{url_encode, Prometheus};
use tests::pull::{job_series, name_and_own_labels, Answer, FakeTarget};

fn decode_one(registry: &Registry) -> MetricFamily {
    let mut body = Vec::new();
    registry
        .encode(Format::Protobuf, &mut body)
        .expect("encodes");
    MetricFamily::decode_length_delimited(&body[..]).expect("one family")
}

fn span(offset: i32, length: u32) -> BucketSpan {
    BucketSpan {
        offset: Some(offset),
        length: Some(length),
    }
}

#[test]
fn protobuf_carries_schema_zero_bucket_spans_and_deltas() {
    let registry = Registry::new();
    let h = registry
        .register(
            "sizes",
            "Sizes.",
            NativeHistogram::new(NativeConfig::new(2.0).expect("valid")),
        )
        .expect("registers");
    for v in [1.0, 1.0, 2.0, 8.0, 0.0, -3.0, 64.0, 1024.0] {
        h.observe(v);
    }
    let family = decode_one(&registry);
    let histogram = family.metric[0].histogram.as_ref().expect("a histogram");
    assert_eq!(histogram.schema, Some(0));
    assert_eq!(histogram.sample_count, Some(8));
    assert_eq!(histogram.sample_sum, Some(1097.0));
    assert_eq!(histogram.zero_count, Some(1));
    assert_eq!(
        histogram.zero_threshold,
        Some(prometheus_client::DEFAULT_ZERO_THRESHOLD)
    );
    // Keys 0 (×2), 1, 3, 6 and 10: gaps of one and two buckets are filled with empty ones,
    // a gap of three starts a new span.
    assert_eq!(histogram.positive_span, [span(0, 7), span(3, 1)]);
    assert_eq!(histogram.positive_delta, [2, -1, -1, 1, -1, 0, 1, 0]);
    assert_eq!(histogram.negative_span, [span(2, 1)]);
    assert_eq!(histogram.negative_delta, [1]);
    assert!(histogram.bucket.is_empty(), "no classic buckets");

    // Text formats show count and sum, and only the +Inf bucket.
    let text = registry.encode_to_string(Format::Text).expect("encodes");
    assert!(
        text.contains("sizes_bucket{le=\"+Inf\"} 8\nsizes_sum 1097\nsizes_count 8\n"),
        "{text}"
    );
}

#[test]
fn an_empty_native_histogram_is_still_native() {
    let registry = Registry::new();
    let config = NativeConfig::new(1.1)
        .and_then(|c| c.zero_threshold(0.0))
        .expect("valid");
    registry
        .register("empty", "", NativeHistogram::new(config))
        .expect("registers");
    let family = decode_one(&registry);
    let histogram = family.metric[0].histogram.as_ref().expect("a histogram");
    assert_eq!(histogram.positive_span, [span(0, 0)], "the no-op span");
    assert_eq!(histogram.schema, Some(3));
}

#[test]
fn classic_buckets_come_along_and_families_work() {
    let registry = Registry::new();
    let by_route = registry
        .register(
            "latency",
            "",
            Family::<[String; 1], NativeHistogram>::new_with_constructor(["route"], || {
                NativeHistogram::with_classic(
                    NativeConfig::new(1.1).expect("valid"),
                    Buckets::new(&[0.1, 1.0]).expect("valid"),
                )
            }),
        )
        .expect("registers");
    by_route.get_or_create(&["/a"]).observe(0.05);
    by_route.get_or_create(&["/a"]).observe(0.5);
    let family = decode_one(&registry);
    let histogram = family.metric[0].histogram.as_ref().expect("a histogram");
    let classic: Vec<_> = histogram
        .bucket
        .iter()
        .map(|b| (b.upper_bound(), b.cumulative_count()))
        .collect();
    assert_eq!(classic, [(0.1, 1), (1.0, 2)]);
    assert_eq!(histogram.schema, Some(3));
    // Deltas add up to the last bucket's count, never below zero on the way.
    let mut count = 0;
    for delta in &histogram.positive_delta {
        count += delta;
        assert!(count >= 0);
    }
}

/// `latency`: native buckets and classic ones at 0.1 and 1.
fn latency_in(registry: &Registry, config: NativeConfig) -> NativeHistogram {
    let classic = Buckets::new(&[0.1, 1.0]).expect("valid");
    registry
        .register(
            "latency",
            "",
            NativeHistogram::with_classic(config, classic),
        )
        .expect("registers")
}

/// A target answering with `registry`'s protobuf exposition as it is now.
async fn protobuf_target(registry: &Registry) -> FakeTarget {
    let mut body = Vec::new();
    registry
        .encode(Format::Protobuf, &mut body)
        .expect("encodes");
    let content_type = Format::Protobuf.content_type();
    FakeTarget::start(move |_| Answer::ok(content_type, &body)).await
}

#[tokio::test]
async fn the_pull_server_stores_native_histograms_and_classic_ones_when_asked() {
    let registry = Registry::new();
    let latency = latency_in(&registry, NativeConfig::new(1.1).expect("valid"));
    for v in [0.05, 0.5, 0.5, 2.0] {
        latency.observe(v);
    }
    let target = protobuf_target(&registry).await;
    let config = Config::new()
        .scrape_interval(Duration::from_millis(250))
        .target(Target::new(target.url()).job("native"))
        .target(
            Target::new(target.url())
                .job("both")
                .scrape_classic_histograms(true),
        );
    let pull = PullServer::start(config, "127.0.0.1:0")
        .await
        .expect("starts");
    pull.wait_for_scrapes(2).await;
    let names = |job: &str| -> Vec<String> {
        let mut names: Vec<String> = job_series(pull.storage().as_ref(), job)
            .into_iter()
            .map(|(labels, _)| name_and_own_labels(labels).0)
            .filter(|name| name.starts_with("latency"))
            .collect();
        names.sort();
        names.dedup();
        names
    };
    assert!(names("native").is_empty(), "{:?}", names("native"));
    assert_eq!(
        names("both"),
        ["latency_bucket", "latency_count", "latency_sum"]
    );
    for job in ["native", "both"] {
        let count = pull
            .query(&format!("histogram_count(latency{{job=\"{job}\"}})"))
            .expect("valid");
        let QueryValue::Vector(points) = count else {
            panic!("{count:?}");
        };
        assert_eq!(points.len(), 1, "{job}");
        assert_eq!(points[0].1, 4.0);
    }
    let median = pull
        .query("histogram_quantile(0.5, latency{job=\"native\"})")
        .expect("valid");
    let QueryValue::Vector(points) = median else {
        panic!("{median:?}");
    };
    // Two of four observations are 0.5: the median ends in 0.5's bucket at schema 3.
    let upper = 0.5f64;
    let lower = upper / 2f64.powf(1.0 / 8.0);
    assert!(points[0].1 > lower && points[0].1 <= upper, "{points:?}");
    pull.shutdown().await;
}

/// The `q` quantile of `values` (sorted), as the `⌈q·n⌉`-th value.
fn quantile(values: &[f64], q: f64) -> f64 {
    values[((q * values.len() as f64).ceil() as usize).saturating_sub(1)]
}

/// Our pull server's answer to an instant query, from its HTTP API, as JSON.
async fn our_query(pull: &PullServer, promql: &str) -> Value {
    let path = format!("/api/v1/query?query={}", url_encode(promql));
    let reply = get(pull.api_addr(), &path, &[]).await;
    serde_json::from_slice(&reply.body).unwrap_or_else(|e| panic!("{promql}: {e}"))
}

/// Prometheus' answer to an instant query, as JSON.
async fn their_query(prometheus: &Prometheus, promql: &str) -> Value {
    prometheus
        .api(&format!("/api/v1/query?query={}", url_encode(promql)))
        .await
}

/// The one float of an answer.
fn one_value(answer: &Value) -> f64 {
    let results = answer["data"]["result"].as_array().expect("a vector");
    assert_eq!(results.len(), 1, "{answer}");
    results[0]["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Equal, or within a relative 1e-12 (our bucket bounds may differ from Go's table in the
/// last place).
fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

fn number(v: &Value) -> f64 {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN)
}

/// The `histogram` objects of both answers: the same count and sum, the same buckets.
fn same_histogram(ours: &Value, theirs: &Value) {
    let ours = &ours["data"]["result"][0]["histogram"][1];
    let theirs = &theirs["data"]["result"][0]["histogram"][1];
    assert_eq!(ours["count"], theirs["count"], "{ours}\n{theirs}");
    assert!(
        close(number(&ours["sum"]), number(&theirs["sum"])),
        "{ours}\n{theirs}"
    );
    let (ours, theirs) = (
        ours["buckets"].as_array().expect("buckets"),
        theirs["buckets"].as_array().expect("buckets"),
    );
    assert_eq!(ours.len(), theirs.len(), "{ours:?}\n{theirs:?}");
    for (a, b) in ours.iter().zip(theirs) {
        assert_eq!(a[0], b[0], "boundaries: {a} {b}");
        for i in 1..=3 {
            assert!(close(number(&a[i]), number(&b[i])), "{a} against {b}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_and_our_pull_server_give_the_quantile_the_demo_implies() {
    let demo = Arc::new(DemoMetrics::new().expect("registers"));
    // The demo's latencies cycle through 3 ms to 51 ms: each scrape interval sees the same
    // mix.
    let values: Vec<f64> = (1..=17).map(|i| 0.003 * f64::from(i)).collect();
    let stream = {
        let demo = Arc::clone(&demo);
        tokio::spawn(async move {
            loop {
                demo.simulate_traffic(170);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let server = TestServer::start(Server::builder(demo.registry.clone())).await;
    let scrape = format!(
        "  - job_name: demo\n    static_configs:\n      - targets: ['{}']\n",
        server.addr
    );
    let Some(prometheus) =
        Prometheus::start_with_args(&scrape, &["--enable-feature=native-histograms"]).await
    else {
        stream.abort();
        return;
    };
    let config = Config::new()
        .scrape_interval(Duration::from_secs(1))
        .target(
            Target::new(format!("http://{}/metrics", server.addr))
                .job("demo")
                .scrape_protocols([ScrapeProtocol::PrometheusProto]),
        );
    let pull = PullServer::start(config, "127.0.0.1:0")
        .await
        .expect("starts");
    let series = "demo_http_request_duration_native_seconds";
    let rate_query = format!("histogram_quantile(0.9, rate({series}[1m]))");
    prometheus
        .wait_until("computing a rate", || async {
            let answer = their_query(&prometheus, &rate_query).await;
            answer["data"]["result"][0]["value"][1]
                .as_str()
                .is_some_and(|v| v.parse::<f64>().is_ok_and(f64::is_finite))
        })
        .await;
    let implied = quantile(&values, 0.9);
    // Within one bucket at schema 3: a factor of 2^(1/8).
    let resolution = 2f64.powf(1.0 / 8.0);
    for query in [
        rate_query.clone(),
        format!("histogram_quantile(0.9, sum(rate({series}[1m])))"),
        format!("histogram_quantile(0.9, {series})"),
    ] {
        let theirs = one_value(&their_query(&prometheus, &query).await);
        let ours = one_value(&our_query(&pull, &query).await);
        for (who, q) in [("Prometheus", theirs), ("ours", ours)] {
            assert!(
                q > implied / resolution && q < implied * resolution,
                "{who}: {query}: {q} against {implied} implied\n{}",
                prometheus.log()
            );
        }
    }
    // Once the traffic stops, both hold the same last histogram: the same answers exactly.
    // The traffic task may be observing on the other worker: wait until it has stopped, so
    // the snapshot below is the last.
    stream.abort();
    let _ = stream.await;
    let count_query = format!("histogram_count({series})");
    let last_count = demo.latency_native.snapshot().count as f64;
    prometheus
        .wait_until("holding the last scrape", || async {
            let theirs = one_value(&their_query(&prometheus, &count_query).await);
            let ours = one_value(&our_query(&pull, &count_query).await);
            theirs == last_count && ours == last_count
        })
        .await;
    for query in [
        count_query.clone(),
        format!("histogram_sum({series})"),
        format!("histogram_fraction(0, 0.02, {series})"),
        format!("histogram_fraction(0.01, 0.04, {series})"),
        format!("histogram_quantile(0.5, {series})"),
        format!("histogram_quantile(0.99, {series})"),
    ] {
        let theirs = one_value(&their_query(&prometheus, &query).await);
        let ours = one_value(&our_query(&pull, &query).await);
        assert!(
            close(ours, theirs),
            "{query}: ours {ours}, Prometheus {theirs}"
        );
    }
    // The histogram itself, in Prometheus' JSON shape.
    let theirs = their_query(&prometheus, series).await;
    let ours = our_query(&pull, series).await;
    same_histogram(&ours, &theirs);
    assert_eq!(
        ours["data"]["result"][0]["metric"],
        theirs["data"]["result"][0]["metric"]
    );
    pull.shutdown().await;
}

#[tokio::test]
async fn native_exemplars_go_over_protobuf_and_into_the_pull_server() {
    let registry = Registry::new();
    let config = NativeConfig::new(1.1).expect("valid").max_exemplars(2);
    let latency = latency_in(&registry, config);
    for (v, trace) in [(0.05, "aa"), (0.5, "bb"), (0.7, "cc")] {
        latency
            .observe_with_exemplar(v, &[("trace_id", trace)])
            .expect("short labels");
    }
    let too_long = "x".repeat(200);
    assert!(latency
        .observe_with_exemplar(0.5, &[("trace_id", too_long.as_str())])
        .is_err());
    assert_eq!(
        latency.snapshot().count,
        3,
        "a refused exemplar observes nothing"
    );

    let family = decode_one(&registry);
    let histogram = family.metric[0].histogram.as_ref().expect("a histogram");
    let native: Vec<(String, f64)> = histogram
        .exemplars
        .iter()
        .map(|e| (e.label[0].value().to_owned(), e.value()))
        .collect();
    assert_eq!(native, [("bb".to_owned(), 0.5), ("cc".to_owned(), 0.7)]);
    let classic: Vec<Option<&str>> = histogram
        .bucket
        .iter()
        .map(|b| b.exemplar.as_ref().map(|e| e.label[0].value()))
        .collect();
    assert_eq!(classic, [Some("aa"), Some("cc")]);
    let openmetrics = registry
        .encode_to_string(Format::OpenMetrics)
        .expect("encodes");
    assert!(
        openmetrics.contains("latency_bucket{le=\"1.0\"} 3 # {trace_id=\"cc\"} 0.7"),
        "{openmetrics}"
    );

    let target = protobuf_target(&registry).await;
    let config = Config::new()
        .scrape_interval(Duration::from_millis(250))
        .target(Target::new(target.url()).job("native"));
    let pull = PullServer::start(config, "127.0.0.1:0")
        .await
        .expect("starts");
    pull.wait_for_scrapes(1).await;
    let found = pull.query_exemplars("latency", 0, i64::MAX).expect("valid");
    let shown = format!("{found:?}");
    assert!(
        shown.contains("\"cc\""),
        "the newest native exemplar: {shown}"
    );
    pull.shutdown().await;
}
