//! When a counter, histogram or summary was created, for OpenMetrics' `_created` samples,
//! kept only by metrics registered where created timestamps are exposed.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::sync::{AtomicU64, Ordering};

/// Seconds since the Unix epoch, now.
pub(crate) fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A creation time, as the bits of seconds since the epoch; zero until it starts.
#[derive(Debug, Default)]
pub(crate) struct CreatedAt(AtomicU64);

impl CreatedAt {
    /// Records now, unless a time is recorded already.
    pub(crate) fn start(&self) {
        let now = now_seconds().to_bits();
        let _ = self
            .0
            .compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// The time recorded, if any.
    pub(crate) fn get(&self) -> Option<f64> {
        let bits = self.0.load(Ordering::Relaxed);
        (bits != 0).then(|| f64::from_bits(bits))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_start_counts() {
        let created = CreatedAt::default();
        assert_eq!(created.get(), None);
        created.start();
        let first = created.get().expect("started");
        assert!(first > 1.6e9);
        std::thread::sleep(std::time::Duration::from_millis(2));
        created.start();
        assert_eq!(created.get(), Some(first));
    }
}
