//! Where scraped samples live: a series index (label set → id, postings per label pair) and
//! each series' samples in time order, in memory, behind the small [`Storage`] interface.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use parking_lot::RwLock;

/// A series' labels, sorted by name, `__name__` included.
pub type SeriesLabels = Arc<[(String, String)]>;

/// A series and its samples `(timestamp in ms, value)`, in time order.
pub type Series = (SeriesLabels, Vec<(i64, f64)>);

/// Prometheus' stale marker: a NaN with these exact bits ends a series.
pub const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

/// Whether `v` is the stale marker (not just any NaN).
pub fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN
}

/// A label matcher, as in `{job="api", path=~"/v1/.*"}`.
#[derive(Clone)]
pub enum Matcher {
    /// `name="value"`.
    Equal(String, String),
    /// `name!="value"`.
    NotEqual(String, String),
    /// `name=~"regex"` (anchored), or `!~` when `negated`.
    Regex {
        /// The label name.
        name: String,
        /// Tests a value against the regex.
        test: Arc<dyn Fn(&str) -> bool + Send + Sync>,
        /// `!~` instead of `=~`.
        negated: bool,
    },
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Matcher::Equal(n, v) => write!(f, "{n}={v:?}"),
            Matcher::NotEqual(n, v) => write!(f, "{n}!={v:?}"),
            Matcher::Regex { name, negated, .. } => {
                write!(f, "{name}{}<regex>", if *negated { "!~" } else { "=~" })
            }
        }
    }
}

impl Matcher {
    fn name(&self) -> &str {
        match self {
            Matcher::Equal(n, _) | Matcher::NotEqual(n, _) => n,
            Matcher::Regex { name, .. } => name,
        }
    }

    /// Whether a series with `labels` passes (a missing label counts as the empty value).
    pub fn matches(&self, labels: &[(String, String)]) -> bool {
        let value = labels
            .iter()
            .find(|(n, _)| n == self.name())
            .map_or("", |(_, v)| v.as_str());
        match self {
            Matcher::Equal(_, want) => value == want,
            Matcher::NotEqual(_, want) => value != want,
            Matcher::Regex { test, negated, .. } => test(value) != *negated,
        }
    }
}

/// What an append did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppendStats {
    /// Samples stored.
    pub appended: usize,
    /// Series seen for the first time.
    pub series_added: usize,
    /// Samples refused because their series has a later sample already.
    pub out_of_order: usize,
    /// Samples refused because their series has another value at that timestamp.
    pub duplicates: usize,
}

/// A store of time series. Implementations decide how samples are encoded; scraping and
/// queries see only this interface.
pub trait Storage: Send + Sync + 'static {
    /// Appends samples `(labels, timestamp in ms, value)`; a sample older than its series'
    /// newest is refused and counted, as is another value at the same timestamp.
    fn append(&self, samples: &[(SeriesLabels, i64, f64)]) -> AppendStats;
    /// Every series matching all `matchers`, with its samples in `[start, end]` (ms).
    fn select(&self, matchers: &[Matcher], start: i64, end: i64) -> Vec<Series>;
    /// Every label name in use.
    fn label_names(&self) -> Vec<String>;
    /// Every value of label `name`.
    fn label_values(&self, name: &str) -> Vec<String>;
    /// Drops samples older than `cutoff` (ms), and series left empty.
    fn drop_before(&self, cutoff: i64);
}

/// The in-memory [`Storage`].
#[derive(Default)]
pub struct MemoryStorage {
    inner: RwLock<Index>,
}

#[derive(Default)]
struct Index {
    series: Vec<Option<StoredSeries>>,
    ids: HashMap<SeriesLabels, usize>,
    postings: HashMap<(String, String), BTreeSet<usize>>,
}

struct StoredSeries {
    labels: SeriesLabels,
    samples: Vec<(i64, f64)>,
}

impl Index {
    fn id_of(&mut self, labels: &SeriesLabels, stats: &mut AppendStats) -> usize {
        if let Some(id) = self.ids.get(labels) {
            return *id;
        }
        let id = self.series.len();
        self.series.push(Some(StoredSeries {
            labels: Arc::clone(labels),
            samples: Vec::new(),
        }));
        self.ids.insert(Arc::clone(labels), id);
        for pair in labels.iter() {
            self.postings.entry(pair.clone()).or_default().insert(id);
        }
        stats.series_added += 1;
        id
    }

    /// Candidate ids: the intersection of the postings of the equality matchers with a
    /// non-empty value, or every series.
    fn candidates(&self, matchers: &[Matcher]) -> Vec<usize> {
        let mut lists: Vec<&BTreeSet<usize>> = Vec::new();
        for m in matchers {
            if let Matcher::Equal(name, value) = m {
                if !value.is_empty() {
                    match self.postings.get(&(name.clone(), value.clone())) {
                        Some(list) => lists.push(list),
                        None => return Vec::new(),
                    }
                }
            }
        }
        lists.sort_by_key(|l| l.len());
        match lists.split_first() {
            Some((first, rest)) => first
                .iter()
                .copied()
                .filter(|id| rest.iter().all(|l| l.contains(id)))
                .collect(),
            None => (0..self.series.len()).collect(),
        }
    }
}

