//! Native histograms: exponential buckets chosen by a growth factor instead of by hand,
//! exposed over protobuf (Prometheus ingests them only there), with classic buckets beside
//! them if wanted.
//!
//! An observation goes to the stripe of its thread (as a classic histogram's does, see
//! `observations.rs`): under that stripe's lock, one map entry is incremented beside count,
//! sum and the classic bucket. Every observation is wholly in one stripe, so a scrape, which
//! holds all stripes' locks while it adds them up (microseconds; observers wait that long),
//! sees count, sum, zero count and buckets of the same observations, and every stripe at the
//! same schema and zero threshold. The bucket limit is applied as client_golang applies it: when the populated
//! buckets exceed it, the histogram is reset if the minimum reset duration has passed,
//! otherwise the zero bucket is widened (up to its maximum threshold) or the resolution
//! halved (schema − 1), and a reset is scheduled for when it is allowed.

pub(crate) mod schema;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::encoding::{MetricEncoder, NativeParts};
use crate::labels::LabelSet;
use crate::metrics::buckets::Buckets;
use crate::metrics::created::CreatedAt;
use crate::metrics::exemplar::{
    with_checked_labels, Exemplar, ExemplarError, ExemplarRing, ExemplarSlots,
};
use crate::metrics::histogram::encode_histogram;
use crate::sync::{stripe_count, thread_stripe, CachePadded};
use crate::{Metric, MetricType, TypedMetric};

/// client_golang's default zero threshold, 2⁻¹²⁸: values this close to zero share a bucket.
pub const DEFAULT_ZERO_THRESHOLD: f64 = 2.938735877055719e-39;

/// The most populated buckets a native histogram may be configured to keep.
pub const MAX_BUCKET_LIMIT: u32 = 1 << 15;

/// How a native histogram buckets its observations (client_golang's `NativeHistogram*`
/// options).
///
/// ```
/// use std::time::Duration;
/// use prometheus_client::NativeConfig;
///
/// let config = NativeConfig::new(1.1)? // buckets grow by at most 10%: schema 3
///     .max_buckets(160)
///     .min_reset_duration(Duration::from_secs(3600));
/// assert_eq!(config.schema(), 3);
/// # Ok::<(), prometheus_client::NativeConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct NativeConfig {
    schema: i32,
    zero_threshold: f64,
    max_zero_threshold: f64,
    max_buckets: u32,
    min_reset_duration: Duration,
    max_exemplars: usize,
}

/// Why a [`NativeConfig`] could not be made.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum NativeConfigError {
    /// The bucket factor is not a number above 1.
    BucketFactor(f64),
    /// A zero threshold that is negative or not a number.
    ZeroThreshold(f64),
    /// A bucket limit of 0 or above [`MAX_BUCKET_LIMIT`].
    MaxBuckets(u32),
}

impl std::fmt::Display for NativeConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NativeConfigError::BucketFactor(v) => {
                write!(f, "bucket factor {v} is not a number above 1")
            }
            NativeConfigError::ZeroThreshold(v) => {
                write!(f, "zero threshold {v} is negative or not a number")
            }
            NativeConfigError::MaxBuckets(n) => {
                write!(
                    f,
                    "bucket limit {n} is not between 1 and {MAX_BUCKET_LIMIT}"
                )
            }
        }
    }
}

impl std::error::Error for NativeConfigError {}

impl NativeConfig {
    /// Buckets that grow by at most `bucket_factor` each (the finest schema, −4 to 8, whose
    /// factor `2^(2^−schema)` is not above it), with client_golang's defaults otherwise:
    /// zero threshold [`DEFAULT_ZERO_THRESHOLD`] that never widens, 160 buckets at most,
    /// no reset.
    pub fn new(bucket_factor: f64) -> Result<Self, NativeConfigError> {
        let schema = schema::for_factor(bucket_factor)
            .ok_or(NativeConfigError::BucketFactor(bucket_factor))?;
        Ok(NativeConfig {
            schema,
            zero_threshold: DEFAULT_ZERO_THRESHOLD,
            max_zero_threshold: 0.0,
            max_buckets: 160,
            min_reset_duration: Duration::ZERO,
            max_exemplars: 10,
        })
    }

    /// The schema the factor gives.
    pub fn schema(&self) -> i32 {
        self.schema
    }

