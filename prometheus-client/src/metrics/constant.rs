//! Constant histograms and summaries: state computed elsewhere, relayed by a collector.

use std::fmt;

use super::buckets::Buckets;
use super::histogram::encode_histogram;
use super::summary::{encode_summary, Objective};
use super::{Metric, TypedMetric};
use crate::encoding::MetricEncoder;
use crate::MetricType;

/// Why a constant metric's parts were refused.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ConstMetricError {
    /// Not one cumulative count per bound plus one for `+Inf`.
    BucketCount {
        /// Counts needed.
        expected: usize,
        /// Counts given.
        got: usize,
    },
    /// A cumulative count below the one before it.
    Decreasing {
        /// Its position.
        index: usize,
    },
    /// A quantile outside 0 to 1, NaN, or given twice.
    InvalidQuantile(f64),
}

impl fmt::Display for ConstMetricError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConstMetricError::BucketCount { expected, got } => {
                write!(
                    f,
                    "expected {expected} cumulative bucket counts (+Inf included), got {got}"
                )
            }
            ConstMetricError::Decreasing { index } => {
                write!(
                    f,
                    "cumulative bucket count {index} is below the one before it"
                )
            }
            ConstMetricError::InvalidQuantile(q) => {
                write!(f, "quantile {q} is not between 0 and 1, or is given twice")
            }
        }
    }
}

impl std::error::Error for ConstMetricError {}

/// A histogram whose state was computed elsewhere, for a [`Collector`](crate::Collector).
///
/// ```
/// use prometheus_client::{Buckets, ConstHistogram, Registry, encoding::Format};
///
/// let h = ConstHistogram::new(Buckets::new(&[1.0, 5.0])?, &[2, 7, 9], 31.5)?;
/// let registry = Registry::new();
/// registry.register("relayed", "", h)?;
/// assert_eq!(registry.encode_to_string(Format::Text)?, "\
/// ## TYPE relayed histogram
/// relayed_bucket{le=\"1\"} 2
/// relayed_bucket{le=\"5\"} 7
/// relayed_bucket{le=\"+Inf\"} 9
/// relayed_sum 31.5
/// relayed_count 9
/// ");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ConstHistogram {
    buckets: Buckets,
    counts: Box<[u64]>,
    sum: f64,
    count: u64,
}

impl ConstHistogram {
    /// A histogram with these cumulative counts (one per bound, then `+Inf`, which is also the
    /// count) and this sum.
    pub fn new(buckets: Buckets, cumulative: &[u64], sum: f64) -> Result<Self, ConstMetricError> {
        let expected = buckets.bounds().len() + 1;
        if cumulative.len() != expected {
            return Err(ConstMetricError::BucketCount {
                expected,
                got: cumulative.len(),
            });
        }
        if let Some(i) = cumulative.windows(2).position(|w| w[1] < w[0]) {
            return Err(ConstMetricError::Decreasing { index: i + 1 });
        }
        let counts = std::iter::once(cumulative[0])
            .chain(cumulative.windows(2).map(|w| w[1] - w[0]))
            .collect();
        Ok(ConstHistogram {
            buckets,
            counts,
            sum,
            count: cumulative[expected - 1],
        })
    }
}

impl Metric for ConstHistogram {
    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
    fn encode(&self, encoder: &mut MetricEncoder<'_>) {
        let counts = self.counts.iter().copied();
        encode_histogram(encoder, &self.buckets, counts, None, self.sum, self.count);
    }
}

impl TypedMetric for ConstHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

/// A summary whose state was computed elsewhere, for a [`Collector`](crate::Collector).
///
/// ```
/// use prometheus_client::{ConstSummary, Registry, encoding::Format};
///
/// let s = ConstSummary::new(&[(0.5, 0.2), (0.99, 1.5)], 40.0, 100)?;
/// let registry = Registry::new();
/// registry.register("rpc_seconds", "", s)?;
/// assert!(registry
///     .encode_to_string(Format::OpenMetrics)?
///     .contains("rpc_seconds{quantile=\"0.99\"} 1.5\nrpc_seconds_count 100\nrpc_seconds_sum 40.0\n"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ConstSummary {
    quantiles: Box<[(Objective, f64)]>,
    sum: f64,
    count: u64,
}

impl ConstSummary {
    /// A summary with these `(quantile, value)` pairs, sum and count.
    pub fn new(quantiles: &[(f64, f64)], sum: f64, count: u64) -> Result<Self, ConstMetricError> {
        let mut sorted = quantiles.to_vec();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (i, &(q, _)) in sorted.iter().enumerate() {
            if !(0.0..=1.0).contains(&q) || (i > 0 && sorted[i - 1].0 == q) {
                return Err(ConstMetricError::InvalidQuantile(q));
            }
        }
        Ok(ConstSummary {
            quantiles: sorted
                .into_iter()
                .map(|(q, v)| (Objective::new(q), v))
                .collect(),
            sum,
            count,
        })
    }
}

impl Clone for ConstSummary {
    fn clone(&self) -> Self {
        ConstSummary {
            quantiles: self
                .quantiles
                .iter()
                .map(|(o, v)| (Objective::new(o.quantile), *v))
                .collect(),
            sum: self.sum,
            count: self.count,
        }
    }
}

impl fmt::Debug for ConstSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quantiles: Vec<(f64, f64)> = self
            .quantiles
            .iter()
            .map(|(o, v)| (o.quantile, *v))
            .collect();
        f.debug_struct("ConstSummary")
            .field("quantiles", &quantiles)
            .field("sum", &self.sum)
            .field("count", &self.count)
            .finish()
    }
}

impl Metric for ConstSummary {
    fn metric_type(&self) -> MetricType {
        MetricType::Summary
    }
    fn encode(&self, encoder: &mut MetricEncoder<'_>) {
        let quantiles = self.quantiles.iter().map(|(o, v)| (o, *v));
        encode_summary(encoder, quantiles, self.sum, self.count);
    }
}

impl TypedMetric for ConstSummary {
    const TYPE: MetricType = MetricType::Summary;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_checked() {
        let b = Buckets::new(&[1.0]).expect("valid");
        assert_eq!(
            ConstHistogram::new(b.clone(), &[1], 0.0).unwrap_err(),
            ConstMetricError::BucketCount {
                expected: 2,
                got: 1
            }
        );
        assert_eq!(
            ConstHistogram::new(b, &[3, 2], 0.0).unwrap_err(),
            ConstMetricError::Decreasing { index: 1 }
        );
        assert!(ConstSummary::new(&[(1.5, 0.0)], 0.0, 0).is_err());
        assert!(ConstSummary::new(&[(0.5, 0.0), (0.5, 1.0)], 0.0, 0).is_err());
    }
}
