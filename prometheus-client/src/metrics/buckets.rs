//! Histogram bucket layouts: validation, the usual builders, and the pre-rendered `le` labels.

use std::fmt;

use crate::encoding::{float_label, Format};

/// client_golang's `DefBuckets`, for latencies in seconds from 5 ms to 10 s.
pub const DEFAULT_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Why a bucket layout was refused.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum BucketError {
    /// A bound is NaN.
    NaN {
        /// Its position.
        index: usize,
    },
    /// A bound is not greater than the one before it.
    NotIncreasing {
        /// Its position.
        index: usize,
        /// The bound before it.
        previous: f64,
        /// The bound itself.
        bound: f64,
    },
    /// `+Inf` appears before the last bound (it is implicit; a trailing one is ignored).
    InfinityNotLast {
        /// Its position.
        index: usize,
    },
    /// A builder was asked for something impossible, such as zero buckets.
    InvalidBuilder(&'static str),
}

impl fmt::Display for BucketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BucketError::NaN { index } => write!(f, "bucket bound {index} is NaN"),
            BucketError::NotIncreasing {
                index,
                previous,
                bound,
            } => write!(
                f,
                "bucket bounds must increase: bound {index} ({bound}) is not above {previous}"
            ),
            BucketError::InfinityNotLast { index } => {
                write!(f, "bucket bound {index} is +Inf but is not the last bound")
            }
            BucketError::InvalidBuilder(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for BucketError {}

/// A validated list of bucket upper bounds, with their `le` labels rendered once for both
/// formats. The `+Inf` bucket is implicit.
///
/// ```
/// use prometheus_client::Buckets;
/// let layout = Buckets::new(&[0.1, 0.5, 1.0])?;
/// assert_eq!(layout.bounds(), &[0.1, 0.5, 1.0]);
/// assert!(Buckets::new(&[1.0, 0.5]).is_err());
/// assert!(Buckets::new(&[0.1, f64::NAN]).is_err());
/// # Ok::<(), prometheus_client::BucketError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Buckets {
    bounds: Box<[f64]>,
    /// `le="…"` for each bound and then `+Inf`, in text 0.0.4 form (`le="1"`).
    le_text: Box<[Box<str>]>,
    /// The same in OpenMetrics canonical form (`le="1.0"`).
    le_openmetrics: Box<[Box<str>]>,
}

impl Buckets {
    /// Validates `bounds`: no NaN, strictly increasing; a trailing `+Inf` is dropped.
    pub fn new(bounds: &[f64]) -> Result<Self, BucketError> {
        let bounds = match bounds.split_last() {
            Some((last, rest)) if *last == f64::INFINITY => rest,
            _ => bounds,
        };
        for (index, &bound) in bounds.iter().enumerate() {
            if bound.is_nan() {
                return Err(BucketError::NaN { index });
            }
            if bound == f64::INFINITY {
                return Err(BucketError::InfinityNotLast { index });
            }
            if index > 0 && bound <= bounds[index - 1] {
                return Err(BucketError::NotIncreasing {
                    index,
                    previous: bounds[index - 1],
                    bound,
                });
            }
        }
        let render = |format| -> Box<[Box<str>]> {
            bounds
                .iter()
                .chain(std::iter::once(&f64::INFINITY))
                .map(|&b| float_label("le", b, format))
                .collect()
        };
        Ok(Buckets {
            bounds: bounds.into(),
            le_text: render(Format::Text),
            le_openmetrics: render(Format::OpenMetrics),
        })
    }

    /// `count` buckets starting at `start`, each `width` above the previous.
    ///
    /// ```
    /// let b = prometheus_client::Buckets::linear(1.0, 2.0, 3)?;
    /// assert_eq!(b.bounds(), &[1.0, 3.0, 5.0]);
    /// # Ok::<(), prometheus_client::BucketError>(())
    /// ```
    pub fn linear(start: f64, width: f64, count: usize) -> Result<Self, BucketError> {
        if count == 0 {
            return Err(BucketError::InvalidBuilder(
                "linear buckets need a count of at least 1",
            ));
        }
        let valid = width > 0.0 && start.is_finite() && width.is_finite();
        if !valid {
            return Err(BucketError::InvalidBuilder(
                "linear buckets need a finite start and a finite positive width",
            ));
        }
        let bounds: Vec<f64> = (0..count).map(|i| start + width * i as f64).collect();
        Self::new(&bounds)
    }

    /// `count` buckets starting at `start`, each `factor` times the previous.
    ///
    /// ```
    /// let b = prometheus_client::Buckets::exponential(1.0, 10.0, 3)?;
    /// assert_eq!(b.bounds(), &[1.0, 10.0, 100.0]);
    /// # Ok::<(), prometheus_client::BucketError>(())
    /// ```
    pub fn exponential(start: f64, factor: f64, count: usize) -> Result<Self, BucketError> {
        if count == 0 {
            return Err(BucketError::InvalidBuilder(
                "exponential buckets need a count of at least 1",
            ));
        }
        let valid = start > 0.0 && factor > 1.0 && start.is_finite() && factor.is_finite();
        if !valid {
            return Err(BucketError::InvalidBuilder(
                "exponential buckets need a finite start above 0 and a finite factor above 1",
            ));
        }
        let bounds: Vec<f64> = (0..count).map(|i| start * factor.powi(i as i32)).collect();
        Self::new(&bounds)
    }

    /// The upper bounds, without the implicit `+Inf`.
    pub fn bounds(&self) -> &[f64] {
        &self.bounds
    }

    /// The index of the bucket `v` falls in (`bounds().len()` for `+Inf`, NaN included).
    #[inline]
    pub(crate) fn index_of(&self, v: f64) -> usize {
        // The first bound >= v. NaN compares false everywhere and lands in +Inf, as
        // client_golang does. Up to a few dozen bounds, a linear scan (which the compiler
        // unrolls, with well-predicted branches) beats a binary search, as client_golang
        // also found.
        const LINEAR_UP_TO: usize = 32;
        if self.bounds.len() <= LINEAR_UP_TO {
            return self
                .bounds
                .iter()
                .position(|&b| v <= b)
                .unwrap_or(self.bounds.len());
        }
        if v.is_nan() {
            return self.bounds.len();
        }
        self.bounds.partition_point(|&b| b < v)
    }

    /// Whether a bound is negative. OpenMetrics then forbids `_sum` (it would no longer be a
    /// counter), and so `_count`, which may only appear with `_sum`.
    pub(crate) fn has_negative_bounds(&self) -> bool {
        self.bounds.first().is_some_and(|b| *b < 0.0)
    }

    /// The rendered `le` label of bucket `index` in text (`false`) or OpenMetrics form.
    #[inline]
    pub(crate) fn le_label(&self, index: usize, openmetrics: bool) -> &str {
        if openmetrics {
            &self.le_openmetrics[index]
        } else {
            &self.le_text[index]
        }
    }
}

impl Default for Buckets {
    fn default() -> Self {
        Buckets::new(&DEFAULT_BUCKETS).unwrap_or_else(|_| unreachable!("DEFAULT_BUCKETS are valid"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_infinity_is_implicit() {
        let b = Buckets::new(&[1.0, f64::INFINITY]).expect("valid");
        assert_eq!(b.bounds(), &[1.0]);
        assert_eq!(b.le_label(1, false), "le=\"+Inf\"");
        assert_eq!(b.le_label(0, true), "le=\"1.0\"");
        assert_eq!(b.le_label(0, false), "le=\"1\"");
    }

    #[test]
    fn errors_name_the_offending_bound() {
        assert_eq!(
            Buckets::new(&[0.1, 0.1]),
            Err(BucketError::NotIncreasing {
                index: 1,
                previous: 0.1,
                bound: 0.1
            })
        );
        assert_eq!(
            Buckets::new(&[f64::INFINITY, 1.0]),
            Err(BucketError::InfinityNotLast { index: 0 })
        );
        assert!(Buckets::linear(0.0, 0.0, 3).is_err());
        assert!(Buckets::exponential(0.0, 2.0, 3).is_err());
        assert!(Buckets::exponential(1.0, 2.0, 0).is_err());
    }

    #[test]
    fn an_observation_lands_in_the_first_bucket_that_holds_it() {
        let b = Buckets::new(&[1.0, 2.0]).expect("valid");
        assert_eq!(b.index_of(0.5), 0);
        assert_eq!(b.index_of(1.0), 0);
        assert_eq!(b.index_of(1.5), 1);
        assert_eq!(b.index_of(3.0), 2);
        assert_eq!(b.index_of(f64::NAN), 2);
        assert_eq!(b.index_of(f64::NEG_INFINITY), 0);
    }

    #[test]
    fn default_buckets_equal_client_golang() {
        assert_eq!(Buckets::default().bounds(), &DEFAULT_BUCKETS);
    }
}
