//! Serves the demo service's metrics, with values that keep changing, until Ctrl-C.
//!
//! ```text
//! cargo run --example serve -- [--listen 127.0.0.1:9898] [--web.config.file web.yml]
//! curl -H 'Accept: application/openmetrics-text' http://127.0.0.1:9898/metrics
//! ```
//!
//! `--web.config.file` serves with TLS, client certificates and basic auth as the file says,
//! in exporter-toolkit's format (as Prometheus' exporters take it).

use std::process::ExitCode;
use std::time::Duration;

use examples::DemoMetrics;
use prometheus_client::http::{MetricsService, Server, WebConfig};

#[tokio::main]
async fn main() -> ExitCode {
    let mut listen = "127.0.0.1:9898".to_owned();
    let mut web_config = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--listen", Some(addr)) => listen = addr,
            ("--web.config.file", Some(file)) => match WebConfig::from_file(&file) {
                Ok(config) => web_config = Some(config),
                Err(e) => {
                    eprintln!("--web.config.file {file}: {e}");
                    return ExitCode::from(2);
                }
            },
            _ => {
                eprintln!("usage: serve [--listen ADDR] [--web.config.file FILE]");
                return ExitCode::from(2);
            }
        }
    }
    let demo = match DemoMetrics::with_process_metrics() {
        Ok(demo) => demo,
        Err(e) => {
            eprintln!("registering the demo metrics failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let service = match MetricsService::builder(demo.registry.clone())
        .self_metrics(true)
        .build()
    {
        Ok(service) => service,
        Err(e) => {
            eprintln!("registering the handler's metrics failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut builder = Server::with_service(service);
    let mut scheme = "http";
    if let Some(config) = &web_config {
        builder = match builder.web_config(config) {
            Ok(builder) => builder,
            Err(e) => {
                eprintln!("--web.config.file: {e}");
                return ExitCode::from(2);
            }
        };
        if config.has_tls() {
            scheme = "https";
        }
    }
    let server = match builder.bind(&listen).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match server.local_addr() {
        Ok(addr) => println!("serving metrics on {scheme}://{addr}/metrics"),
        Err(e) => eprintln!("bound, but the address is unknown: {e}"),
    }
    let traffic = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tick.tick().await;
            demo.simulate_traffic(7);
        }
    });
    let served = server.serve().await;
    traffic.abort();
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("serving failed: {e}");
            ExitCode::FAILURE
        }
    }
}
