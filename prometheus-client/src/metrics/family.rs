//! Family: labelled children of one metric type, created on first use.
//!
//! Children live twice: in a `DashMap` keyed by the hash of their label values, for lookups
//! that take only a shard's read lock, and in a `BTreeSet` ordered by their rendered labels,
//! so a scrape walks them in a stable order without sorting. Both are changed together,
//! always locking the map's shard first, then the ordered set.

use std::borrow::Borrow;
use std::collections::BTreeSet;
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::Arc;

use dashmap::mapref::entry::Entry;
use dashmap::DashMap;
use parking_lot::RwLock;

use super::{Metric, TypedMetric};
use crate::encoding::MetricEncoder;
use crate::labels::{render, LabelError, LabelSet, LabelShape};
use crate::sync::{AtomicU64, Ordering};
use crate::MetricType;

/// Metrics of one type told apart by labels, such as requests by method and status.
///
/// `get_or_create` returns the child for a label set, creating it on first use. It returns
/// an owned handle (an `Arc` clone), never a lock guard: keep it to skip the lookup next time.
/// A lookup of an existing child hashes the label values once and takes only a read lock on
/// one of the map's shards; it does not allocate, even when given borrowed values.
///
/// ```
/// use prometheus_client::{Counter, Family, Registry, encoding::Format};
///
/// let registry = Registry::new();
/// let requests = registry.register(
///     "http_requests", "Requests by method and status.",
///     Family::<[String; 2], Counter>::new(["method", "status"]),
/// )?;
/// requests.get_or_create(&["GET", "200"]).inc();
/// let post = requests.get_or_create(&["POST", "500"]);
/// post.inc_by(2);
/// assert_eq!(registry.encode_to_string(Format::Text)?, "\
/// ## HELP http_requests_total Requests by method and status.
/// ## TYPE http_requests_total counter
/// http_requests_total{method=\"GET\",status=\"200\"} 1
/// http_requests_total{method=\"POST\",status=\"500\"} 2
/// ");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Family<L: LabelSet<Owned = L>, M: TypedMetric> {
    inner: Arc<Inner<L, M>>,
}

type Constructor<M> = dyn Fn() -> M + Send + Sync;

struct Inner<L, M> {
    label_names: Box<[Box<str>]>,
    lookup: DashMap<u64, Slot<L, M>, BuildHasherDefault<Prehashed>>,
    ordered: RwLock<BTreeSet<ByLabels<L, M>>>,
    hasher: foldhash::fast::RandomState,
    constructor: Box<Constructor<M>>,
    rejected: AtomicU64,
}

struct Child<L, M> {
    hash: u64,
    labels: L,
    rendered: String,
    metric: M,
}

/// The children whose label values share one hash: almost always exactly one.
enum Slot<L, M> {
    One(Arc<Child<L, M>>),
    Many(Vec<Arc<Child<L, M>>>),
}

impl<L: LabelSet<Owned = L>, M> Slot<L, M> {
    fn find<Q: LabelSet<Owned = L> + ?Sized>(&self, labels: &Q) -> Option<&Arc<Child<L, M>>> {
        match self {
            Slot::One(c) => labels.eq_owned(&c.labels).then_some(c),
            Slot::Many(cs) => cs.iter().find(|c| labels.eq_owned(&c.labels)),
        }
    }

    fn push(&mut self, child: Arc<Child<L, M>>) {
        match self {
            Slot::One(existing) => *self = Slot::Many(vec![Arc::clone(existing), child]),
            Slot::Many(cs) => cs.push(child),
        }
    }

    /// Takes out the child `is_it` picks; says whether the slot is now empty.
    fn take(
        &mut self,
        is_it: impl Fn(&Arc<Child<L, M>>) -> bool,
    ) -> (Option<Arc<Child<L, M>>>, bool) {
        match self {
            Slot::One(c) if is_it(c) => (Some(Arc::clone(c)), true),
            Slot::One(_) => (None, false),
            Slot::Many(cs) => {
                let taken = cs.iter().position(is_it).map(|i| cs.swap_remove(i));
                (taken, cs.is_empty())
            }
        }
    }

    fn children(&self) -> &[Arc<Child<L, M>>] {
        match self {
            Slot::One(c) => std::slice::from_ref(c),
            Slot::Many(cs) => cs,
        }
    }
}

/// Orders children by their rendered labels.
struct ByLabels<L, M>(Arc<Child<L, M>>);

