//! A counter's total: a cell only its owner thread writes, a cell other threads share, and
//! stripes over cache lines once those threads collide (Java's `LongAdder` scheme, with an
//! owner).
//!
//! The first thread to add becomes the owner. Only the owner writes the base cell, so its adds
//! need no atomic read-modify-write: a load, an add and a store, as cheap as a plain variable.
//! The first add from another thread ends the ownership (the owner's stores would otherwise
//! keep taking the cache line the other threads read). Every thread then adds to a shared
//! cell on a cache line of its own (allocated then) with one compare-and-swap, whose failure
//! tells that another thread changed it in the same moment. The total then allocates one
//! cache-line-sized cell per stripe ([`stripe_count`]), and each thread adds to its own
//! stripe from then on, so cores incrementing one counter no longer pass a cache line back
//! and forth. Reading sums the base, the shared cell and every stripe.
//!
//! Memory: 56 bytes for a total only one thread adds to; another thread adding allocates 128
//! bytes; threads colliding add 128 bytes per stripe (256 bytes on 2 CPUs, 1 KiB on 8, at most
//! 4 KiB).

use std::sync::OnceLock;

use super::number::{Number, NumberAtomic};
use crate::sync::{
    move_stripe, stripe_count, thread_number, thread_stripe, AtomicUsize, CachePadded, Ordering,
};

/// `owner` before the first add.
const NO_OWNER: usize = usize::MAX;
/// `owner` once a second thread added: no thread writes the base cell any more. (Thread
/// numbers stay below `usize::MAX / 2`.)
const SHARED: usize = usize::MAX - 1;

#[derive(Debug)]
pub(crate) struct StripedTotal<N: Number> {
    /// Written by the owner only.
    base: N::Atomic,
    /// The [`thread_number`] of the first thread to add.
    owner: AtomicUsize,
    /// Where other threads add, until they collide.
    shared: OnceLock<Box<CachePadded<N::Atomic>>>,
    stripes: OnceLock<Box<[CachePadded<N::Atomic>]>>,
}

impl<N: Number> Default for StripedTotal<N> {
    fn default() -> Self {
        StripedTotal {
            base: N::Atomic::new(N::ZERO),
            owner: AtomicUsize::new(NO_OWNER),
            shared: OnceLock::new(),
            stripes: OnceLock::new(),
        }
    }
}

impl<N: Number> StripedTotal<N> {
    #[inline(always)]
    pub(crate) fn add(&self, v: N) {
        let me = thread_number();
        let owner = self.owner.load(Ordering::Relaxed);
        if owner == me || (owner == NO_OWNER && self.claim(me)) {
            // No other thread writes `base`: nothing can come between this load and store.
            self.base.set(self.base.get().plus(v));
        } else {
            self.add_as_other(v);
        }
    }

    #[cold]
    fn claim(&self, me: usize) -> bool {
        self.owner
            .compare_exchange(NO_OWNER, me, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }

    /// An add from a thread other than the owner.
    #[inline(never)]
    fn add_as_other(&self, v: N) {
        // The owner's stores to `base` would take the cache line the other threads read this
        // total's fields from on every add: end them. The owner adds here from then on.
        if self.owner.load(Ordering::Relaxed) != SHARED {
            self.owner.store(SHARED, Ordering::Relaxed);
        }
        if let Some(stripes) = self.stripes.get() {
            return Self::add_to_stripe(stripes, v);
        }
        let shared = self
            .shared
            .get_or_init(|| Box::new(CachePadded(N::Atomic::new(N::ZERO))));
        if !shared.0.try_add(v) {
            self.contended(v);
        }
    }

    #[cold]
    fn contended(&self, v: N) {
        move_stripe();
        let stripes = self.stripes.get_or_init(|| {
            (0..stripe_count())
                .map(|_| CachePadded(N::Atomic::new(N::ZERO)))
                .collect()
        });
        Self::add_to_stripe(stripes, v);
    }

    #[inline]
    fn add_to_stripe(stripes: &[CachePadded<N::Atomic>], v: N) {
        // `stripes.len()` is a power of two.
        stripes[thread_stripe() & (stripes.len() - 1)].0.add(v);
    }

    pub(crate) fn get(&self) -> N {
        let mut total = self.base.get();
        if let Some(shared) = self.shared.get() {
            total = total.plus(shared.0.get());
        }
        if let Some(stripes) = self.stripes.get() {
            total = stripes.iter().fold(total, |total, s| total.plus(s.0.get()));
        }
        total
    }

    #[cfg(test)]
    fn is_striped(&self) -> bool {
        self.stripes.get().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};

    fn hammer<N: Number>(threads: usize, per_thread: u32, v: N) -> Arc<StripedTotal<N>> {
        let total = Arc::new(StripedTotal::<N>::default());
        let start = Arc::new(Barrier::new(threads));
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let (total, start) = (Arc::clone(&total), Arc::clone(&start));
                std::thread::spawn(move || {
                    start.wait();
                    (0..per_thread).for_each(|_| total.add(v));
                })
            })
            .collect();
        workers.into_iter().for_each(|w| w.join().expect("adder"));
        total
    }

    #[test]
    fn one_thread_stays_on_the_base_cell() {
        let total = hammer(1, 100_000, 1u64);
        assert_eq!(total.get(), 100_000);
        assert!(!total.is_striped(), "no contention, no stripes");
    }

    #[test]
    fn contended_totals_lose_nothing_and_stripe() {
        let total = hammer(4, 200_000, 3u64);
        assert_eq!(total.get(), 2_400_000);
        let floats = hammer(4, 100_000, 0.5f64);
        assert_eq!(floats.get(), 200_000.0);
        let signed = hammer(4, 100_000, 2i64);
        assert_eq!(signed.get(), 800_000);
    }

    #[test]
    fn a_second_thread_ends_the_ownership() {
        let total = StripedTotal::<u64>::default();
        total.add(1);
        std::thread::scope(|s| {
            s.spawn(|| (0..1000).for_each(|_| total.add(2)));
            (0..1000).for_each(|_| total.add(1));
        });
        assert_eq!(total.get(), 3001);
        assert!(total.shared.get().is_some());
        assert_eq!(total.owner.load(Ordering::Relaxed), SHARED);
    }

    #[test]
    fn an_uncontended_total_is_small() {
        assert_eq!(std::mem::size_of::<StripedTotal<u64>>(), 56);
    }

    #[test]
    fn striped_totals_keep_counting_from_the_base() {
        let total = StripedTotal::<u64>::default();
        total.add(5);
        total.contended(7);
        assert!(total.is_striped());
        total.add(1);
        assert_eq!(total.get(), 13);
    }
}
