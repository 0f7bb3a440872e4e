//! The round trip, end to end: an instrumented service, the pull server scraping it every
//! second over protobuf (native histograms included), some traffic, and then what the pull
//! server's queries return next to what the service recorded. Both keep serving until
//! Ctrl-C.
//!
//! ```text
//! cargo run --example roundtrip
//! ```

use std::process::ExitCode;
use std::time::Duration;

use examples::{ByMethod, DemoMetrics, Method, Request};
use prometheus_client::encoding::Format;
use prometheus_client::http::{MetricsService, Server};
use prometheus_client::parse::{Entry, Parser};
use prometheus_client::pull::{Config, PullServer, QueryValue, ScrapeProtocol, Target};

/// One line of the comparison: a query, its value on the pull server, the recorded value.
fn compare(pull: &PullServer, query: &str, recorded: f64) -> bool {
    let got = match pull.query(query) {
        Ok(QueryValue::Vector(points)) if points.len() == 1 => points[0].1,
        Ok(QueryValue::Scalar(v)) => v,
        Ok(other) => {
            println!("  {query:<84} unexpected result {other:?}");
            return false;
        }
        Err(e) => {
            println!("  {query:<84} error: {e}");
            return false;
        }
    };
    let same = got == recorded || (got - recorded).abs() <= 1e-9 * recorded.abs();
    let mark = if same { "ok" } else { "DIFFERS" };
    println!("  {query:<84} {got:>14} {recorded:>14}  {mark}");
    same
}

