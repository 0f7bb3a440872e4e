//! A native histogram's value as a scraper reads it and a query computes with it: schema,
//! zero bucket, sparse positive and negative buckets with absolute (not cumulative, not
//! delta) counts, as Prometheus' `FloatHistogram`.
//!
//! The arithmetic is Prometheus': adding or subtracting two histograms works at the coarser
//! of their schemas and the wider of their zero buckets, a counter reset is detected bucket
//! by bucket, and [`quantile`](FloatHistogram::quantile) and
//! [`fraction`](FloatHistogram::fraction) interpolate within a bucket linearly, as PromQL's
//! `histogram_quantile` and `histogram_fraction` do.

use std::borrow::Cow;
use std::fmt;

use crate::metrics::native::schema::{upper_bound, MAX_SCHEMA, MIN_SCHEMA};

/// Bucket keys further from zero than this are refused: at schema 8 the largest finite
/// value's bucket is 262,144, so no real histogram comes near it.
const MAX_KEY: i32 = 1 << 20;

/// A native histogram's value: what one sample of a native histogram series holds.
///
/// ```
/// use prometheus_client::parse::FloatHistogram;
///
/// // Schema 0: buckets (0.5, 1], (1, 2], (2, 4], ...; 3 observations in (1, 2], 1 in (2, 4].
/// let h = FloatHistogram::new(0, 0.0, 0.0, 4.0, 8.5, vec![(1, 3.0), (2, 1.0)], vec![])?;
/// assert_eq!(h.quantile(0.5), 1.0 + (2.0 - 1.0) * (2.0 / 3.0));
/// assert_eq!(h.fraction(f64::NEG_INFINITY, 2.0), 0.75);
/// # Ok::<(), prometheus_client::parse::HistogramError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct FloatHistogram {
    schema: i32,
    zero_threshold: f64,
    zero_count: f64,
    count: f64,
    sum: f64,
    /// `(key, count)`, keys ascending, no zero counts.
    positive: Vec<(i32, f64)>,
    /// `(key, count)` of the absolute values, keys ascending, no zero counts.
    negative: Vec<(i32, f64)>,
}

/// Why a histogram value was refused.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum HistogramError {
    /// The schema is outside −4 to 8.
    Schema(i32),
    /// The zero threshold is negative or not a number.
    ZeroThreshold(f64),
    /// Bucket keys are not strictly ascending, or too far from zero.
    BucketKeys,
    /// A count (the zero bucket's, a bucket's or the total) is negative or not a number.
    Count(f64),
    /// The spans' lengths add up to a different number than the buckets given.
    SpanLength {
        /// Buckets the spans describe.
        spans: u64,
        /// Bucket counts given.
        buckets: usize,
    },
    /// The total count is smaller than the counts of the buckets added up.
    CountTooSmall {
        /// The total count.
        count: f64,
        /// The zero and all other buckets' counts added up.
        buckets: f64,
    },
}

impl fmt::Display for HistogramError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HistogramError::Schema(s) => write!(f, "schema {s} is outside -4 to 8"),
            HistogramError::ZeroThreshold(t) => write!(f, "zero threshold {t} is not >= 0"),
            HistogramError::BucketKeys => {
                f.write_str("bucket keys are not ascending or are out of range")
            }
            HistogramError::Count(c) => write!(f, "count {c} is negative or not a number"),
            HistogramError::SpanLength { spans, buckets } => {
                write!(f, "spans describe {spans} buckets but {buckets} are given")
            }
            HistogramError::CountTooSmall { count, buckets } => write!(
                f,
                "count {count} is smaller than the {buckets} observations in the buckets"
            ),
        }
    }
}

impl std::error::Error for HistogramError {}

/// One bucket of a [`FloatHistogram`], with its bounds as Prometheus reports them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HistogramBucket {
    /// The lower bound.
    pub lower: f64,
    /// The upper bound.
    pub upper: f64,
    /// Whether the lower bound belongs to the bucket (the zero bucket, negative buckets).
    pub lower_inclusive: bool,
    /// Whether the upper bound belongs to the bucket (the zero bucket, positive buckets).
    pub upper_inclusive: bool,
    /// Observations in it.
    pub count: f64,
}

/// Whether `c` cannot be a number of observations: negative or not a number.
fn not_a_count(c: f64) -> bool {
    c.is_nan() || c < 0.0
}

