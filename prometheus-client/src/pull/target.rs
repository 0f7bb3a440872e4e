//! The scrape loop of one target: scrape every interval, store all or nothing, record `up`
//! and the other synthetic series, and mark series that disappear as stale.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use tokio::sync::watch;

use super::config::Target;
use super::exemplars::ExemplarStore;
use super::instruments::Instruments;
use super::scrape::{scrape, target_labels, ScrapeError, Scraped};
use super::scrape_cache::ScrapeCache;
use super::series_set::SeriesSet;
use super::storage::{
    series_labels, AppendError, AppendStats, LabelsMap, SeriesLabels, Storage, STALE_NAN,
};

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

/// What a target's loop needs besides the target.
pub(crate) struct LoopContext {
    pub(crate) interval: Duration,
    pub(crate) timeout: Duration,
    pub(crate) retention: Duration,
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) instruments: Instruments,
    pub(crate) client: super::connect::Client,
    pub(crate) exemplars: Arc<ExemplarStore>,
    /// Where stored samples are forwarded.
    #[cfg(feature = "remote-write")]
    pub(crate) forwarder: super::remote_write::Forwarder,
}

impl LoopContext {
    /// Stores samples, and queues the float samples stored for remote write.
    fn append(
        &self,
        samples: &[(SeriesLabels, i64, f64)],
        histograms: &[(SeriesLabels, i64, super::storage::Histogram)],
    ) -> Result<AppendStats, AppendError> {
        #[cfg(feature = "remote-write")]
        if !self.forwarder.is_empty() {
            let mut stored = Vec::new();
            let result = self.storage.append_observed(samples, histograms, &mut |i| {
                stored.push(samples[i].clone());
            });
            self.forwarder.forward(stored);
            return result;
        }
        self.storage.append_all(samples, histograms)
    }
}

/// The series a target has in the store, and when each was last scraped (ms), for its
/// `series_limit`: entries older than the retention are gone from the store too.
#[derive(Default)]
struct OwnSeries {
    last_seen: LabelsMap<i64>,
}

impl OwnSeries {
    /// Whether `current` fits in `limit` (0: no limit) with the series still retained.
    fn admits(&mut self, current: &SeriesSet, limit: usize, cutoff: i64) -> bool {
        if limit == 0 {
            return true;
        }
        self.last_seen.retain(|_, seen| *seen >= cutoff);
        let new = current
            .iter()
            .filter(|l| !self.last_seen.contains_key(*l))
            .count();
        self.last_seen.len() + new <= limit
    }

    fn record(&mut self, current: &SeriesSet, limit: usize, t: i64) {
        if limit > 0 {
            for labels in current.iter() {
                self.last_seen.insert(Arc::clone(labels), t);
            }
        }
    }
}

/// Runs the loop until `stop` turns true.
pub(crate) async fn run(
    target: Target,
    context: LoopContext,
    status: Arc<Mutex<TargetStatus>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(context.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut state = LoopState::default();
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        scrape_once(&target, &context, &status, &mut state).await;
    }
}

/// What a target's loop carries from one scrape to the next.
#[derive(Default)]
struct LoopState {
    /// The series of the last scrape: those missing from the next get stale markers.
    previous: SeriesSet,
    own: OwnSeries,
    /// The target's series by their text (shared with the parse, which runs on a blocking
    /// thread and may outlive a scrape that timed out).
    cache: Arc<Mutex<ScrapeCache>>,
    /// The time the scrapes are aligned to (ms), once the first has run.
    aligned: Option<i64>,
}

/// How far a scrape's time may be from its slot for it to be stamped with the slot's time,
/// as Prometheus' `ScrapeTimestampTolerance`.
const ALIGN_TOLERANCE_MS: i64 = 2;

impl LoopState {
    /// The time to stamp a scrape started at `now` with: the interval's slot when `now` is
    /// within [`ALIGN_TOLERANCE_MS`] after it, as Prometheus does (for intervals over 200 ms),
    /// so a steady target's timestamps are evenly spaced and compress to a bit each.
    fn scrape_time(&mut self, now: i64, interval: Duration) -> i64 {
        let interval = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
        if interval <= 100 * ALIGN_TOLERANCE_MS {
            return now;
        }
        let slot = match self.aligned {
            Some(aligned) if now >= aligned => now - (now - aligned) % interval,
            _ => now,
        };
        self.aligned = Some(slot);
        if now - slot <= ALIGN_TOLERANCE_MS {
            slot
        } else {
            now
        }
    }
}

/// One scrape's outcome, before the synthetic series are written.
struct Outcome {
    error: Option<ScrapeError>,
    samples_seen: usize,
    series_added: usize,
    stats: AppendStats,
    current: SeriesSet,
}

