//! Where scraped samples live: a series index (label set → id, postings per label pair) and
//! each series' samples in time order, in memory, behind the small [`Storage`] interface.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

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

/// How much one select may return, and until when it may run: a query's remaining budget.
///
/// ```
/// use prometheus_client::pull::SelectLimits;
/// let limits = SelectLimits { max_samples: 1000, deadline: None };
/// assert_eq!(limits, SelectLimits::unlimited().max_samples(1000));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SelectLimits {
    /// Samples the select may return at most.
    pub max_samples: usize,
    /// When the select must give up, if ever.
    pub deadline: Option<Instant>,
}

impl SelectLimits {
    /// No limit: everything that matches.
    pub fn unlimited() -> Self {
        SelectLimits {
            max_samples: usize::MAX,
            deadline: None,
        }
    }

    /// The same, returning at most `n` samples.
    pub fn max_samples(self, n: usize) -> Self {
        SelectLimits {
            max_samples: n,
            ..self
        }
    }

    fn past_deadline(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}

/// Why a select stopped before it had everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectError {
    /// It would return more than [`SelectLimits::max_samples`].
    TooManySamples,
    /// The deadline passed.
    Timeout,
}

impl fmt::Display for SelectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SelectError::TooManySamples => "the select would return too many samples",
            SelectError::Timeout => "the select ran past its deadline",
        })
    }
}

impl std::error::Error for SelectError {}

/// Why an append stored nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppendError {
    /// The samples would make the store hold more series than its limit.
    SeriesLimit {
        /// The limit.
        limit: usize,
    },
}

impl fmt::Display for AppendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppendError::SeriesLimit { limit } => {
                write!(f, "the store's limit of {limit} series exceeded")
            }
        }
    }
}

impl std::error::Error for AppendError {}

/// A store of time series. Implementations decide how samples are encoded; scraping and
/// queries see only this interface. Every method may be called from many threads at once.
pub trait Storage: Send + Sync + 'static {
    /// Appends samples `(labels, timestamp in ms, value)`, all or nothing: nothing when they
    /// would create more series than the store may hold. A sample older than its series'
    /// newest is refused and counted, as is another value at the same timestamp.
    fn append(&self, samples: &[(SeriesLabels, i64, f64)]) -> Result<AppendStats, AppendError>;
    /// How many series the store holds.
    fn series_count(&self) -> usize;
    /// Every series matching all `matchers`, with its samples in `[start, end]` (ms); an error
    /// as soon as the answer would hold more than `limits.max_samples` samples or the
    /// deadline has passed.
    fn select(
        &self,
        matchers: &[Matcher],
        start: i64,
        end: i64,
        limits: SelectLimits,
    ) -> Result<Vec<Series>, SelectError>;
    /// Every series matching all `matchers` with a sample in `[start, end]`, and its newest
    /// sample there: what an instant selector reads. Limited as [`select`](Storage::select).
    fn select_latest(
        &self,
        matchers: &[Matcher],
        start: i64,
        end: i64,
        limits: SelectLimits,
    ) -> Result<Vec<(SeriesLabels, i64, f64)>, SelectError>;
    /// The labels of every series matching all `matchers` with a sample in `[start, end]`.
    fn series(&self, matchers: &[Matcher], start: i64, end: i64) -> Vec<SeriesLabels>;
    /// Every label name in use.
    fn label_names(&self) -> Vec<String>;
    /// Every value of label `name`.
    fn label_values(&self, name: &str) -> Vec<String>;
    /// Drops samples older than `cutoff` (ms), and series left empty.
    fn drop_before(&self, cutoff: i64);
}

/// The in-memory [`Storage`]. Series whose samples all fall out of the retention are
/// removed, and their memory is used again.
///
/// ```
/// use prometheus_client::pull::{series_labels, AppendError, MemoryStorage, Storage};
/// let storage = MemoryStorage::with_max_series(1);
/// let a = series_labels(vec![("__name__".into(), "a".into())]);
/// let b = series_labels(vec![("__name__".into(), "b".into())]);
/// assert!(storage.append(&[(a, 0, 1.0)]).is_ok());
/// assert_eq!(storage.append(&[(b, 0, 1.0)]), Err(AppendError::SeriesLimit { limit: 1 }));
/// ```
pub struct MemoryStorage {
    inner: RwLock<Index>,
    max_series: usize,
}