fn check_buckets(buckets: &[(i32, f64)]) -> Result<(), HistogramError> {
    if buckets.windows(2).any(|pair| pair[0].0 >= pair[1].0)
        || buckets.iter().any(|(k, _)| k.abs() > MAX_KEY)
    {
        return Err(HistogramError::BucketKeys);
    }
    match buckets.iter().find(|(_, c)| not_a_count(*c)) {
        Some(&(_, c)) => Err(HistogramError::Count(c)),
        None => Ok(()),
    }
}

impl FloatHistogram {
    /// A histogram from its parts: `positive` and `negative` are `(key, count)` with keys
    /// strictly ascending (bucket `k` of `negative` holds values in `[-upper, -lower)` of
    /// positive bucket `k`). Empty buckets are dropped.
    pub fn new(
        schema: i32,
        zero_threshold: f64,
        zero_count: f64,
        count: f64,
        sum: f64,
        mut positive: Vec<(i32, f64)>,
        mut negative: Vec<(i32, f64)>,
    ) -> Result<Self, HistogramError> {
        if !(MIN_SCHEMA..=MAX_SCHEMA).contains(&schema) {
            return Err(HistogramError::Schema(schema));
        }
        if zero_threshold.is_nan() || zero_threshold < 0.0 {
            return Err(HistogramError::ZeroThreshold(zero_threshold));
        }
        for c in [zero_count, count] {
            if not_a_count(c) {
                return Err(HistogramError::Count(c));
            }
        }
        check_buckets(&positive)?;
        check_buckets(&negative)?;
        positive.retain(|(_, c)| *c != 0.0);
        negative.retain(|(_, c)| *c != 0.0);
        Ok(FloatHistogram {
            schema,
            zero_threshold,
            zero_count,
            count,
            sum,
            positive,
            negative,
        })
    }

    /// The schema (−4 to 8): each power of two holds `2^schema` buckets.
    pub fn schema(&self) -> i32 {
        self.schema
    }

    /// Values at most this far from zero count in the zero bucket.
    pub fn zero_threshold(&self) -> f64 {
        self.zero_threshold
    }

    /// Observations in the zero bucket.
    pub fn zero_count(&self) -> f64 {
        self.zero_count
    }

    /// Observations in all (`NaN` ones included).
    pub fn count(&self) -> f64 {
        self.count
    }

    /// The sum of the observations.
    pub fn sum(&self) -> f64 {
        self.sum
    }

    /// The positive buckets: `(key, count)`, keys ascending, empty ones left out.
    pub fn positive(&self) -> &[(i32, f64)] {
        &self.positive
    }

    /// The negative buckets: `(key, count)` by the key of the absolute value, ascending.
    pub fn negative(&self) -> &[(i32, f64)] {
        &self.negative
    }

