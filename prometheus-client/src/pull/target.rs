//! The scrape loop of one target: scrape every interval, store all or nothing, record `up`
//! and the other synthetic series, and mark series that disappear as stale.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use tokio::sync::watch;

use super::config::Target;
use super::scrape::{scrape, target_labels};
use super::storage::{series_labels, AppendStats, SeriesLabels, Storage, STALE_NAN};

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// What the last scrape of a target did.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetStatus {
    /// The target.
    pub target: Target,
    /// `None` before the first scrape, then whether the last one succeeded.
    pub up: Option<bool>,
    /// The last scrape's error, or "".
    pub last_error: String,
    /// When the last scrape started (ms since the epoch).
    pub last_scrape: i64,
    /// How long it took.
    pub last_duration: Duration,
    /// How many scrapes finished.
    pub scrapes: u64,
    /// Samples the store refused because their series had a later one, since the start.
    pub out_of_order: u64,
    /// Samples the store refused because their series had another value at that time.
    pub duplicates: u64,
}

/// Runs the loop until `stop` turns true.
pub(crate) async fn run(
    target: Target,
    interval: Duration,
    timeout: Duration,
    storage: Arc<dyn Storage>,
    status: Arc<Mutex<TargetStatus>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut previous: HashSet<SeriesLabels> = HashSet::new();
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        scrape_once(&target, timeout, storage.as_ref(), &status, &mut previous).await;
    }
}

async fn scrape_once(
    target: &Target,
    timeout: Duration,
    storage: &dyn Storage,
    status: &Mutex<TargetStatus>,
    previous: &mut HashSet<SeriesLabels>,
) {
    let started = Instant::now();
    let t = now_ms();
    let result = scrape(target, timeout, t).await;
    let duration = started.elapsed();
    let (up, scraped_count, stats, error, current) = match result {
        Ok(scraped) => {
            let stats = storage.append(&scraped.samples);
            let current: HashSet<SeriesLabels> = scraped
                .samples
                .iter()
                .map(|(l, _, _)| Arc::clone(l))
                .collect();
            (1.0, scraped.samples.len(), stats, String::new(), current)
        }
        // Nothing of a failed scrape is stored; every series it had before goes stale.
        Err(e) => (
            0.0,
            0,
            AppendStats::default(),
            e.to_string(),
            HashSet::new(),
        ),
    };
    let stale = f64::from_bits(STALE_NAN);
    let mut markers: Vec<(SeriesLabels, i64, f64)> = previous
        .difference(&current)
        .map(|labels| (Arc::clone(labels), t, stale))
        .collect();
    markers.sort_by(|a, b| a.0.cmp(&b.0));
    storage.append(&markers);
    *previous = current;
    let own = target_labels(target);
    let synthetic = |name: &str, v: f64| {
        let mut labels = own.clone();
        labels.push(("__name__".to_owned(), name.to_owned()));
        (series_labels(labels), t, v)
    };
    storage.append(&[
        synthetic("up", up),
        synthetic("scrape_duration_seconds", duration.as_secs_f64()),
        synthetic("scrape_samples_scraped", scraped_count as f64),
        synthetic(
            "scrape_samples_post_metric_relabeling",
            scraped_count as f64,
        ),
        synthetic("scrape_series_added", stats.series_added as f64),
    ]);
    let mut s = status.lock();
    s.up = Some(up == 1.0);
    s.last_error = error;
    s.last_scrape = t;
    s.last_duration = duration;
    s.scrapes += 1;
    s.out_of_order += stats.out_of_order as u64;
    s.duplicates += stats.duplicates as u64;
}
