//! Mounts the metrics handler on a route of an existing axum application, and records the
//! application's requests (by method, matched route and status), latency and in-flight
//! requests with the tower layer.
//!
//! ```text
//! cargo run --example embed -- [--listen 127.0.0.1:3000]
//! curl http://127.0.0.1:3000/hello/world && curl http://127.0.0.1:3000/internal/metrics
//! ```

use std::process::ExitCode;

use axum::extract::{Path, Request};
use axum::routing::get;
use axum::Router;
use prometheus_client::http::MetricsService;
use prometheus_client::middleware::HttpMetricsLayer;
use prometheus_client::{Counter, Registry};

#[tokio::main]
async fn main() -> ExitCode {
    let listen = match std::env::args().skip(1).collect::<Vec<_>>().as_slice() {
        [] => "127.0.0.1:3000".to_owned(),
        [flag, addr] if flag == "--listen" => addr.clone(),
        _ => {
            eprintln!("usage: embed [--listen ADDR]");
            return ExitCode::from(2);
        }
    };
    let registry = Registry::new();
    let hellos = match registry.register("hellos", "Greetings served.", Counter::new()) {
        Ok(counter) => counter,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let http_metrics = match HttpMetricsLayer::builder().register(&registry) {
        Ok(layer) => layer,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let metrics = MetricsService::new(registry);
    let app = Router::new()
        .route(
            "/hello/{name}",
            get(move |Path(name): Path<String>| async move {
                hellos.inc();
                format!("hello {name}\n")
            }),
        )
        .route(
            "/internal/metrics",
            get(move |request: Request| {
                let metrics = metrics.clone();
                async move { metrics.handle(request).await }
            }),
        )
        .layer(http_metrics);
    let listener = match tokio::net::TcpListener::bind(&listen).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Ok(addr) = listener.local_addr() {
        println!("serving http://{addr}/hello/world and http://{addr}/internal/metrics");
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("serving failed: {e}");
            ExitCode::FAILURE
        }
    }
}
