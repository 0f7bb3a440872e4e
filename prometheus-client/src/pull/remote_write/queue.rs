//! The bounded queue between the scrapes and the shards that send: samples go to the shard
//! of their series (so each series' samples stay in order), and what finds the queue full is
//! dropped and counted, never waited for: a slow receiver never slows a scrape.

use std::collections::VecDeque;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::{watch, Notify};

use crate::pull::storage::SeriesLabels;
use crate::{Counter, Gauge};

/// A sample waiting to be sent.
pub(crate) type Pending = (SeriesLabels, i64, f64);

/// The queue's own metrics, one set per receiver.
#[derive(Clone, Default)]
pub(crate) struct QueueMetrics {
    pub(crate) sent: Counter,
    pub(crate) failed: Counter,
    pub(crate) retried: Counter,
    pub(crate) dropped: Counter,
    pub(crate) pending: Gauge<i64>,
}

/// The samples waiting for one receiver, in shards.
pub(crate) struct Queue {
    shards: Box<[Shard]>,
    capacity: usize,
    pending: AtomicUsize,
    hasher: foldhash::fast::FixedState,
    pub(crate) metrics: QueueMetrics,
}

#[derive(Default)]
struct Shard {
    held: Mutex<Held>,
    ready: Notify,
}

#[derive(Default)]
struct Held {
    samples: VecDeque<Pending>,
    /// When the oldest sample held came (about: when the shard last became non-empty, or
    /// last gave a batch and kept some).
    since: Option<Instant>,
}

impl Queue {
    pub(crate) fn new(shards: usize, capacity: usize, metrics: QueueMetrics) -> Queue {
        Queue {
            shards: (0..shards.max(1)).map(|_| Shard::default()).collect(),
            capacity,
            pending: AtomicUsize::new(0),
            hasher: foldhash::fast::FixedState::default(),
            metrics,
        }
    }

    pub(crate) fn shards(&self) -> usize {
        self.shards.len()
    }

    /// Samples waiting, or being sent.
    pub(crate) fn pending(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    fn shard_of(&self, labels: &SeriesLabels) -> usize {
        (self.hasher.hash_one(labels) % self.shards.len() as u64) as usize
    }

    /// Queues `samples` while there is room; the rest are dropped and counted.
    pub(crate) fn push(&self, samples: Vec<Pending>) {
        let wanted = samples.len();
        let mut room = 0;
        let _ = self
            .pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |pending| {
                room = wanted.min(self.capacity.saturating_sub(pending));
                Some(pending + room)
            });
        self.metrics.dropped.inc_by((wanted - room) as u64);
        let mut by_shard: Vec<Vec<Pending>> = vec![Vec::new(); self.shards.len()];
        for sample in samples.into_iter().take(room) {
            by_shard[self.shard_of(&sample.0)].push(sample);
        }
        for (shard, samples) in self.shards.iter().zip(by_shard) {
            if samples.is_empty() {
                continue;
            }
            let mut held = shard.held.lock();
            held.since.get_or_insert_with(Instant::now);
            held.samples.extend(samples);
            drop(held);
            shard.ready.notify_one();
        }
        self.update_gauge();
    }

    /// The next batch of shard `shard`: once it holds `max` samples, or its oldest has waited
    /// `deadline`, or `stop` turned true (then `None` once the shard is empty).
    pub(crate) async fn next_batch(
        &self,
        shard: usize,
        max: usize,
        deadline: Duration,
        stop: &mut watch::Receiver<bool>,
    ) -> Option<Vec<Pending>> {
        let shard = &self.shards[shard];
        loop {
            let stopping = *stop.borrow();
            let ready = shard.ready.notified();
            let due = {
                let mut held = shard.held.lock();
                let len = held.samples.len();
                // A deadline past what an `Instant` holds is never due.
                let due = held.since.and_then(|since| since.checked_add(deadline));
                if len >= max || len > 0 && (stopping || due.is_some_and(|d| d <= Instant::now())) {
                    let batch: Vec<Pending> = held.samples.drain(..len.min(max)).collect();
                    held.since = (!held.samples.is_empty()).then(Instant::now);
                    return Some(batch);
                }
                if len == 0 && stopping {
                    return None;
                }
                due
            };
            let wait_due = async {
                match due {
                    Some(due) => tokio::time::sleep_until(due.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = ready => {}
                () = wait_due => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// `n` samples of a batch are done with: sent, failed or dropped.
    pub(crate) fn done(&self, n: usize) {
        self.pending.fetch_sub(n, Ordering::AcqRel);
        self.update_gauge();
    }

    fn update_gauge(&self) {
        let pending = i64::try_from(self.pending()).unwrap_or(i64::MAX);
        self.metrics.pending.set(pending);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pull::storage::series_labels;

    fn samples(series: usize, t: i64) -> Vec<Pending> {
        (0..series)
            .map(|i| {
                let labels = series_labels(vec![("__name__".into(), format!("s{i}"))]);
                (labels, t, i as f64)
            })
            .collect()
    }

    #[tokio::test]
    async fn a_full_queue_drops_and_counts_and_batches_keep_series_order() {
        let queue = Queue::new(3, 25, QueueMetrics::default());
        queue.push(samples(10, 1));
        queue.push(samples(10, 2));
        queue.push(samples(10, 3));
        assert_eq!(queue.pending(), 25);
        assert_eq!(queue.metrics.dropped.get(), 5);
        let (_tx, mut stop) = watch::channel(false);
        let mut seen: Vec<(String, i64)> = Vec::new();
        for shard in 0..3 {
            while !queue.shards[shard].held.lock().samples.is_empty() {
                let batch = queue
                    .next_batch(shard, 4, Duration::ZERO, &mut stop)
                    .await
                    .expect("a batch");
                assert!(batch.len() <= 4);
                queue.done(batch.len());
                seen.extend(batch.iter().map(|(l, t, _)| (l[0].1.clone(), *t)));
            }
        }
        assert_eq!(queue.pending(), 0);
        assert_eq!(seen.len(), 25);
        for name in ["s0", "s9"] {
            let times: Vec<i64> = seen.iter().filter(|s| s.0 == name).map(|s| s.1).collect();
            assert!(times.windows(2).all(|w| w[0] < w[1]), "{name}: {times:?}");
        }
    }

    #[tokio::test]
    async fn a_batch_waits_for_its_deadline_unless_full_or_stopping() {
        let queue = Queue::new(1, 100, QueueMetrics::default());
        let (tx, mut stop) = watch::channel(false);
        queue.push(samples(3, 1));
        // A deadline no `Instant` can hold is never due (and does not overflow).
        let waited = tokio::time::timeout(
            Duration::from_millis(50),
            queue.next_batch(0, 10, Duration::MAX, &mut stop),
        )
        .await;
        assert!(waited.is_err(), "three of ten wait for the deadline");
        let batch = queue
            .next_batch(0, 3, Duration::from_secs(60), &mut stop)
            .await;
        assert_eq!(batch.map(|b| b.len()), Some(3), "a full batch goes at once");
        queue.push(samples(2, 2));
        tx.send(true).expect("receiver alive");
        let batch = queue
            .next_batch(0, 10, Duration::from_secs(60), &mut stop)
            .await;
        assert_eq!(
            batch.map(|b| b.len()),
            Some(2),
            "stopping sends what is held"
        );
        let none = queue
            .next_batch(0, 10, Duration::from_secs(60), &mut stop)
            .await;
        assert!(none.is_none());
    }
}
