//! Where scraped samples live: a series index (label set → id, postings per label pair) and
//! each series' samples in time order, in memory, behind the small [`Storage`] interface.
//! Float samples are kept in XOR chunks ([`XorChunk`](super::XorChunk)), about a byte or
//! two each for a regular scrape.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::RwLock;

use super::chunk::FloatChunks;
use crate::parse::FloatHistogram;

/// A series' labels, sorted by name, `__name__` included.
pub type SeriesLabels = Arc<[(String, String)]>;

/// A map keyed by series labels, with a fast hash (labels are hashed for every sample a
/// scrape stores).
pub(crate) type LabelsMap<V> = HashMap<SeriesLabels, V, foldhash::fast::RandomState>;

/// A set of series labels, with a fast hash.
pub(crate) type LabelsSet = HashSet<SeriesLabels, foldhash::fast::RandomState>;

/// A series and its samples `(timestamp in ms, value)`, in time order.
pub type Series = (SeriesLabels, Vec<(i64, f64)>);

/// A native histogram sample's value, shared (a sample is read far more often than written).
pub type Histogram = Arc<FloatHistogram>;

/// A series and its native histogram samples `(timestamp in ms, histogram)`, in time order.
pub type HistogramSeries = (SeriesLabels, Vec<(i64, Histogram)>);

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

impl AppendStats {
    /// Whether `(t, v)` goes after a series' newest sample of its kind, `last`; if not, counts
    /// why.
    fn takes<T>(
        &mut self,
        last: Option<(i64, &T)>,
        t: i64,
        v: &T,
        same: fn(&T, &T) -> bool,
    ) -> bool {
        match last {
            Some((last_t, _)) if t < last_t => self.out_of_order += 1,
            Some((last_t, last_v)) if t == last_t => {
                if !same(last_v, v) {
                    self.duplicates += 1;
                }
            }
            _ => {
                self.appended += 1;
                return true;
            }
        }
        false
    }
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
    /// Appends float samples `(labels, timestamp in ms, value)`: [`append_all`] without
    /// histograms.
    ///
    /// [`append_all`]: Storage::append_all
    fn append(&self, samples: &[(SeriesLabels, i64, f64)]) -> Result<AppendStats, AppendError> {
        self.append_all(samples, &[])
    }
    /// Appends float samples and native histogram samples `(labels, timestamp in ms,
    /// value)`, all or nothing: nothing when they would create more series than the store may
    /// hold. A sample older than its series' newest of the same kind is refused and counted,
    /// as is another value at the same timestamp.
    fn append_all(
        &self,
        samples: &[(SeriesLabels, i64, f64)],
        histograms: &[(SeriesLabels, i64, Histogram)],
    ) -> Result<AppendStats, AppendError> {
        self.append_observed(samples, histograms, &mut |_| {})
    }
    /// [`append_all`](Storage::append_all), calling `stored` with the place in `samples` of
    /// each float sample stored (not those refused), in order: what is forwarded to remote
    /// write.
    fn append_observed(
        &self,
        samples: &[(SeriesLabels, i64, f64)],
        histograms: &[(SeriesLabels, i64, Histogram)],
        stored: &mut dyn FnMut(usize),
    ) -> Result<AppendStats, AppendError>;
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
    /// Every series matching all `matchers` with native histogram samples in `[start, end]`,
    /// with them; limited as [`select`](Storage::select).
    fn select_histograms(
        &self,
        matchers: &[Matcher],
        start: i64,
        end: i64,
        limits: SelectLimits,
    ) -> Result<Vec<HistogramSeries>, SelectError>;
    /// Every series matching all `matchers` with a native histogram sample in `[start, end]`,
    /// and its newest one there; limited as [`select`](Storage::select).
    fn select_latest_histograms(
        &self,
        matchers: &[Matcher],
        start: i64,
        end: i64,
        limits: SelectLimits,
    ) -> Result<Vec<(SeriesLabels, i64, Histogram)>, SelectError>;
    /// The labels of every series matching all `matchers` with a sample (of either kind) in
    /// `[start, end]`.
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
    ids: LabelsMap<usize>,
    /// Ids by the address of the labels the series was stored with: a scrape that hands the
    /// same `Arc` again (its scrape cache does) finds the series without hashing the labels.
    /// The store holds that `Arc`, so no other labels can have its address meanwhile.
    by_address: HashMap<usize, usize, foldhash::fast::RandomState>,
    postings: HashMap<(String, String), BTreeSet<usize>>,
    /// Series with native histogram samples: while none, histogram selects return at once.
    with_histograms: usize,
}