impl Storage for MemoryStorage {
    fn append(&self, samples: &[(SeriesLabels, i64, f64)]) -> AppendStats {
        let mut index = self.inner.write();
        let mut stats = AppendStats::default();
        for (labels, t, v) in samples {
            let id = index.id_of(labels, &mut stats);
            let Some(series) = index.series[id].as_mut() else {
                continue;
            };
            match series.samples.last() {
                Some((last_t, _)) if t < last_t => stats.out_of_order += 1,
                Some((last_t, last_v)) if t == last_t => {
                    if last_v.to_bits() != v.to_bits() {
                        stats.duplicates += 1;
                    }
                }
                _ => {
                    series.samples.push((*t, *v));
                    stats.appended += 1;
                }
            }
        }
        stats
    }

    fn select(&self, matchers: &[Matcher], start: i64, end: i64) -> Vec<Series> {
        let index = self.inner.read();
        index
            .candidates(matchers)
            .into_iter()
            .filter_map(|id| index.series[id].as_ref())
            .filter(|s| matchers.iter().all(|m| m.matches(&s.labels)))
            .filter_map(|s| {
                let from = s.samples.partition_point(|(t, _)| *t < start);
                let to = s.samples.partition_point(|(t, _)| *t <= end);
                (from < to).then(|| (Arc::clone(&s.labels), s.samples[from..to].to_vec()))
            })
            .collect()
    }

    fn label_names(&self) -> Vec<String> {
        let index = self.inner.read();
        let names: BTreeSet<&String> = index.postings.keys().map(|(n, _)| n).collect();
        names.into_iter().cloned().collect()
    }

    fn label_values(&self, name: &str) -> Vec<String> {
        let index = self.inner.read();
        let values: BTreeSet<&String> = index
            .postings
            .keys()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v)
            .collect();
        values.into_iter().cloned().collect()
    }

    fn drop_before(&self, cutoff: i64) {
        let mut index = self.inner.write();
        let mut emptied = Vec::new();
        for (id, slot) in index.series.iter_mut().enumerate() {
            if let Some(series) = slot {
                let keep_from = series.samples.partition_point(|(t, _)| *t < cutoff);
                series.samples.drain(..keep_from);
                if series.samples.is_empty() {
                    emptied.push((id, slot.take().map(|s| s.labels)));
                }
            }
        }
        for (id, labels) in emptied {
            let Some(labels) = labels else { continue };
            index.ids.remove(&labels);
            for pair in labels.iter() {
                if let Some(list) = index.postings.get_mut(pair) {
                    list.remove(&id);
                    if list.is_empty() {
                        index.postings.remove(pair);
                    }
                }
            }
        }
    }
}

/// Builds sorted series labels from pairs.
pub fn series_labels(mut pairs: Vec<(String, String)>) -> SeriesLabels {
    pairs.sort();
    pairs.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(name: &str, job: &str) -> SeriesLabels {
        series_labels(vec![
            ("__name__".into(), name.into()),
            ("job".into(), job.into()),
        ])
    }

    #[test]
    fn out_of_order_and_duplicates_are_refused_and_counted() {
        let s = MemoryStorage::default();
        let a = labels("up", "x");
        let stats = s.append(&[
            (a.clone(), 10, 1.0),
            (a.clone(), 20, 1.0),
            (a.clone(), 15, 0.0),
            (a.clone(), 20, 2.0),
            (a.clone(), 20, 1.0),
        ]);
        assert_eq!(
            stats,
            AppendStats {
                appended: 2,
                series_added: 1,
                out_of_order: 1,
                duplicates: 1
            }
        );
        let all = s.select(&[Matcher::Equal("job".into(), "x".into())], 0, 100);
        assert_eq!(all[0].1, vec![(10, 1.0), (20, 1.0)]);
    }

    #[test]
    fn matchers_and_ranges_select_series() {
        let s = MemoryStorage::default();
        s.append(&[
            (labels("up", "a"), 1, 1.0),
            (labels("up", "b"), 1, 0.0),
            (labels("down", "a"), 5, 3.0),
        ]);
        let ups = s.select(&[Matcher::Equal("__name__".into(), "up".into())], 0, 10);
        assert_eq!(ups.len(), 2);
        let not_a = s.select(&[Matcher::NotEqual("job".into(), "a".into())], 0, 10);
        assert_eq!(not_a.len(), 1);
        let regex = Matcher::Regex {
            name: "job".into(),
            test: Arc::new(|v| v.starts_with('a')),
            negated: false,
        };
        assert_eq!(s.select(&[regex], 0, 10).len(), 2);
        assert!(s
            .select(&[Matcher::Equal("__name__".into(), "down".into())], 0, 4)
            .is_empty());
        assert_eq!(s.label_values("job"), ["a", "b"]);
        assert_eq!(s.label_names(), ["__name__", "job"]);
    }

    #[test]
    fn retention_drops_old_samples_and_empty_series() {
        let s = MemoryStorage::default();
        s.append(&[
            (labels("old", "a"), 1, 1.0),
            (labels("new", "a"), 1, 1.0),
            (labels("new", "a"), 100, 2.0),
        ]);
        s.drop_before(50);
        assert_eq!(s.label_values("__name__"), ["new"]);
        assert_eq!(s.select(&[], 0, 1000)[0].1, vec![(100, 2.0)]);
        assert!(is_stale(f64::from_bits(STALE_NAN)) && !is_stale(f64::NAN));
    }
}
