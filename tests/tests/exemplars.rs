//! Exemplars, sample timestamps and created timestamps: exact output in both formats (golden
//! files, with the times of recording masked after they are checked), read back by Python's
//! OpenMetrics parser and by ours, and carried through a real Prometheus and our pull server
//! to `/api/v1/query_exemplars`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use examples::{DemoMetrics, Method, Request};
use prometheus_client::encoding::Format;
use prometheus_client::http::MetricsService;
use prometheus_client::parse::{validate, Entry, Parser};
use prometheus_client::pull::{Config, PullServer, Target};
use prometheus_client::{
    Buckets, ConstHistogram, Counter, ExemplarError, Family, Gauge, Global, Histogram, LabelSet,
    Metrics, Registry, Summary, Timestamped,
};
use tests::external::{python_client, python_parse};
use tests::http::{get, TestServer};
use tests::prometheus::{url_encode, Prometheus};

#[derive(LabelSet)]
struct Trace {
    trace_id: String,
    span_id: u64,
}

#[derive(Metrics)]
struct Jobs {
    /// Jobs done.
    done: Counter,
}

static JOBS: Global<Jobs> = Global::new();

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A registry with an exemplar on every kind of place, explicit timestamps, and created
/// timestamps.
fn registry() -> Result<Registry, Box<dyn std::error::Error>> {
    let registry = Registry::with_created_timestamps();
    let requests = registry.register("requests", "Requests.", Counter::new())?;
    requests.inc_with_exemplar(&[("trace_id", "4bf92f3577b34da6")])?;
    requests.inc_by_with_exemplar(
        2,
        &Trace {
            trace_id: "a\"b\\c".into(),
            span_id: 7,
        },
    )?;
    let by_code = registry.register(
        "responses",
        "Responses by code.",
        Family::<[String; 1], Counter<f64>>::new(["code"]),
    )?;
    by_code
        .get_or_create(&["200"])
        .inc_by_with_exemplar(0.5, &[("trace_id", "child")])?;
    by_code.get_or_create(&["500"]).inc();
    let latency = registry.register_with_unit(
        "latency",
        "Latency.",
        "seconds",
        Histogram::with_buckets(&[0.1, 1.0])?,
    )?;
    latency.observe_with_exemplar(0.05, &[("trace_id", "fast")])?;
    latency.observe_with_exemplar(0.67, &[("trace_id", "slow")])?;
    latency.observe(0.7);
    latency.observe_with_exemplar(f64::INFINITY, &[("trace_id", "stuck")])?;
    let sizes = registry.register("sizes", "Sizes.", Summary::default())?;
    sizes.observe(3.0);
    let measured = UNIX_EPOCH + Duration::from_millis(1_700_000_000_250);
    let relayed = Timestamped::new(Gauge::<f64>::new(), measured);
    relayed.set(21.5);
    registry.register("relayed_temperature", "Read elsewhere.", relayed)?;
    let old = ConstHistogram::new(Buckets::new(&[1.0])?, &[1, 3], 4.5)?;
    registry.register(
        "relayed_histogram",
        "Computed elsewhere.",
        Timestamped::from_millis(old, 1_600_000_000_000),
    )?;
    let jobs = Jobs::register(&registry)?;
    jobs.done.inc_with_exemplar(&[("job_id", "17")])?;
    Ok(registry)
}