struct StoredSeries {
    labels: SeriesLabels,
    samples: FloatChunks,
    histograms: Vec<(i64, Histogram)>,
}

/// Where the labels `labels` points to live: their identity while they are held.
fn address(labels: &SeriesLabels) -> usize {
    Arc::as_ptr(labels).cast::<()>() as usize
}

impl Index {
    /// The id of the series `labels`, if stored.
    fn find(&self, labels: &SeriesLabels) -> Option<usize> {
        if let Some(id) = self.by_address.get(&address(labels)) {
            let same = self.series[*id]
                .as_ref()
                .is_some_and(|s| Arc::ptr_eq(&s.labels, labels));
            if same {
                return Some(*id);
            }
        }
        self.ids.get(labels).copied()
    }

    /// The id of the series `labels`, stored anew if it was not.
    fn id_of(&mut self, labels: &SeriesLabels, stats: &mut AppendStats) -> usize {
        if let Some(id) = self.find(labels) {
            return id;
        }
        let stored = Some(StoredSeries {
            labels: Arc::clone(labels),
            samples: FloatChunks::default(),
            histograms: Vec::new(),
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
        self.by_address.insert(address(labels), id);
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

/// The samples of `samples` (in time order) within `[start, end]`.
fn window<T>(samples: &[(i64, T)], start: i64, end: i64) -> &[(i64, T)] {
    let from = samples.partition_point(|(t, _)| *t < start);
    let to = samples.partition_point(|(t, _)| *t <= end);
    &samples[from..to.max(from)]
}

/// One series' samples of one kind within a select's range, or why the select stopped there.
type Window<'i, T> = Result<(&'i SeriesLabels, &'i [(i64, T)]), SelectError>;

impl Index {
    /// The series matching `matchers`, or an error in place of one once the deadline has
    /// passed.
    fn matching<'i>(
        &'i self,
        matchers: &'i [Matcher],
        limits: &'i SelectLimits,
    ) -> impl Iterator<Item = Result<&'i StoredSeries, SelectError>> + 'i {
        self.candidates(matchers)
            .into_iter()
            .filter_map(|id| self.series[id].as_ref())
            .filter(|s| matchers.iter().all(|m| m.matches(&s.labels)))
            .map(move |s| {
                if limits.past_deadline() {
                    return Err(SelectError::Timeout);
                }
                Ok(s)
            })
    }

    /// Each matching series' samples of one kind in `[start, end]`, where it has any.
    fn windows<'i, T: 'i>(
        &'i self,
        matchers: &'i [Matcher],
        (start, end): (i64, i64),
        limits: &'i SelectLimits,
        kind: fn(&StoredSeries) -> &[(i64, T)],
    ) -> impl Iterator<Item = Window<'i, T>> + 'i {
        self.matching(matchers, limits).filter_map(move |series| {
            let series = match series {
                Ok(series) => series,
                Err(e) => return Some(Err(e)),
            };
            let window = window(kind(series), start, end);
            (!window.is_empty()).then_some(Ok((&series.labels, window)))
        })
    }
}

/// Samples of one kind, `(timestamp in ms, value)`.
type Samples<T> = Vec<(i64, T)>;

/// Each window's samples, copied out, within the budget of `limits`.
fn copy_windows<'i, T: Clone + 'i>(
    windows: impl Iterator<Item = Window<'i, T>>,
    limits: &SelectLimits,
) -> Result<Vec<(SeriesLabels, Samples<T>)>, SelectError> {
    let mut budget = limits.max_samples;
    let mut out = Vec::new();
    for window in windows {
        let (labels, window) = window?;
        budget = budget
            .checked_sub(window.len())
            .ok_or(SelectError::TooManySamples)?;
        out.push((Arc::clone(labels), window.to_vec()));
    }
    Ok(out)
}

/// Each window's newest sample, within the budget of `limits`.
fn latest_of<'i, T: Clone + 'i>(
    windows: impl Iterator<Item = Window<'i, T>>,
    limits: &SelectLimits,
) -> Result<Vec<(SeriesLabels, i64, T)>, SelectError> {
    let mut out = Vec::new();
    for window in windows {
        let (labels, window) = window?;
        let Some((t, v)) = window.last() else {
            continue;
        };
        if out.len() == limits.max_samples {
            return Err(SelectError::TooManySamples);
        }
        out.push((Arc::clone(labels), *t, v.clone()));
    }
    Ok(out)
}

fn histograms(series: &StoredSeries) -> &[(i64, Histogram)] {
    &series.histograms
}

impl Storage for MemoryStorage {
    fn append_observed(
        &self,
        samples: &[(SeriesLabels, i64, f64)],
        histograms: &[(SeriesLabels, i64, Histogram)],
        stored: &mut dyn FnMut(usize),
    ) -> Result<AppendStats, AppendError> {
        let mut index = self.inner.write();
        // Each sample's series, looked up once; the series not stored yet, counted.
        let mut found = Vec::with_capacity(samples.len() + histograms.len());
        let mut new: HashSet<&SeriesLabels, foldhash::fast::RandomState> = HashSet::default();
        let all_labels = samples
            .iter()
            .map(|(labels, _, _)| labels)
            .chain(histograms.iter().map(|(labels, _, _)| labels));
        for labels in all_labels {
            let id = index.find(labels);
            if id.is_none() {
                new.insert(labels);
            }
            found.push(id);
        }
        if index.ids.len() + new.len() > self.max_series {
            return Err(AppendError::SeriesLimit {
                limit: self.max_series,
            });
        }
        let mut stats = AppendStats::default();
        let mut found = found.into_iter();
        for (i, (labels, t, v)) in samples.iter().enumerate() {
            let id = match found.next().flatten() {
                Some(id) => id,
                None => index.id_of(labels, &mut stats),
            };
            if let Some(series) = index.series[id].as_mut() {
                let last = series.samples.last();
                let same = |a: &f64, b: &f64| a.to_bits() == b.to_bits();
                if stats.takes(last.as_ref().map(|(t, v)| (*t, v)), *t, v, same) {
                    series.samples.push(*t, *v);
                    stored(i);
                }
            }
        }
        for (labels, t, h) in histograms {
            let id = match found.next().flatten() {
                Some(id) => id,
                None => index.id_of(labels, &mut stats),
            };
            let Some(series) = index.series[id].as_mut() else {
                continue;
            };
            let last = series.histograms.last().map(|(t, h)| (*t, h));
            let first = last.is_none();
            if stats.takes(last, *t, h, |a, b| a == b) {
                series.histograms.push((*t, Arc::clone(h)));
                if first {
                    index.with_histograms += 1;
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
        for series in index.matching(matchers, &limits) {
            let series = series?;
            let mut samples = Vec::new();
            for sample in series.samples.window(start, end) {
                budget = budget.checked_sub(1).ok_or(SelectError::TooManySamples)?;
                samples.push(sample);
            }
            if !samples.is_empty() {
                out.push((Arc::clone(&series.labels), samples));
            }
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
        for series in index.matching(matchers, &limits) {
            let series = series?;
            let Some((t, v)) = series.samples.latest_in(start, end) else {
                continue;
            };
            if out.len() == limits.max_samples {
                return Err(SelectError::TooManySamples);
            }
            out.push((Arc::clone(&series.labels), t, v));
        }
        Ok(out)
    }

    fn select_histograms(
        &self,
        matchers: &[Matcher],
        start: i64,
        end: i64,
        limits: SelectLimits,
    ) -> Result<Vec<HistogramSeries>, SelectError> {
        let index = self.inner.read();
        if index.with_histograms == 0 {
            return Ok(Vec::new());
        }
        copy_windows(
            index.windows(matchers, (start, end), &limits, histograms),
            &limits,
        )
    }

    fn select_latest_histograms(
        &self,
        matchers: &[Matcher],
        start: i64,
        end: i64,
        limits: SelectLimits,
    ) -> Result<Vec<(SeriesLabels, i64, Histogram)>, SelectError> {
        let index = self.inner.read();
        if index.with_histograms == 0 {
            return Ok(Vec::new());
        }
        latest_of(
            index.windows(matchers, (start, end), &limits, histograms),
            &limits,
        )
    }

    fn series(&self, matchers: &[Matcher], start: i64, end: i64) -> Vec<SeriesLabels> {
        let index = self.inner.read();
        index
            .matching(matchers, &SelectLimits::unlimited())
            .filter_map(Result::ok)
            .filter(|s| {
                s.samples.any_in(start, end) || !window(&s.histograms, start, end).is_empty()
            })
            .map(|s| Arc::clone(&s.labels))
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
        let mut with_histograms_gone = 0;
        for (id, slot) in index.series.iter_mut().enumerate() {
            if let Some(series) = slot {
                series.samples.drop_before(cutoff);
                let had_histograms = !series.histograms.is_empty();
                let keep_from = series.histograms.partition_point(|(t, _)| *t < cutoff);
                series.histograms.drain(..keep_from);
                if had_histograms && series.histograms.is_empty() {
                    with_histograms_gone += 1;
                }
                if series.samples.is_empty() && series.histograms.is_empty() {
                    emptied.push((id, slot.take().map(|s| s.labels)));
                }
            }
        }
        index.with_histograms -= with_histograms_gone;
        for (id, labels) in emptied {
            let Some(labels) = labels else { continue };
            index.free.push(id);
            index.ids.remove(&labels);
            index.by_address.remove(&address(&labels));
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

    fn histogram(count: f64) -> Histogram {
        let h = FloatHistogram::new(0, 0.0, 0.0, count, count, vec![(1, count)], vec![]);
        Arc::new(h.expect("valid"))
    }

    #[test]
    fn histogram_samples_live_beside_floats() {
        let s = MemoryStorage::with_max_series(2);
        let (a, b) = (labels("h", "x"), labels("h", "y"));
        let stats = s
            .append_all(
                &[(a.clone(), 5, 1.0)],
                &[
                    (a.clone(), 10, histogram(1.0)),
                    (a.clone(), 20, histogram(2.0)),
                    (a.clone(), 15, histogram(9.0)),
                    (a.clone(), 20, histogram(3.0)),
                    (b.clone(), 20, histogram(4.0)),
                ],
            )
            .expect("within the series limit");
        assert_eq!(
            stats,
            AppendStats {
                appended: 4,
                series_added: 2,
                out_of_order: 1,
                duplicates: 1
            }
        );
        let all = [Matcher::Equal("__name__".into(), "h".into())];
        let got = s
            .select_histograms(&all, 0, 100, SelectLimits::unlimited())
            .expect("no limits");
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].1.len(), 2);
        assert_eq!(
            s.select_histograms(&all, 0, 100, SelectLimits::unlimited().max_samples(2)),
            Err(SelectError::TooManySamples)
        );
        let latest = s
            .select_latest_histograms(&all, 0, 100, SelectLimits::unlimited())
            .expect("no limits");
        assert_eq!(latest[0].2.count(), 2.0);
        assert_eq!(select(&s, &all, 0, 100).len(), 1, "floats are apart");
        assert_eq!(s.series(&all, 12, 100).len(), 2);
        // A third series, of either kind, is refused whole.
        let c = labels("h", "z");
        assert!(s.append_all(&[], &[(c, 30, histogram(1.0))]).is_err());
        s.drop_before(21);
        assert_eq!(s.series_count(), 0);
        let none = s.select_histograms(&all, 0, 100, SelectLimits::unlimited());
        assert_eq!(none, Ok(Vec::new()));
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
    fn retention_drops_whole_chunks_and_empty_series() {
        let s = MemoryStorage::default();
        let new: Vec<_> = (0..300).map(|t| (labels("new", "a"), t, 1.0)).collect();
        put(&s, &[(labels("old", "a"), 1, 1.0)]);
        put(&s, &new);
        s.drop_before(250);
        assert_eq!(s.label_values("__name__"), ["new"]);
        // Chunks of 120: the one holding 240..299 stays whole.
        let kept = &select(&s, &[], 0, 1000)[0].1;
        assert_eq!((kept.len(), kept[0]), (60, (240, 1.0)));
        assert_eq!(s.series_count(), 1);
        put(&s, &[(labels("newer", "a"), 300, 1.0)]);
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