async fn scrape_once(
    target: &Target,
    context: &LoopContext,
    status: &Mutex<TargetStatus>,
    state: &mut LoopState,
) {
    let started = Instant::now();
    let t = state.scrape_time(now_ms(), context.interval);
    let storage = context.storage.as_ref();
    let instruments = &context.instruments;
    let result = scrape(target, (&context.client, &state.cache), context.timeout, t).await;
    let outcome = match result {
        Ok(scraped) => store(target, context, scraped, state, t),
        Err(refused) => Outcome {
            error: Some(refused.error),
            samples_seen: refused.samples_seen,
            series_added: 0,
            stats: AppendStats::default(),
            current: SeriesSet::default(),
        },
    };
    // Nothing of a failed scrape is stored; every series it had before goes stale.
    let stale = f64::from_bits(STALE_NAN);
    let mut markers: Vec<(SeriesLabels, i64, f64)> = state
        .previous
        .missing_from(&outcome.current)
        .map(|labels| (Arc::clone(labels), t, stale))
        .collect();
    markers.sort_by(|a, b| a.0.cmp(&b.0));
    // Markers only touch series the store has: they never meet the series limit.
    let _ = context.append(&markers, &[]);
    state.previous = outcome.current;
    let up = if outcome.error.is_none() { 1.0 } else { 0.0 };
    let duration = started.elapsed();
    let own = target_labels(target);
    let synthetic = |name: &str, v: f64| {
        let mut labels = own.clone();
        labels.push(("__name__".to_owned(), name.to_owned()));
        (series_labels(labels), t, v)
    };
    // A full store refuses these too: then `up` is missing, which alerts as a down target.
    let _ = context.append(
        &[
            synthetic("up", up),
            synthetic("scrape_duration_seconds", duration.as_secs_f64()),
            synthetic("scrape_samples_scraped", outcome.samples_seen as f64),
            synthetic(
                "scrape_samples_post_metric_relabeling",
                outcome.samples_seen as f64,
            ),
            synthetic("scrape_series_added", outcome.series_added as f64),
        ],
        &[],
    );
    instruments.scraped(&target.job, duration, outcome.error.as_ref());
    instruments.series(storage.series_count());
    let mut s = status.lock();
    s.up = Some(outcome.error.is_none());
    s.last_error = outcome.error.map(|e| e.to_string()).unwrap_or_default();
    s.last_scrape = t;
    s.last_duration = duration;
    s.scrapes += 1;
    s.out_of_order += outcome.stats.out_of_order as u64;
    s.duplicates += outcome.stats.duplicates as u64;
}

/// Stores a scrape's samples, all or nothing, within the target's and the store's series
/// limits.
fn store(
    target: &Target,
    context: &LoopContext,
    scraped: Scraped,
    state: &mut LoopState,
    t: i64,
) -> Outcome {
    let instruments = &context.instruments;
    let retention_ms = i64::try_from(context.retention.as_millis()).unwrap_or(i64::MAX);
    let current: SeriesSet = scraped
        .samples
        .iter()
        .map(|(l, _, _)| l)
        .chain(scraped.histograms.iter().map(|(l, _, _)| l))
        .collect();
    let seen = scraped.samples.len() + scraped.histograms.len() + scraped.too_far_ahead;
    let refused = |error| Outcome {
        error: Some(error),
        samples_seen: seen,
        series_added: 0,
        stats: AppendStats::default(),
        current: SeriesSet::default(),
    };
    let limit = target.limits.series_limit;
    if !state
        .own
        .admits(&current, limit, t.saturating_sub(retention_ms))
    {
        return refused(ScrapeError::SeriesLimit(limit));
    }
    let stats = match context.append(&scraped.samples, &scraped.histograms) {
        Ok(stats) => stats,
        Err(AppendError::SeriesLimit { limit }) => return refused(ScrapeError::StoreFull(limit)),
    };
    state.own.record(&current, limit, t);
    instruments.appended(stats.appended);
    instruments.refused("out_of_order", stats.out_of_order);
    instruments.refused("duplicate", stats.duplicates);
    instruments.refused("too_far_ahead", scraped.too_far_ahead);
    let exemplar_stats = context.exemplars.append(scraped.exemplars);
    instruments.exemplars(exemplar_stats, context.exemplars.len());
    Outcome {
        error: None,
        samples_seen: seen,
        series_added: current.missing_from(&state.previous).count(),
        stats,
        current,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrape_times_align_to_their_slots_within_the_tolerance() {
        let mut state = LoopState::default();
        let second = Duration::from_secs(1);
        let stamped: Vec<i64> = [10_000, 11_001, 12_002, 13_003, 14_000, 16_001, 16_500]
            .into_iter()
            .map(|now| state.scrape_time(now, second))
            .collect();
        // 3 ms late stays as it is; a skipped slot is skipped; a time behind starts anew.
        assert_eq!(
            stamped,
            [10_000, 11_000, 12_000, 13_003, 14_000, 16_000, 16_500]
        );
        assert_eq!(state.scrape_time(9_000, second), 9_000);
        assert_eq!(state.scrape_time(10_001, second), 10_000);
        let fast = Duration::from_millis(100);
        assert_eq!(LoopState::default().scrape_time(1_001, fast), 1_001);
    }
}