/// The text with each recording time (exemplar timestamps, `_created` values) checked to be
/// between `from` and `to` and replaced by `@`.
fn masked(text: &str, from: f64, to: f64) -> String {
    let check = |token: &str| {
        let t: f64 = token
            .parse()
            .unwrap_or_else(|_| panic!("a time: {token:?}"));
        assert!(
            t >= from - 0.001 && t <= to + 0.001,
            "{t} not in [{from}, {to}]"
        );
    };
    let mut out = String::new();
    for line in text.lines() {
        let mut line = line.to_owned();
        if let Some(at) = line.find(" # {") {
            let (sample, exemplar) = line.split_at(at);
            let (rest, time) = exemplar.rsplit_once(' ').expect("an exemplar timestamp");
            check(time);
            line = format!("{sample}{rest} @");
        } else if line.split(' ').next().is_some_and(|name| {
            name.split('{')
                .next()
                .is_some_and(|n| n.ends_with("_created"))
        }) {
            let (rest, time) = line.rsplit_once(' ').expect("a value");
            check(time);
            line = format!("{rest} @");
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn check_golden(file: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(file);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("writes golden file");
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 creates it)", path.display()));
    assert_eq!(actual, expected, "{file}");
}

#[test]
fn both_formats_match_their_golden_files() {
    let from = now();
    let registry = registry().expect("builds");
    let to = now();
    let openmetrics = registry
        .encode_to_string(Format::OpenMetrics)
        .expect("encodes");
    check_golden("exemplars.om.txt", &masked(&openmetrics, from, to));
    let text = registry.encode_to_string(Format::Text).expect("encodes");
    assert!(
        !text.contains(" # ") && !text.contains("_created"),
        "{text}"
    );
    check_golden("exemplars.prom", &text);
}

#[test]
fn exemplars_are_refused_whole_when_their_labels_are_too_long() {
    let counter = Counter::new();
    let at_limit = "x".repeat(120);
    counter
        .inc_with_exemplar(&[("trace_id", at_limit.as_str())])
        .expect("128 characters are allowed");
    let over = format!("{at_limit}y");
    assert_eq!(
        counter.inc_with_exemplar(&[("trace_id", over.as_str())]),
        Err(ExemplarError::TooLong { chars: 129 })
    );
    assert_eq!(counter.get(), 1, "the refused increment did not happen");
    assert_eq!(
        counter.exemplar().map(|e| e.labels().len()),
        Some(8 + 3 + 120)
    );
    let histogram = Histogram::default();
    assert!(histogram
        .observe_with_exemplar(1.0, &[("trace_id", over.as_str())])
        .is_err());
    assert_eq!(histogram.snapshot().count, 0);
    assert_eq!(
        Counter::<f64>::default().inc_by_with_exemplar(-1.0, &[("a", "b")]),
        Err(ExemplarError::InvalidIncrement(-1.0))
    );
}

#[test]
fn global_instances_take_exemplars_too() {
    JOBS.get()
        .done
        .inc_with_exemplar(&[("job_id", "global")])
        .expect("valid");
    let text = prometheus_client::default_registry()
        .encode_to_string(Format::OpenMetrics)
        .expect("encodes");
    assert!(
        text.contains("done_total 1 # {job_id=\"global\"} 1.0 "),
        "{text}"
    );
}

/// Every exemplar in an OpenMetrics body, by sample name and labels, as our parser reads it.
fn our_exemplars(body: &str) -> BTreeMap<String, (String, f64, f64)> {
    let mut found = BTreeMap::new();
    for entry in Parser::new(body.as_bytes(), Format::OpenMetrics) {
        if let Ok(Entry::Sample(sample)) = entry {
            if let Some(e) = sample.exemplar {
                let labels: Vec<String> = e
                    .labels
                    .iter()
                    .map(|l| format!("{}={}", l.name, l.value))
                    .collect();
                let t = e.timestamp.map_or(f64::NAN, |t| t.as_seconds());
                found.insert(
                    format!(
                        "{}{}",
                        sample.name,
                        sample
                            .labels
                            .iter()
                            .map(|l| format!("{}={}", l.name, l.value))
                            .collect::<Vec<_>>()
                            .join(",")
                    ),
                    (labels.join(","), e.value, t),
                );
            }
        }
    }
    found
}

#[test]
fn python_and_our_parser_read_every_exemplar_back() {
    let from = now();
    let registry = registry().expect("builds");
    let to = now();
    let body = registry
        .encode_to_string(Format::OpenMetrics)
        .expect("encodes");
    validate(body.as_bytes(), Format::OpenMetrics).expect("valid OpenMetrics");
    let ours = our_exemplars(&body);
    assert_eq!(ours.len(), 6, "{ours:?}");
    assert_eq!(
        ours.get("requests_total").map(|e| (e.0.as_str(), e.1)),
        Some(("span_id=7,trace_id=a\"b\\c", 2.0))
    );
    assert_eq!(
        ours.get("latency_seconds_bucketle=+Inf").map(|e| e.1),
        Some(f64::INFINITY)
    );
    if !python_client() {
        return;
    }
    let parsed = python_parse(body.as_bytes(), Format::OpenMetrics).expect("Python parses it");
    let with_exemplars: Vec<_> = parsed.iter().filter(|s| s.exemplar.is_some()).collect();
    assert_eq!(with_exemplars.len(), ours.len(), "{parsed:?}");
    for sample in with_exemplars {
        let exemplar = sample.exemplar.as_ref().expect("filtered");
        let key = format!(
            "{}{}",
            sample.name,
            sample
                .labels
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        let (labels, value, timestamp) = ours.get(&key).unwrap_or_else(|| panic!("{key} not ours"));
        let python_labels: Vec<String> = exemplar
            .labels
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        assert_eq!(&python_labels.join(","), labels, "{key}");
        assert_eq!(exemplar.value, *value, "{key}");
        // Python's parser (0.16) splits a timestamp at its dot before trying it as a float,
        // so it misreads the exponent form client_golang and we write (`1.7e+09` becomes
        // 1.7 s); it does read one back.
        assert!(exemplar.timestamp.is_some(), "{key}");
        assert!(
            *timestamp >= from && *timestamp <= to + 0.001,
            "{key}: {timestamp}"
        );
    }
    let relayed = parsed
        .iter()
        .find(|s| s.name == "relayed_temperature")
        .expect("relayed");
    assert_eq!(relayed.value, 21.5);
    assert!(relayed.timestamp.is_some());
}

/// The trace ids the demo service holds as the latest exemplar of each request counter.
fn attached_trace_ids(demo: &DemoMetrics) -> Vec<String> {
    let mut ids = Vec::new();
    for (method, path, status) in [
        (Method::Get, "/", 200),
        (Method::Post, "/search?q=\"rust\"", 200),
        (Method::Get, "/files/C:\\temp", 500),
    ] {
        let request = Request {
            method,
            path: path.to_owned(),
            status,
        };
        let exemplar = demo
            .requests
            .get_or_create(&request)
            .exemplar()
            .expect("an exemplar");
        ids.push(
            exemplar
                .labels()
                .trim_start_matches("trace_id=\"")
                .trim_end_matches('"')
                .to_owned(),
        );
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_ids_come_back_from_prometheus_and_from_our_pull_server() {
    let demo = DemoMetrics::new().expect("registers");
    demo.simulate_traffic(100);
    let service = MetricsService::new(demo.registry.clone());
    let server = TestServer::start(prometheus_client::http::Server::with_service(service)).await;
    let attached = attached_trace_ids(&demo);

    let config = Config::new()
        .scrape_interval(Duration::from_millis(300))
        .target(Target::new(server.url()).job("demo"));
    let pull = PullServer::start(config, "127.0.0.1:0")
        .await
        .expect("starts");
    pull.wait_for_scrapes(2).await;
    let reply = get(
        pull.api_addr(),
        &format!(
            "/api/v1/query_exemplars?query={}",
            url_encode("demo_http_requests_total")
        ),
        &[],
    )
    .await;
    let ours = String::from_utf8_lossy(&reply.body).into_owned();
    assert_eq!(reply.status, 200, "{ours}");
    for id in &attached {
        assert!(
            ours.contains(&format!("\"trace_id\":\"{id}\"")),
            "{id} not in {ours}"
        );
    }
    let buckets = get(
        pull.api_addr(),
        &format!(
            "/api/v1/query_exemplars?query={}",
            url_encode("demo_http_request_duration_seconds_bucket")
        ),
        &[],
    )
    .await;
    assert!(String::from_utf8_lossy(&buckets.body).contains("\"trace_id\""));
    pull.shutdown().await;

    let scrape_configs = format!(
        "  - job_name: demo\n    static_configs: [{{targets: ['{}']}}]\n",
        server.addr
    );
    let Some(prometheus) =
        Prometheus::start_with_args(&scrape_configs, &["--enable-feature=exemplar-storage"]).await
    else {
        return;
    };
    let path = format!(
        "/api/v1/query_exemplars?query={}&start=0&end={}",
        url_encode("demo_http_requests_total"),
        now() as i64 + 60
    );
    prometheus
        .wait_until("holding the exemplars", || async {
            let answer = prometheus.api(&path).await.to_string();
            attached.iter().all(|id| answer.contains(id.as_str()))
        })
        .await;
    server.stop().await;
}
