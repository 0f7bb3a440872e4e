//! The atomics every metric is built on, behind one shim.
//!
//! All metric code imports atomics from here, never from `std` directly, so the concurrency
//! core can later be model-checked by swapping this module (as tokio does with loom).

pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use std::cell::Cell;
use std::sync::LazyLock;

/// A value alone on its cache lines, so that threads updating neighbours do not slow each
/// other down (false sharing). 128 bytes: x86 prefetches cache lines in pairs, and some ARM
/// cores have 128-byte lines.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct CachePadded<T>(pub(crate) T);

/// How many stripes a contended metric spreads its updates over: the number of CPUs rounded
/// up to a power of two (so a stripe is picked with a mask), at least 2 and at most 32.
pub(crate) fn stripe_count() -> usize {
    static COUNT: LazyLock<usize> = LazyLock::new(|| {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        cpus.next_power_of_two().clamp(2, 32)
    });
    *COUNT
}

thread_local! {
    /// This thread's number; `usize::MAX` until the thread first needs one.
    static THREAD_NUMBER: Cell<usize> = const { Cell::new(usize::MAX) };
    /// This thread's stripe number; `usize::MAX` until the thread first needs one.
    static STRIPE: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// Hands out thread numbers in turn.
static NEXT_THREAD: AtomicUsize = AtomicUsize::new(0);
/// Hands out stripe numbers in turn (apart from thread numbers), so the first threads to
/// contend get different stripes.
static NEXT_STRIPE: AtomicUsize = AtomicUsize::new(0);

fn next_number(counter: &AtomicUsize) -> usize {
    // Below `usize::MAX / 2`: never `usize::MAX`, which marks "not assigned yet", nor
    // another marker of a caller's.
    counter.fetch_add(1, Ordering::Relaxed) & (usize::MAX >> 1)
}

/// A number that identifies this thread: numbers are never reused, and stay below
/// `usize::MAX / 2`.
#[inline(always)]
pub(crate) fn thread_number() -> usize {
    // Each key is named here rather than passed in: only a known key's access inlines to a
    // plain thread-local load.
    match THREAD_NUMBER.get() {
        usize::MAX => assign(&THREAD_NUMBER, &NEXT_THREAD),
        assigned => assigned,
    }
}

/// This thread's stripe number, fixed per thread until [`move_stripe`]; callers take it
/// modulo their stripe count.
#[inline(always)]
pub(crate) fn thread_stripe() -> usize {
    match STRIPE.get() {
        usize::MAX => assign(&STRIPE, &NEXT_STRIPE),
        assigned => assigned,
    }
}

#[cold]
fn assign(key: &'static std::thread::LocalKey<Cell<usize>>, counter: &AtomicUsize) -> usize {
    let assigned = next_number(counter);
    key.set(assigned);
    assigned
}

/// Moves this thread to another stripe after it met another thread on its own (as Java's
/// `LongAdder` rehashes its probe): two threads that collide rarely collide again.
pub(crate) fn move_stripe() {
    STRIPE.set(next_number(&NEXT_STRIPE));
}

/// An `f64` stored as its bit pattern in an [`AtomicU64`]: the cell of `f64` counters and gauges.
///
/// Loads and stores are single atomic operations; additions are a compare-and-swap loop,
/// which is lock-free: a retry happens only when another thread changed the value in between.
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

    /// Makes one attempt to add `delta`; `false` when another thread changed the value first.
    #[inline]
    pub(crate) fn try_fetch_add(&self, delta: f64) -> bool {
        let current = self.0.load(Ordering::Relaxed);
        let next = (f64::from_bits(current) + delta).to_bits();
        self.0
            .compare_exchange(current, next, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
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
    fn threads_get_different_stripes_until_they_move() {
        let mine = thread_stripe();
        assert_eq!(thread_stripe(), mine, "a thread keeps its stripe");
        let other = std::thread::spawn(thread_stripe).join().expect("thread");
        assert_ne!(other, mine);
        move_stripe();
        assert_ne!(thread_stripe(), mine, "moving picks a new stripe");
        assert!(stripe_count().is_power_of_two() && (2..=32).contains(&stripe_count()));
        let me = thread_number();
        assert_eq!(
            thread_number(),
            me,
            "moving the stripe keeps the thread's number"
        );
        assert_ne!(
            std::thread::spawn(thread_number).join().expect("thread"),
            me
        );
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
