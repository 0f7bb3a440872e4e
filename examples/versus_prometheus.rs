//! Ingest side by side: Debian's Prometheus and this crate's pull server scrape the same
//! target every second, at the same time, and each is measured from outside, by the kernel's
//! accounting of its process: CPU seconds per million samples stored, and resident bytes per
//! sample (the growth of its resident memory over the run, over the samples stored in it).
//!
//! ```text
//! cargo run --release --example versus_prometheus -- [--series 10000,50000] [--seconds 120]
//! ```
//!
//! The target serves `load_series_total{i="…"}` counters; counter `i` rises by one every
//! `1 + i % 10` seconds, as a service's counters rise at their own paces. Both servers keep an
//! hour, so nothing is dropped during the run. Needs `prometheus` on the `PATH`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Duration;

use prometheus_client::http::Server;
use prometheus_client::pull::{Config, PullServer, Target};
use prometheus_client::{Counter, Family, Registry};

/// The kernel counts CPU time in ticks of 1/100 s for user space (`USER_HZ`).
const TICKS_PER_SECOND: f64 = 100.0;
/// Time to start, scrape a few times and grow the first chunks before measuring.
const WARM_UP: Duration = Duration::from_secs(15);

fn usage(problem: &str) -> ExitCode {
    eprintln!("{problem}\nusage: versus_prometheus [--series N[,N...]] [--seconds S]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, target, listen] = args.as_slice() {
        if flag == "--pull-child" {
            return pull_child(target, listen);
        }
    }
    let mut series = vec![10_000, 50_000];
    let mut seconds = 120;
    let mut flags = args.iter();
    while let Some(flag) = flags.next() {
        let Some(value) = flags.next() else {
            return usage(&format!("{flag} needs a value"));
        };
        match flag.as_str() {
            "--series" => match value.split(',').map(str::parse).collect() {
                Ok(list) => series = list,
                Err(_) => return usage(&format!("--series: not numbers: {value:?}")),
            },
            "--seconds" => match value.parse() {
                Ok(s) if s >= 10 => seconds = s,
                _ => return usage(&format!("--seconds: 10 or more, not {value:?}")),
            },
            other => return usage(&format!("unknown flag {other}")),
        }
    }
    println!(
        "| series | server | samples | CPU s | CPU s / M samples | RSS growth | bytes / sample |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|");
    for n in series {
        if let Err(e) = compare(n, seconds) {
            eprintln!("{n} series: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

type Error = Box<dyn std::error::Error>;

/// Runs both servers against one target of `n` series for `seconds` after the warm-up.
fn compare(n: usize, seconds: u64) -> Result<(), Error> {
    let runtime = tokio::runtime::Runtime::new()?;
    let target = runtime.block_on(serve_target(n))?;
    let url = format!("http://{target}/metrics");
    let dir = std::env::temp_dir().join(format!("versus-prometheus-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut children = Children(Vec::new());
    let prometheus_addr = free_port()?;
    children
        .0
        .push(start_prometheus(&dir, &url, prometheus_addr)?);
    let ours_addr = free_port()?;
    let exe = std::env::current_exe()?;
    children.0.push(
        Command::new(exe)
            .args(["--pull-child", &url, &ours_addr.to_string()])
            .stdout(Stdio::null())
            .spawn()?,
    );
    std::thread::sleep(WARM_UP);
    let servers = [("Prometheus 2.42", prometheus_addr), ("ours", ours_addr)];
    let before: Vec<Usage> = children
        .0
        .iter()
        .map(|c| usage_of(c.id()))
        .collect::<Result<_, _>>()?;
    std::thread::sleep(Duration::from_secs(seconds));
    let after: Vec<Usage> = children
        .0
        .iter()
        .map(|c| usage_of(c.id()))
        .collect::<Result<_, _>>()?;
    let stored = format!("sum(sum_over_time(scrape_samples_scraped[{seconds}s]))");
    for (i, (name, addr)) in servers.iter().enumerate() {
        let samples = query_scalar(*addr, &stored)?;
        let cpu = after[i].cpu_seconds - before[i].cpu_seconds;
        let growth = after[i].rss_bytes as f64 - before[i].rss_bytes as f64;
        println!(
            "| {n} | {name} | {samples:.0} | {cpu:.2} | {:.2} | {:.1} MiB | {:.2} |",
            cpu / samples * 1e6,
            growth / (1 << 20) as f64,
            growth / samples,
        );
    }
    drop(children);
    let _ = std::fs::remove_dir_all(&dir);
    drop(runtime);
    Ok(())
}

/// Child processes, killed and reaped when dropped.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Serves `n` counters that rise at their own paces, from a task of `runtime`.
async fn serve_target(n: usize) -> Result<SocketAddr, Error> {
    let registry = Registry::new();
    let family = registry.register(
        "load_series",
        "Counters rising at their own paces.",
        Family::<[String; 1], Counter>::new(["i"]),
    )?;
    let counters: Vec<Counter> = (0..n)
        .map(|i| family.get_or_create(&[i.to_string()]))
        .collect();
    let server = Server::builder(registry).bind("127.0.0.1:0").await?;
    let addr = server.local_addr()?;
    tokio::spawn(server.serve());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        for second in 0u64.. {
            tick.tick().await;
            for (i, counter) in counters.iter().enumerate() {
                if second % (1 + i as u64 % 10) == 0 {
                    counter.inc();
                }
            }
        }
    });
    Ok(addr)
}

fn free_port() -> std::io::Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")?.local_addr()
}

fn start_prometheus(dir: &Path, url: &str, listen: SocketAddr) -> Result<Child, Error> {
    let target = url
        .trim_start_matches("http://")
        .trim_end_matches("/metrics");
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: load\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )?;
    let data: PathBuf = dir.join("data");
    let log = std::fs::File::create(dir.join("prometheus.log"))?;
    Ok(Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!("--web.listen-address={listen}"))
        .arg("--storage.tsdb.retention.time=1h")
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .map_err(|e| format!("starting prometheus (is it on the PATH?): {e}"))?)
}

/// This crate's pull server, alone in its process so the kernel accounts for it alone.
fn pull_child(target: &str, listen: &str) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("no runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let config = Config::new()
            .scrape_interval(Duration::from_secs(1))
            .scrape_timeout(Duration::from_secs(1))
            .retention(Duration::from_secs(3600))
            .target(Target::new(target).job("load"));
        match PullServer::start(config, listen).await {
            Ok(_server) => std::future::pending::<ExitCode>().await,
            Err(e) => {
                eprintln!("pull server: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// A process' CPU time so far and its resident memory now.
struct Usage {
    cpu_seconds: f64,
    rss_bytes: u64,
}

fn usage_of(pid: u32) -> Result<Usage, Error> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command (which may hold spaces) in parentheses; utime and stime are
    // the 14th and 15th of all.
    let after_comm = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    let ticks = |i: usize| -> Result<f64, Error> {
        Ok(fields
            .get(i)
            .ok_or("short /proc/PID/stat")?
            .parse::<f64>()?)
    };
    let cpu_seconds = (ticks(11)? + ticks(12)?) / TICKS_PER_SECOND;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let rss_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or("no VmRSS in /proc/PID/status")?;
    Ok(Usage {
        cpu_seconds,
        rss_bytes: rss_kib * 1024,
    })
}

/// The value of a query that answers one number, from Prometheus' HTTP API at `addr`.
fn query_scalar(addr: SocketAddr, query: &str) -> Result<f64, Error> {
    let encoded: String = query
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "GET /api/v1/query?query={encoded} HTTP/1.0\r\nHost: {addr}\r\n\r\n"
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    // `"value":[<time>,"<number>"]`: the number is the last quoted string.
    let value = answer
        .split("\"value\":[")
        .nth(1)
        .and_then(|v| v.split('"').nth(1))
        .ok_or_else(|| format!("no value in the answer to {query}: {answer}"))?;
    Ok(value.parse()?)
}
