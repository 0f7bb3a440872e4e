//! The pull server's own metrics, kept with this library and served on the API's `/metrics`:
//! scrapes and their failures by reason, scrape duration, samples appended and refused,
//! series held, queries by outcome and their duration, exemplars stored.

use std::time::Duration;

use super::exemplars::ExemplarStats;
use super::query::QueryError;
use super::scrape::ScrapeError;
use crate::{Buckets, Counter, Family, Gauge, Histogram, RegisterError, Registry};

/// The pull server's instruments, registered in its own registry.
#[derive(Clone)]
pub(crate) struct Instruments {
    pub(crate) registry: Registry,
    scrapes: Family<[String; 1], Counter>,
    scrape_failures: Family<[String; 2], Counter>,
    scrape_duration: Histogram,
    samples_appended: Counter,
    samples_refused: Family<[String; 1], Counter>,
    series: Gauge<i64>,
    queries: Family<[String; 1], Counter>,
    query_duration: Histogram,
    exemplars_appended: Counter,
    exemplars_out_of_order: Counter,
    exemplars: Gauge<i64>,
    #[cfg(feature = "remote-write")]
    remote_write: RemoteWriteFamilies,
}

/// The remote write queues' metrics, by receiver URL.
#[cfg(feature = "remote-write")]
#[derive(Clone)]
struct RemoteWriteFamilies {
    sent: Family<[String; 1], Counter>,
    failed: Family<[String; 1], Counter>,
    retried: Family<[String; 1], Counter>,
    dropped: Family<[String; 1], Counter>,
    pending: Family<[String; 1], Gauge<i64>>,
}

#[cfg(feature = "remote-write")]
impl RemoteWriteFamilies {
    fn new(r: &Registry) -> Result<Self, RegisterError> {
        Ok(RemoteWriteFamilies {
            sent: r.register(
                "remote_write_samples_sent",
                "Samples a remote write receiver took, by receiver.",
                Family::new(["url"]),
            )?,
            failed: r.register(
                "remote_write_samples_failed",
                "Samples in batches a receiver refused for good (4xx), by receiver.",
                Family::new(["url"]),
            )?,
            retried: r.register(
                "remote_write_samples_retried",
                "Samples in batches sent again after a 5xx, network error or timeout, by receiver.",
                Family::new(["url"]),
            )?,
            dropped: r.register(
                "remote_write_samples_dropped",
                "Samples dropped because the queue was full or the server stopped, by receiver.",
                Family::new(["url"]),
            )?,
            pending: r.register(
                "remote_write_samples_pending",
                "Samples waiting to be sent, or being sent, by receiver.",
                Family::new(["url"]),
            )?,
        })
    }
}

impl Instruments {
    pub(crate) fn new() -> Result<Self, RegisterError> {
        let registry = Registry::new();
        let r = registry.sub_registry_with_prefix("pull")?;
        let seconds = |start, count| {
            Histogram::new(Buckets::exponential(start, 4.0, count).unwrap_or_default())
        };
        Ok(Instruments {
            scrapes: r.register("scrapes", "Scrapes finished, by job.", Family::new(["job"]))?,
            scrape_failures: r.register(
                "scrape_failures",
                "Scrapes that stored nothing, by job and reason.",
                Family::new(["job", "reason"]),
            )?,
            scrape_duration: r.register_with_unit(
                "scrape_duration",
                "Time from a scrape's start to its samples stored.",
                "seconds",
                seconds(0.001, 9),
            )?,
            samples_appended: r.register(
                "samples_appended",
                "Scraped samples stored.",
                Counter::new(),
            )?,
            samples_refused: r.register(
                "samples_refused",
                "Scraped samples not stored, by reason (out_of_order, duplicate, too_far_ahead).",
                Family::new(["reason"]),
            )?,
            series: r.register("series", "Series in the store.", Gauge::<i64>::default())?,
            queries: r.register(
                "queries",
                "Queries answered, by outcome (success, or the error type Prometheus names).",
                Family::new(["outcome"]),
            )?,
            query_duration: r.register_with_unit(
                "query_duration",
                "Time to answer a query, waiting for a slot included.",
                "seconds",
                seconds(0.0001, 10),
            )?,
            exemplars_appended: r.register(
                "exemplars_appended",
                "Scraped exemplars stored (repeats of a series' last one are not).",
                Counter::new(),
            )?,
            exemplars_out_of_order: r.register(
                "exemplars_out_of_order",
                "Scraped exemplars older than their series' last one, not stored.",
                Counter::new(),
            )?,
            exemplars: r.register(
                "exemplars",
                "Exemplars kept (at most max_exemplars).",
                Gauge::<i64>::default(),
            )?,
            #[cfg(feature = "remote-write")]
            remote_write: RemoteWriteFamilies::new(&r)?,
            registry,
        })
    }

    /// The queue metrics of the remote write receiver `url`.
    #[cfg(feature = "remote-write")]
    pub(crate) fn remote_write(&self, url: &str) -> super::remote_write::QueueMetrics {
        let f = &self.remote_write;
        let url = [url.to_owned()];
        super::remote_write::QueueMetrics {
            sent: f.sent.get_or_create(&url),
            failed: f.failed.get_or_create(&url),
            retried: f.retried.get_or_create(&url),
            dropped: f.dropped.get_or_create(&url),
            pending: f.pending.get_or_create(&url),
        }
    }

    pub(crate) fn scraped(&self, job: &str, duration: Duration, error: Option<&ScrapeError>) {
        self.scrapes.with(&[job], |c| c.inc());
        self.scrape_duration.observe(duration.as_secs_f64());
        if let Some(e) = error {
            self.scrape_failures.with(&[job, e.reason()], |c| c.inc());
        }
    }

    pub(crate) fn appended(&self, samples: usize) {
        self.samples_appended.inc_by(samples as u64);
    }

    pub(crate) fn refused(&self, reason: &str, samples: usize) {
        if samples > 0 {
            self.samples_refused
                .with(&[reason], |c| c.inc_by(samples as u64));
        }
    }

    pub(crate) fn series(&self, count: usize) {
        self.series.set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    pub(crate) fn exemplars(&self, stats: ExemplarStats, kept: usize) {
        self.exemplars_appended.inc_by(stats.appended as u64);
        self.exemplars_out_of_order
            .inc_by(stats.out_of_order as u64);
        self.exemplars.set(i64::try_from(kept).unwrap_or(i64::MAX));
    }

    pub(crate) fn queried(&self, duration: Duration, error: Option<&QueryError>) {
        let outcome = error.map_or("success", QueryError::error_type);
        self.queries.with(&[outcome], |c| c.inc());
        self.query_duration.observe(duration.as_secs_f64());
    }
}
