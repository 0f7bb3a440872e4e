//! UTF-8 metric and label names over HTTP: the scraper's `escaping` decides how they are written, the
//! `Content-Type` says which, and scrapers that know only the classic names (Debian's
//! Prometheus 2.42, its promtool) read the escaped ones.

use prometheus_client::http::Server;
use prometheus_client::{Counter, Family, Registry};
use tests::external::{promtool_check, tool, PROMTOOL};
use tests::http::{get, TestServer};
use tests::prometheus::Prometheus;

fn registry() -> Registry {
    let registry = Registry::new().allow_utf8_names();
    let requests = registry
        .register(
            "http.server.requests",
            "Requests served.",
            Family::<[String; 1], Counter>::new(["http.method"]),
        )
        .expect("a UTF-8 name is allowed");
    requests.get_or_create(&["GET".to_owned()]).inc_by(3);
    registry
}

#[tokio::test]
async fn the_scraper_chooses_the_escaping_and_the_content_type_says_it() {
    let server = TestServer::start(Server::builder(registry())).await;
    let cases: &[(&str, &str, &str)] = &[
        (
            "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8",
            "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8",
            "{\"http.server.requests_total\",\"http.method\"=\"GET\"} 3\n",
        ),
        (
            "text/plain;version=0.0.4",
            "text/plain; version=0.0.4; charset=utf-8; escaping=underscores",
            "\nhttp_server_requests_total{http_method=\"GET\"} 3\n",
        ),
        (
            "text/plain;version=0.0.4;escaping=values",
            "text/plain; version=0.0.4; charset=utf-8; escaping=values",
            "\nU__http_2e_server_2e_requests__total{U__http_2e_method=\"GET\"} 3\n",
        ),
    ];
    for (accept, content_type, line) in cases {
        let reply = get(server.addr, "/metrics", &[("accept", accept)]).await;
        assert_eq!(reply.header("content-type"), *content_type, "{accept}");
        assert!(reply.text().contains(line), "{accept}:\n{}", reply.text());
    }
}

#[test]
fn promtool_reads_the_escaped_names() {
    if !tool(PROMTOOL, "promtool checks our text output") {
        return;
    }
    let body = registry()
        .encode_to_string(prometheus_client::encoding::Format::Text)
        .expect("encodes");
    let (ok, printed) = promtool_check(body.as_bytes());
    assert!(
        ok && printed.trim().is_empty(),
        "promtool says:\n{printed}\non:\n{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_2_scrapes_escaped_names() {
    let server = TestServer::start(Server::builder(registry())).await;
    let scrape = format!(
        "  - job_name: utf8\n    static_configs:\n      - targets: ['{}']\n",
        server.addr
    );
    let Some(prometheus) = Prometheus::start(&scrape).await else {
        return;
    };
    let query = "http_server_requests_total{job=\"utf8\",http_method=\"GET\"}";
    prometheus
        .wait_until("scraping the escaped name", || async {
            prometheus
                .query(query)
                .await
                .first()
                .is_some_and(|s| s.1 == 3.0)
        })
        .await;
}
