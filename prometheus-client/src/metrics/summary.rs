//! Summary: count and sum of observations, with optional quantiles over a sliding window.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::created::CreatedAt;
use super::observations::Observations;
use super::quantile::QuantileSketch;
use super::{Metric, TypedMetric};
use crate::encoding::{float_label, ExtraLabel, Format, MetricEncoder};
use crate::MetricType;

/// How many observations wait in a buffer before being merged into the sketches.
const BUFFER: usize = 500;

/// Observations summarised by their count and sum, and optionally by quantiles (the median,
/// the 99th percentile…) over a sliding time window.
///
/// Without objectives (the default, as in client_golang), `observe` is lock-free and a scrape
/// sees `_sum` and `_count` of the same observations. With objectives, `observe` also appends
/// to a buffer under a short mutex; the buffer is merged in batches of 500 into
/// Greenwald–Khanna sketches whose rank error is the smallest error asked for.
///
/// OpenMetrics cannot carry negative quantiles or a negative sum; a summary of negative
/// observations leaves those samples out there (text 0.0.4 has them all).
///
/// ```
/// use prometheus_client::{Summary, Registry, encoding::Format};
///
/// let registry = Registry::new();
/// let sizes = registry.register(
///     "response_size_bytes", "Size of responses.",
///     Summary::builder().objective(0.5, 0.05).build()?,
/// )?;
/// for size in [100.0, 200.0, 300.0] {
///     sizes.observe(size);
/// }
/// assert_eq!(registry.encode_to_string(Format::Text)?, "\
/// ## HELP response_size_bytes Size of responses.
/// ## TYPE response_size_bytes summary
/// response_size_bytes{quantile=\"0.5\"} 200
/// response_size_bytes_sum 600
/// response_size_bytes_count 3
/// ");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Summary {
    inner: Arc<Inner>,
}

struct Inner {
    core: Observations,
    objectives: Box<[Objective]>,
    window: Option<Mutex<Window>>,
    created: CreatedAt,
}

/// A quantile with its `quantile="…"` label rendered for both formats.
pub(crate) struct Objective {
    pub(crate) quantile: f64,
    label_text: Box<str>,
    label_openmetrics: Box<str>,
}

impl Objective {
    pub(crate) fn new(quantile: f64) -> Self {
        Objective {
            quantile,
            label_text: float_label("quantile", quantile, Format::Text),
            label_openmetrics: float_label("quantile", quantile, Format::OpenMetrics),
        }
    }

    fn label(&self, format: Format) -> &str {
        match format {
            Format::OpenMetrics => &self.label_openmetrics,
            _ => &self.label_text,
        }
    }
}

/// Why a summary's options were refused.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SummaryError {
    /// A quantile outside 0 to 1 (or NaN).
    InvalidQuantile(f64),
    /// An allowed error outside (0, 1).
    InvalidError {
        /// The quantile it belongs to.
        quantile: f64,
        /// The error given.
        error: f64,
    },
    /// The same quantile twice.
    DuplicateQuantile(f64),
    /// A zero `max_age` or zero `age_buckets`.
    InvalidWindow(&'static str),
}

