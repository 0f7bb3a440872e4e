//! Gauge: a value that goes up and down.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::number::{Number, NumberAtomic};
use super::{Metric, TypedMetric};
use crate::encoding::{ExtraLabel, MetricEncoder};
use crate::MetricType;

/// A value that can go up and down, such as a queue length or a temperature.
///
/// `Gauge` holds an `f64`; `Gauge<i64>` holds an integer. Cloning gives another handle to
/// the same value; every update is one atomic operation (a compare-and-swap loop for `f64`
/// additions).
///
/// ```
/// use prometheus_client::{Gauge, Registry, encoding::Format};
///
/// let registry = Registry::new();
/// let queue = registry.register("queue_length", "Jobs waiting.", Gauge::<i64>::default())?;
/// queue.inc();
/// queue.add(5);
/// queue.dec();
/// assert_eq!(queue.get(), 5);
/// assert_eq!(
///     registry.encode_to_string(Format::Text)?,
///     "# HELP queue_length Jobs waiting.\n# TYPE queue_length gauge\nqueue_length 5\n"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Gauge<N: Number = f64> {
    value: Arc<N::Atomic>,
}

impl Gauge {
    /// An `f64` gauge at zero. (`Gauge::<i64>::default()` makes an integer one.)
    pub fn new() -> Self {
        Self::default()
    }
}

impl<N: Number> Gauge<N> {
    /// Replaces the value.
    #[inline]
    pub fn set(&self, v: N) {
        self.value.set(v);
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.value.add(N::ONE);
    }

    /// Subtracts one.
    #[inline]
    pub fn dec(&self) {
        self.value.add(N::ONE.negate());
    }

    /// Adds `v` (which may be negative).
    #[inline]
    pub fn add(&self, v: N) {
        self.value.add(v);
    }

    /// Subtracts `v`.
    #[inline]
    pub fn sub(&self, v: N) {
        self.value.add(v.negate());
    }

    /// The current value.
    #[inline]
    pub fn get(&self) -> N {
        self.value.get()
    }

    /// Sets the value to the current Unix time in seconds (whole seconds for `i64`).
    ///
    /// ```
    /// let last_success = prometheus_client::Gauge::new();
    /// last_success.set_to_current_time();
    /// assert!(last_success.get() > 1.7e9);
    /// ```
    pub fn set_to_current_time(&self) {
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        self.set(N::from_unix_seconds(seconds));
    }
}

impl<N: Number> Default for Gauge<N> {
    fn default() -> Self {
        Gauge {
            value: Arc::new(N::Atomic::new(N::ZERO)),
        }
    }
}

impl<N: Number> Clone for Gauge<N> {
    fn clone(&self) -> Self {
        Gauge {
            value: Arc::clone(&self.value),
        }
    }
}

impl<N: Number> fmt::Debug for Gauge<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gauge").field("value", &self.get()).finish()
    }
}

impl<N: Number> Metric for Gauge<N> {
    fn metric_type(&self) -> MetricType {
        MetricType::Gauge
    }
    fn encode(&self, encoder: &mut MetricEncoder<'_>) {
        encoder.sample("", ExtraLabel::None, self.get().sample_value(), None);
    }
}

impl<N: Number> TypedMetric for Gauge<N> {
    const TYPE: MetricType = MetricType::Gauge;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_gauge_goes_both_ways() {
        let g = Gauge::<i64>::default();
        g.sub(3);
        assert_eq!(g.get(), -3);
        g.add(10);
        g.dec();
        assert_eq!(g.get(), 6);
    }

    #[test]
    fn float_gauge_keeps_special_values() {
        let g = Gauge::new();
        g.set(f64::NEG_INFINITY);
        assert_eq!(g.get(), f64::NEG_INFINITY);
        g.set(-0.0);
        assert!(g.get().is_sign_negative());
    }

    #[test]
    fn concurrent_adds_and_subs_cancel_out() {
        let g = Gauge::new();
        let threads: Vec<_> = (0..4)
            .map(|i| {
                let g = g.clone();
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        if i % 2 == 0 {
                            g.add(0.25);
                        } else {
                            g.sub(0.25);
                        }
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().expect("adder"));
        assert_eq!(g.get(), 0.0);
    }
}