impl<L, M> PartialEq for ByLabels<L, M> {
    fn eq(&self, other: &Self) -> bool {
        self.0.rendered == other.0.rendered
    }
}
impl<L, M> Eq for ByLabels<L, M> {}
impl<L, M> PartialOrd for ByLabels<L, M> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<L, M> Ord for ByLabels<L, M> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.rendered.cmp(&other.0.rendered)
    }
}
impl<L, M> Borrow<str> for ByLabels<L, M> {
    fn borrow(&self) -> &str {
        &self.0.rendered
    }
}

/// A hasher for keys that already are hashes.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed with this hasher; fold anything else in anyway.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

impl<L: LabelSet<Owned = L>, M: TypedMetric> Family<L, M> {
    /// A family whose positional label sets take these names, in order.
    ///
    /// For named label sets (pairs, derived structs) use [`Family::default`].
    pub fn new<S: Into<String>>(label_names: impl IntoIterator<Item = S>) -> Self
    where
        M: Default,
    {
        Self::new_with_constructor(label_names, M::default)
    }

    /// A family whose children are made by `constructor`, such as histograms with custom
    /// buckets.
    ///
    /// ```
    /// use prometheus_client::{Family, Histogram, Buckets};
    /// let buckets = Buckets::exponential(0.001, 10.0, 4)?;
    /// let latency = Family::<[String; 1], Histogram>::new_with_constructor(
    ///     ["route"], move || Histogram::new(buckets.clone()),
    /// );
    /// latency.get_or_create(&["/"]).observe(0.02);
    /// # Ok::<(), prometheus_client::BucketError>(())
    /// ```
    pub fn new_with_constructor<S: Into<String>>(
        label_names: impl IntoIterator<Item = S>,
        constructor: impl Fn() -> M + Send + Sync + 'static,
    ) -> Self {
        Family {
            inner: Arc::new(Inner {
                label_names: label_names
                    .into_iter()
                    .map(|n| n.into().into_boxed_str())
                    .collect(),
                lookup: DashMap::default(),
                ordered: RwLock::new(BTreeSet::new()),
                hasher: foldhash::fast::RandomState::default(),
                constructor: Box::new(constructor),
                rejected: AtomicU64::new(0),
            }),
        }
    }

    /// The declared label names (empty for named label sets).
    pub fn label_names(&self) -> impl Iterator<Item = &str> {
        self.inner.label_names.iter().map(|n| &**n)
    }

    fn hash<Q: LabelSet<Owned = L> + ?Sized>(&self, labels: &Q) -> u64 {
        let mut hasher = self.inner.hasher.build_hasher();
        labels.hash_labels(&mut hasher);
        hasher.finish()
    }

    /// The child for `labels`, created on first use.
    ///
    /// Label sets whose names come from their type or from the family (arrays, tuples, derived
    /// structs) cannot be invalid once the family is registered. A named set that is invalid
    /// (a bad or duplicate name) gets a working metric that is not exported and is counted in
    /// [`rejected`](Self::rejected); use [`try_get_or_create`](Self::try_get_or_create) to see
    /// the error instead.
    #[inline]
    pub fn get_or_create<Q: LabelSet<Owned = L> + ?Sized>(&self, labels: &Q) -> M {
        match self.try_get_or_create(labels) {
            Ok(metric) => metric,
            Err(_) => {
                self.inner.rejected.fetch_add(1, Ordering::Relaxed);
                (self.inner.constructor)()
            }
        }
    }

    /// The child for `labels`, or why `labels` cannot name a child.
    ///
    /// ```
    /// use prometheus_client::{Counter, Family, LabelError};
    /// let family = Family::<Vec<(String, String)>, Counter>::default();
    /// assert!(family.try_get_or_create(&[("path", "/")]).is_ok());
    /// assert!(matches!(family.try_get_or_create(&[("bad name", "x")]), Err(LabelError::Name(_))));
    /// ```
    #[inline]
    pub fn try_get_or_create<Q: LabelSet<Owned = L> + ?Sized>(
        &self,
        labels: &Q,
    ) -> Result<M, LabelError> {
        let hash = self.hash(labels);
        if let Some(slot) = self.inner.lookup.get(&hash) {
            if let Some(child) = slot.find(labels) {
                return Ok(child.metric.clone());
            }
        }
        self.create(hash, labels)
    }

