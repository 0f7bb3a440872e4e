//! TLS, client certificates and basic auth on both servers, configured by a web config file
//! in exporter-toolkit's format; the pull server scraping over TLS. Every refusal is clear and
//! leaves the server serving.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use prometheus_client::http::{Server, WebConfig};
use prometheus_client::pull::{BasicAuth, Config, PullServer, QueryValue, Target, TlsConfig};
use prometheus_client::{Counter, Registry};
use tests::http::TestServer;
use tests::tls::{basic, bcrypt_hash, https_get, Pki};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn registry() -> Registry {
    let registry = Registry::new();
    let jobs = registry
        .register("jobs", "Jobs done.", Counter::new())
        .expect("valid");
    jobs.inc_by(7);
    registry
}

/// A web config demanding a client certificate from the test CA and alice's password.
fn web_config(pki: &Pki, client_auth: &str) -> WebConfig {
    let text = format!(
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: {client_auth}\n  client_ca_file: ca.crt\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\nbasic_auth_users:\n  alice: {}\n",
        bcrypt_hash("secret")
    );
    let file = pki.path("web.yml");
    std::fs::write(&file, text).expect("written");
    WebConfig::from_file(&file).expect("valid web config")
}

/// Our `/metrics` server under that web config.
async fn tls_server(pki: &Pki) -> TestServer {
    let config = web_config(pki, "RequireAndVerifyClientCert");
    TestServer::start(
        Server::builder(registry())
            .web_config(&config)
            .expect("loads"),
    )
    .await
}