impl fmt::Display for SummaryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SummaryError::InvalidQuantile(q) => write!(f, "quantile {q} is not between 0 and 1"),
            SummaryError::InvalidError { quantile, error } => write!(
                f,
                "allowed error {error} for quantile {quantile} is not above 0 and below 1"
            ),
            SummaryError::DuplicateQuantile(q) => write!(f, "quantile {q} is given twice"),
            SummaryError::InvalidWindow(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for SummaryError {}

/// Options for a [`Summary`]: objectives and the sliding window.
///
/// ```
/// use std::time::Duration;
/// let summary = prometheus_client::Summary::builder()
///     .objective(0.5, 0.05)
///     .objective(0.99, 0.001)
///     .max_age(Duration::from_secs(60))
///     .age_buckets(3)
///     .build()?;
/// summary.observe(1.0);
/// # Ok::<(), prometheus_client::SummaryError>(())
/// ```
#[derive(Clone, Debug)]
pub struct SummaryBuilder {
    objectives: Vec<(f64, f64)>,
    max_age: Duration,
    age_buckets: u32,
}

impl Default for SummaryBuilder {
    fn default() -> Self {
        SummaryBuilder {
            objectives: Vec::new(),
            max_age: Duration::from_secs(600),
            age_buckets: 5,
        }
    }
}

impl SummaryBuilder {
    /// Adds quantile `quantile` with allowed rank error `error` (0.99 ± 0.001).
    pub fn objective(mut self, quantile: f64, error: f64) -> Self {
        self.objectives.push((quantile, error));
        self
    }

    /// How long an observation counts towards the quantiles (default 10 minutes).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// How many overlapping windows make the sliding window (default 5).
    pub fn age_buckets(mut self, age_buckets: u32) -> Self {
        self.age_buckets = age_buckets;
        self
    }

    /// Validates the options and builds the summary.
    pub fn build(mut self) -> Result<Summary, SummaryError> {
        for &(quantile, error) in &self.objectives {
            if !(0.0..=1.0).contains(&quantile) {
                return Err(SummaryError::InvalidQuantile(quantile));
            }
            if error.is_nan() || error <= 0.0 || error >= 1.0 {
                return Err(SummaryError::InvalidError { quantile, error });
            }
        }
        self.objectives.sort_by(|a, b| a.0.total_cmp(&b.0));
        if let Some(w) = self.objectives.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(SummaryError::DuplicateQuantile(w[0].0));
        }
        if self.max_age.is_zero() || self.age_buckets == 0 {
            return Err(SummaryError::InvalidWindow(
                "a summary window needs a max_age above zero and at least one age bucket",
            ));
        }
        let epsilon = self
            .objectives
            .iter()
            .map(|o| o.1)
            .fold(f64::INFINITY, f64::min);
        let window = (!self.objectives.is_empty()).then(|| {
            Mutex::new(Window::new(
                epsilon,
                self.max_age / self.age_buckets,
                self.age_buckets as usize,
                Instant::now(),
            ))
        });
        let objectives = self
            .objectives
            .iter()
            .map(|&(quantile, _)| Objective::new(quantile))
            .collect();
        Ok(Summary {
            inner: Arc::new(Inner {
                core: Observations::new(0),
                objectives,
                window,
                created: CreatedAt::default(),
            }),
        })
    }
}

/// The sliding window: `age_buckets` sketches that all receive every observation, started
/// `max_age / age_buckets` apart; the oldest answers queries and is reset when it has
/// covered `max_age`, as client_golang does.
struct Window {
    sketches: Vec<QuantileSketch>,
    head: usize,
    head_expires: Instant,
    stride: Duration,
    buffer: Vec<f64>,
}

impl Window {
    fn new(epsilon: f64, stride: Duration, age_buckets: usize, now: Instant) -> Self {
        Window {
            sketches: vec![QuantileSketch::new(epsilon); age_buckets],
            head: 0,
            head_expires: now + stride,
            stride,
            buffer: Vec::with_capacity(BUFFER),
        }
    }

    fn observe(&mut self, v: f64, now: Instant) {
        self.rotate(now);
        if v.is_nan() {
            return;
        }
        self.buffer.push(v);
        if self.buffer.len() >= BUFFER {
            self.flush();
        }
    }

    fn flush(&mut self) {
        self.buffer.sort_by(f64::total_cmp);
        for sketch in &mut self.sketches {
            sketch.insert_sorted(&self.buffer);
        }
        self.buffer.clear();
    }

    fn rotate(&mut self, now: Instant) {
        if now < self.head_expires {
            return;
        }
        // Observations still buffered belong to the window that is ending.
        self.flush();
        let window = self.stride * self.sketches.len() as u32;
        if now >= self.head_expires + window {
            self.sketches.iter_mut().for_each(QuantileSketch::reset);
            self.head_expires = now + self.stride;
            return;
        }
        while now >= self.head_expires {
            self.sketches[self.head].reset();
            self.head = (self.head + 1) % self.sketches.len();
            self.head_expires += self.stride;
        }
    }

    fn query(&mut self, quantile: f64, now: Instant) -> f64 {
        self.rotate(now);
        if !self.buffer.is_empty() {
            self.flush();
        }
        self.sketches[self.head].query(quantile)
    }
}

impl Summary {
    /// Options for a summary with quantiles.
    pub fn builder() -> SummaryBuilder {
        SummaryBuilder::default()
    }

    /// Records one observation.
    #[inline]
    pub fn observe(&self, v: f64) {
        self.inner.core.observe(v, None);
        if let Some(window) = &self.inner.window {
            window.lock().observe(v, Instant::now());
        }
    }

    /// The sum and count of all observations, as one consistent pair.
    pub fn sum_and_count(&self) -> (f64, u64) {
        self.inner.core.snapshot(|s| (s.sum, s.count))
    }

    /// The current value of each objective's quantile (NaN when the window is empty).
    pub fn quantiles(&self) -> Vec<(f64, f64)> {
        self.quantiles_at(Instant::now())
    }

