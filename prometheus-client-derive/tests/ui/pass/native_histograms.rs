use prometheus_client::{Family, Metrics, NativeHistogram, Registry};

#[derive(Metrics)]
struct App {
    /// Request latency.
    #[metric(unit = "seconds", native(bucket_factor = 1.1, max_buckets = 100, zero_threshold = 1e-9))]
    latency: NativeHistogram,
    /// Latency by route, with classic buckets too.
    #[metric(labels = ["route"], buckets = [0.1, 1.0], native(bucket_factor = 2, max_zero_threshold = 0.001))]
    by_route: Family<[String; 1], NativeHistogram>,
    /// Defaults.
    plain: NativeHistogram,
}

fn main() {
    let app = App::register(&Registry::new()).expect("registers");
    app.latency.observe(0.3);
    app.by_route.get_or_create(&["/"]).observe(0.3);
    app.plain.observe(1.0);
    assert_eq!(app.latency.snapshot().schema, 3);
    assert_eq!(app.by_route.get_or_create(&["/"]).snapshot().schema, 0);
    assert_eq!(app.by_route.get_or_create(&["/"]).snapshot().classic.len(), 3);
}
