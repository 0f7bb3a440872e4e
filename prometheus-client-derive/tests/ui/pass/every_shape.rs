use prometheus_client::encoding::Format;
use prometheus_client::{
    Buckets, Counter, Family, Gauge, Histogram, Info, LabelSet, LabelValue, Metrics, Registry,
    StateSet, Summary, Unknown,
};

#[derive(Clone, PartialEq, Eq, Hash, LabelValue)]
#[label_value(rename_all = "snake_case")]
enum Outcome {
    Ok,
    NotFound,
    #[label_value(rename = "boom")]
    ServerError,
}

#[derive(Clone, PartialEq, Eq, Hash, LabelSet)]
struct Request {
    outcome: Outcome,
    path: String,
    retried: bool,
    shard: Option<u8>,
}

fn latency_buckets() -> Buckets {
    Buckets::exponential(0.001, 4.0, 6).unwrap_or_default()
}

#[derive(Metrics)]
#[metrics(prefix = "db")]
struct Database {
    /// Queries run.
    queries: Counter,
}

#[derive(Metrics)]
#[metrics(prefix = "app")]
struct App {
    /// Requests,
    /// over several lines.
    requests: Family<Request, Counter>,
    /// Bytes, in a float.
    #[metric(unit = "bytes")]
    bytes: Counter<f64>,
    /// Temperature.
    #[metric(unit = "celsius")]
    temperature: Gauge,
    #[metric(help = "Queue length.", name = "queue_length")]
    queue: Gauge<i64>,
    /// Latency.
    #[metric(unit = "seconds", buckets = [0.01, 0.1, 1, 10])]
    latency: Histogram,
    /// Latency by path.
    #[metric(unit = "seconds", buckets = latency_buckets(), labels = ["path"])]
    path_latency: Family<[String; 1], Histogram>,
    /// Sizes.
    #[metric(objectives = [(0.5, 0.05), (0.99, 0.001)])]
    sizes: Summary,
    /// Plain summary.
    plain: Summary,
    /// Build.
    #[metric(info = [("version", "1.2.3"), ("debug", cfg!(debug_assertions))])]
    build: Info,
    /// Phase.
    #[metric(states = ["starting", "ready"])]
    phase: StateSet,
    /// Relayed.
    relayed: Unknown,
    /// By pair.
    #[metric(labels = ["a", "b"])]
    pairs: Family<(String, u16), Gauge>,
    #[metric(flatten)]
    database: Database,
}

fn main() {
    let registry = Registry::new();
    let app = App::register(&registry).expect("registers");
    app.requests
        .get_or_create(&Request { outcome: Outcome::NotFound, path: "/".into(), retried: false, shard: None })
        .inc();
    app.path_latency.get_or_create(&["/"]).observe(0.2);
    app.pairs.get_or_create(&("x", 3u16)).set(1.0);
    app.phase.set("ready").expect("a state");
    app.database.queries.inc();
    let text = registry.encode_to_string(Format::Text).expect("encodes");
    assert!(text.contains("app_requests_total{outcome=\"not_found\",path=\"/\",retried=\"false\"} 1\n"), "{text}");
    assert!(text.contains("# HELP app_requests_total Requests, over several lines.\n"), "{text}");
    assert!(text.contains("app_db_queries_total 1\n"), "{text}");
    assert!(text.contains("app_queue_length 0\n"), "{text}");
    assert!(text.contains("app_bytes_total 0\n"), "{text}");
    assert!(text.contains("app_path_latency_seconds_bucket{path=\"/\",le=\"0.256\"} 1\n"), "{text}");
    let debug = cfg!(debug_assertions);
    assert!(text.contains(&format!("app_build_info{{debug=\"{debug}\",version=\"1.2.3\"}} 1\n")), "{text}");
    let unregistered = App::default();
    unregistered.latency.observe(1.0);
}
