//! What a library records through the `metrics` crate's macros appears in our registry,
//! exactly rendered, beside the registry's own metrics.

use metrics::Unit;
use prometheus_client::encoding::Format;
use prometheus_client::facade::{InstallError, Matcher, MetricsRecorder};
use prometheus_client::{Buckets, Counter, Registry};

/// A library that knows nothing of this crate: it only uses `metrics`' macros.
mod some_library {
    use metrics::{counter, describe_counter, describe_histogram, gauge, histogram, Unit};

    pub(super) fn describe() {
        describe_counter!("db.queries", "Queries sent to the database.");
        describe_histogram!(
            "db.query_duration_seconds",
            Unit::Seconds,
            "How long a query took."
        );
    }

    pub(super) fn query(table: &'static str, took: f64) {
        counter!("db.queries", "table" => table).increment(1);
        histogram!("db.query_duration_seconds", "table" => table).record(took);
        gauge!("db.pool-connections").increment(1.0);
        gauge!("db.pool-connections").decrement(1.0);
    }

    pub(super) fn pool_size(size: f64) {
        gauge!("db.pool-connections").set(size);
    }

    pub(super) fn mirrored(total: u64) {
        counter!("replica.applied").absolute(total);
    }
}

fn recorder(registry: &Registry) -> MetricsRecorder {
    MetricsRecorder::builder(registry)
        .buckets(
            Matcher::Suffix("_seconds".into()),
            Buckets::new(&[0.01, 0.1, 1.0]).expect("valid"),
        )
        .build()
}

