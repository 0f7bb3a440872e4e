//! The shared core of histograms and summaries: bucket counts, count and sum, updated by
//! observers that almost never wait, read as one consistent snapshot.
//!
//! The state lives in *stripes*. A stripe is a few cache lines of words: a tiny lock, the
//! count of observations without a bucket (a summary's), the sum's bits, then one count per
//! bucket. An observation takes its stripe's lock
//! with one compare-and-swap, updates the words with plain loads and stores, and releases the
//! lock with a plain store: a single atomic read-modify-write in all. (client_golang's
//! lock-free hot/cold scheme needs four, and each one bounces between cores under contention.)
//!
//! A histogram starts with one stripe. The first time an observer finds the lock taken,
//! threads are colliding on it: the histogram then allocates one stripe per
//! [`stripe_count`], and from then on each thread observes into its own stripe (a thread that
//! still meets another on its stripe moves to the next one), so observers on different cores
//! do not wait for each other or share cache lines.
//!
//! A snapshot locks one stripe at a time and adds it into a scratch buffer. Every observation
//! is wholly in one stripe, so the totals describe exactly one set of observations: `_count`
//! equals the sum of the buckets, and `_sum` covers the same observations.
//!
//! The lock is held for a few instructions. A thread that finds it taken spins briefly, then
//! yields to the scheduler, in case the holder was preempted.
//!
//! Memory: `ceil((buckets + 3) / 16)` 128-byte lines per stripe (one line for the default
//! buckets); a contended histogram adds that once per stripe.

use std::sync::OnceLock;

use parking_lot::Mutex;

use crate::sync::{move_stripe, stripe_count, thread_stripe, AtomicU64, Ordering};

const WORDS_PER_LINE: usize = 16;
const LOCK: usize = 0;
const COUNT: usize = 1;
const SUM: usize = 2;
const FIRST_BUCKET: usize = 3;

/// Spins this many times on a taken lock before yielding the CPU instead.
const SPINS_BEFORE_YIELD: u32 = 64;

/// 16 words on their own 128 bytes (see [`CachePadded`](crate::sync::CachePadded)).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Line([AtomicU64; WORDS_PER_LINE]);

/// One or more stripes laid out back to back, `lines_per_stripe` lines each.
#[derive(Debug)]
struct Stripes {
    lines: Box<[Line]>,
    lines_per_stripe: usize,
}

impl Stripes {
    fn new(stripes: usize, lines_per_stripe: usize) -> Self {
        Stripes {
            lines: (0..stripes * lines_per_stripe)
                .map(|_| Line::default())
                .collect(),
            lines_per_stripe,
        }
    }

    fn len(&self) -> usize {
        self.lines.len() / self.lines_per_stripe
    }

    fn stripe(&self, index: usize) -> Stripe<'_> {
        let start = index * self.lines_per_stripe;
        Stripe(&self.lines[start..start + self.lines_per_stripe])
    }
}

#[derive(Clone, Copy)]
struct Stripe<'a>(&'a [Line]);

