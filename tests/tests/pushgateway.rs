//! Pushing to Debian's Pushgateway: what was pushed reads back from its `/metrics` with the
//! same values and labels (PUT replaces the group, POST replaces same-named families, DELETE
//! removes the group), grouping values that need base64 arrive intact, every failure is its
//! own error, and a real Prometheus scraping the gateway with `honor_labels` sees the pushes.

use std::collections::BTreeMap;
use std::time::Duration;

use prometheus_client::encoding::Format;
use prometheus_client::parse::{Entry, Parser};
use prometheus_client::push::{PushError, Pusher};
use prometheus_client::{Buckets, Counter, Family, Gauge, Histogram, Registry};
use tests::http::get;
use tests::prometheus::Prometheus;
use tests::pushgateway::Pushgateway;
use tests::tls::bcrypt_hash;

type Labels = BTreeMap<String, String>;

/// The gateway's `/metrics`: every sample by name and labels.
async fn gateway_samples(gateway: &Pushgateway) -> BTreeMap<(String, Labels), f64> {
    let reply = get(gateway.addr, "/metrics", &[]).await;
    assert_eq!(reply.status, 200);
    let text = reply.text();
    let mut samples = BTreeMap::new();
    for entry in Parser::new(text.as_bytes(), Format::Text) {
        if let Entry::Sample(sample) = entry.expect("the gateway's output parses") {
            let labels = sample
                .labels
                .iter()
                .map(|l| (l.name.to_owned(), l.value.into_owned()))
                .collect();
            samples.insert((sample.name.to_owned(), labels), sample.value);
        }
    }
    samples
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The value of `name` with exactly these labels on the gateway, if it has one.
fn value(
    samples: &BTreeMap<(String, Labels), f64>,
    name: &str,
    pairs: &[(&str, &str)],
) -> Option<f64> {
    samples.get(&(name.to_owned(), labels(pairs))).copied()
}

struct Job {
    registry: Registry,
    rows: Counter,
    duration: Histogram,
    tables: Family<[String; 1], Gauge<i64>>,
}

fn job_registry() -> Job {
    let registry = Registry::new();
    let rows = registry
        .register(
            "backup_rows_total",
            "Rows copied.",
            Counter::<u64>::default(),
        )
        .expect("registers");
    let duration = registry
        .register(
            "backup_duration_seconds",
            "How long the backup took.",
            Histogram::new(Buckets::new(&[0.5, 1.0, 5.0]).expect("buckets")),
        )
        .expect("registers");
    let tables = registry
        .register(
            "backup_table_size",
            "Rows per table.",
            Family::new(["table"]),
        )
        .expect("registers");
    Job {
        registry,
        rows,
        duration,
        tables,
    }
}

#[tokio::test]
async fn pushed_values_read_back_from_the_gateway() {
    let Some(gateway) = Pushgateway::start(&[]).await else {
        return;
    };
    let job = job_registry();
    job.rows.inc_by(1234);
    job.duration.observe(0.7);
    job.duration.observe(3.0);
    job.tables
        .get_or_create(&["users \"eu\"".to_owned()])
        .set(-5);

    let pusher = Pusher::new(&gateway.url(), "nightly/backup")
        .expect("valid")
        .grouping("path", "/var/db/main")
        .expect("valid")
        .grouping("shard", "")
        .expect("valid")
        .grouping("region", "eu west ü")
        .expect("valid");
    pusher.push(&job.registry).await.expect("pushed");

    // The gateway gives every group an `instance` label, empty unless the key has one, and
    // keeps the empty `shard` value as pushed.
    let group = [
        ("instance", ""),
        ("job", "nightly/backup"),
        ("path", "/var/db/main"),
        ("region", "eu west ü"),
        ("shard", ""),
    ];
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&'static str, &'static str)> {
        let mut all: Vec<_> = group.to_vec();
        all.extend_from_slice(extra);
        all
    };
    let samples = gateway_samples(&gateway).await;
    assert_eq!(
        value(&samples, "backup_rows_total", &with(&[])),
        Some(1234.0),
        "{samples:#?}"
    );
    assert_eq!(
        value(
            &samples,
            "backup_duration_seconds_bucket",
            &with(&[("le", "1")])
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &samples,
            "backup_duration_seconds_bucket",
            &with(&[("le", "+Inf")])
        ),
        Some(2.0)
    );
    assert_eq!(
        value(&samples, "backup_duration_seconds_sum", &with(&[])),
        Some(3.7)
    );
    assert_eq!(
        value(
            &samples,
            "backup_table_size",
            &with(&[("table", "users \"eu\"")])
        ),
        Some(-5.0)
    );
    assert!(value(&samples, "push_time_seconds", &with(&[])).is_some());

    // POST replaces only the families it carries.
    let update = Registry::new();
    update
        .register(
            "backup_rows_total",
            "Rows copied.",
            Counter::<u64>::default(),
        )
        .expect("registers")
        .inc_by(99);
    pusher.add(&update).await.expect("added");
    let samples = gateway_samples(&gateway).await;
    assert_eq!(value(&samples, "backup_rows_total", &with(&[])), Some(99.0));
    assert_eq!(
        value(&samples, "backup_duration_seconds_count", &with(&[])),
        Some(2.0)
    );

    // PUT replaces the whole group.
    pusher.push(&update).await.expect("pushed");
    let samples = gateway_samples(&gateway).await;
    assert_eq!(value(&samples, "backup_rows_total", &with(&[])), Some(99.0));
    assert_eq!(
        value(&samples, "backup_duration_seconds_count", &with(&[])),
        None
    );

    // A second group of the same job is its own.
    let other = Pusher::new(&gateway.url(), "nightly/backup")
        .expect("valid")
        .grouping("path", "/var/db/other")
        .expect("valid");
    other.push(&job.registry).await.expect("pushed");

    // DELETE removes the group, and only it. The gateway answers a DELETE (202 Accepted)
    // before it applies it, so its `/metrics` may show the group a moment longer.
    pusher.delete().await.expect("deleted");
    let mut samples = gateway_samples(&gateway).await;
    for _ in 0..50 {
        if value(&samples, "backup_rows_total", &with(&[])).is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        samples = gateway_samples(&gateway).await;
    }
    assert_eq!(value(&samples, "backup_rows_total", &with(&[])), None);
    assert_eq!(
        value(
            &samples,
            "backup_rows_total",
            &[
                ("instance", ""),
                ("job", "nightly/backup"),
                ("path", "/var/db/other")
            ]
        ),
        Some(1234.0)
    );

    // From code without a runtime, the blocking variant.
    let url = gateway.url();
    let registry = job.registry.clone();
    let pushed = std::thread::spawn(move || {
        Pusher::new(&url, "blocking")
            .expect("valid")
            .push_blocking(&registry)
    })
    .join()
    .expect("thread");
    assert_eq!(pushed, Ok(()));
    assert_eq!(
        value(
            &gateway_samples(&gateway).await,
            "backup_rows_total",
            &[("instance", ""), ("job", "blocking")]
        ),
        Some(1234.0)
    );
    assert_eq!(
        pusher.push_blocking(&job.registry),
        Err(PushError::InsideRuntime)
    );
}

