//! A batch job that pushes its metrics to a Pushgateway when it ends, as a nightly backup
//! would: the time it finished, the rows it copied, how long each table took.
//!
//! ```text
//! prometheus-pushgateway --web.listen-address=127.0.0.1:9091 &
//! cargo run --example batch_push -- [--gateway http://127.0.0.1:9091]
//! curl -s http://127.0.0.1:9091/metrics | grep backup_
//! ```

use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use prometheus_client::push::Pusher;
use prometheus_client::{Counter, Family, Gauge, Histogram, Registry};

fn main() -> ExitCode {
    let gateway = match std::env::args().skip(1).collect::<Vec<_>>().as_slice() {
        [] => "http://127.0.0.1:9091".to_owned(),
        [flag, url] if flag == "--gateway" => url.clone(),
        _ => {
            eprintln!("usage: batch_push [--gateway URL]");
            return ExitCode::from(2);
        }
    };
    let registry = Registry::new();
    let registered = (|| {
        let rows = registry.register(
            "backup_rows",
            "Rows copied, by table.",
            Family::<[String; 1], Counter>::new(["table"]),
        )?;
        let duration = registry.register_with_unit(
            "backup_table_duration",
            "Time to copy one table.",
            "seconds",
            Histogram::default(),
        )?;
        let finished = registry.register_with_unit(
            "backup_last_success_timestamp",
            "When the backup last finished.",
            "seconds",
            Gauge::<f64>::default(),
        )?;
        Ok::<_, prometheus_client::RegisterError>((rows, duration, finished))
    })();
    let (rows, duration, finished) = match registered {
        Ok(metrics) => metrics,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };

    // The job's work.
    for (table, copied) in [("users", 1_200u64), ("orders", 48_000), ("audit/2026", 310)] {
        let start = Instant::now();
        std::thread::sleep(Duration::from_millis(copied / 1000));
        rows.with(&[table], |c| c.inc_by(copied));
        duration.observe(start.elapsed().as_secs_f64());
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    finished.set(now.as_secs_f64());

    let pusher = match Pusher::new(&gateway, "nightly_backup")
        .and_then(|p| p.grouping("database", "main/eu-1"))
    {
        Ok(pusher) => pusher.timeout(Duration::from_secs(10)),
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match pusher.push_blocking(&registry) {
        Ok(()) => {
            println!("pushed to {gateway}{}", pusher.group_path());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("push failed: {e}");
            ExitCode::FAILURE
        }
    }
}