    /// Every populated bucket from the lowest value to the highest, the zero bucket between
    /// the negative and the positive ones, bounds clipped at the zero threshold, as
    /// Prometheus' `AllBucketIterator`.
    pub fn buckets(&self) -> impl Iterator<Item = HistogramBucket> + '_ {
        let threshold = self.zero_threshold;
        let negative = self.negative.iter().rev().map(move |&(k, count)| {
            let upper = -upper_bound(k - 1, self.schema);
            HistogramBucket {
                lower: -upper_bound(k, self.schema),
                upper: if upper > -threshold {
                    -threshold
                } else {
                    upper
                },
                lower_inclusive: true,
                upper_inclusive: false,
                count,
            }
        });
        let zero = (self.zero_count > 0.0).then_some(HistogramBucket {
            lower: -threshold,
            upper: threshold,
            lower_inclusive: true,
            upper_inclusive: true,
            count: self.zero_count,
        });
        let positive = self.positive.iter().map(move |&(k, count)| {
            let lower = upper_bound(k - 1, self.schema);
            HistogramBucket {
                lower: if lower < threshold { threshold } else { lower },
                upper: upper_bound(k, self.schema),
                lower_inclusive: false,
                upper_inclusive: true,
                count,
            }
        });
        negative.chain(zero).chain(positive)
    }

    /// Multiplies every count and the sum by `factor`.
    pub fn scale(&mut self, factor: f64) {
        self.zero_count *= factor;
        self.count *= factor;
        self.sum *= factor;
        for (_, c) in self.positive.iter_mut().chain(self.negative.iter_mut()) {
            *c *= factor;
        }
    }

    /// This histogram at a coarser (or the same) schema: buckets merged.
    pub fn to_schema(&self, schema: i32) -> FloatHistogram {
        let schema = schema.clamp(MIN_SCHEMA, self.schema);
        let shift = self.schema - schema;
        let merge = |buckets: &[(i32, f64)]| {
            let mut out: Vec<(i32, f64)> = Vec::with_capacity(buckets.len());
            for &(k, c) in buckets {
                let k = ((k - 1) >> shift) + 1;
                match out.last_mut() {
                    Some((last, total)) if *last == k => *total += c,
                    _ => out.push((k, c)),
                }
            }
            out
        };
        FloatHistogram {
            schema,
            positive: merge(&self.positive),
            negative: merge(&self.negative),
            ..*self
        }
    }

    /// This histogram at `schema` if that is coarser, else itself, not copied.
    fn at_schema(&self, schema: i32) -> Cow<'_, FloatHistogram> {
        if schema >= self.schema {
            Cow::Borrowed(self)
        } else {
            Cow::Owned(self.to_schema(schema))
        }
    }

    /// Adds `other` in: the result has the coarser schema and the wider zero bucket.
    pub fn add(&mut self, other: &FloatHistogram) {
        self.combine(other, 1.0);
    }

    /// Subtracts `other`: the result has the coarser schema and the wider zero bucket.
    pub fn sub(&mut self, other: &FloatHistogram) {
        self.combine(other, -1.0);
    }

    fn combine(&mut self, other: &FloatHistogram, sign: f64) {
        if other.schema < self.schema {
            *self = self.to_schema(other.schema);
        }
        let other = other.at_schema(self.schema);
        let other_zero = self.reconcile_zero(&other);
        self.zero_count += sign * other_zero;
        self.count += sign * other.count;
        self.sum += sign * other.sum;
        let threshold = self.zero_threshold;
        let schema = self.schema;
        let outside = |&&(k, _): &&(i32, f64)| upper_bound(k, schema) > threshold;
        merge_into(
            &mut self.positive,
            other.positive.iter().filter(outside),
            sign,
        );
        merge_into(
            &mut self.negative,
            other.negative.iter().filter(outside),
            sign,
        );
    }

    /// Widens this histogram's zero bucket or reports `other`'s as wider, until both are
    /// the same and fall on no populated bucket of either; returns the zero count `other`
    /// has at that threshold.
    fn reconcile_zero(&mut self, other: &FloatHistogram) -> f64 {
        let mut other_count = other.zero_count;
        let mut other_threshold = other.zero_threshold;
        while other_threshold != self.zero_threshold {
            if self.zero_threshold > other_threshold {
                (other_count, other_threshold) = other.zero_count_at(self.zero_threshold);
            }
            if other_threshold > self.zero_threshold {
                (self.zero_count, self.zero_threshold) = self.zero_count_at(other_threshold);
                let (threshold, schema) = (self.zero_threshold, self.schema);
                self.positive
                    .retain(|&(k, _)| upper_bound(k - 1, schema) >= threshold);
                self.negative
                    .retain(|&(k, _)| upper_bound(k - 1, schema) >= threshold);
            }
        }
        other_count
    }

    /// The zero count with a threshold of at least `larger`, and that threshold: raised to
    /// the upper bound of a populated bucket it would cut through.
    fn zero_count_at(&self, mut larger: f64) -> (f64, f64) {
        if larger == self.zero_threshold {
            return (self.zero_count, larger);
        }
        'outer: loop {
            let mut count = self.zero_count;
            for &(k, c) in &self.positive {
                if upper_bound(k - 1, self.schema) >= larger {
                    break;
                }
                count += c;
                if upper_bound(k, self.schema) > larger {
                    larger = upper_bound(k, self.schema);
                    break;
                }
            }
            for &(k, c) in &self.negative {
                if upper_bound(k - 1, self.schema) >= larger {
                    break;
                }
                count += c;
                if upper_bound(k, self.schema) > larger {
                    larger = upper_bound(k, self.schema);
                    continue 'outer;
                }
            }
            return (count, larger);
        }
    }

    /// Whether going from `previous` to this is a counter reset: fewer observations, a
    /// finer schema, a narrower zero bucket, or any bucket with fewer, as Prometheus
    /// decides.
    pub fn is_reset_after(&self, previous: &FloatHistogram) -> bool {
        if self.count < previous.count
            || self.schema > previous.schema
            || self.zero_threshold < previous.zero_threshold
        {
            return true;
        }
        let (previous_zero, threshold) = previous.zero_count_at(self.zero_threshold);
        if threshold != self.zero_threshold || self.zero_count < previous_zero {
            return true;
        }
        let previous = previous.at_schema(self.schema);
        let outside = |k: i32| upper_bound(k, self.schema) > threshold;
        fewer_in_any(&self.positive, &previous.positive, outside)
            || fewer_in_any(&self.negative, &previous.negative, outside)
    }

    /// The `q` quantile of the observations, interpolated linearly within its bucket, as
    /// PromQL's `histogram_quantile` on a native histogram.
    pub fn quantile(&self, q: f64) -> f64 {
        if q < 0.0 {
            return f64::NEG_INFINITY;
        }
        if q > 1.0 {
            return f64::INFINITY;
        }
        if self.count == 0.0 || q.is_nan() {
            return f64::NAN;
        }
        let rank = q * self.count;
        let mut count = 0.0;
        let mut found = None;
        for bucket in self.buckets() {
            count += bucket.count;
            found = Some(bucket);
            if count >= rank {
                break;
            }
        }
        // Only NaN observations: no bucket, and Prometheus answers from an empty one.
        let mut bucket = found.unwrap_or(HistogramBucket {
            lower: 0.0,
            upper: 0.0,
            lower_inclusive: false,
            upper_inclusive: false,
            count: 0.0,
        });
        self.zero_bucket_to_one_side(&mut bucket);
        let count = count.min(self.count);
        if count < rank {
            return bucket.upper;
        }
        let rank = rank - (count - bucket.count);
        bucket.lower + (bucket.upper - bucket.lower) * (rank / bucket.count)
    }

    /// The share of observations between `lower` and `upper`, interpolated linearly within
    /// buckets, as PromQL's `histogram_fraction`.
    pub fn fraction(&self, lower: f64, upper: f64) -> f64 {
        if self.count == 0.0 || lower.is_nan() || upper.is_nan() {
            return f64::NAN;
        }
        if lower >= upper {
            return 0.0;
        }
        let mut rank = 0.0;
        let (mut lower_rank, mut upper_rank) = (None, None);
        for mut b in self.buckets() {
            self.zero_bucket_to_one_side(&mut b);
            if lower_rank.is_none() && b.lower >= lower {
                lower_rank = Some(rank);
            }
            if upper_rank.is_none() && b.lower >= upper {
                upper_rank = Some(rank);
            }
            if lower_rank.is_some() && upper_rank.is_some() {
                break;
            }
            if lower_rank.is_none() && b.lower < lower && b.upper > lower {
                lower_rank = Some(rank + b.count * (lower - b.lower) / (b.upper - b.lower));
            }
            if upper_rank.is_none() && b.lower < upper && b.upper > upper {
                upper_rank = Some(rank + b.count * (upper - b.lower) / (b.upper - b.lower));
            }
            if lower_rank.is_some() && upper_rank.is_some() {
                break;
            }
            rank += b.count;
        }
        let clamp = |r: Option<f64>| r.map_or(self.count, |r| r.min(self.count));
        (clamp(upper_rank) - clamp(lower_rank)) / self.count
    }

    /// The zero bucket of a histogram with buckets on one side only ends at zero.
    fn zero_bucket_to_one_side(&self, bucket: &mut HistogramBucket) {
        if bucket.lower < 0.0 && bucket.upper > 0.0 {
            if self.negative.is_empty() && !self.positive.is_empty() {
                bucket.lower = 0.0;
            } else if self.positive.is_empty() && !self.negative.is_empty() {
                bucket.upper = 0.0;
            }
        }
    }
}