    /// Values with an absolute value up to `threshold` go to the zero bucket.
    pub fn zero_threshold(mut self, threshold: f64) -> Result<Self, NativeConfigError> {
        if threshold.is_nan() || threshold < 0.0 {
            return Err(NativeConfigError::ZeroThreshold(threshold));
        }
        self.zero_threshold = threshold;
        Ok(self)
    }

    /// How far the zero bucket may widen to keep within the bucket limit (default: not at
    /// all).
    pub fn max_zero_threshold(mut self, threshold: f64) -> Result<Self, NativeConfigError> {
        if threshold.is_nan() || threshold < 0.0 {
            return Err(NativeConfigError::ZeroThreshold(threshold));
        }
        self.max_zero_threshold = threshold;
        Ok(self)
    }

    /// The most populated buckets (both signs together) before the histogram resets, widens
    /// its zero bucket or halves its resolution.
    ///
    /// # Panics
    ///
    /// Never; a limit of 0 or above [`MAX_BUCKET_LIMIT`] is clamped into range. Use
    /// [`try_max_buckets`](Self::try_max_buckets) to refuse it instead.
    #[must_use]
    pub fn max_buckets(mut self, n: u32) -> Self {
        self.max_buckets = n.clamp(1, MAX_BUCKET_LIMIT);
        self
    }

    /// [`max_buckets`](Self::max_buckets), refusing a limit out of range.
    pub fn try_max_buckets(self, n: u32) -> Result<Self, NativeConfigError> {
        if n == 0 || n > MAX_BUCKET_LIMIT {
            return Err(NativeConfigError::MaxBuckets(n));
        }
        Ok(self.max_buckets(n))
    }

    /// Resets the histogram (all counts to zero, the configured schema and zero threshold
    /// back) when the bucket limit is reached and at least this long has passed since the
    /// last reset (default: never reset).
    #[must_use]
    pub fn min_reset_duration(mut self, duration: Duration) -> Self {
        self.min_reset_duration = duration;
        self
    }

    /// How many exemplars ([`NativeHistogram::observe_with_exemplar`]) the native histogram
    /// keeps for the protobuf format, the latest ones (default 10; 0 keeps none).
    #[must_use]
    pub fn max_exemplars(mut self, n: usize) -> Self {
        self.max_exemplars = n;
        self
    }
}

/// A consistent copy of a native histogram's state.
#[derive(Clone, Debug, PartialEq)]
pub struct NativeSnapshot {
    /// The schema now (coarser than configured after resolution halving).
    pub schema: i32,
    /// The zero bucket's threshold now.
    pub zero_threshold: f64,
    /// Observations in the zero bucket.
    pub zero_count: u64,
    /// `(bucket key, count)` of the populated positive buckets, by key.
    pub positive: Vec<(i32, u64)>,
    /// `(bucket key, count)` of the populated negative buckets (by absolute value), by key.
    pub negative: Vec<(i32, u64)>,
    /// `(upper bound, cumulative count)` of the classic buckets, ending with `+Inf`; empty
    /// without classic buckets.
    pub classic: Vec<(f64, u64)>,
    /// The sum of all observations.
    pub sum: f64,
    /// The number of observations (`NaN` ones included).
    pub count: u64,
}

impl NativeSnapshot {
    /// The upper bound of bucket `key` at this snapshot's schema.
    pub fn upper_bound(&self, key: i32) -> f64 {
        schema::upper_bound(key, self.schema)
    }
}

/// One stripe's observations.
struct Stripe {
    schema: i32,
    zero_threshold: f64,
    count: u64,
    sum: f64,
    zero: u64,
    positive: HashMap<i32, u64, foldhash::fast::FixedState>,
    negative: HashMap<i32, u64, foldhash::fast::FixedState>,
    /// Non-cumulative classic bucket counts (empty without classic buckets).
    classic: Vec<u64>,
}

impl Stripe {
    fn new(config: &NativeConfig, classic_buckets: usize) -> Self {
        Stripe {
            schema: config.schema,
            zero_threshold: config.zero_threshold,
            count: 0,
            sum: 0.0,
            zero: 0,
            positive: HashMap::default(),
            negative: HashMap::default(),
            classic: vec![0; classic_buckets],
        }
    }

    fn populated(&self) -> usize {
        self.positive.len() + self.negative.len()
    }