/// The value the service exposes for the unlabelled sample `name`, if it has one (the
/// process families exist on Linux only).
fn exposed_value(demo: &DemoMetrics, name: &str) -> Option<f64> {
    let text = demo.registry.encode_to_string(Format::Text).ok()?;
    Parser::new(text.as_bytes(), Format::Text).find_map(|entry| match entry {
        Ok(Entry::Sample(sample)) if sample.name == name => Some(sample.value),
        _ => None,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let demo = match DemoMetrics::with_process_metrics() {
        Ok(demo) => demo,
        Err(e) => {
            eprintln!("registering the demo metrics failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let service = MetricsService::builder(demo.registry.clone())
        .self_metrics(true)
        .build();
    let service = match service {
        Ok(service) => service,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let (metrics, pull) = match start(service).await {
        Ok(servers) => servers,
        Err(e) => {
            eprintln!("starting the servers failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("service:     http://{}/metrics", metrics.1);
    println!(
        "pull server: http://{}/api/v1/query?query=up",
        pull.api_addr()
    );

    demo.simulate_traffic(250);
    // Two scrapes after the traffic: the pull server holds what the service recorded.
    pull.wait_for_scrapes(2).await;
    println!(
        "\n  {:<84} {:>14} {:>14}",
        "query on the pull server", "pull server", "service"
    );
    let mut all_same = compare(&pull, "up{job=\"demo\"}", 1.0);
    for (method, label, path, status) in [
        (Method::Get, "GET", "/", 200),
        (Method::Post, "POST", "/search?q=\"rust\"", 200),
        (Method::Get, "GET", "/files/C:\\temp", 500),
    ] {
        let request = Request {
            method,
            path: path.to_owned(),
            status,
        };
        let recorded = demo.requests.get_or_create(&request).get() as f64;
        let escaped = path.replace('\\', "\\\\").replace('"', "\\\"");
        let query = format!(
            "demo_http_requests_total{{method=\"{label}\",path=\"{escaped}\",status=\"{status}\"}}"
        );
        all_same &= compare(&pull, &query, recorded);
    }
    let total: u64 = 250;
    all_same &= compare(&pull, "sum(demo_http_requests_total)", total as f64);
    let latency = demo
        .latency
        .get_or_create(&ByMethod {
            method: Method::Get,
        })
        .snapshot();
    all_same &= compare(
        &pull,
        "demo_http_request_duration_seconds_count{method=\"GET\"}",
        latency.count as f64,
    );
    all_same &= compare(
        &pull,
        "demo_http_request_duration_seconds_sum{method=\"GET\"}",
        latency.sum,
    );
    let (size_sum, size_count) = demo.response_size.sum_and_count();
    all_same &= compare(&pull, "demo_http_response_size_bytes_sum", size_sum);
    all_same &= compare(
        &pull,
        "demo_http_response_size_bytes_count",
        size_count as f64,
    );
    all_same &= compare(
        &pull,
        "demo_machine_temperature_celsius",
        demo.temperature.get(),
    );
    all_same &= compare(&pull, "demo_phase{demo_phase=\"serving\"}", 1.0);
    let native = demo.latency_native.snapshot();
    all_same &= compare(
        &pull,
        "histogram_count(demo_http_request_duration_native_seconds)",
        native.count as f64,
    );
    all_same &= compare(
        &pull,
        "histogram_sum(demo_http_request_duration_native_seconds)",
        native.sum,
    );
    // The process families: ones that do not change while the service runs.
    for name in ["process_start_time_seconds", "process_max_fds"] {
        if let Some(recorded) = exposed_value(&demo, name) {
            all_same &= compare(&pull, &format!("{name}{{job=\"demo\"}}"), recorded);
        }
    }
    if let Ok(QueryValue::Vector(p)) = pull
        .query("histogram_quantile(0.9, demo_http_request_duration_seconds_bucket{method=\"GET\"})")
    {
        println!(
            "\n  p90 GET latency from the buckets, as Prometheus computes it: {:.4} s",
            p.first().map_or(f64::NAN, |x| x.1)
        );
    }
    if let Ok(QueryValue::Vector(p)) =
        pull.query("histogram_quantile(0.9, demo_http_request_duration_native_seconds)")
    {
        println!(
            "  p90 latency from the native histogram (buckets 9% wide):      {:.4} s",
            p.first().map_or(f64::NAN, |x| x.1)
        );
    }
    all_same &= exemplar_came_back(&demo, &pull);
    println!(
        "\n{}",
        if all_same {
            "every value made the round trip"
        } else {
            "SOME VALUES DIFFER"
        }
    );

    println!("\ntraffic continues; try:\n  curl 'http://{}/api/v1/query?query=rate(demo_http_requests_total[1m])'\nCtrl-C stops.", pull.api_addr());
    let traffic = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tick.tick().await;
            demo.simulate_traffic(5);
        }
    });
    let _ = tokio::signal::ctrl_c().await;
    traffic.abort();
    let _ = metrics.0.send(());
    pull.shutdown().await;
    if all_same {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Shows the exemplar of one request counter as the service holds it and as the pull server
/// stored it; says whether they are the same.
fn exemplar_came_back(demo: &DemoMetrics, pull: &PullServer) -> bool {
    let request = Request {
        method: Method::Get,
        path: "/".to_owned(),
        status: 200,
    };
    let Some(attached) = demo.requests.get_or_create(&request).exemplar() else {
        println!("\n  the service holds no exemplar");
        return false;
    };
    let selector = "demo_http_requests_total{method=\"GET\",path=\"/\",status=\"200\"}";
    let stored = match pull.query_exemplars(selector, 0, i64::MAX) {
        Ok(found) => found.into_iter().flat_map(|(_, e)| e).last(),
        Err(e) => {
            println!("\n  query_exemplars failed: {e}");
            return false;
        }
    };
    let stored_labels = stored.as_ref().map(|e| {
        let pairs: Vec<String> = e
            .labels
            .iter()
            .map(|(n, v)| format!("{n}=\"{v}\""))
            .collect();
        pairs.join(",")
    });
    println!(
        "\n  exemplar of {selector}\n    attached by the service:   {{{}}} at {:.3}\n    stored by the pull server: {{{}}} at {:.3}",
        attached.labels(),
        attached.timestamp(),
        stored_labels.as_deref().unwrap_or("none"),
        stored.as_ref().map_or(0.0, |e| e.timestamp as f64 / 1000.0),
    );
    stored_labels.as_deref() == Some(attached.labels())
}

/// Starts the service's `/metrics` server and the pull server scraping it every second.
async fn start(
    service: MetricsService,
) -> std::io::Result<(
    (tokio::sync::oneshot::Sender<()>, std::net::SocketAddr),
    PullServer,
)> {
    let server = Server::with_service(service).bind("127.0.0.1:0").await?;
    let addr = server.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.serve_with_shutdown(async {
        let _ = stopped.await;
    }));
    let config = Config::new()
        .scrape_interval(Duration::from_secs(1))
        .target(
            Target::new(format!("http://{addr}/metrics"))
                .job("demo")
                .scrape_protocols([
                    ScrapeProtocol::PrometheusProto,
                    ScrapeProtocol::OpenMetricsText1_0_0,
                ]),
        );
    let pull = PullServer::start(config, "127.0.0.1:0").await?;
    Ok(((stop, addr), pull))
}