async fn plain_http(addr: SocketAddr) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    let _ = stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: h\r\n\r\n")
        .await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_server_refuses_clearly_and_keeps_serving() {
    let pki = Pki::new();
    let server = tls_server(&pki).await;
    let ca = pki.path("ca.crt");
    let (cert, key) = (pki.path("client.crt"), pki.path("client.key"));
    let client = Some((cert.as_path(), key.as_path()));
    let addr = server.addr;
    let get = |authorization: Option<String>, client: Option<(&Path, &Path)>| {
        let (ca, client) = (
            ca.clone(),
            client.map(|(c, k)| (c.to_path_buf(), k.to_path_buf())),
        );
        async move {
            let client = client.as_ref().map(|(c, k)| (c.as_path(), k.as_path()));
            https_get(addr, "/metrics", &ca, client, authorization.as_deref()).await
        }
    };

    let ok = get(Some(basic("alice", "secret")), client)
        .await
        .expect("served");
    assert_eq!(ok.status, 200);
    assert!(ok.body.contains("jobs_total 7"), "{}", ok.body);
    assert_eq!(ok.frame_options, "deny");

    for (what, authorization) in [
        ("a wrong password", Some(basic("alice", "guess"))),
        ("an unknown user", Some(basic("mallory", "secret"))),
        ("no credentials", None),
        ("a malformed header", Some("Basic !!!".to_owned())),
    ] {
        let refused = get(authorization, client).await.expect("answered");
        assert_eq!(refused.status, 401, "{what}");
        assert_eq!(refused.www_authenticate, "Basic", "{what}");
        assert_eq!(refused.frame_options, "deny", "{what}");
    }

    let answer = plain_http(server.addr).await;
    assert!(
        answer.starts_with("HTTP/1.0 400 Bad Request")
            && answer.contains("Client sent an HTTP request to an HTTPS server."),
        "{answer:?}"
    );

    for (what, name, alert) in [
        ("a certificate from another CA", "stranger", "UnknownCA"),
        ("an expired certificate", "expired", "CertificateExpired"),
    ] {
        let (cert, key) = (
            pki.path(&format!("{name}.crt")),
            pki.path(&format!("{name}.key")),
        );
        let error = get(Some(basic("alice", "secret")), Some((&cert, &key)))
            .await
            .expect_err(what);
        assert!(error.contains(alert), "{what}: {error}");
    }
    let error = get(Some(basic("alice", "secret")), None)
        .await
        .expect_err("no client certificate");
    assert!(error.contains("CertificateRequired"), "{error}");

    let again = get(Some(basic("alice", "secret")), client)
        .await
        .expect("served");
    assert_eq!(again.status, 200, "still serving after the refusals");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_web_config_file_is_read_again() {
    let pki = Pki::new();
    let server = tls_server(&pki).await;
    let ca = pki.path("ca.crt");
    let (cert, key) = (pki.path("client.crt"), pki.path("client.key"));
    let get = |user: &'static str, password: &'static str| {
        let (ca, cert, key) = (ca.clone(), cert.clone(), key.clone());
        async move {
            https_get(
                server.addr,
                "/metrics",
                &ca,
                Some((&cert, &key)),
                Some(&basic(user, password)),
            )
            .await
            .expect("answered")
            .status
        }
    };
    assert_eq!(get("bob", "hunter2").await, 401);
    let text = format!(
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\nbasic_auth_users:\n  bob: {}\n",
        bcrypt_hash("hunter2")
    );
    // A modification time the reload cannot miss, however coarse the file system's clock.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    std::fs::write(pki.path("web.yml"), text).expect("written");
    let mut status = 0;
    for _ in 0..50 {
        status = get("bob", "hunter2").await.as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(status, 200, "bob is let in once the file changes");
    assert_eq!(get("alice", "secret").await, 401, "alice is gone");
    // A broken file leaves the last good configuration in force.
    std::fs::write(pki.path("web.yml"), "tls_server_config: [").expect("written");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(get("bob", "hunter2").await, 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pull_server_scrapes_over_tls_and_serves_its_api_behind_tls() {
    let pki = Pki::new();
    let service = tls_server(&pki).await;
    let url = format!("https://127.0.0.1:{}/metrics", service.addr.port());
    let tls = TlsConfig {
        ca_file: Some(pki.path("ca.crt")),
        cert_file: Some(pki.path("client.crt")),
        key_file: Some(pki.path("client.key")),
        ..TlsConfig::default()
    };
    let good = Target::new(&url)
        .job("good")
        .tls_config(tls.clone())
        .basic_auth(BasicAuth::with_password("alice", "secret"));
    let wrong_password = Target::new(&url)
        .job("wrong_password")
        .tls_config(tls.clone())
        .basic_auth(BasicAuth::with_password("alice", "guess"));
    let untrusted = Target::new(&url)
        .job("untrusted")
        .basic_auth(BasicAuth::with_password("alice", "secret"));
    let api_web = web_config(&pki, "VerifyClientCertIfGiven");
    let config = Config {
        web_config: Some(api_web),
        ..Config::new()
            .scrape_interval(Duration::from_millis(500))
            .target(good)
            .target(wrong_password)
            .target(untrusted)
    };
    let pull = PullServer::start(config, "127.0.0.1:0")
        .await
        .expect("starts");
    pull.wait_for_scrapes(2).await;
    let up = |job: &str| match pull.query(&format!("up{{job=\"{job}\"}}")) {
        Ok(QueryValue::Vector(v)) => v.first().map(|s| s.1),
        other => panic!("{other:?}"),
    };
    assert_eq!(up("good"), Some(1.0));
    assert_eq!(up("wrong_password"), Some(0.0));
    assert_eq!(up("untrusted"), Some(0.0));
    match pull.query("jobs_total{job=\"good\"}") {
        Ok(QueryValue::Vector(v)) => assert_eq!(v.first().map(|s| s.1), Some(7.0)),
        other => panic!("{other:?}"),
    }
    let errors: Vec<(String, String)> = pull
        .targets()
        .into_iter()
        .map(|t| (t.target.job, t.last_error))
        .collect();
    let error_of = |job: &str| {
        errors
            .iter()
            .find(|(j, _)| j == job)
            .map(|(_, e)| e.clone())
            .unwrap_or_default()
    };
    assert!(error_of("wrong_password").contains("401"), "{errors:?}");
    assert!(error_of("untrusted").contains("TLS"), "{errors:?}");

    // The API: TLS and alice's password; a client certificate if given must be the CA's.
    let ca = pki.path("ca.crt");
    let query = "/api/v1/query?query=up";
    let reply = https_get(
        pull.api_addr(),
        query,
        &ca,
        None,
        Some(&basic("alice", "secret")),
    )
    .await
    .expect("served");
    assert_eq!(reply.status, 200);
    assert!(
        reply.body.contains("\"status\":\"success\""),
        "{}",
        reply.body
    );
    let refused = https_get(pull.api_addr(), query, &ca, None, None)
        .await
        .expect("answered");
    assert_eq!(refused.status, 401);
    assert!(plain_http(pull.api_addr()).await.contains("HTTPS server"));
    pull.shutdown().await;
    service.stop().await;
}

#[tokio::test]
async fn a_web_config_that_does_not_load_is_refused_at_start() {
    let pki = Pki::new();
    let text = "tls_server_config:\n  cert_file: server.crt\n  key_file: client.key\n";
    std::fs::write(pki.path("web.yml"), text).expect("written");
    let config = WebConfig::from_file(pki.path("web.yml")).expect("parses");
    let error = Server::builder(registry())
        .web_config(&config)
        .expect_err("the key is not the certificate's");
    assert!(
        error
            .to_string()
            .contains("does not go with the certificate"),
        "{error}"
    );
    let missing = WebConfig::from_yaml(
        "tls_server_config:\n  cert_file: none.crt\n  key_file: none.key\n",
        &pki.dir,
    )
    .expect("parses");
    let error = Server::builder(registry())
        .web_config(&missing)
        .expect_err("no such file");
    assert!(error.to_string().contains("cannot read"), "{error}");
}

/// Our `/metrics` server under the web config `text` (paths relative to the PKI's folder).
async fn server_with(pki: &Pki, text: &str) -> TestServer {
    let config = WebConfig::from_yaml(text, &pki.dir).expect("valid web config");
    TestServer::start(
        Server::builder(registry())
            .web_config(&config)
            .expect("loads"),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_option_of_the_web_config_takes_effect() {
    let pki = Pki::new();
    let ca = pki.path("ca.crt");
    let (cert, key) = (pki.path("client.crt"), pki.path("client.key"));
    let (stranger, stranger_key) = (pki.path("stranger.crt"), pki.path("stranger.key"));
    let tls = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n";

    // RequireAnyClientCert: any certificate will do, none will not.
    let server = server_with(
        &pki,
        &format!("{tls}  client_auth_type: RequireAnyClientCert\n"),
    )
    .await;
    let shown = https_get(
        server.addr,
        "/metrics",
        &ca,
        Some((&stranger, &stranger_key)),
        None,
    )
    .await;
    assert_eq!(shown.expect("any certificate").status, 200);
    let error = https_get(server.addr, "/metrics", &ca, None, None)
        .await
        .expect_err("none");
    assert!(error.contains("CertificateRequired"), "{error}");
    server.stop().await;

    // client_allowed_sans: the CA's certificate for client.test, but only server.test allowed.
    let sans = format!(
        "{tls}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n  client_allowed_sans: [server.test]\n"
    );
    let server = server_with(&pki, &sans).await;
    let error = https_get(server.addr, "/metrics", &ca, Some((&cert, &key)), None)
        .await
        .expect_err("a name not allowed");
    assert!(error.contains("alert"), "{error}");
    server.stop().await;
    let server = server_with(&pki, &sans.replace("server.test", "client.test")).await;
    let allowed = https_get(server.addr, "/metrics", &ca, Some((&cert, &key)), None).await;
    assert_eq!(allowed.expect("an allowed name").status, 200);
    server.stop().await;

    // Cipher suites, curves and versions: TLS 1.2 with the one ECDSA suite works (the test
    // certificates are ECDSA P-256); with only an RSA suite nothing is left to agree on.
    let ecdsa = format!(
        "{tls}  max_version: TLS12\n  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]\n  curve_preferences: [CurveP256]\n"
    );
    let server = server_with(&pki, &ecdsa).await;
    let reply = https_get(server.addr, "/metrics", &ca, None, None).await;
    assert_eq!(reply.expect("an ECDSA suite").status, 200);
    server.stop().await;
    let server = server_with(&pki, &ecdsa.replace("ECDHE_ECDSA", "ECDHE_RSA")).await;
    let error = https_get(server.addr, "/metrics", &ca, None, None)
        .await
        .expect_err("no suite in common");
    assert!(error.contains("TLS"), "{error}");
    server.stop().await;

    // rate_limit: two requests, then 429 until the next token an hour later.
    let server = server_with(
        &pki,
        &format!("{tls}rate_limit:\n  burst: 2\n  interval: 1h\n"),
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let reply = https_get(server.addr, "/metrics", &ca, None, None).await;
        statuses.push(reply.expect("answered").status.as_u16());
    }
    assert_eq!(statuses, [200, 200, 429]);
    server.stop().await;

    // insecure_skip_verify: the pull server scrapes a target whose CA it was not given.
    let server = server_with(&pki, tls).await;
    let url = format!("https://127.0.0.1:{}/metrics", server.addr.port());
    let config = Config::new()
        .scrape_interval(Duration::from_millis(300))
        .target(Target::new(&url).job("unverified").tls_config(TlsConfig {
            insecure_skip_verify: true,
            ..TlsConfig::default()
        }))
        .target(Target::new(&url).job("system_roots"));
    let pull = PullServer::start(config, "127.0.0.1:0")
        .await
        .expect("starts");
    pull.wait_for_scrapes(1).await;
    let up: Vec<(String, Option<bool>)> = pull
        .targets()
        .into_iter()
        .map(|t| (t.target.job, t.up))
        .collect();
    assert_eq!(
        up,
        [
            ("unverified".to_owned(), Some(true)),
            ("system_roots".to_owned(), Some(false))
        ]
    );
    pull.shutdown().await;
    server.stop().await;
}