    fn observe(&mut self, v: f64, classic: Option<usize>) {
        self.count += 1;
        self.sum += v;
        if let Some(i) = classic {
            self.classic[i] += 1;
        }
        if v.is_nan() {
            return;
        }
        if v > self.zero_threshold {
            *self
                .positive
                .entry(schema::key(v, self.schema))
                .or_default() += 1;
        } else if v < -self.zero_threshold {
            *self
                .negative
                .entry(schema::key(v, self.schema))
                .or_default() += 1;
        } else {
            self.zero += 1;
        }
    }
}

/// When the histogram last reset, and when it is to reset next.
struct Resets {
    last: Instant,
    due: Option<Instant>,
}

struct Inner {
    config: NativeConfig,
    classic: Option<Buckets>,
    /// What text formats show: the classic buckets, or only `+Inf` without them.
    text_layout: Buckets,
    stripes: Box<[CachePadded<Mutex<Stripe>>]>,
    resets: Mutex<Resets>,
    created: CreatedAt,
    /// The latest exemplar of each bucket of `text_layout`.
    bucket_exemplars: ExemplarSlots,
    /// The latest exemplars, for the native histogram's own list.
    exemplars: ExemplarRing,
}

/// A native (sparse, exponential) histogram, optionally with classic buckets too.
///
/// Over protobuf ([`Format::Protobuf`](crate::encoding::Format)) it is written with both its
/// native buckets and its classic ones; text formats have no native buckets, so there it
/// shows its classic buckets (or only `+Inf` without them), sum and count.
///
/// ```
/// use prometheus_client::{NativeConfig, NativeHistogram};
///
/// let latency = NativeHistogram::new(NativeConfig::new(1.1)?);
/// for v in [0.012, 0.013, 0.25, 1.0] {
///     latency.observe(v);
/// }
/// let s = latency.snapshot();
/// assert_eq!(s.count, 4);
/// assert_eq!(s.positive.iter().map(|b| b.1).sum::<u64>(), 4);
/// // 1.0 ends bucket 0; 0.25 = 2^-2 ends bucket -16 at schema 3.
/// assert!(s.positive.contains(&(0, 1)) && s.positive.contains(&(-16, 1)));
/// # Ok::<(), prometheus_client::NativeConfigError>(())
/// ```
#[derive(Clone)]
pub struct NativeHistogram {
    inner: Arc<Inner>,
}

impl NativeHistogram {
    /// A native histogram without classic buckets.
    pub fn new(config: NativeConfig) -> Self {
        Self::build(config, None)
    }

    /// A histogram with both native buckets and these classic buckets, as client_golang's
    /// `Buckets` beside `NativeHistogramBucketFactor`.
    pub fn with_classic(config: NativeConfig, classic: Buckets) -> Self {
        Self::build(config, Some(classic))
    }

    fn build(config: NativeConfig, classic: Option<Buckets>) -> Self {
        let classic_len = classic.as_ref().map_or(0, |b| b.bounds().len() + 1);
        let stripes = (0..stripe_count())
            .map(|_| CachePadded(Mutex::new(Stripe::new(&config, classic_len))))
            .collect();
        let text_layout = classic.clone().unwrap_or_else(|| {
            Buckets::new(&[]).unwrap_or_else(|_| unreachable!("no bounds are valid bounds"))
        });
        NativeHistogram {
            inner: Arc::new(Inner {
                config,
                classic,
                text_layout,
                stripes,
                resets: Mutex::new(Resets {
                    last: Instant::now(),
                    due: None,
                }),
                created: CreatedAt::default(),
                bucket_exemplars: ExemplarSlots::default(),
                exemplars: ExemplarRing::default(),
            }),
        }
    }

    /// Records one observation. `NaN` counts and makes the sum `NaN` but goes in no bucket;
    /// ±Inf goes in the bucket after the largest finite one.
    pub fn observe(&self, v: f64) {
        let inner = &*self.inner;
        let classic = inner.classic.as_ref().map(|b| b.index_of(v));
        let stripe = &inner.stripes[thread_stripe() & (inner.stripes.len() - 1)];
        let over = {
            let mut stripe = stripe.0.lock();
            stripe.observe(v, classic);
            stripe.populated() > inner.config.max_buckets as usize
        };
        if over {
            self.limit(v);
        }
    }

