//! The pull server's PromQL engine against Debian's Prometheus 2.42 on the same data, in one
//! run: `cargo bench --bench promql`.
//!
//! 10,000 series of one hour at 15 s (5,000 counters, 5,000 histogram buckets) are written as
//! an OpenMetrics file with timestamps, turned into Prometheus blocks by `promtool tsdb
//! create-blocks-from openmetrics`, and loaded into our store through its storage interface.
//! Both servers then answer the same queries over HTTP; each query runs 7 times after a
//! warm-up, and the table gives the median latency and the peak memory a query added (the
//! process's high-water mark, reset before each query through `/proc/<pid>/clear_refs`), ours
//! and Prometheus', with ours / Prometheus.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use prometheus_client::encoding::Format;
use prometheus_client::parse::{Entry, Parser};
use prometheus_client::pull::{series_labels, Config, MemoryStorage, PullServer, Storage};
use tests::http::get;
use tests::prometheus::url_encode;

const PROMETHEUS: &str = "/usr/bin/prometheus";
const PROMTOOL: &str = "/usr/bin/promtool";
const STEP_S: i64 = 15;
const POINTS: i64 = 240;
const RUNS: usize = 7;

/// The data: `demo_requests_total` for 100 instances × 50 paths, and
/// `demo_latency_seconds_bucket` for 500 instances × 10 buckets.
fn write_data(path: &Path, start_s: i64) -> std::io::Result<usize> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut series = 0;
    writeln!(out, "# TYPE demo_requests counter")?;
    for instance in 0..100 {
        for p in 0..50 {
            series += 1;
            let rate = 1 + (instance * 7 + p) % 13;
            for i in 0..POINTS {
                writeln!(
                    out,
                    "demo_requests_total{{instance=\"i{instance}\",path=\"/p{p}\"}} {} {}",
                    i * rate * STEP_S,
                    start_s + i * STEP_S
                )?;
            }
        }
    }
    writeln!(out, "# TYPE demo_latency_seconds histogram")?;
    let bounds = [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "+Inf",
    ];
    // A histogram's buckets at one time are one point: written together, in time order.
    for instance in 0..500 {
        series += bounds.len();
        for i in 0..POINTS {
            for (b, le) in bounds.iter().enumerate() {
                let count = i * (b as i64 + 1) * (1 + instance % 5);
                writeln!(
                    out,
                    "demo_latency_seconds_bucket{{instance=\"i{instance}\",le=\"{le}\"}} {count} {}",
                    start_s + i * STEP_S
                )?;
            }
        }
    }
    writeln!(out, "# EOF")?;
    out.flush()?;
    Ok(series)
}

/// Loads the OpenMetrics file into `storage`, series by series, through `append`.
fn load(storage: &MemoryStorage, path: &Path) -> usize {
    let body = std::fs::read(path).expect("data file");
    let mut batch = Vec::new();
    let mut samples = 0;
    for entry in Parser::new(&body, Format::OpenMetrics) {
        let Entry::Sample(sample) = entry.expect("the data parses") else {
            continue;
        };
        let mut labels = vec![("__name__".to_owned(), sample.name.to_owned())];
        labels.extend(
            sample
                .labels
                .iter()
                .map(|l| (l.name.to_owned(), l.value.into_owned())),
        );
        let t = sample.timestamp.and_then(|t| t.as_millis()).unwrap_or(0);
        batch.push((series_labels(labels), t, sample.value));
        if batch.len() == 100_000 {
            samples += batch.len();
            storage.append(&batch).expect("within the store's limits");
            batch.clear();
        }
    }
    samples += batch.len();
    storage.append(&batch).expect("within the store's limits");
    samples
}