#[test]
fn a_library_using_metrics_macros_appears_beside_our_metrics() {
    let registry = Registry::new();
    let own = registry
        .register("app_started", "Starts.", Counter::<u64>::default())
        .expect("registers");
    own.inc();
    let recorder = recorder(&registry);
    metrics::with_local_recorder(&recorder, || {
        some_library::describe();
        some_library::query("users", 0.05);
        some_library::query("users", 0.5);
        some_library::query("orders", 2.0);
        some_library::pool_size(8.0);
        some_library::mirrored(40);
        some_library::mirrored(30); // a mirrored counter never goes down
        some_library::mirrored(42);
    });
    assert_eq!(
        registry.encode_to_string(Format::Text).expect("encodes"),
        "\
# HELP app_started_total Starts.
# TYPE app_started_total counter
app_started_total 1
# TYPE db_pool_connections gauge
db_pool_connections 8
# HELP db_queries_total Queries sent to the database.
# TYPE db_queries_total counter
db_queries_total{table=\"orders\"} 1
db_queries_total{table=\"users\"} 2
# HELP db_query_duration_seconds How long a query took.
# TYPE db_query_duration_seconds histogram
db_query_duration_seconds_bucket{table=\"orders\",le=\"0.01\"} 0
db_query_duration_seconds_bucket{table=\"orders\",le=\"0.1\"} 0
db_query_duration_seconds_bucket{table=\"orders\",le=\"1\"} 0
db_query_duration_seconds_bucket{table=\"orders\",le=\"+Inf\"} 1
db_query_duration_seconds_sum{table=\"orders\"} 2
db_query_duration_seconds_count{table=\"orders\"} 1
db_query_duration_seconds_bucket{table=\"users\",le=\"0.01\"} 0
db_query_duration_seconds_bucket{table=\"users\",le=\"0.1\"} 1
db_query_duration_seconds_bucket{table=\"users\",le=\"1\"} 2
db_query_duration_seconds_bucket{table=\"users\",le=\"+Inf\"} 2
db_query_duration_seconds_sum{table=\"users\"} 0.55
db_query_duration_seconds_count{table=\"users\"} 2
# TYPE replica_applied_total counter
replica_applied_total 42
"
    );
    // The unit is OpenMetrics' `# UNIT`, as the name already ends with it.
    let open_metrics = registry
        .encode_to_string(Format::OpenMetrics)
        .expect("encodes");
    assert!(open_metrics.contains(
        "# TYPE db_query_duration_seconds histogram\n\
         # UNIT db_query_duration_seconds seconds\n\
         # HELP db_query_duration_seconds How long a query took.\n"
    ));
}

#[test]
fn a_description_given_late_keeps_the_values() {
    let registry = Registry::new();
    let recorder = recorder(&registry);
    metrics::with_local_recorder(&recorder, || {
        metrics::counter!("late").increment(5);
        metrics::describe_counter!("late", "Described after the first increment.");
        metrics::counter!("late").increment(1);
        metrics::describe_gauge!(
            "temperature_celsius",
            Unit::Count,
            "No unit: Count is none."
        );
        metrics::gauge!("temperature_celsius").set(21.5);
    });
    let text = registry
        .encode_to_string(Format::OpenMetrics)
        .expect("encodes");
    assert!(
        text.contains(
            "# TYPE late counter\n# HELP late Described after the first increment.\nlate_total 6\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("# TYPE temperature_celsius gauge\n# HELP"),
        "{text}"
    );
}

#[test]
fn what_cannot_be_exposed_is_refused_and_counted() {
    let registry = Registry::new();
    registry
        .register("taken", "Ours.", Counter::<u64>::default())
        .expect("registers");
    let recorder = recorder(&registry);
    metrics::with_local_recorder(&recorder, || {
        metrics::counter!("jobs").increment(1);
        metrics::gauge!("jobs").set(3.0); // the same name as another kind
        metrics::counter!("taken").increment(1); // one of the registry's own
        metrics::counter!("labelled", "__reserved" => "x").increment(1);
        metrics::counter!("labelled", "ok" => "y").increment(2);
        for _ in 0..3 {
            metrics::gauge!("jobs").set(4.0); // refused once, counted once
        }
    });
    let text = registry.encode_to_string(Format::Text).expect("encodes");
    for line in [
        "jobs_total 1\n",
        "taken_total 0\n",
        "labelled_total{ok=\"y\"} 2\n",
        "prometheus_client_metrics_refused_total{name=\"jobs\"} 1\n",
        "prometheus_client_metrics_refused_total{name=\"taken\"} 1\n",
        "prometheus_client_metrics_refused_total{name=\"labelled\"} 1\n",
    ] {
        assert!(text.contains(line), "no {line:?} in\n{text}");
    }
    assert!(!text.contains("jobs 3"), "{text}");
}

#[test]
fn concurrent_recording_loses_nothing() {
    let registry = Registry::new();
    let recorder = recorder(&registry);
    std::thread::scope(|scope| {
        for thread in 0..8 {
            let recorder = &recorder;
            scope.spawn(move || {
                metrics::with_local_recorder(recorder, || {
                    for i in 0..10_000u64 {
                        let shard = if i % 2 == 0 { "even" } else { "odd" };
                        metrics::counter!("work.items", "shard" => shard).increment(1);
                        metrics::histogram!("work.size_bytes").record((thread * i) as f64);
                    }
                });
            });
        }
    });
    let text = registry.encode_to_string(Format::Text).expect("encodes");
    assert!(
        text.contains("work_items_total{shard=\"even\"} 40000\n"),
        "{text}"
    );
    assert!(
        text.contains("work_items_total{shard=\"odd\"} 40000\n"),
        "{text}"
    );
    assert!(text.contains("work_size_bytes_count 80000\n"), "{text}");
}

#[test]
fn the_global_recorder_is_installed_once() {
    let registry = Registry::new();
    MetricsRecorder::builder(&registry)
        .install()
        .expect("the first install");
    metrics::counter!("global.events").increment(2);
    let started = std::time::Instant::now();
    metrics::histogram!("global.wait_seconds").record(started.elapsed().as_secs_f64());
    let text = registry.encode_to_string(Format::Text).expect("encodes");
    assert!(text.contains("global_events_total 2\n"), "{text}");
    assert!(text.contains("global_wait_seconds_count 1\n"), "{text}");
    assert_eq!(
        MetricsRecorder::builder(&registry).install(),
        Err(InstallError)
    );
}
