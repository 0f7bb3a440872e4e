//! The atomics every metric is built on, behind one shim.
//!
//! All metric code imports atomics from here, never from `std` directly, so the concurrency
//! core can later be model-checked by swapping this module (as tokio does with loom).

pub(crate) use std::sync::atomic::{AtomicU64, Ordering};

/// An `f64` stored as its bit pattern in an [`AtomicU64`]: the cell of `f64` counters and gauges.
///
/// Loads and stores are single atomic operations; additions are a compare-and-swap loop,
/// which is lock-free: a retry happens only when another thread changed the value in between.
///
/// ```
/// use prometheus_client::{AtomicF64, NumberAtomic};
/// let cell = <AtomicF64 as NumberAtomic<f64>>::new(1.5);
/// cell.add(0.25);
/// assert_eq!(cell.get(), 1.75);
/// ```
#[derive(Debug, Default)]
pub struct AtomicF64(AtomicU64);

impl AtomicF64 {
    pub(crate) fn new(v: f64) -> Self {
        Self(AtomicU64::new(v.to_bits()))
    }

    #[inline]
    pub(crate) fn load(&self, order: Ordering) -> f64 {
        f64::from_bits(self.0.load(order))
    }

    #[inline]
    pub(crate) fn store(&self, v: f64, order: Ordering) {
        self.0.store(v.to_bits(), order);
    }

    /// Adds `delta` and returns the previous value.
    #[inline]
    pub(crate) fn fetch_add(&self, delta: f64, order: Ordering) -> f64 {
        let mut current = self.0.load(Ordering::Relaxed);
        loop {
            let next = (f64::from_bits(current) + delta).to_bits();
            match self
                .0
                .compare_exchange_weak(current, next, order, Ordering::Relaxed)
            {
                Ok(previous) => return f64::from_bits(previous),
                Err(actual) => current = actual,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn concurrent_half_increments_lose_nothing() {
        let value = Arc::new(AtomicF64::new(0.0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let value = Arc::clone(&value);
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        value.fetch_add(0.5, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("adder thread panicked");
        }
        assert_eq!(value.load(Ordering::Relaxed), 20_000.0);
    }

    #[test]
    fn store_and_load_keep_every_bit() {
        let value = AtomicF64::new(0.0);
        for v in [-0.0, f64::MIN_POSITIVE, 5e-324, f64::MAX, f64::INFINITY] {
            value.store(v, Ordering::Relaxed);
            assert_eq!(value.load(Ordering::Relaxed).to_bits(), v.to_bits());
        }
        value.store(f64::NAN, Ordering::Relaxed);
        assert!(value.load(Ordering::Relaxed).is_nan());
    }
}