/// Adds `sign × count` of each of `other`'s buckets into `buckets` (both by key ascending),
/// dropping buckets that end up empty.
fn merge_into<'o>(
    buckets: &mut Vec<(i32, f64)>,
    other: impl Iterator<Item = &'o (i32, f64)>,
    sign: f64,
) {
    let mine = std::mem::take(buckets);
    let mut mine = mine.into_iter().peekable();
    for &(k, c) in other {
        while let Some(&(mk, mc)) = mine.peek() {
            if mk >= k {
                break;
            }
            buckets.push((mk, mc));
            mine.next();
        }
        match mine.peek() {
            Some(&(mk, mc)) if mk == k => {
                mine.next();
                buckets.push((k, mc + sign * c));
            }
            _ => buckets.push((k, sign * c)),
        }
    }
    buckets.extend(mine);
    buckets.retain(|(_, c)| *c != 0.0);
}

/// Whether any bucket of `previous` outside the zero bucket (`outside` by key) has more than
/// the same bucket of `current` (a bucket missing from `current` has none).
fn fewer_in_any(
    current: &[(i32, f64)],
    previous: &[(i32, f64)],
    outside: impl Fn(i32) -> bool,
) -> bool {
    previous
        .iter()
        .filter(|(k, _)| outside(*k))
        .any(|&(k, before)| {
            let now = current
                .binary_search_by_key(&k, |&(ck, _)| ck)
                .map_or(0.0, |i| current[i].1);
            now < before
        })
}

