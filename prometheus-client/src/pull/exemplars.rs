//! Exemplars scraped with samples, kept in one bounded ring as Prometheus' exemplar storage
//! keeps them: the oldest go first, an exemplar equal to its series' last one is a repeat
//! (targets expose the latest exemplar at every scrape) and is not stored again, and one
//! older than its series' last is out of order and dropped.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use parking_lot::Mutex;

use super::storage::{Matcher, SeriesLabels};

/// An exemplar as the pull server scraped and stored it.
///
/// ```
/// use prometheus_client::pull::StoredExemplar;
/// let e = StoredExemplar { labels: vec![("trace_id".into(), "abc".into())], value: 0.67, timestamp: 1_700_000_000_000 };
/// assert_eq!(e.labels[0].1, "abc");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct StoredExemplar {
    /// Its labels, as the target wrote them.
    pub labels: Vec<(String, String)>,
    /// Its value.
    pub value: f64,
    /// Its time in milliseconds since the epoch (the scrape's, when the target gave none).
    pub timestamp: i64,
}

/// A series' exemplars in a time range, as `/api/v1/query_exemplars` answers.
pub(crate) type SeriesExemplars = (SeriesLabels, Vec<StoredExemplar>);

/// Counts of what an append did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ExemplarStats {
    pub(crate) appended: usize,
    pub(crate) out_of_order: usize,
}

/// The ring, holding at most `limit` exemplars (none when the limit is 0).
pub(crate) struct ExemplarStore {
    limit: usize,
    state: Mutex<Ring>,
}

#[derive(Default)]
struct Ring {
    entries: VecDeque<(SeriesLabels, StoredExemplar)>,
    /// Per series with exemplars in the ring: how many, and the last one appended.
    series: HashMap<SeriesLabels, (usize, StoredExemplar)>,
}

impl ExemplarStore {
    pub(crate) fn new(limit: usize) -> ExemplarStore {
        ExemplarStore {
            limit,
            state: Mutex::new(Ring::default()),
        }
    }

    /// Adds a scrape's exemplars, each with its series.
    pub(crate) fn append(&self, exemplars: Vec<(SeriesLabels, StoredExemplar)>) -> ExemplarStats {
        let mut stats = ExemplarStats::default();
        if self.limit == 0 {
            return stats;
        }
        let mut ring = self.state.lock();
        for (series, exemplar) in exemplars {
            if let Some((_, last)) = ring.series.get(&series) {
                if *last == exemplar {
                    continue;
                }
                if exemplar.timestamp < last.timestamp {
                    stats.out_of_order += 1;
                    continue;
                }
            }
            if ring.entries.len() == self.limit {
                ring.evict_oldest();
            }
            let entry = ring
                .series
                .entry(Arc::clone(&series))
                .or_insert_with(|| (0, exemplar.clone()));
            entry.0 += 1;
            entry.1 = exemplar.clone();
            ring.entries.push_back((series, exemplar));
            stats.appended += 1;
        }
        stats
    }

    /// The exemplars in `[start, end]` (ms) of the series any of `selectors` matches, grouped
    /// by series (sorted by labels), each series' in time order.
    pub(crate) fn select(
        &self,
        selectors: &[Vec<Matcher>],
        start: i64,
        end: i64,
    ) -> Vec<SeriesExemplars> {
        let ring = self.state.lock();
        let mut found: Vec<SeriesExemplars> = Vec::new();
        let mut index: HashMap<&SeriesLabels, usize> = HashMap::new();
        for (series, exemplar) in &ring.entries {
            if exemplar.timestamp < start || exemplar.timestamp > end {
                continue;
            }
            let at = match index.get(series) {
                Some(at) => *at,
                None => {
                    let matched = selectors
                        .iter()
                        .any(|matchers| matchers.iter().all(|m| m.matches(series)));
                    if !matched {
                        continue;
                    }
                    found.push((Arc::clone(series), Vec::new()));
                    index.insert(series, found.len() - 1);
                    found.len() - 1
                }
            };
            found[at].1.push(exemplar.clone());
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found
    }

    /// How many exemplars are kept.
    pub(crate) fn len(&self) -> usize {
        self.state.lock().entries.len()
    }
}

impl Ring {
    fn evict_oldest(&mut self) {
        let Some((series, _)) = self.entries.pop_front() else {
            return;
        };
        if let Some(entry) = self.series.get_mut(&series) {
            entry.0 -= 1;
            if entry.0 == 0 {
                self.series.remove(&series);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pull::series_labels;

    fn series(name: &str) -> SeriesLabels {
        series_labels(vec![("__name__".into(), name.into())])
    }

    fn exemplar(trace: &str, timestamp: i64) -> StoredExemplar {
        StoredExemplar {
            labels: vec![("trace_id".into(), trace.into())],
            value: 1.0,
            timestamp,
        }
    }

    #[test]
    fn repeats_are_kept_once_and_old_ones_dropped() {
        let store = ExemplarStore::new(10);
        let a = series("a");
        let stats = store.append(vec![(a.clone(), exemplar("x", 10))]);
        assert_eq!(stats.appended, 1);
        let stats = store.append(vec![(a.clone(), exemplar("x", 10))]);
        assert_eq!(stats, ExemplarStats::default());
        let stats = store.append(vec![(a.clone(), exemplar("y", 5))]);
        assert_eq!(stats.out_of_order, 1);
        store.append(vec![(a.clone(), exemplar("z", 20))]);
        assert_eq!(store.len(), 2);
        let all = store.select(
            &[vec![Matcher::Equal("__name__".into(), "a".into())]],
            0,
            100,
        );
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].1, vec![exemplar("x", 10), exemplar("z", 20)]);
        let window = store.select(&[vec![]], 15, 25);
        assert_eq!(window[0].1, vec![exemplar("z", 20)]);
    }

    #[test]
    fn the_ring_is_bounded() {
        let store = ExemplarStore::new(3);
        for i in 0..10 {
            store.append(vec![(series(&format!("s{}", i % 4)), exemplar("t", i))]);
        }
        assert_eq!(store.len(), 3);
        assert!(store.state.lock().series.len() <= 3);
        let kept: Vec<i64> = store
            .select(&[vec![]], 0, 100)
            .into_iter()
            .flat_map(|(_, e)| e.into_iter().map(|e| e.timestamp))
            .collect();
        assert_eq!(kept.len(), 3);
        assert!(kept.iter().all(|t| *t >= 7));
        let off = ExemplarStore::new(0);
        assert_eq!(
            off.append(vec![(series("a"), exemplar("t", 1))]).appended,
            0
        );
    }
}