impl Default for MemoryStorage {
    /// A store of at most 1,000,000 series.
    fn default() -> Self {
        Self::with_max_series(1_000_000)
    }
}

impl MemoryStorage {
    /// A store that holds at most `max_series` series.
    pub fn with_max_series(max_series: usize) -> Self {
        MemoryStorage {
            inner: RwLock::default(),
            max_series,
        }
    }
}

#[derive(Default)]
struct Index {
    /// Slots by id; a removed series leaves its slot to the next new one (`free`).
    series: Vec<Option<StoredSeries>>,
    free: Vec<usize>,
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
        let stored = Some(StoredSeries {
            labels: Arc::clone(labels),
            samples: Vec::new(),
        });
        let id = match self.free.pop() {
            Some(id) => {
                self.series[id] = stored;
                id
            }
            None => {
                self.series.push(stored);
                self.series.len() - 1
            }
        };
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

/// A series' samples within a select's range, or why the select stopped there.
type Window<'i> = Result<&'i [(i64, f64)], SelectError>;

impl Index {
    /// The series matching `matchers` that have samples in `[start, end]`, each with those
    /// samples; an error in place of a window once the deadline has passed.
    fn matching<'i>(
        &'i self,
        matchers: &'i [Matcher],
        start: i64,
        end: i64,
        limits: &'i SelectLimits,
    ) -> impl Iterator<Item = (&'i StoredSeries, Window<'i>)> + 'i {
        self.candidates(matchers)
            .into_iter()
            .filter_map(|id| self.series[id].as_ref())
            .filter(|s| matchers.iter().all(|m| m.matches(&s.labels)))
            .filter_map(move |s| {
                if limits.past_deadline() {
                    return Some((s, Err(SelectError::Timeout)));
                }
                let from = s.samples.partition_point(|(t, _)| *t < start);
                let to = s.samples.partition_point(|(t, _)| *t <= end);
                (from < to).then(|| (s, Ok(&s.samples[from..to])))
            })
    }
}

impl Storage for MemoryStorage {
    fn append(&self, samples: &[(SeriesLabels, i64, f64)]) -> Result<AppendStats, AppendError> {
        let mut index = self.inner.write();
        let new: HashSet<&SeriesLabels> = samples
            .iter()
            .map(|(labels, _, _)| labels)
            .filter(|labels| !index.ids.contains_key(*labels))
            .collect();
        if index.ids.len() + new.len() > self.max_series {
            return Err(AppendError::SeriesLimit {
                limit: self.max_series,
            });
        }
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
        Ok(stats)
    }

    fn series_count(&self) -> usize {
        self.inner.read().ids.len()
    }

    fn select(
        &self,
        matchers: &[Matcher],
        start: i64,
        end: i64,
        limits: SelectLimits,
    ) -> Result<Vec<Series>, SelectError> {
        let index = self.inner.read();
        let mut budget = limits.max_samples;
        let mut out = Vec::new();
        for (series, window) in index.matching(matchers, start, end, &limits) {
            let window = window?;
            budget = budget
                .checked_sub(window.len())
                .ok_or(SelectError::TooManySamples)?;
            out.push((Arc::clone(&series.labels), window.to_vec()));
        }
        Ok(out)
    }

    fn select_latest(
        &self,
        matchers: &[Matcher],
        start: i64,
        end: i64,
        limits: SelectLimits,
    ) -> Result<Vec<(SeriesLabels, i64, f64)>, SelectError> {
        let index = self.inner.read();
        let mut out = Vec::new();
        for (series, window) in index.matching(matchers, start, end, &limits) {
            let Some(&(t, v)) = window?.last() else {
                continue;
            };
            if out.len() == limits.max_samples {
                return Err(SelectError::TooManySamples);
            }
            out.push((Arc::clone(&series.labels), t, v));
        }
        Ok(out)
    }

