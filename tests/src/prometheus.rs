//! A real Prometheus server (Debian's binary) for a test: started on 127.0.0.1 with a
//! temporary config and storage, queried through its HTTP API, and killed when dropped, also
//! when the test fails.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::external::tool;
use crate::http::get;

/// Debian's Prometheus server.
pub const PROMETHEUS: &str = "/usr/bin/prometheus";

/// A running Prometheus; killed and its files removed on drop.
pub struct Prometheus {
    /// Where its web API listens.
    pub addr: SocketAddr,
    child: Child,
    dir: PathBuf,
    args: Vec<String>,
}

/// One series of a query result: its labels and value.
pub type Series = (BTreeMap<String, String>, f64);

/// A port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Starts the binary on `addr` with the config and data of `dir`, logging to its log file.
fn spawn(dir: &std::path::Path, addr: SocketAddr, args: &[String]) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("prometheus.log"))
        .expect("log file");
    Command::new(PROMETHEUS)
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address={addr}"))
        .arg("--log.level=warn")
        .args(args)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("prometheus starts")
}

/// Percent-encodes a query parameter.
pub fn url_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Prometheus {
    /// Starts Prometheus with `scrape_configs` (YAML, indented as a list under
    /// `scrape_configs:`) and a 1 s scrape interval; `None` where it is not installed.
    pub async fn start(scrape_configs: &str) -> Option<Prometheus> {
        Self::start_with_args(scrape_configs, &[]).await
    }

    /// [`start`](Self::start), with more command-line flags (`--enable-feature=…`).
    pub async fn start_with_args(scrape_configs: &str, args: &[&str]) -> Option<Prometheus> {
        if !tool(PROMETHEUS, "a real Prometheus scrapes our endpoint") {
            return None;
        }
        let dir = std::env::temp_dir().join(format!(
            "prometheus-test-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(dir.join("data")).expect("temporary dir");
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n{scrape_configs}"
        );
        std::fs::write(dir.join("prometheus.yml"), config).expect("config written");
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port())
            .parse()
            .expect("address");
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let child = spawn(&dir, addr, &args);
        let prometheus = Prometheus {
            addr,
            child,
            dir,
            args,
        };
        prometheus.wait_ready().await;
        Some(prometheus)
    }

    async fn wait_ready(&self) {
        let addr = self.addr;
        self.wait_until("ready", || async {
            get(addr, "/-/ready", &[]).await.status == 200
        })
        .await;
    }

    /// Kills it, keeping its data for [`restart`](Self::restart).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again where it was stopped: same address, flags and data.
    pub async fn restart(&mut self) {
        self.child = spawn(&self.dir, self.addr, &self.args);
        self.wait_ready().await;
    }

    /// Polls `check` every 200 ms for up to 60 s; fails the test with Prometheus' log if it
    /// never holds.
    pub async fn wait_until<F, Fut>(&self, what: &str, check: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            let connected = tokio::net::TcpStream::connect(self.addr).await.is_ok();
            if connected && check().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("Prometheus never became {what}; its log:\n{}", self.log());
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
    }

    /// `GET path` on its API, as JSON.
    pub async fn api(&self, path: &str) -> Value {
        let reply = get(self.addr, path, &[]).await;
        serde_json::from_slice(&reply.body)
            .unwrap_or_else(|e| panic!("{path}: {e}: {}", reply.text()))
    }

    /// An instant query's result.
    pub async fn query(&self, promql: &str) -> Vec<Series> {
        let json = self
            .api(&format!("/api/v1/query?query={}", url_encode(promql)))
            .await;
        assert_eq!(json["status"], "success", "{promql}: {json}");
        json["data"]["result"]
            .as_array()
            .map(|results| {
                results
                    .iter()
                    .map(|r| {
                        let labels = r["metric"]
                            .as_object()
                            .map(|m| {
                                m.iter()
                                    .map(|(k, v)| {
                                        (k.clone(), v.as_str().unwrap_or_default().to_owned())
                                    })
                                    .collect()
                            })
                            .unwrap_or_default();
                        let value = r["value"][1].as_str().unwrap_or("NaN");
                        let value = match value {
                            "+Inf" => f64::INFINITY,
                            "-Inf" => f64::NEG_INFINITY,
                            v => v.parse().unwrap_or(f64::NAN),
                        };
                        (labels, value)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