    #[cold]
    fn create<Q: LabelSet<Owned = L> + ?Sized>(
        &self,
        hash: u64,
        labels: &Q,
    ) -> Result<M, LabelError> {
        let rendered = render(labels, &self.inner.label_names, M::TYPE)?;
        let mut entry = self.inner.lookup.entry(hash);
        if let Entry::Occupied(occupied) = &mut entry {
            if let Some(child) = occupied.get().find(labels) {
                return Ok(child.metric.clone());
            }
        }
        let mut ordered = self.inner.ordered.write();
        if let Some(same_series) = ordered.get(rendered.as_str()) {
            // The same labels spelled differently (named pairs in another order): one series.
            return Ok(same_series.0.metric.clone());
        }
        let child = Arc::new(Child {
            hash,
            labels: labels.to_owned_set(),
            rendered,
            metric: (self.inner.constructor)(),
        });
        ordered.insert(ByLabels(Arc::clone(&child)));
        let metric = child.metric.clone();
        match entry {
            Entry::Occupied(mut occupied) => occupied.get_mut().push(child),
            Entry::Vacant(vacant) => {
                vacant.insert(Slot::One(child));
            }
        }
        Ok(metric)
    }

    /// Removes the child for `labels`; says whether there was one. Handles already given out
    /// keep working but are no longer exported.
    pub fn remove<Q: LabelSet<Owned = L> + ?Sized>(&self, labels: &Q) -> bool {
        let hash = self.hash(labels);
        let mut removed = false;
        self.inner.lookup.remove_if_mut(&hash, |_, slot| {
            let (taken, empty) = slot.take(|c| labels.eq_owned(&c.labels));
            if let Some(child) = taken {
                self.inner.ordered.write().remove(&*child.rendered);
                removed = true;
            }
            empty
        });
        if removed {
            return true;
        }
        // The same series may have been created with its named pairs in another order.
        let Ok(rendered) = render(labels, &self.inner.label_names, M::TYPE) else {
            return false;
        };
        let Some(child) = self
            .inner
            .ordered
            .read()
            .get(rendered.as_str())
            .map(|c| Arc::clone(&c.0))
        else {
            return false;
        };
        self.inner.lookup.remove_if_mut(&child.hash, |_, slot| {
            let (taken, empty) = slot.take(|c| Arc::ptr_eq(c, &child));
            if taken.is_some() {
                self.inner.ordered.write().remove(&*child.rendered);
                removed = true;
            }
            empty
        });
        removed
    }

    /// Removes every child.
    pub fn clear(&self) {
        let hashes: Vec<u64> = self.inner.lookup.iter().map(|e| *e.key()).collect();
        for hash in hashes {
            self.inner.lookup.remove_if(&hash, |_, slot| {
                let mut ordered = self.inner.ordered.write();
                for child in slot.children() {
                    ordered.remove(&*child.rendered);
                }
                true
            });
        }
    }

    /// The number of children.
    pub fn len(&self) -> usize {
        self.inner.ordered.read().len()
    }

    /// Whether the family has no children.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many invalid label sets [`get_or_create`](Self::get_or_create) was given.
    pub fn rejected(&self) -> u64 {
        self.inner.rejected.load(Ordering::Relaxed)
    }
}

impl<M: TypedMetric> Family<Vec<String>, M> {
    /// Like `try_get_or_create` for a `Vec<String>` family: values in the order of the
    /// family's label names, with an error when their number is wrong.
    ///
    /// ```
    /// use prometheus_client::{Counter, Family, LabelError};
    /// let family = Family::<Vec<String>, Counter>::new(["method", "status"]);
    /// family.with_label_values(&["GET", "200"])?.inc();
    /// assert_eq!(
    ///     family.with_label_values(&["GET"]).unwrap_err(),
    ///     LabelError::WrongCount { expected: 2, got: 1 }
    /// );
    /// # Ok::<(), LabelError>(())
    /// ```
    pub fn with_label_values(&self, values: &[&str]) -> Result<M, LabelError> {
        self.try_get_or_create(values)
    }
}

impl<L: LabelSet<Owned = L>, M: TypedMetric + Default> Default for Family<L, M> {
    /// A family for named label sets (pairs, derived structs): no declared names.
    fn default() -> Self {
        Self::new(std::iter::empty::<String>())
    }
}

impl<L: LabelSet<Owned = L>, M: TypedMetric> Clone for Family<L, M> {
    fn clone(&self) -> Self {
        Family {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<L: LabelSet<Owned = L>, M: TypedMetric> fmt::Debug for Family<L, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Family")
            .field("type", &M::TYPE)
            .field("label_names", &self.inner.label_names)
            .field("children", &self.len())
            .finish()
    }
}

impl<L: LabelSet<Owned = L> + Send + Sync + 'static, M: TypedMetric> Metric for Family<L, M> {
    fn metric_type(&self) -> MetricType {
        M::TYPE
    }