#[cfg(feature = "protobuf")]
mod protobuf {
    use super::{FloatHistogram, HistogramError};
    use crate::encoding::protobuf::schema;

    impl FloatHistogram {
        /// Whether a protobuf histogram is native (spans, a zero bucket or a zero
        /// threshold), as Prometheus decides which histograms to ingest as native.
        pub(crate) fn is_native(h: &schema::Histogram) -> bool {
            h.zero_threshold() > 0.0
                || h.zero_count() > 0
                || h.zero_count_float() > 0.0
                || !h.positive_span.is_empty()
                || !h.negative_span.is_empty()
        }

        /// The native part of a protobuf histogram: integer counts from deltas, or float
        /// counts where the message has them (a float count or zero count above 0).
        pub(crate) fn from_protobuf(h: &schema::Histogram) -> Result<Self, HistogramError> {
            let floats = h.sample_count_float() > 0.0 || h.zero_count_float() > 0.0;
            let side = |spans: &[schema::BucketSpan], deltas: &[i64], counts: &[f64]| {
                let given = if floats { counts.len() } else { deltas.len() };
                let described: u64 = spans.iter().map(|s| u64::from(s.length())).sum();
                if described != given as u64 {
                    return Err(HistogramError::SpanLength {
                        spans: described,
                        buckets: given,
                    });
                }
                let mut out = Vec::with_capacity(given);
                let mut key: i64 = 0;
                let mut running: i64 = 0;
                let mut i = 0;
                for (n, span) in spans.iter().enumerate() {
                    if n > 0 && span.offset() < 0 {
                        return Err(HistogramError::BucketKeys);
                    }
                    key += i64::from(span.offset());
                    for _ in 0..span.length() {
                        if key.abs() > i64::from(super::MAX_KEY) {
                            return Err(HistogramError::BucketKeys);
                        }
                        let count = if floats {
                            counts[i]
                        } else {
                            running = running.saturating_add(deltas[i]);
                            if running < 0 {
                                return Err(HistogramError::Count(running as f64));
                            }
                            running as f64
                        };
                        out.push((key as i32, count));
                        key += 1;
                        i += 1;
                    }
                }
                Ok(out)
            };
            let positive = side(&h.positive_span, &h.positive_delta, &h.positive_count)?;
            let negative = side(&h.negative_span, &h.negative_delta, &h.negative_count)?;
            let (count, zero_count) = if floats {
                (h.sample_count_float(), h.zero_count_float())
            } else {
                (h.sample_count() as f64, h.zero_count() as f64)
            };
            let histogram = FloatHistogram::new(
                h.schema(),
                h.zero_threshold(),
                zero_count,
                count,
                h.sample_sum(),
                positive,
                negative,
            )?;
            let in_buckets = histogram.zero_count
                + histogram
                    .positive
                    .iter()
                    .chain(&histogram.negative)
                    .map(|(_, c)| c)
                    .sum::<f64>();
            if in_buckets > histogram.count {
                return Err(HistogramError::CountTooSmall {
                    count: histogram.count,
                    buckets: in_buckets,
                });
            }
            Ok(histogram)
        }
    }
}

#[cfg(all(test, feature = "protobuf"))]
mod protobuf_tests {
    use super::*;
    use crate::encoding::protobuf::schema::{BucketSpan, Histogram};
    use crate::encoding::Format;
    use crate::parse::protobuf_samples;
    use crate::{NativeConfig, NativeHistogram, Registry};

