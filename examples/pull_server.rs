//! Runs the pull server alone: scrapes targets, serves Prometheus' query API.
//!
//! ```text
//! cargo run --example pull_server -- --listen 127.0.0.1:9090 --interval 1s \
//!     --target http://127.0.0.1:9100/metrics [--target URL ...] [--config FILE] \
//!     [--web.config.file web.yml]
//! ```
//!
//! `--config` reads a TOML file (see `Config::from_toml`); `--target` and `--interval` add to
//! and override it. `--web.config.file` serves the API with TLS and basic auth, from a file in
//! exporter-toolkit's format (as Prometheus' own `--web.config.file`).

use std::process::ExitCode;

use prometheus_client::http::WebConfig;
use prometheus_client::pull::{parse_duration, Config, PullServer, Target};

fn usage(problem: &str) -> ExitCode {
    eprintln!("{problem}\nusage: pull_server [--listen ADDR] [--interval DURATION] [--target URL]... [--config FILE] [--web.config.file FILE]");
    ExitCode::from(2)
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut listen = "127.0.0.1:9090".to_owned();
    let mut config = Config::new();
    let mut interval = None;
    let mut targets = Vec::new();
    let mut web_config = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let Some(value) = args.next() else {
            return usage(&format!("{flag} needs a value"));
        };
        match flag.as_str() {
            "--listen" => listen = value,
            "--interval" => match parse_duration(&value) {
                Some(d) if !d.is_zero() => interval = Some(d),
                _ => return usage(&format!("--interval: not a duration: {value:?}")),
            },
            "--target" if value.starts_with("http://") || value.starts_with("https://") => {
                targets.push(value);
            }
            "--target" => return usage(&format!("--target: only http(s):// URLs, not {value:?}")),
            "--web.config.file" => match WebConfig::from_file(&value) {
                Ok(web) => web_config = Some(web),
                Err(e) => return usage(&format!("--web.config.file {value}: {e}")),
            },
            "--config" => {
                let text = match std::fs::read_to_string(&value) {
                    Ok(text) => text,
                    Err(e) => return usage(&format!("--config {value}: {e}")),
                };
                match Config::from_toml(&text) {
                    Ok(c) => config = c,
                    Err(e) => return usage(&format!("--config {value}: {e}")),
                }
            }
            other => return usage(&format!("unknown flag {other}")),
        }
    }
    if let Some(interval) = interval {
        config = config.scrape_interval(interval);
    }
    if web_config.is_some() {
        config.web_config = web_config;
    }
    let scheme = match &config.web_config {
        Some(web) if web.has_tls() => "https",
        _ => "http",
    };
    for url in targets {
        config = config.target(Target::new(url).job("pull_server"));
    }
    if config.targets.is_empty() {
        return usage("no targets: give --target URL or --config FILE");
    }
    let server = match PullServer::start(config, &listen).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("cannot start on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "pull server API on {scheme}://{}/api/v1/query",
        server.api_addr()
    );
    for status in server.targets() {
        println!(
            "scraping {} (job {:?})",
            status.target.url, status.target.job
        );
    }
    let _ = tokio::signal::ctrl_c().await;
    server.shutdown().await;
    ExitCode::SUCCESS
}