#[tokio::test]
async fn every_failure_is_its_own_error() {
    let Some(gateway) = Pushgateway::start(&[]).await else {
        return;
    };
    // The gateway refuses a family whose type clashes with what another group pushed.
    let counter = Registry::new();
    counter
        .register("clash", "A counter here.", Counter::<u64>::default())
        .expect("registers");
    let gauge = Registry::new();
    gauge
        .register("clash_total", "A gauge there.", Gauge::<f64>::default())
        .expect("registers");
    Pusher::new(&gateway.url(), "a")
        .expect("valid")
        .push(&counter)
        .await
        .expect("pushed");
    let refused = Pusher::new(&gateway.url(), "b")
        .expect("valid")
        .push(&gauge)
        .await;
    match refused {
        Err(PushError::Status { code: 400, message }) => {
            assert!(message.contains("clash"), "{message}");
        }
        other => panic!("expected a 400, got {other:?}"),
    }

    // A sample that already has a grouping label is refused before sending.
    let labelled = Registry::new();
    labelled
        .register(
            "jobs_done",
            "",
            Family::<[String; 1], Counter>::new(["instance"]),
        )
        .expect("registers")
        .get_or_create(&["x".to_owned()])
        .inc();
    let refused = Pusher::new(&gateway.url(), "a")
        .expect("valid")
        .grouping("instance", "y")
        .expect("valid")
        .push(&labelled)
        .await;
    assert_eq!(
        refused,
        Err(PushError::GroupingLabelInMetrics {
            sample: "jobs_done_total".to_owned(),
            label: "instance".to_owned()
        })
    );

    // Nothing listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a port");
    let refused = Pusher::new(&format!("http://{closed}"), "a")
        .expect("valid")
        .push(&counter)
        .await;
    assert!(matches!(refused, Err(PushError::Connect(_))), "{refused:?}");

    // A gateway that accepts and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let silent_addr = silent.local_addr().expect("addr");
    let held = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    let refused = Pusher::new(&format!("http://{silent_addr}"), "a")
        .expect("valid")
        .timeout(Duration::from_millis(300))
        .push(&counter)
        .await;
    assert_eq!(refused, Err(PushError::Timeout(Duration::from_millis(300))));
    held.abort();

    // Bad arguments.
    assert!(matches!(
        Pusher::new("https://x:9091", "a"),
        Err(PushError::InvalidUrl(_))
    ));
    assert!(matches!(
        Pusher::new("not a url", "a"),
        Err(PushError::InvalidUrl(_))
    ));
    assert_eq!(Pusher::new("http://x", "").err(), Some(PushError::EmptyJob));
    for name in ["job", "0abc", "a-b"] {
        assert_eq!(
            Pusher::new("http://x", "a")
                .expect("valid")
                .grouping(name, "v")
                .err(),
            Some(PushError::InvalidGroupingLabel(name.to_owned()))
        );
    }
}

