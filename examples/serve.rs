//! Serves the demo service's metrics, with values that keep changing, until Ctrl-C.
//!
//! ```text
//! cargo run --example serve -- [--listen 127.0.0.1:9898]
//! curl -H 'Accept: application/openmetrics-text' http://127.0.0.1:9898/metrics
//! ```

use std::process::ExitCode;
use std::time::Duration;

use examples::DemoMetrics;
use prometheus_client::http::{MetricsService, Server};

#[tokio::main]
async fn main() -> ExitCode {
    let mut listen = "127.0.0.1:9898".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--listen", Some(addr)) => listen = addr,
            _ => {
                eprintln!("usage: serve [--listen ADDR]");
                return ExitCode::from(2);
            }
        }
    }
    let demo = match DemoMetrics::new() {
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
    let server = match Server::with_service(service).bind(&listen).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match server.local_addr() {
        Ok(addr) => println!("serving metrics on http://{addr}/metrics"),
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
