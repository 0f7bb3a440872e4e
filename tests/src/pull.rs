//! Pull-server test support: scripted fake targets, and reading the store back exactly.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use prometheus_client::pull::{is_stale, Matcher, SelectLimits, Storage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What a fake target does with one scrape.
#[derive(Clone, Debug)]
pub enum Answer {
    /// Writes these bytes (a whole HTTP response, or a broken one) and closes.
    Raw(Vec<u8>),
    /// Reads the request and never answers.
    Hang,
}

impl Answer {
    /// A `200` with this body and content type.
    pub fn ok(content_type: &str, body: &[u8]) -> Answer {
        Self::with_headers(200, &format!("Content-Type: {content_type}\r\n"), body)
    }

    /// A response with this status, extra header lines and body.
    pub fn with_headers(status: u16, headers: &str, body: &[u8]) -> Answer {
        let mut raw = format!(
            "HTTP/1.1 {status} X\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        raw.extend_from_slice(body);
        Answer::Raw(raw)
    }
}

/// A target on 127.0.0.1 answering the n-th scrape (from 0) with `script(n)`; stops on drop.
pub struct FakeTarget {
    /// Where it listens.
    pub addr: SocketAddr,
    /// How many scrapes it has seen.
    pub scrapes: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl FakeTarget {
    /// Starts it.
    pub async fn start(script: impl Fn(usize) -> Answer + Send + Sync + 'static) -> FakeTarget {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("address");
        let scrapes = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&scrapes);
        let script = Arc::new(script);
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                let answer = script(n);
                tokio::spawn(async move {
                    let mut request = [0u8; 4096];
                    let _ = stream.read(&mut request).await;
                    match answer {
                        Answer::Raw(bytes) => {
                            let _ = stream.write_all(&bytes).await;
                            let _ = stream.shutdown().await;
                        }
                        Answer::Hang => {
                            tokio::time::sleep(std::time::Duration::from_secs(3600)).await
                        }
                    }
                });
            }
        });
        FakeTarget {
            addr,
            scrapes,
            task,
        }
    }

    /// Its scrape URL.
    pub fn url(&self) -> String {
        format!("http://{}/metrics", self.addr)
    }
}

impl Drop for FakeTarget {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The newest sample of the one series with exactly these labels (`__name__` included).
pub fn latest(storage: &dyn Storage, labels: &[(&str, &str)]) -> Option<f64> {
    let matchers: Vec<Matcher> = labels
        .iter()
        .map(|(n, v)| Matcher::Equal(n.to_string(), v.to_string()))
        .collect();
    let series = storage
        .select(&matchers, 0, i64::MAX, SelectLimits::unlimited())
        .expect("no limits");
    let exact: Vec<_> = series
        .into_iter()
        .filter(|(l, _)| l.len() == labels.len())
        .collect();
    assert!(exact.len() <= 1, "more than one series for {labels:?}");
    exact
        .first()
        .and_then(|(_, samples)| samples.last().map(|s| s.1))
}

/// Every series of `job` other than the synthetic ones, with its newest value.
pub fn job_series(storage: &dyn Storage, job: &str) -> Vec<(Vec<(String, String)>, f64)> {
    const SYNTHETIC: [&str; 5] = [
        "up",
        "scrape_duration_seconds",
        "scrape_samples_scraped",
        "scrape_samples_post_metric_relabeling",
        "scrape_series_added",
    ];
    storage
        .select(
            &[Matcher::Equal("job".into(), job.into())],
            0,
            i64::MAX,
            SelectLimits::unlimited(),
        )
        .expect("no limits")
        .into_iter()
        .filter(|(l, _)| {
            !l.iter()
                .any(|(n, v)| n == "__name__" && SYNTHETIC.contains(&v.as_str()))
        })
        .filter_map(|(l, samples)| samples.last().map(|s| (l.to_vec(), s.1)))
        .collect()
}

/// Whether the newest sample is Prometheus' stale marker.
pub fn ends_stale(series: &[(Vec<(String, String)>, f64)]) -> bool {
    series.iter().all(|(_, v)| is_stale(*v))
}

/// A stored series' name, and its labels other than `__name__`, `job` and `instance`.
pub fn name_and_own_labels(labels: Vec<(String, String)>) -> (String, Vec<(String, String)>) {
    let name = labels
        .iter()
        .find(|(n, _)| n == "__name__")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let own = labels
        .into_iter()
        .filter(|(n, _)| !["__name__", "job", "instance"].contains(&n.as_str()))
        .collect();
    (name, own)
}
