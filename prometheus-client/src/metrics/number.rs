//! The numbers counters and gauges hold: `u64`, `i64` or `f64`, each in one atomic word.

use crate::encoding::Value;
use crate::sync::{AtomicF64, AtomicU64, Ordering};

/// A number a [`Counter`](crate::Counter) or [`Gauge`](crate::Gauge) can hold.
///
/// Sealed: implemented for `u64`, `i64` and `f64`; the atomic cell each is kept in is an
/// internal detail.
///
/// ```
/// use prometheus_client::{Counter, Gauge};
/// let bytes = Counter::new();
/// let seconds: Counter<f64> = Counter::default();
/// let queue: Gauge<i64> = Gauge::default();
/// let temperature: Gauge<f64> = Gauge::default();
/// # let _ = (bytes, seconds, queue, temperature);
/// ```
pub trait Number: Copy + PartialOrd + Send + Sync + std::fmt::Debug + NumberOps + 'static {}

impl Number for u64 {}
impl Number for i64 {}
impl Number for f64 {}

/// What the metrics do with a [`Number`]. Not reachable from outside the crate, which seals
/// `Number`.
pub trait NumberOps: Copy {
    /// The atomic cell holding it.
    type Atomic: NumberAtomic<Self>;
    /// Zero.
    const ZERO: Self;
    /// One.
    const ONE: Self;
    /// Whether a counter may add this amount (not negative, not NaN).
    fn is_valid_increment(self) -> bool;
    /// Converts seconds since the Unix epoch (for `set_to_current_time`).
    fn from_unix_seconds(seconds: f64) -> Self;
    /// The negation, used by `dec`/`sub` (wrapping for integers).
    fn negate(self) -> Self;
    /// `self + other` (wrapping for integers), for totals kept in several cells.
    fn plus(self, other: Self) -> Self;
    /// The value as a float, for messages.
    fn to_f64(self) -> f64;
    /// The value as a sample writes it.
    fn sample_value(self) -> Value;
}

/// The atomic cell of a [`Number`]. Every operation is one atomic instruction or, for `f64`
/// additions, a compare-and-swap loop.
pub trait NumberAtomic<N>: Default + Send + Sync + std::fmt::Debug + 'static {
    /// A new cell.
    fn new(v: N) -> Self;
    /// Reads the value.
    fn get(&self) -> N;
    /// Replaces the value.
    fn set(&self, v: N);
    /// Adds to the value (wrapping for integers).
    fn add(&self, v: N);
    /// Makes one attempt to add `v`: `false`, with nothing changed, when another thread
    /// changed the value at the same moment. Counters use it to notice contention.
    fn try_add(&self, v: N) -> bool;
}

/// The `i64` cell: the two's complement bits in an `AtomicU64`, so wrapping adds are exact.
#[derive(Debug, Default)]
pub struct AtomicI64Bits(AtomicU64);

impl NumberAtomic<u64> for AtomicU64 {
    fn new(v: u64) -> Self {
        AtomicU64::new(v)
    }
    #[inline]
    fn get(&self) -> u64 {
        self.load(Ordering::Relaxed)
    }
    #[inline]
    fn set(&self, v: u64) {
        self.store(v, Ordering::Relaxed);
    }
    #[inline]
    fn add(&self, v: u64) {
        self.fetch_add(v, Ordering::Relaxed);
    }
    #[inline]
    fn try_add(&self, v: u64) -> bool {
        let current = self.load(Ordering::Relaxed);
        self.compare_exchange(
            current,
            current.wrapping_add(v),
            Ordering::Relaxed,
            Ordering::Relaxed,
        )
        .is_ok()
    }
}

impl NumberAtomic<i64> for AtomicI64Bits {
    fn new(v: i64) -> Self {
        AtomicI64Bits(AtomicU64::new(v as u64))
    }
    #[inline]
    fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed) as i64
    }
    #[inline]
    fn set(&self, v: i64) {
        self.0.store(v as u64, Ordering::Relaxed);
    }
    #[inline]
    fn add(&self, v: i64) {
        self.0.fetch_add(v as u64, Ordering::Relaxed);
    }
    #[inline]
    fn try_add(&self, v: i64) -> bool {
        self.0.try_add(v as u64)
    }
}

impl NumberAtomic<f64> for AtomicF64 {
    fn new(v: f64) -> Self {
        AtomicF64::new(v)
    }
    #[inline]
    fn get(&self) -> f64 {
        self.load(Ordering::Relaxed)
    }
    #[inline]
    fn set(&self, v: f64) {
        self.store(v, Ordering::Relaxed);
    }
    #[inline]
    fn add(&self, v: f64) {
        self.fetch_add(v, Ordering::Relaxed);
    }
    #[inline]
    fn try_add(&self, v: f64) -> bool {
        self.try_fetch_add(v)
    }
}

impl NumberOps for u64 {
    type Atomic = AtomicU64;
    const ZERO: Self = 0;
    const ONE: Self = 1;
    fn is_valid_increment(self) -> bool {
        true
    }
    fn from_unix_seconds(seconds: f64) -> Self {
        seconds as u64
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn negate(self) -> Self {
        self.wrapping_neg()
    }
    fn plus(self, other: Self) -> Self {
        self.wrapping_add(other)
    }
    fn sample_value(self) -> Value {
        Value::U64(self)
    }
}

impl NumberOps for i64 {
    type Atomic = AtomicI64Bits;
    const ZERO: Self = 0;
    const ONE: Self = 1;
    fn is_valid_increment(self) -> bool {
        self >= 0
    }
    fn from_unix_seconds(seconds: f64) -> Self {
        seconds as i64
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn negate(self) -> Self {
        self.wrapping_neg()
    }
    fn plus(self, other: Self) -> Self {
        self.wrapping_add(other)
    }
    fn sample_value(self) -> Value {
        Value::I64(self)
    }
}

impl NumberOps for f64 {
    type Atomic = AtomicF64;
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    fn is_valid_increment(self) -> bool {
        self >= 0.0
    }
    fn from_unix_seconds(seconds: f64) -> Self {
        seconds
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn negate(self) -> Self {
        -self
    }
    fn plus(self, other: Self) -> Self {
        self + other
    }
    fn sample_value(self) -> Value {
        Value::F64(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i64_cell_wraps_through_the_bits() {
        let cell = <AtomicI64Bits as NumberAtomic<i64>>::new(-2);
        cell.add(5);
        assert_eq!(cell.get(), 3);
        cell.set(i64::MAX);
        cell.add(1);
        assert_eq!(cell.get(), i64::MIN);
        assert!(cell.try_add(-1));
        assert_eq!(cell.get(), i64::MAX);
    }

    #[test]
    fn f64_cell_adds() {
        let cell = <AtomicF64 as NumberAtomic<f64>>::new(1.5);
        cell.add(0.25);
        assert_eq!(cell.get(), 1.75);
    }
}