    fn span(offset: i32, length: u32) -> BucketSpan {
        BucketSpan {
            offset: Some(offset),
            length: Some(length),
        }
    }

    fn message(deltas: Vec<i64>, count: u64) -> Histogram {
        Histogram {
            sample_count: Some(count),
            sample_sum: Some(1.5),
            schema: Some(1),
            zero_threshold: Some(0.001),
            zero_count: Some(1),
            positive_span: vec![span(-1, 2), span(2, 1)],
            positive_delta: deltas,
            ..Histogram::default()
        }
    }

    #[test]
    fn deltas_and_spans_become_buckets() {
        let h = FloatHistogram::from_protobuf(&message(vec![1, 1, -1], 5)).expect("valid");
        assert_eq!(h.positive(), &[(-1, 1.0), (0, 2.0), (3, 1.0)]);
        assert_eq!((h.schema(), h.zero_count(), h.count()), (1, 1.0, 5.0));
        assert!(FloatHistogram::is_native(&message(vec![], 0)));
        assert!(!FloatHistogram::is_native(&Histogram::default()));

        let floats = Histogram {
            sample_count_float: Some(2.5),
            positive_count: vec![0.5, 1.0, 1.0],
            zero_count_float: Some(0.0),
            ..message(vec![], 0)
        };
        let h = FloatHistogram::from_protobuf(&floats).expect("valid");
        assert_eq!(h.positive(), &[(-1, 0.5), (0, 1.0), (3, 1.0)]);
    }

    #[test]
    fn malformed_histograms_say_what_is_wrong() {
        let from = |h: Histogram| FloatHistogram::from_protobuf(&h).map(|_| ());
        assert_eq!(
            from(message(vec![1, 1], 5)),
            Err(HistogramError::SpanLength {
                spans: 3,
                buckets: 2
            })
        );
        assert_eq!(
            from(message(vec![1, -2, 1], 5)),
            Err(HistogramError::Count(-1.0))
        );
        assert_eq!(
            from(message(vec![1, 1, -1], 4)),
            Err(HistogramError::CountTooSmall {
                count: 4.0,
                buckets: 5.0
            })
        );
        let far = Histogram {
            positive_span: vec![span(i32::MAX, 1), span(i32::MAX, 1), span(0, 1)],
            ..message(vec![1, 0, 0], 9)
        };
        assert_eq!(from(far), Err(HistogramError::BucketKeys));
        let backwards = Histogram {
            positive_span: vec![span(0, 1), span(-3, 2)],
            ..message(vec![1, 0, 0], 9)
        };
        assert_eq!(from(backwards), Err(HistogramError::BucketKeys));
    }

