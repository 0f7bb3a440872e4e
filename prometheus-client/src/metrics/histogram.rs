//! Histogram: observations counted in cumulative buckets, with their sum and count.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use super::buckets::{BucketError, Buckets};
use super::created::CreatedAt;
use super::exemplar::{with_checked_labels, Exemplar, ExemplarError, ExemplarSlots};
use super::observations::Observations;
use super::{Metric, TypedMetric};
use crate::encoding::{ExtraLabel, Format, MetricEncoder, Value};
use crate::labels::LabelSet;
use crate::MetricType;

/// Counts observations (latencies, sizes) in buckets, with their sum and count.
///
/// `observe` does one atomic read-modify-write. Threads that collide on a histogram are
/// spread over per-thread stripes (allocated once, at the first collision) so they stop
/// waiting for each other. A
/// scrape always sees a consistent snapshot: `_count` equals the `+Inf` bucket and `_sum`
/// covers the same observations, even while other threads observe (see
/// `metrics/observations.rs` in the source).
///
/// A histogram with a negative bucket bound has no `_sum` and `_count` in OpenMetrics, which
/// forbids them there; text 0.0.4 has both, as client_golang writes them.
///
/// [`observe_with_exemplar`](Self::observe_with_exemplar) keeps the latest exemplar of the
/// bucket the value falls in, which OpenMetrics shows after that bucket's sample.
///
/// ```
/// use prometheus_client::{Histogram, Registry, encoding::Format};
///
/// let registry = Registry::new();
/// let latency = registry.register_with_unit(
///     "request_duration", "Time to serve a request.", "seconds",
///     Histogram::with_buckets(&[0.1, 0.5])?,
/// )?;
/// latency.observe(0.25);
/// latency.observe(0.05);
/// assert_eq!(registry.encode_to_string(Format::OpenMetrics)?, "\
/// ## TYPE request_duration_seconds histogram
/// ## UNIT request_duration_seconds seconds
/// ## HELP request_duration_seconds Time to serve a request.
/// request_duration_seconds_bucket{le=\"0.1\"} 1
/// request_duration_seconds_bucket{le=\"0.5\"} 2
/// request_duration_seconds_bucket{le=\"+Inf\"} 2
/// request_duration_seconds_count 2
/// request_duration_seconds_sum 0.3
/// ## EOF
/// ");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Histogram {
    inner: Arc<Inner>,
}

struct Inner {
    buckets: Buckets,
    core: Observations,
    exemplars: ExemplarSlots,
    created: CreatedAt,
}

/// A consistent copy of a histogram's state.
#[derive(Clone, Debug, PartialEq)]
pub struct HistogramSnapshot {
    /// `(upper bound, cumulative count)` for each bucket, ending with `+Inf`.
    pub buckets: Vec<(f64, u64)>,
    /// The sum of all observations.
    pub sum: f64,
    /// The number of observations.
    pub count: u64,
}

impl Histogram {
    /// A histogram with the given layout.
    pub fn new(buckets: Buckets) -> Self {
        let core = Observations::new(buckets.bounds().len() + 1);
        Histogram {
            inner: Arc::new(Inner {
                buckets,
                core,
                exemplars: ExemplarSlots::default(),
                created: CreatedAt::default(),
            }),
        }
    }

    /// A histogram with these upper bounds (validated; `+Inf` is implicit).
    pub fn with_buckets(bounds: &[f64]) -> Result<Self, BucketError> {
        Buckets::new(bounds).map(Self::new)
    }

    /// Records one observation. NaN is counted in the `+Inf` bucket and makes the sum NaN,
    /// as in client_golang.
    #[inline]
    pub fn observe(&self, v: f64) {
        self.inner
            .core
            .observe(v, Some(self.inner.buckets.index_of(v)));
    }

