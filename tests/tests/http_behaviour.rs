//! `/metrics` over HTTP: negotiation, compression, methods, paths, and failures that leave the
//! next scrape working.

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};

use hyper::Method;
use prometheus_client::encoding::Format;
use prometheus_client::http::{MetricsService, Server};
use prometheus_client::{CollectError, CollectedFamilies, Collector, Counter, Gauge, Registry};
use tests::external::{promtool_check, tool, PROMTOOL};
use tests::http::{get, request, TestServer};

fn registry() -> Registry {
    let r = Registry::new();
    r.register("jobs", "Jobs \"done\".", Counter::new())
        .expect("valid")
        .inc_by(3);
    r
}

const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[tokio::test]
async fn the_accept_header_picks_the_format() {
    let server = TestServer::start(Server::builder(registry())).await;
    let table: &[(Option<&str>, &str)] = &[
        (None, TEXT),
        (Some("*/*"), TEXT),
        (Some("text/plain"), TEXT),
        (Some("text/plain;version=0.0.4"), TEXT),
        (Some("application/openmetrics-text"), OPENMETRICS),
        // Prometheus 2.x.
        (
            Some("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
            OPENMETRICS,
        ),
        // Prometheus 3.x.
        (
            Some("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"),
            OPENMETRICS,
        ),
        (Some("text/plain;version=0.0.4;q=0.2,*/*;q=0.1"), TEXT),
        (Some("application/openmetrics-text;q=0"), TEXT),
        (Some("application/json"), TEXT),
    ];
    for (accept, content_type) in table {
        let headers: Vec<(&str, &str)> = accept.iter().map(|a| ("accept", *a)).collect();
        let reply = get(server.addr, "/metrics", &headers).await;
        assert_eq!(reply.status, 200, "Accept: {accept:?}");
        assert_eq!(
            reply.header("content-type"),
            *content_type,
            "Accept: {accept:?}"
        );
        let text = reply.text();
        assert_eq!(
            text.ends_with("# EOF\n"),
            *content_type == OPENMETRICS,
            "{text}"
        );
        assert!(text.contains("jobs_total 3\n"), "{text}");
    }
    server.stop().await;
}

#[tokio::test]
async fn gzip_bodies_decompress_to_the_plain_body() {
    let server = TestServer::start(Server::builder(registry())).await;
    let plain = get(server.addr, "/metrics", &[]).await;
    assert_eq!(plain.header("content-encoding"), "");
    let zipped = get(
        server.addr,
        "/metrics",
        &[("accept-encoding", "gzip, deflate")],
    )
    .await;
    assert_eq!(zipped.header("content-encoding"), "gzip");
    assert_eq!(zipped.header("vary"), "Accept, Accept-Encoding");
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&zipped.body[..])
        .read_to_end(&mut unzipped)
        .expect("valid gzip");
    assert_eq!(unzipped, plain.body);
    let refused = get(server.addr, "/metrics", &[("accept-encoding", "gzip;q=0")]).await;
    assert_eq!(refused.header("content-encoding"), "");
    server.stop().await;
}

#[tokio::test]
async fn head_gets_headers_other_paths_404_other_methods_405() {
    let server = TestServer::start(Server::builder(registry())).await;
    let full = get(server.addr, "/metrics", &[]).await;
    let head = request(server.addr, Method::HEAD, "/metrics", &[]).await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-type"), TEXT);
    assert_eq!(head.header("content-length"), full.body.len().to_string());
    assert!(head.body.is_empty());
    assert_eq!(get(server.addr, "/", &[]).await.status, 404);
    assert_eq!(get(server.addr, "/metrics/extra", &[]).await.status, 404);
    for method in [Method::POST, Method::PUT, Method::DELETE] {
        let reply = request(server.addr, method.clone(), "/metrics", &[]).await;
        assert_eq!(reply.status, 405, "{method}");
        assert_eq!(reply.header("allow"), "GET, HEAD");
    }
    server.stop().await;
}

/// Fails every other scrape: with an error, or (when `panics`) with a panic.
struct Flaky {
    calls: AtomicUsize,
    panics: bool,
}

impl Collector for Flaky {
    fn collect(&self, families: &mut CollectedFamilies) -> Result<(), CollectError> {
        if self.calls.fetch_add(1, Ordering::SeqCst) % 2 == 0 {
            assert!(!self.panics, "collector blew up");
            return Err(CollectError::new("sensor offline"));
        }
        let g = Gauge::new();
        g.set(1.5);
        families.add("sensor", "A reading.", g);
        Ok(())
    }
}

#[tokio::test]
async fn failing_and_panicking_encodes_give_500_are_counted_and_recover() {
    for panics in [false, true] {
        let r = registry();
        r.register_collector(Flaky {
            calls: AtomicUsize::new(0),
            panics,
        });
        let service = MetricsService::builder(r)
            .self_metrics(true)
            .build()
            .expect("valid");
        let server = TestServer::start(Server::with_service(service.clone())).await;
        let failed = get(server.addr, "/metrics", &[]).await;
        assert_eq!(failed.status, 500);
        let want = if panics {
            "encoding panicked\n"
        } else {
            "encoding failed: collector failed: sensor offline\n"
        };
        assert_eq!(failed.text(), want);
        assert_eq!(service.errors(), 1);
        let next = get(server.addr, "/metrics", &[]).await;
        assert_eq!(next.status, 200, "the next scrape works");
        let text = next.text();
        assert!(text.contains("sensor 1.5\n"), "{text}");
        let cause = if panics { "panic" } else { "encoding" };
        assert!(
            text.contains(&format!(
                "metrics_http_errors_total{{cause=\"{cause}\"}} 1\n"
            )),
            "{text}"
        );
        assert!(
            text.contains("metrics_http_requests_total{code=\"500\"} 1\n"),
            "{text}"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn promtool_finds_no_errors_in_the_served_demo() {
    if !tool(PROMTOOL, "promtool checks the served body") {
        return;
    }
    let demo = examples::DemoMetrics::new().expect("registers");
    demo.simulate_traffic(100);
    let service = MetricsService::builder(demo.registry.clone())
        .self_metrics(true)
        .build()
        .expect("valid");
    let server = TestServer::start(Server::with_service(service)).await;
    let reply = get(
        server.addr,
        "/metrics",
        &[("accept", "text/plain;version=0.0.4")],
    )
    .await;
    let (ok, printed) = promtool_check(&reply.body);
    assert!(ok && printed.trim().is_empty(), "promtool says:\n{printed}");
    let om = get(
        server.addr,
        "/metrics",
        &[("accept", "application/openmetrics-text")],
    )
    .await;
    prometheus_client::parse::validate(&om.body, Format::OpenMetrics).expect("valid OpenMetrics");
    server.stop().await;
}
