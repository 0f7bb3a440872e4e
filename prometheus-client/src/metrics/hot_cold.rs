//! Lock-free observation with consistent snapshots: client_golang's hot/cold scheme.
//!
//! Two shards each hold bucket counts, a sum and a count. One word, `count_and_hot`, holds
//! the number of observations *started* (low 63 bits) and which shard is hot (top bit). An
//! observation increments that word, learns the hot shard from it, then updates that shard:
//! bucket, sum, and last the shard's *completed* count, with `Release`.
//!
//! A snapshot (serialised by a mutex that observers never touch) flips the hot bit. The
//! observations started before the flip all went to the now-cold shard, and there are exactly
//! `started` of them, since the cold shard held every earlier observation too. Once the cold
//! shard's completed count reaches `started` (read with `Acquire`), its buckets, sum and count
//! describe exactly the same observations. The snapshot reads them, then adds them into the
//! hot shard and zeroes the cold one, so the hot shard holds everything again.

use parking_lot::Mutex;

use crate::sync::{AtomicF64, AtomicU64, Ordering};

const HOT_BIT: u64 = 1 << 63;

#[derive(Debug)]
struct Shard {
    completed: AtomicU64,
    sum: AtomicF64,
    buckets: Box<[AtomicU64]>,
}

impl Shard {
    fn new(buckets: usize) -> Self {
        Shard {
            completed: AtomicU64::new(0),
            sum: AtomicF64::new(0.0),
            buckets: (0..buckets).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

/// What a snapshot sees: non-cumulative bucket counts, the sum and the count, all of the
/// same observations.
pub(crate) struct Snapshot<'a> {
    pub(crate) buckets: &'a [AtomicU64],
    pub(crate) sum: f64,
    pub(crate) count: u64,
}

/// The shared core of histograms and summaries.
#[derive(Debug)]
pub(crate) struct HotCold {
    count_and_hot: AtomicU64,
    shards: [Shard; 2],
    snapshot_lock: Mutex<()>,
}

impl HotCold {
    /// A core with `buckets` buckets (zero for a summary's count and sum).
    pub(crate) fn new(buckets: usize) -> Self {
        HotCold {
            count_and_hot: AtomicU64::new(0),
            shards: [Shard::new(buckets), Shard::new(buckets)],
            snapshot_lock: Mutex::new(()),
        }
    }

    /// Records `v` in bucket `bucket` (ignored when there are no buckets).
    #[inline]
    pub(crate) fn observe(&self, v: f64, bucket: usize) {
        // Relaxed suffices: the shard is chosen by this word's modification order, and the
        // snapshot waits on the shard's `completed` count, published with Release below.
        let started = self.count_and_hot.fetch_add(1, Ordering::Relaxed);
        let shard = &self.shards[(started >> 63) as usize];
        if let Some(b) = shard.buckets.get(bucket) {
            b.fetch_add(1, Ordering::Relaxed);
        }
        shard.sum.fetch_add(v, Ordering::Relaxed);
        shard.completed.fetch_add(1, Ordering::Release);
    }

    /// Calls `read` with a consistent snapshot, then folds it back into the hot shard.
    pub(crate) fn snapshot<R>(&self, read: impl FnOnce(Snapshot<'_>) -> R) -> R {
        let _serial = self.snapshot_lock.lock();
        let before = self.count_and_hot.fetch_add(HOT_BIT, Ordering::AcqRel);
        let started = before & !HOT_BIT;
        let cold = &self.shards[(before >> 63) as usize];
        let hot = &self.shards[((before >> 63) ^ 1) as usize];
        // Observers that started before the flip finish within a few instructions.
        while cold.completed.load(Ordering::Acquire) != started {
            std::hint::spin_loop();
            std::thread::yield_now();
        }
        let sum = cold.sum.load(Ordering::Relaxed);
        let result = read(Snapshot {
            buckets: &cold.buckets,
            sum,
            count: started,
        });
        for (h, c) in hot.buckets.iter().zip(cold.buckets.iter()) {
            h.fetch_add(c.swap(0, Ordering::Relaxed), Ordering::Relaxed);
        }
        hot.sum.fetch_add(sum, Ordering::Relaxed);
        cold.sum.store(0.0, Ordering::Relaxed);
        hot.completed
            .fetch_add(cold.completed.swap(0, Ordering::Relaxed), Ordering::Release);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn snapshots_race_observers_and_stay_consistent() {
        let core = Arc::new(HotCold::new(3));
        let observers: Vec<_> = (0..3)
            .map(|t| {
                let core = Arc::clone(&core);
                std::thread::spawn(move || {
                    for i in 0..30_000u64 {
                        core.observe(1.0, ((i + t) % 3) as usize);
                    }
                })
            })
            .collect();
        let mut last = 0;
        while observers.iter().any(|o| !o.is_finished()) {
            core.snapshot(|s| {
                let total: u64 = s.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum();
                assert_eq!(
                    total, s.count,
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
        core.snapshot(|s| assert_eq!(s.count, 90_000));
        core.snapshot(|s| assert_eq!(s.count, 90_000, "a second snapshot sees the same"));
    }
}
