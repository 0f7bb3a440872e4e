//! A metric whose samples carry an explicit timestamp.

use std::ops::Deref;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{ChildLabels, Metric, TypedMetric};
use crate::encoding::MetricEncoder;
use crate::MetricType;

/// A metric whose samples carry the time they were measured, for a
/// [`Collector`](crate::Collector) relaying values from another system (live values should
/// carry none: the scraper stamps them). Text 0.0.4 writes integer milliseconds, OpenMetrics
/// float seconds, as client_golang does. Any metric can be wrapped: a gauge, a counter, a
/// [`ConstHistogram`](crate::ConstHistogram) or [`ConstSummary`](crate::ConstSummary), or the
/// children of a [`Family`](crate::Family).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use prometheus_client::{Gauge, Registry, Timestamped, encoding::Format};
///
/// let measured = UNIX_EPOCH + Duration::from_millis(1_700_000_000_250);
/// let reading = Timestamped::new(Gauge::<f64>::new(), measured);
/// reading.set(21.5);
/// let registry = Registry::new();
/// registry.register("room_temperature_celsius", "", reading)?;
/// assert_eq!(
///     registry.encode_to_string(Format::Text)?,
///     "# TYPE room_temperature_celsius gauge\nroom_temperature_celsius 21.5 1700000000250\n"
/// );
/// assert_eq!(
///     registry.encode_to_string(Format::OpenMetrics)?,
///     "# TYPE room_temperature_celsius gauge\nroom_temperature_celsius 21.5 1.70000000025e+09\n# EOF\n"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Timestamped<M> {
    metric: M,
    millis: i64,
}

impl<M> Timestamped<M> {
    /// `metric`, its samples stamped with `at` (to the millisecond, before the epoch too).
    pub fn new(metric: M, at: SystemTime) -> Self {
        let millis = match at.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
            Err(before) => i64::try_from(before.duration().as_millis()).map_or(i64::MIN, |m| -m),
        };
        Self::from_millis(metric, millis)
    }

    /// `metric`, its samples stamped with `millis` milliseconds since the Unix epoch.
    pub fn from_millis(metric: M, millis: i64) -> Self {
        Timestamped { metric, millis }
    }

    /// The timestamp, in milliseconds since the Unix epoch.
    pub fn millis(&self) -> i64 {
        self.millis
    }

    /// The metric, without its timestamp.
    pub fn into_inner(self) -> M {
        self.metric
    }
}

impl<M> Deref for Timestamped<M> {
    type Target = M;

    fn deref(&self) -> &M {
        &self.metric
    }
}

impl<M: Metric> Metric for Timestamped<M> {
    fn metric_type(&self) -> MetricType {
        self.metric.metric_type()
    }

    fn encode(&self, encoder: &mut MetricEncoder<'_>) {
        self.metric.encode(&mut encoder.with_timestamp(self.millis));
    }

    fn child_labels(&self) -> ChildLabels<'_> {
        self.metric.child_labels()
    }

    fn start_created_timestamp(&self) {
        self.metric.start_created_timestamp();
    }
}

impl<M: TypedMetric> TypedMetric for Timestamped<M> {
    const TYPE: MetricType = M::TYPE;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times_before_the_epoch_are_negative() {
        let before = UNIX_EPOCH - Duration::from_millis(1500);
        assert_eq!(Timestamped::new((), before).millis(), -1500);
        assert_eq!(Timestamped::new((), UNIX_EPOCH).millis(), 0);
    }
}