#[tokio::test]
async fn basic_auth_reaches_a_gateway_that_demands_it() {
    let dir = std::env::temp_dir().join(format!("push-auth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let web_config = dir.join("web.yml");
    std::fs::write(
        &web_config,
        format!("basic_auth_users:\n  pusher: {}\n", bcrypt_hash("secret")),
    )
    .expect("written");
    let Some(gateway) =
        Pushgateway::start(&[format!("--web.config.file={}", web_config.display())]).await
    else {
        return;
    };
    let registry = Registry::new();
    registry
        .register("authorised", "", Gauge::<f64>::default())
        .expect("registers")
        .set(7.0);
    let pusher = Pusher::new(&gateway.url(), "auth").expect("valid");
    let refused = pusher.clone().push(&registry).await;
    assert!(
        matches!(refused, Err(PushError::Status { code: 401, .. })),
        "{refused:?}"
    );
    let wrong = pusher
        .clone()
        .basic_auth("pusher", "guess")
        .push(&registry)
        .await;
    assert!(
        matches!(wrong, Err(PushError::Status { code: 401, .. })),
        "{wrong:?}"
    );
    pusher
        .basic_auth("pusher", "secret")
        .push(&registry)
        .await
        .expect("pushed with the right password");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn prometheus_scraping_the_gateway_sees_the_pushes() {
    let Some(gateway) = Pushgateway::start(&[]).await else {
        return;
    };
    let job = job_registry();
    job.rows.inc_by(42);
    job.duration.observe(2.0);
    Pusher::new(&gateway.url(), "etl")
        .expect("valid")
        .grouping("path", "/data/in")
        .expect("valid")
        .push(&job.registry)
        .await
        .expect("pushed");
    let scrape = format!(
        "  - job_name: pushgateway\n    honor_labels: true\n    static_configs:\n      - targets: ['{}']\n",
        gateway.addr
    );
    let Some(prometheus) = Prometheus::start(&scrape).await else {
        return;
    };
    let query = r#"backup_rows_total{job="etl",path="/data/in"}"#;
    prometheus
        .wait_until("showing the pushed counter", || async {
            !prometheus.query(query).await.is_empty()
        })
        .await;
    let series = prometheus.query(query).await;
    assert_eq!(series.len(), 1, "{series:?}");
    assert_eq!(series[0].1, 42.0);
    // honor_labels keeps the pushed job, not the scrape's.
    assert_eq!(series[0].0["job"], "etl");
    let quantile = prometheus
        .query(r#"histogram_quantile(1, backup_duration_seconds_bucket{job="etl"})"#)
        .await;
    assert_eq!(quantile.len(), 1, "{quantile:?}");
    assert_eq!(quantile[0].1, 5.0);
}
