//! Native histograms on the wire: the protobuf fields client_golang writes (schema, zero
//! bucket, spans and deltas), the text fallback, and a real Prometheus with native histograms
//! enabled computing the quantile the observations imply, within the schema's resolution.

use std::time::Duration;

use prometheus_client::encoding::protobuf::schema::{BucketSpan, MetricFamily};
use prometheus_client::encoding::Format;
use prometheus_client::http::Server;
use prometheus_client::{Buckets, Family, NativeConfig, NativeHistogram, Registry};
use prost::Message;
use tests::http::TestServer;
use tests::prometheus::Prometheus;

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

/// The `q` quantile of `values` (sorted), as the `⌈q·n⌉`-th value.
fn quantile(values: &[f64], q: f64) -> f64 {
    values[((q * values.len() as f64).ceil() as usize).saturating_sub(1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_computes_the_quantile_the_observations_imply() {
    let registry = Registry::new();
    let config = NativeConfig::new(1.1).expect("valid"); // schema 3: buckets 9% wide
    let latency = registry
        .register_with_unit(
            "request_duration",
            "Request latency.",
            "seconds",
            NativeHistogram::new(config),
        )
        .expect("registers");
    // A steady stream cycling through 1 ms to 1 s: each scrape interval sees the same mix.
    let values: Vec<f64> = (1..=1000).map(|ms| f64::from(ms) / 1000.0).collect();
    let stream = {
        let latency = latency.clone();
        let values = values.clone();
        tokio::spawn(async move {
            loop {
                for &v in &values {
                    latency.observe(v);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let server = TestServer::start(Server::builder(registry.clone())).await;
    let scrape = format!(
        "  - job_name: native\n    static_configs:\n      - targets: ['{}']\n",
        server.addr
    );
    let Some(prometheus) =
        Prometheus::start_with_args(&scrape, &["--enable-feature=native-histograms"]).await
    else {
        stream.abort();
        return;
    };
    let rate_query = "histogram_quantile(0.9, rate(request_duration_seconds[1m]))";
    prometheus
        .wait_until("computing a rate", || async {
            prometheus
                .query(rate_query)
                .await
                .first()
                .is_some_and(|s| s.1.is_finite())
        })
        .await;
    let implied = quantile(&values, 0.9);
    // Within one bucket at schema 3: a factor of 2^(1/8).
    let resolution = 2f64.powf(1.0 / 8.0);
    for query in [
        rate_query,
        "histogram_quantile(0.9, request_duration_seconds)",
    ] {
        let got = prometheus.query(query).await;
        assert_eq!(got.len(), 1, "{query}: {got:?}\n{}", prometheus.log());
        let q = got[0].1;
        assert!(
            q > implied / resolution && q < implied * resolution,
            "{query}: {q} against {implied} implied"
        );
    }
    stream.abort();
    // Count and sum of the instant histogram are the ones the service holds at that scrape.
    let count = prometheus
        .query("histogram_count(request_duration_seconds)")
        .await;
    assert_eq!(count.len(), 1);
    assert!(
        count[0].1 >= 1000.0 && count[0].1 % 1000.0 == 0.0,
        "{count:?}"
    );
    let sum = prometheus
        .query(
            "histogram_sum(request_duration_seconds) / histogram_count(request_duration_seconds)",
        )
        .await;
    assert!((sum[0].1 - 0.5005).abs() < 1e-9, "mean {sum:?}");
}
