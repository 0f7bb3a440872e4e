//! The process families give what `/proc`, `getrusage` and `getrlimit` give in the same test.
//! One test function, so the test harness runs no other test threads beside it.
#![cfg(target_os = "linux")]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{SystemTime, UNIX_EPOCH};

use nix::sys::resource::{getrlimit, getrusage, Resource, UsageWho};
use nix::sys::time::TimeValLike;
use prometheus_client::encoding::Format;
use prometheus_client::parse::{Entry, Parser};
use prometheus_client::{process, Registry};

fn scrape(registry: &Registry, format: Format) -> HashMap<String, f64> {
    let text = registry.encode_to_string(format).expect("encodes");
    let mut values = HashMap::new();
    for entry in Parser::new(text.as_bytes(), format) {
        if let Entry::Sample(sample) = entry.expect("our own output parses") {
            values.insert(sample.name.to_owned(), sample.value);
        }
    }
    values
}

fn cpu_seconds() -> f64 {
    let usage = getrusage(UsageWho::RUSAGE_SELF).expect("getrusage");
    (usage.user_time().num_microseconds() + usage.system_time().num_microseconds()) as f64 / 1e6
}

/// A field of `/proc/self/status` (`Threads`, `VmRSS`, ...), as a number.
fn status_field(name: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("status");
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("no {name} in /proc/self/status"));
    let number = line.split_whitespace().next().expect("a value");
    number.parse().expect("a number")
}

fn limit(resource: Resource) -> f64 {
    let (soft, _) = getrlimit(resource).expect("getrlimit");
    soft as f64
}

fn burn_cpu() -> u64 {
    let mut x = 0u64;
    for i in 0..30_000_000u64 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
    }
    std::hint::black_box(x)
}

#[test]
fn process_families_match_proc_and_getrusage() {
    let registry = Registry::new();
    process::register(&registry).expect("registers");
    burn_cpu();

    let before = cpu_seconds();
    let values = scrape(&registry, Format::Text);
    let after = cpu_seconds();
    let cpu = values["process_cpu_seconds_total"];
    // /proc counts user and system time in 10 ms ticks, each rounded down.
    assert!(
        cpu >= before - 0.021 && cpu <= after + 0.001,
        "cpu {cpu} outside getrusage's [{before}, {after}]"
    );
    assert!(cpu > 0.0);

    assert_eq!(values["process_threads"], status_field("Threads"));
    let resident = values["process_resident_memory_bytes"];
    let status_rss = status_field("VmRSS") * 1024.0;
    assert!(
        (resident - status_rss).abs() <= 1024.0 * 1024.0,
        "resident {resident} against VmRSS {status_rss}"
    );
    let max_rss = getrusage(UsageWho::RUSAGE_SELF)
        .expect("getrusage")
        .max_rss() as f64
        * 1024.0;
    assert!(
        resident <= max_rss,
        "resident {resident} above peak {max_rss}"
    );
    let virtual_bytes = values["process_virtual_memory_bytes"];
    assert!(
        (virtual_bytes - status_field("VmSize") * 1024.0).abs() <= 64.0 * 1024.0 * 1024.0,
        "virtual {virtual_bytes}"
    );

    assert_eq!(values["process_max_fds"], limit(Resource::RLIMIT_NOFILE));
    assert_eq!(
        values["process_virtual_memory_max_bytes"],
        limit(Resource::RLIMIT_AS)
    );

    let open_before = values["process_open_fds"];
    let listed = std::fs::read_dir("/proc/self/fd").expect("fd").count() as f64 - 1.0;
    assert_eq!(open_before, listed);
    let files: Vec<_> = (0..5)
        .map(|_| std::fs::File::open("/proc/self/stat").expect("open"))
        .collect();
    assert_eq!(
        scrape(&registry, Format::Text)["process_open_fds"],
        open_before + 5.0
    );
    drop(files);

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64();
    let started = values["process_start_time_seconds"];
    assert!(
        started <= now + 0.01 && started > now - 600.0,
        "start time {started}, now {now}"
    );

    // Loopback traffic is IP traffic of this network namespace.
    if let Some(&received) = values.get("process_network_receive_bytes_total") {
        let sent = values["process_network_transmit_bytes_total"];
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (mut server, _) = listener.accept().expect("accept");
        let payload = vec![7u8; 1 << 20];
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            server.read_to_end(&mut got).expect("read");
            got.len()
        });
        client.write_all(&payload).expect("write");
        drop(client);
        assert_eq!(reader.join().expect("reader"), payload.len());
        let later = scrape(&registry, Format::OpenMetrics);
        assert!(later["process_network_receive_bytes_total"] >= received + payload.len() as f64);
        assert!(later["process_network_transmit_bytes_total"] >= sent + payload.len() as f64);
    } else {
        eprintln!("no /proc/self/net/netstat here: the network families are not registered");
    }

    // OpenMetrics writes the same families, counters with `_total`, and no `_created`.
    let open_metrics = registry
        .encode_to_string(Format::OpenMetrics)
        .expect("encodes");
    assert!(open_metrics.contains(
        "# TYPE process_cpu_seconds counter\n\
         # HELP process_cpu_seconds Total user and system CPU time spent in seconds.\n\
         process_cpu_seconds_total "
    ));
    assert!(open_metrics.contains("# TYPE process_threads gauge\n"));
    assert!(!open_metrics.contains("_created"));

    // All or nothing: a clash with one name registers none of them.
    let other = Registry::new();
    other
        .register(
            "process_threads",
            "Taken.",
            prometheus_client::Gauge::<i64>::default(),
        )
        .expect("registers");
    assert!(process::register(&other).is_err());
    let left = other.encode_to_string(Format::Text).expect("encodes");
    assert!(!left.contains("process_cpu_seconds_total"), "{left}");
}