    fn series(&self, matchers: &[Matcher], start: i64, end: i64) -> Vec<SeriesLabels> {
        let index = self.inner.read();
        index
            .matching(matchers, start, end, &SelectLimits::unlimited())
            .filter(|(_, window)| window.is_ok_and(|w| !w.is_empty()))
            .map(|(series, _)| Arc::clone(&series.labels))
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
            index.free.push(id);
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

    fn put(s: &MemoryStorage, samples: &[(SeriesLabels, i64, f64)]) {
        s.append(samples).expect("within the series limit");
    }

    fn select(s: &MemoryStorage, matchers: &[Matcher], start: i64, end: i64) -> Vec<Series> {
        s.select(matchers, start, end, SelectLimits::unlimited())
            .expect("no limits")
    }

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
        let stats = s
            .append(&[
                (a.clone(), 10, 1.0),
                (a.clone(), 20, 1.0),
                (a.clone(), 15, 0.0),
                (a.clone(), 20, 2.0),
                (a.clone(), 20, 1.0),
            ])
            .expect("within the series limit");
        assert_eq!(
            stats,
            AppendStats {
                appended: 2,
                series_added: 1,
                out_of_order: 1,
                duplicates: 1
            }
        );
        let all = select(&s, &[Matcher::Equal("job".into(), "x".into())], 0, 100);
        assert_eq!(all[0].1, vec![(10, 1.0), (20, 1.0)]);
    }

    #[test]
    fn matchers_and_ranges_select_series() {
        let s = MemoryStorage::default();
        put(
            &s,
            &[
                (labels("up", "a"), 1, 1.0),
                (labels("up", "b"), 1, 0.0),
                (labels("down", "a"), 5, 3.0),
            ],
        );
        let ups = select(&s, &[Matcher::Equal("__name__".into(), "up".into())], 0, 10);
        assert_eq!(ups.len(), 2);
        let not_a = select(&s, &[Matcher::NotEqual("job".into(), "a".into())], 0, 10);
        assert_eq!(not_a.len(), 1);
        let regex = Matcher::Regex {
            name: "job".into(),
            test: Arc::new(|v| v.starts_with('a')),
            negated: false,
        };
        assert_eq!(select(&s, &[regex], 0, 10).len(), 2);
        assert!(select(
            &s,
            &[Matcher::Equal("__name__".into(), "down".into())],
            0,
            4
        )
        .is_empty());
        assert_eq!(s.label_values("job"), ["a", "b"]);
        assert_eq!(s.label_names(), ["__name__", "job"]);
    }

    #[test]
    fn retention_drops_old_samples_and_empty_series() {
        let s = MemoryStorage::default();
        put(
            &s,
            &[
                (labels("old", "a"), 1, 1.0),
                (labels("new", "a"), 1, 1.0),
                (labels("new", "a"), 100, 2.0),
            ],
        );
        s.drop_before(50);
        assert_eq!(s.label_values("__name__"), ["new"]);
        assert_eq!(select(&s, &[], 0, 1000)[0].1, vec![(100, 2.0)]);
        assert_eq!(s.series_count(), 1);
        put(&s, &[(labels("newer", "a"), 100, 1.0)]);
        assert_eq!(
            s.inner.read().series.len(),
            2,
            "the removed series' slot is used again"
        );
        assert!(is_stale(f64::from_bits(STALE_NAN)) && !is_stale(f64::NAN));
    }

    #[test]
    fn selects_stop_at_their_limits() {
        let s = MemoryStorage::default();
        let samples: Vec<_> = (0..10)
            .flat_map(|t| [(labels("a", "x"), t, 1.0), (labels("b", "x"), t, 2.0)])
            .collect();
        put(&s, &samples);
        let limits = SelectLimits::unlimited();
        assert_eq!(
            s.select(&[], 0, 9, limits.max_samples(20)).map(|r| r.len()),
            Ok(2)
        );
        assert_eq!(
            s.select(&[], 0, 9, limits.max_samples(19)),
            Err(SelectError::TooManySamples)
        );
        let latest = s
            .select_latest(&[], 0, 4, limits.max_samples(2))
            .expect("two series");
        assert_eq!(
            latest.iter().map(|l| (l.1, l.2)).collect::<Vec<_>>(),
            [(4, 1.0), (4, 2.0)]
        );
        assert_eq!(
            s.select_latest(&[], 0, 4, limits.max_samples(1)),
            Err(SelectError::TooManySamples)
        );
        let past = SelectLimits {
            deadline: Some(Instant::now()),
            ..limits
        };
        assert_eq!(s.select(&[], 0, 9, past), Err(SelectError::Timeout));
        assert_eq!(s.series(&[], 20, 30), Vec::<SeriesLabels>::new());
        assert_eq!(s.series(&[], 9, 30).len(), 2);
    }
}
