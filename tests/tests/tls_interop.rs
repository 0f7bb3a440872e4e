//! TLS and basic auth against real Prometheus software: Debian's Prometheus scrapes our
//! `/metrics` over TLS with a client certificate and basic auth, and our pull server scrapes
//! Debian's node_exporter started with a `--web.config.file` that demands the same.

use std::time::Duration;

use prometheus_client::http::{Server, WebConfig};
use prometheus_client::pull::{BasicAuth, Config, PullServer, QueryValue, Target, TlsConfig};
use prometheus_client::{Counter, Registry};
use tests::http::TestServer;
use tests::node_exporter::NodeExporter;
use tests::prometheus::Prometheus;
use tests::tls::{bcrypt_hash, Pki};

/// exporter-toolkit's web config: TLS with a verified client certificate, and alice.
fn write_web_config(pki: &Pki) -> std::path::PathBuf {
    let text = format!(
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\nbasic_auth_users:\n  alice: {}\n",
        bcrypt_hash("secret")
    );
    let file = pki.path("web.yml");
    std::fs::write(&file, text).expect("written");
    file
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_our_metrics_over_tls_with_basic_auth() {
    let pki = Pki::new();
    let web = WebConfig::from_file(write_web_config(&pki)).expect("valid");
    let registry = Registry::new();
    registry
        .register("jobs", "Jobs done.", Counter::new())
        .expect("valid")
        .inc_by(7);
    let server =
        TestServer::start(Server::builder(registry).web_config(&web).expect("loads")).await;
    let tls = format!(
        "    tls_config:\n      ca_file: {}\n      cert_file: {}\n      key_file: {}\n",
        pki.path("ca.crt").display(),
        pki.path("client.crt").display(),
        pki.path("client.key").display()
    );
    let scrape_configs = format!(
        "  - job_name: tls\n    scheme: https\n{tls}    basic_auth: {{username: alice, password: secret}}\n    static_configs: [{{targets: ['{addr}']}}]\n  - job_name: wrong_password\n    scheme: https\n{tls}    basic_auth: {{username: alice, password: guess}}\n    static_configs: [{{targets: ['{addr}']}}]\n  - job_name: plain_http\n    static_configs: [{{targets: ['{addr}']}}]\n",
        addr = server.addr
    );
    let Some(prometheus) = Prometheus::start(&scrape_configs).await else {
        return;
    };
    prometheus
        .wait_until("done scraping", || async {
            prometheus.query("count_over_time(up[1m]) >= 2").await.len() == 3
        })
        .await;
    let up = |job: &'static str| {
        let prometheus = &prometheus;
        async move {
            prometheus
                .query(&format!("up{{job=\"{job}\"}}"))
                .await
                .first()
                .map(|s| s.1)
        }
    };
    assert_eq!(up("tls").await, Some(1.0), "{}", prometheus.log());
    assert_eq!(up("wrong_password").await, Some(0.0));
    assert_eq!(up("plain_http").await, Some(0.0));
    let jobs = prometheus.query("jobs_total{job=\"tls\"}").await;
    assert_eq!(jobs.first().map(|s| s.1), Some(7.0));
    let targets = prometheus.api("/api/v1/targets").await;
    let error_of = |job: &str| {
        targets["data"]["activeTargets"]
            .as_array()
            .and_then(|all| all.iter().find(|t| t["labels"]["job"] == job))
            .map(|t| t["lastError"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_default()
    };
    assert!(error_of("wrong_password").contains("401"), "{targets}");
    assert!(!error_of("plain_http").is_empty(), "{targets}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_pull_server_scrapes_node_exporter_behind_tls_and_basic_auth() {
    let pki = Pki::new();
    let web_file = write_web_config(&pki);
    let args = [format!("--web.config.file={}", web_file.display())];
    let Some(exporter) = NodeExporter::start(&args).await else {
        return;
    };
    let addr = exporter.addr;

    let url = format!("https://{addr}/metrics");
    let tls = TlsConfig {
        ca_file: Some(pki.path("ca.crt")),
        cert_file: Some(pki.path("client.crt")),
        key_file: Some(pki.path("client.key")),
        ..TlsConfig::default()
    };
    let password_file = pki.path("password");
    std::fs::write(&password_file, "secret\n").expect("written");
    let config = Config::new()
        .scrape_interval(Duration::from_secs(1))
        .target(
            Target::new(&url)
                .job("node")
                .tls_config(tls.clone())
                .basic_auth(BasicAuth {
                    username: "alice".into(),
                    password: None,
                    password_file: Some(password_file),
                }),
        )
        .target(
            Target::new(&url)
                .job("wrong_password")
                .tls_config(tls.clone())
                .basic_auth(BasicAuth::with_password("alice", "guess")),
        )
        .target(
            Target::new(&url)
                .job("no_client_cert")
                .tls_config(TlsConfig {
                    ca_file: Some(pki.path("ca.crt")),
                    ..TlsConfig::default()
                })
                .basic_auth(BasicAuth::with_password("alice", "secret")),
        );
    let pull = PullServer::start(config, "127.0.0.1:0")
        .await
        .expect("starts");
    pull.wait_for_scrapes(2).await;
    let statuses = pull.targets();
    let status = |job: &str| {
        statuses
            .iter()
            .find(|s| s.target.job == job)
            .map(|s| (s.up, s.last_error.clone()))
            .expect("target")
    };
    assert_eq!(status("node").0, Some(true), "{}", status("node").1);
    assert_eq!(
        status("wrong_password"),
        (Some(false), "server returned HTTP status 401".into())
    );
    let (up, error) = status("no_client_cert");
    assert_eq!(up, Some(false));
    assert!(!error.is_empty());
    let build = pull
        .query("count(node_exporter_build_info{job=\"node\"})")
        .expect("valid");
    assert!(
        matches!(&build, QueryValue::Vector(v) if v.len() == 1 && v[0].1 == 1.0),
        "{build:?}"
    );
    pull.shutdown().await;
}
