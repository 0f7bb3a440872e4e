//! Counter: a total that only goes up.

use std::fmt;
use std::sync::Arc;

use super::created::CreatedAt;
use super::exemplar::{with_checked_labels, Exemplar, ExemplarError, ExemplarSlot};
use super::number::Number;
use super::striped::StripedTotal;
use super::{Metric, TypedMetric};
use crate::encoding::{ExtraLabel, MetricEncoder};
use crate::labels::LabelSet;
use crate::MetricType;

/// A monotonically increasing total, such as requests served or bytes sent.
///
/// Cloning gives another handle to the same value. `inc` and `inc_by` never lock: the first
/// thread to update the counter adds with one atomic add, others with one compare-and-swap;
/// once two threads collide on it, each thread adds to its own cache line (see
/// `metrics/striped.rs`), so a counter shared by busy threads scales with them. Nothing
/// allocates except that switch, once. Memory: 64 bytes (plus the handle's `Arc`); a counter
/// threads contended on adds 128 bytes per stripe, one stripe per CPU rounded up to a power
/// of two (2 to 32), and one with an exemplar keeps the latest one (about 64 bytes and its
/// labels).
///
/// An exemplar (a trace id, say) goes with an increment: [`inc_with_exemplar`](Self::inc_with_exemplar).
/// OpenMetrics shows the latest after the `_total` sample; text 0.0.4 has no exemplars.
///
/// The exposed sample is `<name>_total`, whether or not the registered name already ends in
/// `_total`.
///
/// ```
/// use prometheus_client::{Counter, Registry, encoding::Format};
///
/// let registry = Registry::new();
/// let requests = registry.register("requests", "Requests served.", Counter::new())?;
/// requests.inc();
/// requests.inc_by(2);
/// assert_eq!(requests.get(), 3);
/// assert_eq!(
///     registry.encode_to_string(Format::OpenMetrics)?,
///     "# TYPE requests counter\n# HELP requests Requests served.\nrequests_total 3\n# EOF\n"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Counter<N: Number = u64> {
    inner: Arc<State<N>>,
}

struct State<N: Number> {
    total: StripedTotal<N>,
    exemplar: ExemplarSlot,
    created: CreatedAt,
}

/// A negative or NaN amount given to [`Counter::try_inc_by`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NegativeIncrement(pub f64);

impl fmt::Display for NegativeIncrement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a counter cannot be increased by {}", self.0)
    }
}

impl std::error::Error for NegativeIncrement {}

impl Counter {
    /// A `u64` counter starting at zero. (`Counter::<f64>::default()` makes an `f64` one.)
    pub fn new() -> Self {
        Self::default()
    }
}