    #[test]
    fn a_native_histogram_gets_a_sample_of_its_own_before_its_classic_ones() {
        let registry = Registry::new();
        let h = registry
            .register(
                "h",
                "",
                NativeHistogram::new(NativeConfig::new(2.0).expect("valid")),
            )
            .expect("registers");
        h.observe(3.0);
        let mut body = Vec::new();
        registry
            .encode(Format::Protobuf, &mut body)
            .expect("encodes");
        let samples: Vec<_> = protobuf_samples(&body)
            .collect::<Result<_, _>>()
            .expect("valid");
        let names: Vec<_> = samples.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["h", "h_bucket", "h_sum", "h_count"]);
        let native = samples[0].histogram.as_ref().expect("native");
        assert_eq!((native.count(), native.positive()), (1.0, &[(2, 1.0)][..]));
        assert!(samples[1..].iter().all(|s| s.histogram.is_none()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(schema: i32, zero: (f64, f64), pos: &[(i32, f64)], neg: &[(i32, f64)]) -> FloatHistogram {
        let count = zero.1 + pos.iter().chain(neg).map(|(_, c)| c).sum::<f64>();
        FloatHistogram::new(
            schema,
            zero.0,
            zero.1,
            count,
            0.0,
            pos.to_vec(),
            neg.to_vec(),
        )
        .unwrap()
    }

    /// The histogram of `values` at `schema`, zero threshold 0 (no zeros among them).
    fn of(values: &[f64], schema: i32) -> FloatHistogram {
        let mut positive = std::collections::BTreeMap::new();
        let mut negative = std::collections::BTreeMap::new();
        for &v in values {
            let side = if v > 0.0 {
                &mut positive
            } else {
                &mut negative
            };
            *side
                .entry(crate::metrics::native::schema::key(v, schema))
                .or_insert(0.0) += 1.0;
        }
        let count = values.len() as f64;
        let sum = values.iter().sum();
        let (p, n) = (
            positive.into_iter().collect(),
            negative.into_iter().collect(),
        );
        FloatHistogram::new(schema, 0.0, 0.0, count, sum, p, n).expect("valid")
    }

    fn observations() -> impl proptest::strategy::Strategy<Value = Vec<f64>> {
        let value = proptest::prop_oneof![1e-3f64..1e3, -1e3f64..-1e-3];
        proptest::collection::vec(value, 0..100)
    }

    proptest::proptest! {
        #[test]
        fn sums_and_differences_hold_exactly_the_observations(
            a in observations(),
            b in observations(),
            schema_a in MIN_SCHEMA..=MAX_SCHEMA,
            schema_b in MIN_SCHEMA..=MAX_SCHEMA,
        ) {
            let coarse = schema_a.min(schema_b);
            let mut sum = of(&a, schema_a);
            sum.add(&of(&b, schema_b));
            let all: Vec<f64> = a.iter().chain(&b).copied().collect();
            let want = of(&all, coarse);
            proptest::prop_assert_eq!(sum.schema(), coarse);
            proptest::prop_assert_eq!(sum.positive(), want.positive());
            proptest::prop_assert_eq!(sum.negative(), want.negative());
            proptest::prop_assert_eq!(sum.count(), want.count());
            sum.sub(&of(&b, schema_b));
            let back = of(&a, coarse);
            proptest::prop_assert_eq!(sum.positive(), back.positive());
            proptest::prop_assert_eq!(sum.negative(), back.negative());
            proptest::prop_assert!(!sum.is_reset_after(&back));
            // Quantiles never decrease with q, and stay within the observations' buckets.
            let mut last = f64::NEG_INFINITY;
            for q in [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0] {
                let v = want.quantile(q);
                if all.is_empty() {
                    proptest::prop_assert!(v.is_nan());
                    continue;
                }
                proptest::prop_assert!(v >= last, "{} at {}", v, q);
                last = v;
            }
        }
    }

    #[test]
    fn buckets_run_from_lowest_to_highest_with_prometheus_bounds() {
        let x = h(0, (0.5, 2.0), &[(1, 3.0), (3, 1.0)], &[(0, 1.0), (2, 4.0)]);
        let got: Vec<_> = x
            .buckets()
            .map(|b| {
                (
                    b.lower,
                    b.upper,
                    b.lower_inclusive,
                    b.upper_inclusive,
                    b.count,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (-4.0, -2.0, true, false, 4.0),
                (-1.0, -0.5, true, false, 1.0),
                (-0.5, 0.5, true, true, 2.0),
                (1.0, 2.0, false, true, 3.0),
                (4.0, 8.0, false, true, 1.0),
            ]
        );
    }

    #[test]
    fn quantiles_interpolate_and_handle_the_edges() {
        let x = h(0, (0.0, 0.0), &[(1, 2.0), (2, 2.0)], &[]);
        assert_eq!(x.quantile(0.5), 2.0);
        assert_eq!(x.quantile(0.75), 3.0);
        assert_eq!(x.quantile(-1.0), f64::NEG_INFINITY);
        assert_eq!(x.quantile(2.0), f64::INFINITY);
        assert!(x.quantile(f64::NAN).is_nan());
        let zero_only_positive = h(0, (1.0, 2.0), &[(2, 2.0)], &[]);
        assert_eq!(zero_only_positive.quantile(0.25), 0.5);
        // NaN observations count but sit in no bucket: the highest bucket's bound.
        let mut with_nan = x.clone();
        with_nan.count += 4.0;
        assert_eq!(with_nan.quantile(0.9), 4.0);
        assert!(FloatHistogram::new(0, 0.0, 0.0, 0.0, 0.0, vec![], vec![])
            .unwrap()
            .quantile(0.5)
            .is_nan());
    }

    #[test]
    fn fractions_are_the_inverse_of_quantiles() {
        let x = h(1, (0.0, 0.0), &[(1, 1.0), (2, 3.0), (5, 4.0)], &[(1, 2.0)]);
        for q in [0.1, 0.3, 0.5, 0.77, 0.9] {
            let v = x.quantile(q);
            assert!((x.fraction(f64::NEG_INFINITY, v) - q).abs() < 1e-12, "{q}");
        }
        assert_eq!(x.fraction(1.0, 1.0), 0.0);
        assert!(x.fraction(f64::NAN, 1.0).is_nan());
        assert_eq!(x.fraction(f64::NEG_INFINITY, f64::INFINITY), 1.0);
    }

    #[test]
    fn schemas_merge_pairs_of_buckets() {
        let x = h(
            2,
            (0.0, 0.0),
            &[(-1, 1.0), (0, 1.0), (1, 2.0), (2, 3.0), (5, 1.0)],
            &[],
        );
        let coarse = x.to_schema(1);
        assert_eq!(coarse.positive(), &[(0, 2.0), (1, 5.0), (3, 1.0)]);
        assert_eq!(x.to_schema(0).positive(), &[(0, 2.0), (1, 5.0), (2, 1.0)]);
        for q in [0.2, 0.5, 0.8] {
            // Same observations, coarser buckets: the quantile stays within the coarse one.
            let (fine, coarse) = (x.quantile(q), coarse.quantile(q));
            assert!(
                (fine / coarse).log2().abs() <= 0.5,
                "{q}: {fine} vs {coarse}"
            );
        }
    }

    #[test]
    fn adding_and_subtracting_reconcile_schema_and_zero_bucket() {
        let mut a = h(1, (0.0, 0.0), &[(1, 1.0), (3, 2.0)], &[]);
        let b = h(0, (0.0, 0.0), &[(1, 1.0), (2, 1.0)], &[]);
        a.add(&b);
        assert_eq!(a.schema(), 0);
        assert_eq!(a.positive(), &[(1, 2.0), (2, 3.0)]);
        assert_eq!(a.count(), 5.0);
        a.sub(&b);
        assert_eq!(a.positive(), &[(1, 1.0), (2, 2.0)]);
        assert_eq!(a.count(), 3.0);

        // A wider zero bucket swallows the other's buckets below it.
        let mut narrow = h(0, (0.25, 1.0), &[(0, 2.0), (3, 1.0)], &[]);
        let wide = h(0, (1.0, 3.0), &[(2, 1.0)], &[]);
        narrow.add(&wide);
        assert_eq!(narrow.zero_threshold(), 1.0);
        assert_eq!(narrow.zero_count(), 6.0);
        assert_eq!(narrow.positive(), &[(2, 1.0), (3, 1.0)]);
        assert_eq!(narrow.count(), 8.0);
    }

    #[test]
    fn resets_are_detected_bucket_by_bucket() {
        let before = h(0, (0.0, 0.0), &[(1, 2.0), (2, 2.0)], &[]);
        let more = h(0, (0.0, 0.0), &[(1, 3.0), (2, 2.0)], &[]);
        assert!(!more.is_reset_after(&before));
        // Same count, but one bucket went down.
        let moved = h(0, (0.0, 0.0), &[(1, 1.0), (2, 3.0)], &[]);
        assert!(moved.is_reset_after(&before));
        let finer = h(1, (0.0, 0.0), &[(1, 2.0), (3, 2.0)], &[]);
        assert!(finer.is_reset_after(&before));
        let coarser = before.to_schema(-1);
        let mut grown = coarser.clone();
        grown.count += 1.0;
        assert!(!grown.is_reset_after(&before));
    }

    #[test]
    fn invalid_parts_are_refused_with_what_is_wrong() {
        let new = |schema, pos: Vec<(i32, f64)>| {
            FloatHistogram::new(schema, 0.0, 0.0, 9.0, 0.0, pos, vec![])
        };
        assert_eq!(new(9, vec![]), Err(HistogramError::Schema(9)));
        assert_eq!(
            new(0, vec![(2, 1.0), (1, 1.0)]),
            Err(HistogramError::BucketKeys)
        );
        assert_eq!(
            new(0, vec![(MAX_KEY + 1, 1.0)]),
            Err(HistogramError::BucketKeys)
        );
        assert_eq!(new(0, vec![(1, -1.0)]), Err(HistogramError::Count(-1.0)));
        assert_eq!(
            FloatHistogram::new(0, f64::NAN, 0.0, 0.0, 0.0, vec![], vec![])
                .map(|_| ())
                .unwrap_err()
                .to_string(),
            "zero threshold NaN is not >= 0"
        );
    }
}