struct Prometheus {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

/// The high-water mark of resident memory, in bytes, after resetting it to the current
/// resident size.
fn reset_peak(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Runs `path` against `addr` `RUNS` times after a warm-up: the median latency, the extra
/// peak memory (MiB) of the process `pid`, and the answer's size.
async fn measure(addr: SocketAddr, pid: u32, path: &str) -> (Duration, f64, usize) {
    let warm = get(addr, path, &[]).await;
    assert_eq!(warm.status, 200, "{path}: {}", warm.text());
    let before = status_kib(pid, "VmRSS:");
    reset_peak(pid);
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let reply = get(addr, path, &[]).await;
        times.push(started.elapsed());
        assert_eq!(reply.status, 200);
    }
    let peak = status_kib(pid, "VmHWM:").saturating_sub(before);
    times.sort();
    (times[RUNS / 2], peak as f64 / 1024.0, warm.body.len())
}

fn main() {
    if !Path::new(PROMETHEUS).exists() || !Path::new(PROMTOOL).exists() {
        eprintln!("skipped: Debian's prometheus package (prometheus, promtool) is not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("promql-bench-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("data")).expect("temporary dir");
    let now_s = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    // An hour ending a few minutes ago, aligned to the step.
    let end_s = (now_s - 300) / STEP_S * STEP_S;
    let start_s = end_s - (POINTS - 1) * STEP_S;
    let file = dir.join("data.om.txt");
    let series = write_data(&file, start_s).expect("data written");
    let blocks = Command::new(PROMTOOL)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&file)
        .arg(dir.join("data"))
        .stdout(Stdio::null())
        .status()
        .expect("promtool runs");
    assert!(blocks.success(), "promtool could not create the blocks");

    let prometheus_addr = free_addr();
    std::fs::write(
        dir.join("prometheus.yml"),
        "global:\n  scrape_interval: 1h\n",
    )
    .expect("config");
    let child = Command::new(PROMETHEUS)
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address={prometheus_addr}"))
        .arg("--log.level=error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus starts");
    let prometheus = Prometheus {
        child,
        addr: prometheus_addr,
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let storage = Arc::new(MemoryStorage::with_max_series(1_000_000));
        let loaded = load(&storage, &file);
        let ours = PullServer::start_with_storage(Config::new(), "127.0.0.1:0", storage)
            .await
            .expect("starts");
        for _ in 0..600 {
            if get(prometheus.addr, "/-/ready", &[]).await.status == 200 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let t = end_s;
        let instant = |q: &str| format!("/api/v1/query?query={}&time={t}", url_encode(q));
        let range = |q: &str| {
            format!(
                "/api/v1/query_range?query={}&start={}&end={t}&step=15",
                url_encode(q),
                start_s + 300
            )
        };
        let queries = [
            ("rate over all series", instant("rate(demo_requests_total[5m])")),
            ("sum by", instant("sum by (path) (rate(demo_requests_total[5m]))")),
            (
                "histogram_quantile",
                instant("histogram_quantile(0.9, sum by (le) (rate(demo_latency_seconds_bucket[5m])))"),
            ),
            ("topk", instant("topk(10, rate(demo_requests_total[5m]))")),
            ("range query, 1 h at 15 s", range("sum by (path) (rate(demo_requests_total[5m]))")),
        ];
        let our_pid = std::process::id();
        let prometheus_pid = prometheus.child.id();
        let mut table = String::new();
        let _ = writeln!(
            table,
            "{series} series, {loaded} samples; median of {RUNS} runs over HTTP, extra peak memory\n"
        );
        let _ = writeln!(table, "| query | ours | Prometheus 2.42 | ratio | ours peak | Prometheus peak |");
        let _ = writeln!(table, "|---|---|---|---|---|---|");
        for (name, path) in &queries {
            let (our_time, our_peak, our_size) = measure(ours.api_addr(), our_pid, path).await;
            let (their_time, their_peak, their_size) =
                measure(prometheus.addr, prometheus_pid, path).await;
            let ratio = our_time.as_secs_f64() / their_time.as_secs_f64();
            let _ = writeln!(
                table,
                "| {name} | {:.1} ms | {:.1} ms | {ratio:.2} | {our_peak:.1} MiB | {their_peak:.1} MiB |",
                our_time.as_secs_f64() * 1000.0,
                their_time.as_secs_f64() * 1000.0,
            );
            eprintln!("{name}: answers of {our_size} and {their_size} bytes");
        }
        print!("{table}");
        ours.shutdown().await;
    });
    drop(prometheus);
    let _ = std::fs::remove_dir_all(&dir);
}