impl<N: Number> Counter<N> {
    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.inner.total.add(N::ONE);
    }

    /// Adds `v`. A negative or NaN `v` (possible with `f64`) is refused and changes nothing;
    /// use [`try_inc_by`](Self::try_inc_by) to learn of it.
    ///
    /// ```
    /// let c = prometheus_client::Counter::<f64>::default();
    /// c.inc_by(0.5);
    /// c.inc_by(-1.0);
    /// c.inc_by(f64::NAN);
    /// assert_eq!(c.get(), 0.5);
    /// ```
    #[inline]
    pub fn inc_by(&self, v: N) {
        if v.is_valid_increment() {
            self.inner.total.add(v);
        }
    }

    /// Adds `v`, or says why it cannot.
    ///
    /// ```
    /// let c = prometheus_client::Counter::<f64>::default();
    /// assert!(c.try_inc_by(1.5).is_ok());
    /// assert!(c.try_inc_by(-1.0).is_err());
    /// ```
    pub fn try_inc_by(&self, v: N) -> Result<(), NegativeIncrement> {
        if v.is_valid_increment() {
            self.inner.total.add(v);
            Ok(())
        } else {
            Err(NegativeIncrement(v.to_f64()))
        }
    }

    /// Adds one and keeps an exemplar with it (value 1, now), replacing the last one. The
    /// labels are any named [`LabelSet`]: pairs, or a struct deriving it. Labels over
    /// [`MAX_EXEMPLAR_CHARS`](crate::MAX_EXEMPLAR_CHARS) characters (names and values) or
    /// with invalid names are refused, and then the counter is not increased either.
    ///
    /// ```
    /// use prometheus_client::{Counter, Registry, encoding::Format};
    /// let registry = Registry::new();
    /// let requests = registry.register("requests", "", Counter::new())?;
    /// requests.inc_with_exemplar(&[("trace_id", "abc")])?;
    /// let text = registry.encode_to_string(Format::OpenMetrics)?;
    /// assert!(text.starts_with("# TYPE requests counter\nrequests_total 1 # {trace_id=\"abc\"} 1.0 1."));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn inc_with_exemplar<L: LabelSet + ?Sized>(&self, labels: &L) -> Result<(), ExemplarError> {
        self.inc_by_with_exemplar(N::ONE, labels)
    }

    /// Adds `v` and keeps an exemplar with value `v`; see [`inc_with_exemplar`](Self::inc_with_exemplar).
    /// A negative or NaN `v` is refused, exemplar and all.
    pub fn inc_by_with_exemplar<L: LabelSet + ?Sized>(
        &self,
        v: N,
        labels: &L,
    ) -> Result<(), ExemplarError> {
        if !v.is_valid_increment() {
            return Err(ExemplarError::InvalidIncrement(v.to_f64()));
        }
        with_checked_labels(labels, |checked| {
            self.inner.total.add(v);
            self.inner.exemplar.set(checked, v.to_f64());
        })
    }

    /// The latest exemplar, if one was recorded.
    pub fn exemplar(&self) -> Option<Exemplar> {
        self.inner.exemplar.get()
    }

    /// The current total.
    #[inline]
    pub fn get(&self) -> N {
        self.inner.total.get()
    }
}

impl<N: Number> Default for Counter<N> {
    fn default() -> Self {
        Counter {
            inner: Arc::new(State {
                total: StripedTotal::default(),
                exemplar: ExemplarSlot::default(),
                created: CreatedAt::default(),
            }),
        }
    }
}

impl<N: Number> Clone for Counter<N> {
    fn clone(&self) -> Self {
        Counter {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<N: Number> fmt::Debug for Counter<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Counter")
            .field("value", &self.get())
            .finish()
    }
}

impl<N: Number> Metric for Counter<N> {
    fn metric_type(&self) -> MetricType {
        MetricType::Counter
    }
    fn encode(&self, encoder: &mut MetricEncoder<'_>) {
        let total = self.get();
        self.inner.exemplar.with(|exemplar| {
            encoder.sample("_total", ExtraLabel::None, total.sample_value(), exemplar)
        });
        encoder.created(self.inner.created.get());
    }
    fn start_created_timestamp(&self) {
        self.inner.created.start();
    }
}

impl<N: Number> TypedMetric for Counter<N> {
    const TYPE: MetricType = MetricType::Counter;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_lose_no_increment() {
        let counter = Counter::<u64>::default();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let c = counter.clone();
                std::thread::spawn(move || (0..100_000).for_each(|_| c.inc()))
            })
            .collect();
        threads
            .into_iter()
            .for_each(|t| t.join().expect("incrementer"));
        assert_eq!(counter.get(), 800_000);
    }

    #[test]
    fn float_counter_adds_halves_exactly_across_threads() {
        let counter = Counter::<f64>::default();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let c = counter.clone();
                std::thread::spawn(move || (0..50_000).for_each(|_| c.inc_by(0.5)))
            })
            .collect();
        threads
            .into_iter()
            .for_each(|t| t.join().expect("incrementer"));
        assert_eq!(counter.get(), 100_000.0);
    }

    #[test]
    fn float_counter_refuses_negative_and_nan() {
        let counter = Counter::<f64>::default();
        counter.inc_by(2.0);
        assert_eq!(counter.try_inc_by(-0.1), Err(NegativeIncrement(-0.1)));
        assert!(counter.try_inc_by(f64::NAN).is_err());
        assert_eq!(counter.get(), 2.0);
    }
}