    /// Records one observation with an exemplar (such as `[("trace_id", "…")]`): kept among
    /// the native histogram's latest exemplars ([`NativeConfig::max_exemplars`]), which
    /// protobuf carries, and as the exemplar of its classic bucket (or of `+Inf` without
    /// classic buckets), which OpenMetrics shows. Labels over the OpenMetrics limit are
    /// refused, and then nothing is recorded.
    ///
    /// ```
    /// use prometheus_client::{NativeConfig, NativeHistogram};
    ///
    /// let latency = NativeHistogram::new(NativeConfig::new(1.1)?.max_exemplars(2));
    /// for (v, trace) in [(0.1, "a"), (0.2, "b"), (0.3, "c")] {
    ///     latency.observe_with_exemplar(v, &[("trace_id", trace)])?;
    /// }
    /// let kept: Vec<f64> = latency.exemplars().iter().map(|e| e.value()).collect();
    /// assert_eq!(kept, [0.2, 0.3]);
    /// assert_eq!(latency.snapshot().count, 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn observe_with_exemplar<L: LabelSet + ?Sized>(
        &self,
        v: f64,
        labels: &L,
    ) -> Result<(), ExemplarError> {
        let inner = &*self.inner;
        with_checked_labels(labels, |checked| {
            self.observe(v);
            let layout = &inner.text_layout;
            let buckets = layout.bounds().len() + 1;
            inner
                .bucket_exemplars
                .set(buckets, layout.index_of(v), checked, v);
            inner.exemplars.push(inner.config.max_exemplars, checked, v);
        })
    }

    /// The native histogram's latest exemplars, oldest first.
    pub fn exemplars(&self) -> Vec<Exemplar> {
        self.inner.exemplars.get()
    }

    /// A consistent copy of the counts (after applying the bucket limit, and a reset that is
    /// due).
    pub fn snapshot(&self) -> NativeSnapshot {
        let inner = &*self.inner;
        let mut resets = inner.resets.lock();
        let mut stripes: Vec<_> = inner.stripes.iter().map(|s| s.0.lock()).collect();
        if resets.due.is_some_and(|due| Instant::now() >= due) {
            self.reset(&mut resets, &mut stripes, None);
        }
        self.enforce_limit(&mut resets, &mut stripes, None);
        let first = &stripes[0];
        let mut snapshot = NativeSnapshot {
            schema: first.schema,
            zero_threshold: first.zero_threshold,
            zero_count: 0,
            positive: Vec::new(),
            negative: Vec::new(),
            classic: Vec::new(),
            sum: 0.0,
            count: 0,
        };
        let mut positive: HashMap<i32, u64> = HashMap::new();
        let mut negative: HashMap<i32, u64> = HashMap::new();
        let mut classic = vec![0u64; first.classic.len()];
        for stripe in &stripes {
            snapshot.count += stripe.count;
            snapshot.sum += stripe.sum;
            snapshot.zero_count += stripe.zero;
            for (&k, &n) in &stripe.positive {
                *positive.entry(k).or_default() += n;
            }
            for (&k, &n) in &stripe.negative {
                *negative.entry(k).or_default() += n;
            }
            for (total, n) in classic.iter_mut().zip(&stripe.classic) {
                *total += n;
            }
        }
        drop(stripes);
        drop(resets);
        snapshot.positive = sorted(positive);
        snapshot.negative = sorted(negative);
        if let Some(buckets) = &inner.classic {
            let mut cumulative = 0;
            snapshot.classic = classic
                .iter()
                .zip(buckets.bounds().iter().chain([&f64::INFINITY]))
                .map(|(n, &bound)| {
                    cumulative += n;
                    (bound, cumulative)
                })
                .collect();
        }
        snapshot
    }

    /// Applies the bucket limit after an observation of `v` took a stripe past it.
    #[cold]
    fn limit(&self, v: f64) {
        let inner = &*self.inner;
        let mut resets = inner.resets.lock();
        let mut stripes: Vec<_> = inner.stripes.iter().map(|s| s.0.lock()).collect();
        self.enforce_limit(&mut resets, &mut stripes, Some(v));
    }

    /// Brings the populated buckets of all stripes together within the limit: a reset if
    /// allowed (keeping the latest observation `v`), else widening the zero bucket or
    /// halving the resolution, one step at a time.
    fn enforce_limit(
        &self,
        resets: &mut Resets,
        stripes: &mut [parking_lot::MutexGuard<'_, Stripe>],
        latest: Option<f64>,
    ) {
        let config = &self.inner.config;
        let max = config.max_buckets as usize;
        while union_size(stripes) > max {
            if !config.min_reset_duration.is_zero() {
                let allowed = resets.last + config.min_reset_duration;
                if Instant::now() >= allowed {
                    self.reset(resets, stripes, latest);
                    continue;
                }
                resets.due.get_or_insert(allowed);
            }
            if widen_zero_bucket(stripes, config.max_zero_threshold) {
                continue;
            }
            if !halve_resolution(stripes) {
                // At the coarsest schema already: nothing more to do.
                return;
            }
        }
    }

    /// Starts over: every count zero, the configured schema and zero threshold, and the
    /// latest observation (if any) recorded again so it is not lost.
    fn reset(
        &self,
        resets: &mut Resets,
        stripes: &mut [parking_lot::MutexGuard<'_, Stripe>],
        latest: Option<f64>,
    ) {
        let inner = &*self.inner;
        let classic_len = inner.classic.as_ref().map_or(0, |b| b.bounds().len() + 1);
        for stripe in stripes.iter_mut() {
            **stripe = Stripe::new(&inner.config, classic_len);
        }
        if let Some(v) = latest {
            let classic = inner.classic.as_ref().map(|b| b.index_of(v));
            stripes[0].observe(v, classic);
        }
        resets.last = Instant::now();
        resets.due = None;
    }
}

fn sorted(buckets: HashMap<i32, u64>) -> Vec<(i32, u64)> {
    let mut buckets: Vec<(i32, u64)> = buckets.into_iter().filter(|b| b.1 > 0).collect();
    buckets.sort_unstable_by_key(|b| b.0);
    buckets
}

/// The populated buckets of all stripes together.
fn union_size(stripes: &[parking_lot::MutexGuard<'_, Stripe>]) -> usize {
    if stripes.len() == 1 {
        return stripes[0].populated();
    }
    let mut positive = std::collections::HashSet::new();
    let mut negative = std::collections::HashSet::new();
    for stripe in stripes {
        positive.extend(stripe.positive.keys().copied());
        negative.extend(stripe.negative.keys().copied());
    }
    positive.len() + negative.len()
}

/// Widens the zero bucket to take in the bucket closest to zero, if that stays within
/// `max_threshold`; says whether it did.
fn widen_zero_bucket(
    stripes: &mut [parking_lot::MutexGuard<'_, Stripe>],
    max_threshold: f64,
) -> bool {
    let (schema, threshold) = (stripes[0].schema, stripes[0].zero_threshold);
    if threshold >= max_threshold {
        return false;
    }
    let Some(smallest) = stripes
        .iter()
        .flat_map(|s| s.positive.keys().chain(s.negative.keys()))
        .copied()
        .min()
    else {
        return false;
    };
    let widened = schema::upper_bound(smallest, schema);
    if widened > max_threshold {
        return false;
    }
    for stripe in stripes.iter_mut() {
        let moved = stripe.positive.remove(&smallest).unwrap_or(0)
            + stripe.negative.remove(&smallest).unwrap_or(0);
        stripe.zero += moved;
        stripe.zero_threshold = widened;
    }
    true
}

/// Halves the resolution (schema − 1), merging each pair of buckets; says whether it could.
fn halve_resolution(stripes: &mut [parking_lot::MutexGuard<'_, Stripe>]) -> bool {
    if stripes[0].schema <= schema::MIN_SCHEMA {
        return false;
    }
    for stripe in stripes.iter_mut() {
        let stripe = &mut **stripe;
        stripe.schema -= 1;
        for map in [&mut stripe.positive, &mut stripe.negative] {
            let old = std::mem::take(map);
            for (key, n) in old {
                *map.entry(schema::coarser_key(key)).or_default() += n;
            }
        }
    }
    true
}

impl Default for NativeHistogram {
    /// Buckets that grow by at most 10% (schema 3, the usual choice), client_golang's other
    /// defaults, no classic buckets.
    fn default() -> Self {
        let config = NativeConfig::new(1.1).unwrap_or_else(|_| unreachable!("1.1 is above 1"));
        NativeHistogram::new(config)
    }
}

impl std::fmt::Debug for NativeHistogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeHistogram")
            .field("config", &self.inner.config)
            .field("classic", &self.inner.classic)
            .finish()
    }
}

impl Metric for NativeHistogram {
    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }

    fn encode(&self, encoder: &mut MetricEncoder<'_>) {
        let s = self.snapshot();
        let layout = &self.inner.text_layout;
        if s.classic.is_empty() {
            encode_histogram(
                encoder,
                layout,
                std::iter::once(s.count),
                Some(&self.inner.bucket_exemplars),
                s.sum,
                s.count,
            );
        } else {
            let mut previous = 0;
            let counts = s.classic.iter().map(|&(_, cumulative)| {
                let n = cumulative - previous;
                previous = cumulative;
                n
            });
            let exemplars = Some(&self.inner.bucket_exemplars);
            encode_histogram(encoder, layout, counts, exemplars, s.sum, s.count);
        }
        let exemplars = if encoder.native_wanted() {
            self.inner.exemplars.get()
        } else {
            Vec::new()
        };
        encoder.native(&NativeParts {
            schema: s.schema,
            zero_threshold: s.zero_threshold,
            zero_count: s.zero_count,
            positive: &s.positive,
            negative: &s.negative,
            exemplars: &exemplars,
        });
        encoder.created(self.inner.created.get());
    }

    fn start_created_timestamp(&self) {
        self.inner.created.start();
    }
}

impl TypedMetric for NativeHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(buckets: &[(i32, u64)]) -> u64 {
        buckets.iter().map(|b| b.1).sum()
    }

    #[test]
    fn signs_zero_nan_and_infinity_go_where_prometheus_says() {
        let h = NativeHistogram::new(NativeConfig::new(2.0).expect("valid"));
        for v in [
            1.0,
            3.0,
            -3.0,
            0.0,
            1e-40,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            h.observe(v);
        }
        let s = h.snapshot();
        assert_eq!(s.schema, 0);
        assert_eq!(s.count, 8);
        assert!(s.sum.is_nan());
        assert_eq!(
            s.zero_count, 2,
            "0 and 1e-40 are within the default threshold"
        );
        assert_eq!(
            s.positive,
            [(0, 1), (2, 1), (schema::key(f64::MAX, 0) + 1, 1)]
        );
        assert_eq!(s.negative, [(2, 1), (schema::key(f64::MAX, 0) + 1, 1)]);
        assert_eq!(
            total(&s.positive) + total(&s.negative) + s.zero_count + 1,
            s.count
        );
    }

    #[test]
    fn past_the_limit_the_resolution_halves() {
        let h = NativeHistogram::new(NativeConfig::new(1.01).expect("valid").max_buckets(10));
        assert_eq!(h.snapshot().schema, 7);
        for i in 1..=1000 {
            h.observe(f64::from(i) / 10.0);
        }
        let s = h.snapshot();
        assert!(s.positive.len() <= 10, "{:?}", s.positive);
        assert!(s.schema < 7);
        assert_eq!(total(&s.positive), 1000, "no observation lost");
        // Every value is still in the bucket its value belongs to at the final schema.
        let mut expected = std::collections::BTreeMap::new();
        for i in 1..=1000 {
            *expected
                .entry(schema::key(f64::from(i) / 10.0, s.schema))
                .or_insert(0u64) += 1;
        }
        assert_eq!(s.positive, expected.into_iter().collect::<Vec<_>>());
    }

    #[test]
    fn past_the_limit_the_zero_bucket_widens_first_where_allowed() {
        let config = NativeConfig::new(2.0)
            .expect("valid")
            .max_buckets(3)
            .max_zero_threshold(0.3)
            .expect("valid");
        let h = NativeHistogram::new(config);
        for v in [0.1, 0.2, 1.0, 4.0] {
            h.observe(v);
        }
        let s = h.snapshot();
        assert_eq!(s.schema, 0, "widening sufficed");
        assert_eq!(s.zero_threshold, 0.125);
        assert_eq!(s.zero_count, 1);
        assert_eq!(s.positive, [(-2, 1), (0, 1), (2, 1)]);
    }

    #[test]
    fn past_the_limit_after_the_reset_duration_it_starts_over() {
        let config = NativeConfig::new(2.0)
            .expect("valid")
            .max_buckets(2)
            .min_reset_duration(Duration::from_millis(1));
        let h = NativeHistogram::new(config);
        std::thread::sleep(Duration::from_millis(5));
        for v in [1.0, 4.0, 16.0] {
            h.observe(v);
        }
        let s = h.snapshot();
        assert_eq!(s.schema, 0, "a reset, not a halving");
        assert_eq!(s.count, 1, "the latest observation is kept");
        assert_eq!(s.positive, [(4, 1)]);
    }

    #[test]
    fn classic_and_native_buckets_count_the_same_observations() {
        let h = NativeHistogram::with_classic(
            NativeConfig::new(1.1).expect("valid"),
            Buckets::new(&[0.5, 1.0]).expect("valid"),
        );
        for v in [0.2, 0.7, 0.9, 3.0] {
            h.observe(v);
        }
        let s = h.snapshot();
        assert_eq!(s.classic, [(0.5, 1), (1.0, 3), (f64::INFINITY, 4)]);
        assert_eq!(total(&s.positive), 4);
    }

    #[test]
    fn scrapes_racing_observers_see_whole_observations() {
        let h = NativeHistogram::with_classic(
            NativeConfig::new(1.05).expect("valid").max_buckets(20),
            Buckets::new(&[1.0]).expect("valid"),
        );
        std::thread::scope(|scope| {
            for t in 0..4 {
                let h = &h;
                scope.spawn(move || {
                    for i in 0..20_000 {
                        h.observe(f64::from(i % 500 + t) * 0.01 - 1.0);
                    }
                });
            }
            for _ in 0..200 {
                let s = h.snapshot();
                let in_buckets = total(&s.positive) + total(&s.negative) + s.zero_count;
                assert_eq!(in_buckets, s.count);
                assert_eq!(s.classic.last().map(|b| b.1), Some(s.count));
                assert!(s.positive.len() + s.negative.len() <= 20);
            }
        });
        assert_eq!(h.snapshot().count, 80_000);
    }

    /// The bucket of `v` by the definition: the smallest `k` with `|v| ≤ 2^(k/2^schema)`.
    fn reference_key(v: f64, schema: i32) -> i32 {
        let per_power = 2f64.powi(schema);
        let bound = |k: i32| (f64::from(k) / per_power).exp2();
        let mut k = (v.abs().log2() * per_power).ceil() as i32;
        while v.abs() > bound(k) {
            k += 1;
        }
        while v.abs() <= bound(k - 1) {
            k -= 1;
        }
        k
    }

    proptest::proptest! {
        #[test]
        fn buckets_hold_exactly_the_observations_made(
            schema in schema::MIN_SCHEMA..=schema::MAX_SCHEMA,
            values in proptest::collection::vec(
                proptest::prop_oneof![
                    -1e6f64..1e6,
                    -1e-3f64..1e-3,
                    proptest::num::f64::NORMAL,
                ],
                0..200,
            ),
        ) {
            // Just above the schema's own factor: at exactly it, rounding may pick the next schema
            // (as in client_golang).
            let factor = (2f64.powi(-schema)).exp2() * (1.0 + 1e-9);
            let config = NativeConfig::new(factor).expect("valid").max_buckets(MAX_BUCKET_LIMIT);
            proptest::prop_assert_eq!(config.schema(), schema);
            let h = NativeHistogram::new(config);
            let mut positive = std::collections::BTreeMap::new();
            let mut negative = std::collections::BTreeMap::new();
            let mut zero = 0;
            for &v in &values {
                h.observe(v);
                if v.abs() <= DEFAULT_ZERO_THRESHOLD {
                    zero += 1;
                } else if v > 0.0 {
                    *positive.entry(reference_key(v, schema)).or_insert(0u64) += 1;
                } else {
                    *negative.entry(reference_key(v, schema)).or_insert(0u64) += 1;
                }
            }
            let s = h.snapshot();
            proptest::prop_assert_eq!(s.schema, schema);
            proptest::prop_assert_eq!(s.count, values.len() as u64);
            proptest::prop_assert_eq!(s.zero_count, zero);
            proptest::prop_assert_eq!(s.positive, positive.into_iter().collect::<Vec<_>>());
            proptest::prop_assert_eq!(s.negative, negative.into_iter().collect::<Vec<_>>());
        }
    }

    #[test]
    fn configs_are_checked() {
        assert_eq!(
            NativeConfig::new(1.0),
            Err(NativeConfigError::BucketFactor(1.0))
        );
        assert!(NativeConfig::new(1.1)
            .and_then(|c| c.zero_threshold(-1.0))
            .is_err());
        assert_eq!(
            NativeConfig::new(1.1).and_then(|c| c.try_max_buckets(0)),
            Err(NativeConfigError::MaxBuckets(0))
        );
    }
}