    /// Records one observation and keeps an exemplar with it in the bucket it falls in
    /// (replacing that bucket's last one). Labels over
    /// [`MAX_EXEMPLAR_CHARS`](crate::MAX_EXEMPLAR_CHARS) characters or with invalid names are
    /// refused, and then nothing is observed either.
    ///
    /// ```
    /// use prometheus_client::Histogram;
    /// let latency = Histogram::with_buckets(&[0.1, 1.0])?;
    /// latency.observe_with_exemplar(0.67, &[("trace_id", "abc")])?;
    /// let exemplars = latency.exemplars();
    /// assert_eq!(exemplars[0], None);
    /// assert_eq!(exemplars[1].as_ref().map(|e| e.value()), Some(0.67));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn observe_with_exemplar<L: LabelSet + ?Sized>(
        &self,
        v: f64,
        labels: &L,
    ) -> Result<(), ExemplarError> {
        let bucket = self.inner.buckets.index_of(v);
        with_checked_labels(labels, |checked| {
            self.inner.core.observe(v, Some(bucket));
            let buckets = self.inner.buckets.bounds().len() + 1;
            self.inner.exemplars.set(buckets, bucket, checked, v);
        })
    }

    /// The latest exemplar of each bucket, `+Inf` last.
    pub fn exemplars(&self) -> Vec<Option<Exemplar>> {
        self.inner
            .exemplars
            .get(self.inner.buckets.bounds().len() + 1)
    }

    /// Starts a timer that observes the elapsed seconds when dropped.
    ///
    /// ```
    /// let h = prometheus_client::Histogram::default();
    /// {
    ///     let _timer = h.start_timer();
    ///     // … the work being timed …
    /// }
    /// assert_eq!(h.snapshot().count, 1);
    /// ```
    pub fn start_timer(&self) -> HistogramTimer<'_> {
        HistogramTimer {
            histogram: self,
            start: Instant::now(),
            armed: true,
        }
    }

    /// The layout.
    pub fn buckets(&self) -> &Buckets {
        &self.inner.buckets
    }

    /// A consistent copy of the current state.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let bounds = self.inner.buckets.bounds();
        self.inner.core.snapshot(|s| {
            let mut cumulative = 0;
            let buckets = s
                .buckets
                .iter()
                .zip(bounds.iter().chain(std::iter::once(&f64::INFINITY)))
                .map(|(count, &bound)| {
                    cumulative += count;
                    (bound, cumulative)
                })
                .collect();
            HistogramSnapshot {
                buckets,
                sum: s.sum,
                count: s.count,
            }
        })
    }
}

impl Default for Histogram {
    /// A histogram with [`DEFAULT_BUCKETS`](crate::DEFAULT_BUCKETS).
    fn default() -> Self {
        Histogram::new(Buckets::default())
    }
}

impl fmt::Debug for Histogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Histogram")
            .field("bounds", &self.inner.buckets.bounds())
            .finish_non_exhaustive()
    }
}

impl Metric for Histogram {
    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }

    fn encode(&self, encoder: &mut MetricEncoder<'_>) {
        self.inner.core.snapshot(|s| {
            let counts = s.buckets.iter().copied();
            let exemplars = Some(&self.inner.exemplars);
            encode_histogram(
                encoder,
                &self.inner.buckets,
                counts,
                exemplars,
                s.sum,
                s.count,
            );
        });
        encoder.created(self.inner.created.get());
    }

    fn start_created_timestamp(&self) {
        self.inner.created.start();
    }
}

/// Writes a histogram's samples from its non-cumulative bucket counts, each bucket with its
/// exemplar if it has one.
pub(crate) fn encode_histogram(
    encoder: &mut MetricEncoder<'_>,
    layout: &Buckets,
    counts: impl Iterator<Item = u64>,
    exemplars: Option<&ExemplarSlots>,
    sum: f64,
    count: u64,
) {
    let openmetrics = encoder.format() == Format::OpenMetrics;
    let with_exemplars = encoder.carries_exemplars();
    let mut cumulative = 0;
    for (i, n) in counts.enumerate() {
        cumulative += n;
        let le = ExtraLabel::Rendered(layout.le_label(i, openmetrics));
        let value = Value::U64(cumulative);
        match exemplars {
            Some(slots) if with_exemplars => {
                slots.with(i, |exemplar| encoder.sample("_bucket", le, value, exemplar));
            }
            _ => encoder.sample("_bucket", le, value, None),
        }
    }
    if !(openmetrics && layout.has_negative_bounds()) {
        encoder.sum_and_count(sum, count);
    }
}

impl TypedMetric for Histogram {
    const TYPE: MetricType = MetricType::Histogram;
}

/// Observes the seconds since it was started when dropped, unless discarded.
#[derive(Debug)]
#[must_use = "a timer observes when it is dropped; dropping it at once measures nothing"]
pub struct HistogramTimer<'a> {
    histogram: &'a Histogram,
    start: Instant,
    armed: bool,
}

impl HistogramTimer<'_> {
    /// Observes now and returns the seconds observed.
    pub fn observe_duration(mut self) -> f64 {
        self.armed = false;
        let seconds = self.start.elapsed().as_secs_f64();
        self.histogram.observe(seconds);
        seconds
    }

    /// Stops the timer without observing.
    pub fn discard(mut self) {
        self.armed = false;
    }
}

impl Drop for HistogramTimer<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.histogram.observe(self.start.elapsed().as_secs_f64());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_is_cumulative() {
        let h = Histogram::with_buckets(&[1.0, 2.0]).expect("valid");
        for v in [0.5, 1.0, 1.5, 5.0, f64::NAN] {
            h.observe(v);
        }
        let s = h.snapshot();
        assert_eq!(s.buckets, vec![(1.0, 2), (2.0, 3), (f64::INFINITY, 5)]);
        assert_eq!(s.count, 5);
        assert!(s.sum.is_nan());
    }

    #[test]
    fn timer_observes_once_and_discard_observes_nothing() {
        let h = Histogram::default();
        let seconds = h.start_timer().observe_duration();
        assert!(seconds >= 0.0);
        h.start_timer().discard();
        drop(h.start_timer());
        assert_eq!(h.snapshot().count, 2);
    }
}