impl<'a> Stripe<'a> {
    #[inline]
    fn word(self, index: usize) -> &'a AtomicU64 {
        &self.0[index / WORDS_PER_LINE].0[index % WORDS_PER_LINE]
    }

    /// Takes the stripe's lock; says whether another thread held it.
    #[inline]
    fn lock(self) -> bool {
        let lock = self.word(LOCK);
        if lock
            .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            return false;
        }
        Self::wait_for(lock);
        true
    }

    #[cold]
    fn wait_for(lock: &AtomicU64) {
        let mut spins = 0;
        loop {
            if lock.load(Ordering::Relaxed) == 0
                && lock
                    .compare_exchange_weak(0, 1, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return;
            }
            if spins < SPINS_BEFORE_YIELD {
                spins += 1;
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }

    #[inline]
    fn unlock(self) {
        self.word(LOCK).store(0, Ordering::Release);
    }

    /// Records one observation under the lock; says whether another thread held it.
    #[inline]
    fn observe(self, v: f64, bucket: Option<usize>) -> bool {
        let waited = self.lock();
        self.record(v, bucket);
        self.unlock();
        waited
    }

    /// Adds one observation; the caller holds the lock, so plain loads and stores suffice
    /// (they are atomic only so that the type system lets stripes be shared).
    ///
    /// An observation in a bucket is counted by its bucket alone: the count is the `COUNT`
    /// word (observations without a bucket) plus every bucket, one store fewer per
    /// observation.
    #[inline]
    fn record(self, v: f64, bucket: Option<usize>) {
        let sum = self.word(SUM);
        let total = f64::from_bits(sum.load(Ordering::Relaxed)) + v;
        sum.store(total.to_bits(), Ordering::Relaxed);
        let count = self.word(bucket.map_or(COUNT, |b| FIRST_BUCKET + b));
        count.store(count.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }

    /// Adds this stripe's state into `into`.
    fn read_into(self, into: &mut Totals) {
        self.lock();
        into.count += self.word(COUNT).load(Ordering::Relaxed);
        into.sum += f64::from_bits(self.word(SUM).load(Ordering::Relaxed));
        for (i, total) in into.buckets.iter_mut().enumerate() {
            let n = self.word(FIRST_BUCKET + i).load(Ordering::Relaxed);
            *total += n;
            into.count += n;
        }
        self.unlock();
    }
}

/// The scratch space snapshots add stripes into.
#[derive(Debug)]
struct Totals {
    buckets: Box<[u64]>,
    sum: f64,
    count: u64,
}

/// What a snapshot sees: non-cumulative bucket counts, the sum and the count, all of the
/// same observations.
pub(crate) struct Snapshot<'a> {
    pub(crate) buckets: &'a [u64],
    pub(crate) sum: f64,
    pub(crate) count: u64,
}

/// Bucket counts, count and sum of a histogram or summary.
#[derive(Debug)]
pub(crate) struct Observations {
    first: Stripes,
    /// One stripe per [`stripe_count`], once observers have collided.
    striped: OnceLock<Stripes>,
    /// Serialises snapshots, which reuse it instead of allocating.
    scratch: Mutex<Totals>,
}

impl Observations {
    /// A core with `buckets` buckets (zero for a summary's count and sum).
    pub(crate) fn new(buckets: usize) -> Self {
        Observations {
            first: Stripes::new(1, (FIRST_BUCKET + buckets).div_ceil(WORDS_PER_LINE)),
            striped: OnceLock::new(),
            scratch: Mutex::new(Totals {
                buckets: vec![0; buckets].into_boxed_slice(),
                sum: 0.0,
                count: 0,
            }),
        }
    }

    /// Records `v` in bucket `bucket` (`None` for a summary).
    #[inline]
    pub(crate) fn observe(&self, v: f64, bucket: Option<usize>) {
        match self.striped.get() {
            Some(stripes) => {
                // `stripes.len()` is a power of two.
                let stripe = stripes.stripe(thread_stripe() & (stripes.len() - 1));
                if stripe.observe(v, bucket) {
                    move_stripe();
                }
            }
            None => {
                if self.first.stripe(0).observe(v, bucket) {
                    self.stripe();
                }
            }
        }
    }

    #[cold]
    fn stripe(&self) {
        let lines = self.first.lines_per_stripe;
        self.striped
            .get_or_init(|| Stripes::new(stripe_count(), lines));
    }

    /// Calls `read` with a consistent snapshot.
    pub(crate) fn snapshot<R>(&self, read: impl FnOnce(Snapshot<'_>) -> R) -> R {
        let mut scratch = self.scratch.lock();
        let totals = &mut *scratch;
        totals.buckets.fill(0);
        totals.sum = 0.0;
        totals.count = 0;
        let striped = self.striped.get();
        let stripes = std::iter::once(self.first.stripe(0)).chain(
            striped
                .into_iter()
                .flat_map(|s| (0..s.len()).map(|i| s.stripe(i))),
        );
        for stripe in stripes {
            stripe.read_into(totals);
        }
        read(Snapshot {
            buckets: &totals.buckets,
            sum: totals.sum,
            count: totals.count,
        })
    }

    #[cfg(test)]
    fn is_striped(&self) -> bool {
        self.striped.get().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};

    #[test]
    fn snapshots_race_observers_and_stay_consistent() {
        let core = Arc::new(Observations::new(3));
        let start = Arc::new(Barrier::new(3));
        let observers: Vec<_> = (0..3)
            .map(|t| {
                let (core, start) = (Arc::clone(&core), Arc::clone(&start));
                std::thread::spawn(move || {
                    start.wait();
                    for i in 0..30_000u64 {
                        core.observe(1.0, Some(((i + t) % 3) as usize));
                    }
                })
            })
            .collect();
        let mut last = 0;
        while observers.iter().any(|o| !o.is_finished()) {
            core.snapshot(|s| {
                assert_eq!(
                    s.buckets.iter().sum::<u64>(),
                    s.count,
                    "buckets and count describe the same observations"
                );
                assert_eq!(
                    s.sum, s.count as f64,
                    "sum and count describe the same observations"
                );
                assert!(s.count >= last, "count never goes back");
                last = s.count;
            });
        }
        observers
            .into_iter()
            .for_each(|o| o.join().expect("observer"));
        core.snapshot(|s| {
            assert_eq!(s.count, 90_000);
            assert_eq!(s.buckets, [30_000; 3]);
        });
        core.snapshot(|s| assert_eq!(s.count, 90_000, "a second snapshot sees the same"));
    }

    #[test]
    fn a_summary_core_counts_and_sums_the_same_observations() {
        let core = Arc::new(Observations::new(0));
        let observers: Vec<_> = (0..2)
            .map(|_| {
                let core = Arc::clone(&core);
                std::thread::spawn(move || (0..50_000).for_each(|_| core.observe(2.0, None)))
            })
            .collect();
        while observers.iter().any(|o| !o.is_finished()) {
            core.snapshot(|s| assert_eq!(s.sum, 2.0 * s.count as f64));
        }
        observers
            .into_iter()
            .for_each(|o| o.join().expect("observer"));
        core.snapshot(|s| assert_eq!((s.count, s.sum), (100_000, 200_000.0)));
    }

    #[test]
    fn one_observer_keeps_one_stripe_and_colliding_ones_spread_out() {
        let core = Observations::new(1);
        (0..1000).for_each(|_| core.observe(0.5, Some(0)));
        assert!(!core.is_striped());
        core.stripe();
        assert!(core.is_striped());
        core.observe(0.5, Some(0));
        core.snapshot(|s| assert_eq!((s.count, s.sum, s.buckets), (1001, 500.5, &[1001][..])));
    }

    #[test]
    fn many_buckets_span_several_lines() {
        let core = Observations::new(40);
        (0..40).for_each(|b| core.observe(b as f64, Some(b)));
        core.observe(1.0, None);
        core.snapshot(|s| {
            assert!(s.buckets.iter().all(|&n| n == 1));
            assert_eq!((s.count, s.sum), (41, 781.0));
        });
    }
}