    fn encode(&self, encoder: &mut MetricEncoder<'_>) {
        for child in self.inner.ordered.read().iter() {
            child
                .0
                .metric
                .encode(&mut encoder.with_labels(&child.0.rendered));
        }
    }

    fn child_labels(&self) -> ChildLabels<'_> {
        match L::SHAPE {
            LabelShape::Named => ChildLabels::Named {
                declared: &self.inner.label_names,
            },
            LabelShape::Positional(arity) => ChildLabels::Positional {
                names: &self.inner.label_names,
                arity,
            },
        }
    }
}

/// What a metric says about its children's labels, so registration can check them.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum ChildLabels<'a> {
    /// A single metric without children.
    None,
    /// Children named by these declared names; `arity` is the count the label type fixes.
    Positional {
        /// The declared label names.
        names: &'a [Box<str>],
        /// The number of values each label set has, where its type fixes it.
        arity: Option<usize>,
    },
    /// Children whose label sets carry their own names (which must not also be declared).
    Named {
        /// Names declared anyway (an error at registration when not empty).
        declared: &'a [Box<str>],
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Counter;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn racing_threads_create_each_child_once() {
        static CREATED: AtomicUsize = AtomicUsize::new(0);
        let family = Family::<[String; 2], Counter>::new_with_constructor(["a", "b"], || {
            CREATED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Counter::new()
        });
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let family = family.clone();
                std::thread::spawn(move || {
                    for i in 0..200 {
                        let x = (i % 50).to_string();
                        family.get_or_create(&[x.as_str(), "y"]).inc();
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().expect("worker"));
        assert_eq!(CREATED.load(std::sync::atomic::Ordering::Relaxed), 50);
        assert_eq!(family.len(), 50);
        let total: u64 = (0..50)
            .map(|i| family.get_or_create(&[i.to_string().as_str(), "y"]).get())
            .sum();
        assert_eq!(total, 8 * 200);
    }

    #[test]
    fn handles_survive_removal_but_are_no_longer_listed() {
        let family = Family::<(String,), Counter>::new(["k"]);
        let kept = family.get_or_create(&("v",));
        assert!(family.remove(&("v",)));
        assert!(!family.remove(&("v",)));
        kept.inc();
        assert!(family.is_empty());
        assert_eq!(
            family.get_or_create(&("v",)).get(),
            0,
            "a new child starts afresh"
        );
    }

    #[test]
    fn named_pairs_in_any_order_are_one_series() {
        let family = Family::<Vec<(String, String)>, Counter>::default();
        family.get_or_create(&[("a", "1"), ("b", "2")]).inc();
        family.get_or_create(&[("b", "2"), ("a", "1")]).inc();
        assert_eq!(family.len(), 1);
        assert_eq!(family.get_or_create(&[("a", "1"), ("b", "2")]).get(), 2);
        assert!(family.remove(&[("b", "2"), ("a", "1")]));
        assert!(family.is_empty());
    }

    #[test]
    fn invalid_named_sets_are_counted_not_exported() {
        let family = Family::<Vec<(String, String)>, Counter>::default();
        family.get_or_create(&[("__reserved", "x")]).inc();
        assert_eq!(family.rejected(), 1);
        assert!(family.is_empty());
    }

    #[test]
    fn colliding_hashes_keep_children_apart() {
        let mut slot: Slot<[String; 1], Counter> = Slot::One(Arc::new(Child {
            hash: 7,
            labels: ["a".into()],
            rendered: "k=\"a\"".to_owned(),
            metric: Counter::new(),
        }));
        slot.push(Arc::new(Child {
            hash: 7,
            labels: ["b".into()],
            rendered: "k=\"b\"".to_owned(),
            metric: Counter::new(),
        }));
        assert_eq!(slot.find(&["b"]).map(|c| &*c.rendered), Some("k=\"b\""));
        assert_eq!(slot.find(&["a"]).map(|c| &*c.rendered), Some("k=\"a\""));
        let (taken, empty) = slot.take(|c| ["a"].eq_owned(&c.labels));
        assert!(taken.is_some() && !empty);
        assert!(slot.find(&["a"]).is_none());
    }

    #[test]
    fn clear_removes_everything() {
        let family = Family::<[String; 1], Counter>::new(["k"]);
        for i in 0..100 {
            family.get_or_create(&[i.to_string()]).inc();
        }
        family.clear();
        assert!(family.is_empty());
        assert_eq!(family.get_or_create(&["1"]).get(), 0);
    }
}