    fn quantiles_at(&self, now: Instant) -> Vec<(f64, f64)> {
        let Some(window) = &self.inner.window else {
            return Vec::new();
        };
        let mut window = window.lock();
        self.inner
            .objectives
            .iter()
            .map(|o| (o.quantile, window.query(o.quantile, now)))
            .collect()
    }
}

impl Default for Summary {
    /// A summary with count and sum only.
    fn default() -> Self {
        Summary {
            inner: Arc::new(Inner {
                core: Observations::new(0),
                objectives: Box::new([]),
                window: None,
                created: CreatedAt::default(),
            }),
        }
    }
}

impl fmt::Debug for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quantiles: Vec<f64> = self.inner.objectives.iter().map(|o| o.quantile).collect();
        f.debug_struct("Summary")
            .field("quantiles", &quantiles)
            .finish_non_exhaustive()
    }
}

impl Metric for Summary {
    fn metric_type(&self) -> MetricType {
        MetricType::Summary
    }

    fn encode(&self, encoder: &mut MetricEncoder<'_>) {
        let now = Instant::now();
        let mut window = self.inner.window.as_ref().map(|w| w.lock());
        let quantiles = self.inner.objectives.iter().map(|o| {
            let value = window
                .as_mut()
                .map_or(f64::NAN, |w| w.query(o.quantile, now));
            (o, value)
        });
        self.inner
            .core
            .snapshot(|s| encode_summary(encoder, quantiles, s.sum, s.count));
        encoder.created(self.inner.created.get());
    }

    fn start_created_timestamp(&self) {
        self.inner.created.start();
    }
}

/// Writes a summary's samples: each quantile, then the sum and count.
pub(crate) fn encode_summary<'o>(
    encoder: &mut MetricEncoder<'_>,
    quantiles: impl Iterator<Item = (&'o Objective, f64)>,
    sum: f64,
    count: u64,
) {
    let format = encoder.format();
    for (objective, value) in quantiles {
        // OpenMetrics forbids negative quantile values; text 0.0.4 writes them.
        if format == Format::OpenMetrics && value < 0.0 {
            continue;
        }
        encoder.sample_f64("", ExtraLabel::Rendered(objective.label(format)), value);
    }
    encoder.sum_and_count(sum, count);
}

impl TypedMetric for Summary {
    const TYPE: MetricType = MetricType::Summary;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_a_known_distribution() {
        let s = Summary::builder()
            .objective(0.5, 0.01)
            .objective(0.9, 0.01)
            .objective(0.99, 0.001)
            .build()
            .expect("valid");
        for i in 1..=10_000 {
            s.observe(f64::from(i));
        }
        for (q, v) in s.quantiles() {
            let want = q * 10_000.0;
            let allowed = if q == 0.99 { 10.0 } else { 100.0 };
            assert!(
                (v - want).abs() <= allowed,
                "quantile {q}: {v}, want {want} ± {allowed}"
            );
        }
        assert_eq!(s.sum_and_count(), (50_005_000.0, 10_000));
    }

    #[test]
    fn old_observations_leave_the_window() {
        let s = Summary::builder()
            .objective(0.5, 0.01)
            .max_age(Duration::from_secs(10))
            .age_buckets(2)
            .build()
            .expect("valid");
        let start = Instant::now();
        {
            let window = s.inner.window.as_ref().expect("objectives given");
            let mut w = window.lock();
            w.observe(100.0, start);
            w.observe(200.0, start + Duration::from_secs(6));
        }
        // After 10 s the first sketch (which saw 100) was reset; the second saw only 200.
        let later = s.quantiles_at(start + Duration::from_secs(11));
        assert_eq!(later, vec![(0.5, 200.0)]);
        let much_later = s.quantiles_at(start + Duration::from_secs(60));
        assert!(much_later[0].1.is_nan(), "an empty window answers NaN");
        // Count and sum are cumulative, not windowed.
        assert_eq!(
            s.sum_and_count().1,
            0,
            "window writes bypassed the core in this test"
        );
    }

    #[test]
    fn bad_options_are_refused() {
        assert_eq!(
            Summary::builder().objective(1.5, 0.1).build().unwrap_err(),
            SummaryError::InvalidQuantile(1.5)
        );
        assert!(Summary::builder().objective(0.5, 0.0).build().is_err());
        assert!(Summary::builder()
            .objective(0.5, 0.1)
            .objective(0.5, 0.2)
            .build()
            .is_err());
        assert!(Summary::builder().age_buckets(0).build().is_err());
    }
}
