//! Family: labelled children of one metric type, created on first use.
//!
//! A family stores no label sets, only each child's rendered labels (`name="value",…`, in one
//! `Arc<str>`) beside its metric. Children live twice: in a `DashMap` keyed by the hash of
//! their labels, for lookups that take only a shard's read lock, and in a list the scrape
//! walks in the order of their rendered labels. A lookup hashes the given values and matches
//! them against the rendered labels of the children filed under that hash (escaping as it
//! goes, see `labels/mod.rs`), so it neither allocates nor copies.
//!
//! Before that, a lookup tries the table of children this thread looked up recently
//! (`recent_children.rs`), which takes no lock at all; the shared map is for the first
//! lookups of a child on each thread, and for children created or removed since.
//!
//! Creating a child allocates twice: the rendered labels (rendered into a per-thread buffer,
//! then copied once into their `Arc<str>`) and the metric. The list is sorted lazily: new
//! children are appended, and the next scrape sorts it (the sort finds the sorted prefix and
//! merges the new tail in).
//!
//! Both structures are changed together, always locking the map's shard first, then the list.

use std::cell::Cell;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use dashmap::mapref::entry::Entry;
use dashmap::DashMap;
use parking_lot::{RwLock, RwLockUpgradableReadGuard, RwLockWriteGuard};

use super::child_limits::{Admission, ChildLimits, Overflow};
use super::recent_children::RecentChildren;
use super::{Metric, TypedMetric};
use crate::encoding::{escape_label_value, MetricEncoder};
use crate::labels::{self, render_in_family, LabelError, LabelSet, LabelShape};
use crate::sync::{AtomicBool, AtomicU64, Ordering};
use crate::{Counter, MetricType};

/// Metrics of one type told apart by labels, such as requests by method and status.
///
/// `get_or_create` returns the child for a label set, creating it on first use. It returns
/// an owned handle (an `Arc` clone), never a lock guard: keep it to skip the lookup next time.
/// To update a child once, [`with`](Self::with) calls a closure with the child instead and
/// saves the handle's two reference-count updates.
///
/// Each thread remembers the children it looked up before (see [`with`](Self::with)), so a
/// repeated lookup does not allocate, even when given borrowed values; a thread's first
/// lookups of existing children allocate only as its table grows. Other lookups hash the
/// values once, take a read lock on one of the map's shards and compare the values with the
/// child's rendered labels in place.
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

struct Inner<L, M: Send> {
    label_names: Box<[Box<str>]>,
    /// The same names as rendered labels hold them (quoted where outside the classic set).
    rendered_names: Box<[Box<str>]>,
    /// Whether named label sets may use names outside the classic set (registered where
    /// UTF-8 names are allowed).
    utf8_names: AtomicBool,
    lookup: DashMap<u64, Slot<M>, BuildHasherDefault<Prehashed>>,
    recent: RecentChildren<M>,
    ordered: RwLock<Ordered<M>>,
    hasher: foldhash::fast::RandomState,
    constructor: Box<Constructor<M>>,
    rejected: AtomicU64,
    limits: ChildLimits<M>,
    /// Whether each new child starts keeping its creation time (the family was registered
    /// where created timestamps are exposed).
    track_created: AtomicBool,
    /// The label type only checks, at compile time, what lookups may be given.
    labels: PhantomData<fn() -> L>,
}

/// One child in the map: its rendered labels, its metric (a handle, cloned into the list),
/// and the sweep number it was last looked up in (see `child_limits.rs`).
struct Child<M> {
    rendered: Arc<str>,
    metric: M,
    last_used: AtomicU64,
}

impl<M> Child<M> {
    fn new(rendered: Arc<str>, metric: M, stamp: u64) -> Self {
        Child {
            rendered,
            metric,
            last_used: AtomicU64::new(stamp),
        }
    }

    /// Stamps the child as used in sweep `stamp` (a write only once a sweep).
    #[inline]
    fn touch(&self, stamp: u64) {
        if self.last_used.load(Ordering::Relaxed) != stamp {
            self.last_used.store(stamp, Ordering::Relaxed);
        }
    }
}

/// The children whose labels share one hash: almost always exactly one.
enum Slot<M> {
    One(Child<M>),
    Many(Vec<Child<M>>),
}

impl<M> Slot<M> {
    fn children(&self) -> &[Child<M>] {
        match self {
            Slot::One(c) => std::slice::from_ref(c),
            Slot::Many(cs) => cs,
        }
    }

    fn find(&self, is_it: impl Fn(&Child<M>) -> bool) -> Option<&Child<M>> {
        self.children().iter().find(|c| is_it(c))
    }

    /// Keeps the children `keep` says to keep; says whether the slot is now empty.
    fn retain(&mut self, mut keep: impl FnMut(&Child<M>) -> bool) -> bool {
        match self {
            Slot::One(c) => !keep(c),
            Slot::Many(cs) => {
                cs.retain(|c| keep(c));
                cs.is_empty()
            }
        }
    }

    fn push(&mut self, child: Child<M>) {
        *self = match std::mem::replace(self, Slot::Many(Vec::new())) {
            Slot::One(existing) => Slot::Many(vec![existing, child]),
            Slot::Many(mut cs) => {
                cs.push(child);
                Slot::Many(cs)
            }
        };
    }

    /// Takes out the child `is_it` picks; says whether the slot is now empty.
    fn take(&mut self, is_it: impl Fn(&Child<M>) -> bool) -> (Option<Child<M>>, bool) {
        match self {
            Slot::One(c) if is_it(c) => match std::mem::replace(self, Slot::Many(Vec::new())) {
                Slot::One(c) => (Some(c), true),
                Slot::Many(_) => (None, true),
            },
            Slot::One(_) => (None, false),
            Slot::Many(cs) => {
                let taken = cs.iter().position(is_it).map(|i| cs.swap_remove(i));
                (taken, cs.is_empty())
            }
        }
    }
}

/// The children in the order a scrape writes them: by rendered labels, once sorted.
///
/// Changes are cheap and the next scrape tidies up: new children are appended, removed ones
/// only marked (found by binary search), and a scrape that finds either drops the marked
/// children and sorts.
struct Ordered<M> {
    children: Vec<Listed<M>>,
    /// How many children, from the start, are in order; the rest were added since.
    sorted: usize,
    /// How many children are marked removed.
    removed: usize,
    /// The overflow child of a family with a child limit, once made (also in `children`;
    /// not in the lookup map).
    overflow: Option<(Arc<str>, M)>,
}

struct Listed<M> {
    rendered: Arc<str>,
    metric: M,
    removed: bool,
}

impl<M> Ordered<M> {
    fn push(&mut self, rendered: Arc<str>, metric: M) {
        self.children.push(Listed {
            rendered,
            metric,
            removed: false,
        });
    }

    fn len(&self) -> usize {
        self.children.len() - self.removed
    }

    fn is_tidy(&self) -> bool {
        self.sorted == self.children.len() && self.removed == 0
    }

    fn tidy(&mut self) {
        self.children.retain(|c| !c.removed);
        // A stable sort recognises the sorted prefix as one run and merges the new tail in.
        self.children.sort_by(|a, b| a.rendered.cmp(&b.rendered));
        self.sorted = self.children.len();
        self.removed = 0;
    }

    /// Marks the child with these very labels (the same `Arc`) removed.
    fn remove(&mut self, rendered: &Arc<str>) {
        let in_order = &self.children[..self.sorted];
        let at = match in_order.binary_search_by(|c| c.rendered.cmp(rendered)) {
            Ok(i) if Arc::ptr_eq(&in_order[i].rendered, rendered) => Some(i),
            // Not in the sorted part, or a removed namesake is: it was added since.
            _ => self.children[self.sorted..]
                .iter()
                .position(|c| Arc::ptr_eq(&c.rendered, rendered))
                .map(|i| self.sorted + i),
        };
        if let Some(listed) = at.and_then(|i| self.children.get_mut(i)) {
            if !listed.removed {
                listed.removed = true;
                self.removed += 1;
            }
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Listed<M>> {
        self.children.iter().filter(|c| !c.removed)
    }
}

thread_local! {
    /// Where a thread renders new children's labels, so that only their `Arc<str>` allocates.
    static RENDER_BUFFER: Cell<String> = const { Cell::new(String::new()) };
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
        let label_names: Box<[Box<str>]> = label_names
            .into_iter()
            .map(|n| n.into().into_boxed_str())
            .collect();
        Family {
            inner: Arc::new(Inner {
                rendered_names: label_names
                    .iter()
                    .map(|n| labels::rendered::name(n))
                    .collect(),
                label_names,
                utf8_names: AtomicBool::new(false),
                lookup: DashMap::default(),
                recent: RecentChildren::new(),
                ordered: RwLock::new(Ordered {
                    children: Vec::new(),
                    sorted: 0,
                    removed: 0,
                    overflow: None,
                }),
                hasher: foldhash::fast::RandomState::default(),
                constructor: Box::new(constructor),
                rejected: AtomicU64::new(0),
                limits: ChildLimits::new(),
                track_created: AtomicBool::new(false),
                labels: PhantomData,
            }),
        }
    }

    /// The declared label names (empty for named label sets).
    pub fn label_names(&self) -> impl Iterator<Item = &str> {
        self.inner.label_names.iter().map(|n| &**n)
    }

    /// What rendering a child's labels checks them by: the type's reserved label, and
    /// whether names outside the classic set are allowed.
    fn rules(&self) -> (crate::MetricType, bool) {
        (M::TYPE, self.inner.utf8_names.load(Ordering::Relaxed))
    }

    fn hash<Q: LabelSet<Owned = L> + ?Sized>(&self, labels: &Q) -> u64 {
        labels::hash(labels, &self.inner.hasher)
    }

    /// The child for `labels`, created on first use.
    ///
    /// Label sets whose names come from their type or from the family (arrays, tuples, derived
    /// structs) cannot be invalid once the family is registered. A named set that is invalid
    /// (a bad or duplicate name) gets a working metric that is not exported and is counted in
    /// [`rejected`](Self::rejected); use [`try_get_or_create`](Self::try_get_or_create) to see
    /// the error instead.
    ///
    /// To update a child once, [`with`](Self::with) is faster: it needs no handle of its own.
    #[inline]
    pub fn get_or_create<Q: LabelSet<Owned = L> + ?Sized>(&self, labels: &Q) -> M {
        self.with(labels, M::clone)
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
        self.try_with(labels, M::clone)
    }

    /// Calls `f` with the child for `labels`, created on first use: the quickest way to
    /// update a child once.
    ///
    /// Each thread remembers the children it looks up again and again (up to 512 a family
    /// and thread), so a repeated lookup takes no lock, writes no memory other threads share
    /// and allocates nothing; `f` runs with no lock held and may use the family again. An
    /// invalid named set is handled as by [`get_or_create`](Self::get_or_create).
    ///
    /// ```
    /// use prometheus_client::{Counter, Family};
    /// let requests = Family::<[String; 2], Counter>::new(["method", "status"]);
    /// requests.with(&["GET", "200"], Counter::inc);
    /// requests.with(&["GET", "200"], |c| c.inc_by(2));
    /// assert_eq!(requests.with(&["GET", "200"], Counter::get), 3);
    /// ```
    #[inline]
    pub fn with<Q, R>(&self, labels: &Q, f: impl FnOnce(&M) -> R) -> R
    where
        Q: LabelSet<Owned = L> + ?Sized,
    {
        match self.lookup(labels, f) {
            Ok(r) => r,
            Err((_, f)) => {
                self.inner.rejected.fetch_add(1, Ordering::Relaxed);
                f(&(self.inner.constructor)())
            }
        }
    }

    /// Calls `f` with the child for `labels`, created on first use, or says why `labels`
    /// cannot name a child.
    ///
    /// ```
    /// use prometheus_client::{Gauge, Family, LabelError};
    /// let family = Family::<Vec<(String, String)>, Gauge>::default();
    /// assert_eq!(family.try_with(&[("pool", "main")], |g| g.inc()), Ok(()));
    /// assert!(matches!(family.try_with(&[("pool", "a"), ("pool", "b")], Gauge::inc), Err(LabelError::DuplicateName(_))));
    /// ```
    #[inline]
    pub fn try_with<Q, R>(&self, labels: &Q, f: impl FnOnce(&M) -> R) -> Result<R, LabelError>
    where
        Q: LabelSet<Owned = L> + ?Sized,
    {
        self.lookup(labels, f).map_err(|(e, _)| e)
    }

    /// Calls `f` with the child for `labels`; gives `f` back with the error.
    #[inline]
    fn lookup<Q, R, F>(&self, labels: &Q, f: F) -> Result<R, (LabelError, F)>
    where
        Q: LabelSet<Owned = L> + ?Sized,
        F: FnOnce(&M) -> R,
    {
        let generation = self.inner.recent.generation();
        match self.inner.recent.with(generation, labels, f) {
            Ok(r) => Ok(r),
            Err(f) => self.lookup_shared(generation, labels, f),
        }
    }

    /// Looks `labels` up in the map all threads share, creating the child if it is new, and
    /// remembers a child that existed for this thread's next lookup.
    fn lookup_shared<Q, R, F>(
        &self,
        generation: u64,
        labels: &Q,
        f: F,
    ) -> Result<R, (LabelError, F)>
    where
        Q: LabelSet<Owned = L> + ?Sized,
        F: FnOnce(&M) -> R,
    {
        let hash = self.hash(labels);
        let existing = self.inner.lookup.get(&hash).and_then(|slot| {
            let names = &self.inner.rendered_names;
            slot.find(|c| labels::matches(labels, names, c.rendered.as_bytes()))
                .map(|c| {
                    c.touch(self.inner.limits.stamp());
                    c.metric.clone()
                })
        });
        let metric = match existing {
            Some(metric) => {
                self.inner.recent.remember(generation, labels, &metric);
                metric
            }
            None => match self.create(hash, labels) {
                Ok(Some(metric)) => metric,
                Ok(None) => {
                    let limits = &self.inner.limits;
                    return Ok(f(limits.refuse(|| (self.inner.constructor)())));
                }
                Err(e) => return Err((e, f)),
            },
        };
        Ok(f(&metric))
    }

    /// The child for `labels`, created; `None` where the family's child limit refuses it.
    #[cold]
    fn create<Q: LabelSet<Owned = L> + ?Sized>(
        &self,
        hash: u64,
        labels: &Q,
    ) -> Result<Option<M>, LabelError> {
        self.sweep_if_due();
        let buffer = RENDER_BUFFER.take();
        let rendered = render_in_family(labels, &self.inner.rendered_names, self.rules(), buffer)?;
        let found = self.create_rendered(hash, &rendered);
        RENDER_BUFFER.set(rendered);
        Ok(found)
    }

    /// The child with these rendered labels, created unless another thread (or a lookup the
    /// matcher could not settle, such as a named set of over 64 labels) got there first, or
    /// the overflow child or `None` when the child limit is reached.
    fn create_rendered(&self, hash: u64, rendered: &str) -> Option<M> {
        let mut entry = self.inner.lookup.entry(hash);
        if let Entry::Occupied(occupied) = &mut entry {
            if let Some(child) = occupied.get().find(|c| &*c.rendered == rendered) {
                return Some(child.metric.clone());
            }
        }
        let limits = &self.inner.limits;
        let mut ordered = self.inner.ordered.write();
        if limits.is_capped() {
            if let Some((overflow_labels, metric)) = &ordered.overflow {
                if **overflow_labels == *rendered {
                    return Some(metric.clone());
                }
            }
            let children = ordered.len() - usize::from(ordered.overflow.is_some());
            match limits.admit(children) {
                Admission::Create => {}
                Admission::Refuse => return None,
                Admission::Fold(value) => {
                    if ordered.overflow.is_none() {
                        let overflow_labels = self.overflow_labels(value);
                        let metric = self.new_child_metric();
                        ordered.push(Arc::clone(&overflow_labels), metric.clone());
                        ordered.overflow = Some((overflow_labels, metric));
                    }
                    return ordered.overflow.as_ref().map(|(_, metric)| metric.clone());
                }
            }
        }
        let child = Child::new(Arc::from(rendered), self.new_child_metric(), limits.stamp());
        let metric = child.metric.clone();
        ordered.push(Arc::clone(&child.rendered), child.metric.clone());
        drop(ordered);
        match entry {
            Entry::Occupied(mut occupied) => occupied.get_mut().push(child),
            Entry::Vacant(vacant) => {
                vacant.insert(Slot::One(child));
            }
        }
        Some(metric)
    }

    fn new_child_metric(&self) -> M {
        let metric = (self.inner.constructor)();
        if self.inner.track_created.load(Ordering::Relaxed) {
            metric.start_created_timestamp();
        }
        metric
    }

    /// The overflow child's labels: every declared label with `value`, or `overflow="value"`
    /// for named label sets.
    fn overflow_labels(&self, value: &str) -> Arc<str> {
        let mut rendered = String::new();
        let overflow_name: &[Box<str>] = &["overflow".into()];
        let names = match &*self.inner.rendered_names {
            [] => overflow_name,
            names => names,
        };
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                rendered.push(',');
            }
            rendered.push_str(name);
            rendered.push_str("=\"");
            escape_label_value(&mut rendered, value);
            rendered.push('"');
        }
        Arc::from(rendered)
    }

    /// Removes the children idle for the idle time, if a sweep is due (see
    /// `child_limits.rs`); every sweep makes the next lookups stamp their children.
    fn sweep_if_due(&self) {
        let Some(sweep) = self.inner.limits.sweep_due() else {
            return;
        };
        if let Some(idle_up_to) = sweep.idle_up_to {
            self.inner.lookup.retain(|_, slot| {
                let empty = slot.retain(|c| {
                    let idle = c.last_used.load(Ordering::Relaxed) <= idle_up_to;
                    if idle {
                        self.inner.ordered.write().remove(&c.rendered);
                    }
                    !idle
                });
                !empty
            });
        }
        self.inner.recent.invalidate();
    }

    /// Removes the child for `labels`; says whether there was one. Handles already given out
    /// keep working but are no longer exported.
    pub fn remove<Q: LabelSet<Owned = L> + ?Sized>(&self, labels: &Q) -> bool {
        let rendered = render_in_family(
            labels,
            &self.inner.rendered_names,
            self.rules(),
            String::new(),
        );
        let Ok(rendered) = rendered else {
            return false;
        };
        let mut removed = false;
        self.inner
            .lookup
            .remove_if_mut(&self.hash(labels), |_, slot| {
                let (taken, empty) = slot.take(|c| *c.rendered == *rendered);
                if let Some(child) = taken {
                    self.inner.ordered.write().remove(&child.rendered);
                    removed = true;
                }
                empty
            });
        if removed {
            self.inner.recent.invalidate();
        }
        removed
    }

    /// Removes every child.
    pub fn clear(&self) {
        let hashes: Vec<u64> = self.inner.lookup.iter().map(|e| *e.key()).collect();
        for hash in hashes {
            self.inner.lookup.remove_if(&hash, |_, slot| {
                let mut ordered = self.inner.ordered.write();
                for child in slot.children() {
                    ordered.remove(&child.rendered);
                }
                true
            });
        }
        let mut ordered = self.inner.ordered.write();
        if let Some((overflow_labels, _)) = ordered.overflow.take() {
            ordered.remove(&overflow_labels);
        }
        drop(ordered);
        self.inner.recent.invalidate();
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

    /// Bounds the family to `max` children: a new label set beyond them is refused or
    /// folded into an overflow child, as `overflow` says. Lookups of existing children cost
    /// what they did; the check runs only when a child would be created. Set it before the
    /// family is registered (the registry then counts refusals in
    /// `prometheus_client_family_children_refused_total{family="<name>"}`); a second call
    /// changes nothing.
    ///
    /// ```
    /// use prometheus_client::{Counter, Family, Overflow, Registry, encoding::Format};
    ///
    /// let registry = Registry::new();
    /// let by_path = registry.register(
    ///     "requests", "Requests by path.",
    ///     Family::<[String; 1], Counter>::new(["path"]).with_max_children(2, Overflow::Refuse),
    /// )?;
    /// for path in ["/a", "/b", "/c", "/d"] {
    ///     by_path.with(&[path], Counter::inc);
    /// }
    /// assert_eq!(by_path.len(), 2);
    /// assert_eq!(by_path.refused(), 2);
    /// let text = registry.encode_to_string(Format::Text)?;
    /// assert!(text.contains("prometheus_client_family_children_refused_total{family=\"requests\"} 2\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_max_children(self, max: usize, overflow: Overflow) -> Self {
        self.inner.limits.set_cap(max, overflow);
        self
    }

    /// Removes children not looked up through the family ([`with`](Self::with),
    /// [`get_or_create`](Self::get_or_create)) for `idle`: they are gone between `idle` and
    /// twice `idle` after their last lookup, found at scrapes and when children are created.
    /// A handle kept and updated directly does not count as a lookup; its child may expire
    /// while the handle keeps working unexported, as after [`remove`](Self::remove). An
    /// update racing with the removal of an idle child may be lost with it. Set it before
    /// sharing the family; a second call changes nothing.
    ///
    /// ```
    /// use std::time::Duration;
    /// use prometheus_client::{Counter, Family};
    ///
    /// let sessions = Family::<[String; 1], Counter>::new(["session"])
    ///     .with_idle_expiry(Duration::from_secs(15 * 60));
    /// sessions.with(&["f81d4fae"], Counter::inc);
    /// ```
    #[must_use]
    pub fn with_idle_expiry(self, idle: Duration) -> Self {
        self.inner.limits.set_expiry(idle);
        self
    }

    /// How many lookups the child limit refused ([`Overflow::Refuse`]).
    pub fn refused(&self) -> u64 {
        self.inner.limits.refused()
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
        self.sweep_if_due();
        let ordered = self.inner.ordered.upgradable_read();
        let ordered = if ordered.is_tidy() {
            RwLockUpgradableReadGuard::downgrade(ordered)
        } else {
            let mut ordered = RwLockUpgradableReadGuard::upgrade(ordered);
            ordered.tidy();
            RwLockWriteGuard::downgrade(ordered)
        };
        for child in ordered.iter() {
            child
                .metric
                .encode(&mut encoder.with_labels(&child.rendered));
        }
    }

    fn limits_children(&self) -> bool {
        self.inner.limits.is_capped()
    }

    fn count_refused_children_in(&self, refused: Counter) {
        self.inner.limits.count_refusals_in(refused);
    }

    fn allow_utf8_names(&self) {
        self.inner.utf8_names.store(true, Ordering::Relaxed);
    }

    fn start_created_timestamp(&self) {
        self.inner.track_created.store(true, Ordering::Relaxed);
        for child in self.inner.ordered.read().iter() {
            child.metric.start_created_timestamp();
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
    fn the_child_limit_holds_under_racing_threads() {
        let family =
            Family::<[String; 1], Counter>::new(["v"]).with_max_children(1000, Overflow::Refuse);
        std::thread::scope(|scope| {
            for t in 0..8 {
                let family = &family;
                scope.spawn(move || {
                    for i in 0..2000 {
                        family.with(&[format!("{t}-{i}")], Counter::inc);
                    }
                });
            }
        });
        assert_eq!(family.len(), 1000);
        assert_eq!(family.refused(), 8 * 2000 - 1000);
        let exported: u64 = family
            .inner
            .ordered
            .read()
            .iter()
            .map(|c| c.metric.get())
            .sum();
        assert_eq!(exported, 1000, "only the admitted children's own updates");
    }

    #[test]
    fn existing_children_keep_working_at_the_limit() {
        let family =
            Family::<[String; 1], Counter>::new(["v"]).with_max_children(2, Overflow::Refuse);
        family.with(&["a"], Counter::inc);
        family.with(&["b"], Counter::inc);
        family.with(&["c"], Counter::inc);
        family.with(&["a"], Counter::inc);
        assert_eq!(family.with(&["a"], Counter::get), 2);
        assert_eq!(family.refused(), 1);
        // Room again after a removal.
        assert!(family.remove(&["b"]));
        family.with(&["c"], Counter::inc);
        assert_eq!(family.with(&["c"], Counter::get), 1);
    }

    #[test]
    fn overflow_folds_into_one_child_with_escaped_labels() {
        let family = Family::<[String; 2], Counter>::new(["a", "b"])
            .with_max_children(1, Overflow::FoldInto("x\"y".into()));
        family.with(&["1", "1"], Counter::inc);
        family.with(&["2", "2"], Counter::inc);
        family.with(&["3", "3"], |c| c.inc_by(5));
        let rendered: Vec<(String, u64)> = family
            .inner
            .ordered
            .read()
            .iter()
            .map(|c| (c.rendered.to_string(), c.metric.get()))
            .collect();
        assert_eq!(
            rendered,
            [
                ("a=\"1\",b=\"1\"".to_owned(), 1),
                ("a=\"x\\\"y\",b=\"x\\\"y\"".to_owned(), 6)
            ]
        );
        family.clear();
        assert!(family.is_empty());
        family.with(&["4", "4"], Counter::inc);
        family.with(&["5", "5"], Counter::inc);
        assert_eq!(family.len(), 2, "a new overflow child after clear");
        let named = Family::<Vec<(String, String)>, Counter>::default()
            .with_max_children(0, Overflow::FoldInto("other".into()));
        named.with(&[("user", "ann")], Counter::inc);
        let rendered = named
            .inner
            .ordered
            .read()
            .iter()
            .next()
            .map(|c| c.rendered.to_string());
        assert_eq!(rendered.as_deref(), Some("overflow=\"other\""));
    }

    #[test]
    fn idle_children_expire_and_used_ones_stay() {
        let idle = std::time::Duration::from_millis(60);
        let family = Family::<[String; 1], Counter>::new(["v"]).with_idle_expiry(idle);
        let created = std::time::Instant::now();
        family.with(&["idle"], Counter::inc);
        let mut encoded = String::new();
        for _ in 0..200 {
            family.with(&["busy"], Counter::inc);
            // A scrape: sweeps when due.
            let mut out = Vec::new();
            family.encode(&mut MetricEncoder::new(
                &mut out,
                crate::encoding::Format::Text,
                "f",
                "",
                false,
            ));
            encoded = String::from_utf8(out).expect("utf-8");
            if !encoded.contains("idle") {
                break;
            }
            std::thread::sleep(idle / 4);
        }
        assert!(!encoded.contains("idle"), "never expired: {encoded}");
        assert!(
            created.elapsed() >= idle,
            "expired before it was idle long enough"
        );
        assert!(encoded.contains("v=\"busy\""), "{encoded}");
        assert_eq!(family.len(), 1);
    }

    #[test]
    fn colliding_hashes_keep_children_apart() {
        let child = |rendered: &str| Child::new(Arc::from(rendered), Counter::new(), 0);
        let mut slot = Slot::One(child("k=\"a\""));
        slot.push(child("k=\"b\""));
        let names: &[Box<str>] = &["k".into()];
        let find = |slot: &Slot<Counter>, v: &str| {
            slot.find(|c| labels::matches(&[v], names, c.rendered.as_bytes()))
                .map(|c| c.rendered.to_string())
        };
        assert_eq!(find(&slot, "b").as_deref(), Some("k=\"b\""));
        assert_eq!(find(&slot, "a").as_deref(), Some("k=\"a\""));
        let (taken, empty) = slot.take(|c| &*c.rendered == "k=\"a\"");
        assert!(taken.is_some() && !empty);
        assert!(find(&slot, "a").is_none());
        let (taken, empty) = slot.take(|c| &*c.rendered == "k=\"b\"");
        assert!(taken.is_some() && empty);
    }

    /// A registered family of counters with one label, `k`.
    fn registered_family() -> (crate::Registry, Family<[String; 1], Counter>) {
        let registry = crate::Registry::new();
        let family = registry
            .register("f", "F.", Family::<[String; 1], Counter>::new(["k"]))
            .expect("registered");
        (registry, family)
    }

    fn scrape(registry: &crate::Registry) -> String {
        registry
            .encode_to_string(crate::encoding::Format::Text)
            .expect("text")
    }

    #[test]
    fn new_children_are_listed_in_order_at_the_next_scrape() {
        let (registry, family) = registered_family();
        for v in ["m", "c", "x"] {
            family.get_or_create(&[v]);
        }
        assert!(scrape(&registry)
            .contains("f_total{k=\"c\"} 0\nf_total{k=\"m\"} 0\nf_total{k=\"x\"} 0\n"));
        for v in ["a", "n", "z"] {
            family.get_or_create(&[v]);
        }
        assert!(family.remove(&["m"]));
        assert!(family.remove(&["z"]), "an unsorted child is found too");
        assert!(scrape(&registry).contains(
            "f_total{k=\"a\"} 0\nf_total{k=\"c\"} 0\nf_total{k=\"n\"} 0\nf_total{k=\"x\"} 0\n"
        ));
        assert_eq!(family.len(), 4);
    }

    #[test]
    fn scrapes_racing_creates_and_removals_list_each_child_once() {
        let (registry, family) = registered_family();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let churners: Vec<_> = (0..2)
            .map(|t| {
                let (family, stop) = (family.clone(), Arc::clone(&stop));
                std::thread::spawn(move || {
                    let mut i = 0usize;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let v = format!("{}", (i * 7 + t) % 50);
                        if i % 3 == 0 {
                            family.remove(&[v.as_str()]);
                        } else {
                            family.get_or_create(&[v.as_str()]).inc();
                        }
                        i += 1;
                    }
                })
            })
            .collect();
        for _ in 0..300 {
            let text = scrape(&registry);
            let series: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
            let mut names: Vec<&str> = series.iter().filter_map(|l| l.split(' ').next()).collect();
            names.dedup();
            assert_eq!(
                names.len(),
                series.len(),
                "listed in order, each once:\n{text}"
            );
            assert!(names.is_sorted(), "listed in order, each once:\n{text}");
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        churners
            .into_iter()
            .for_each(|c| c.join().expect("churner"));
        let listed = scrape(&registry)
            .lines()
            .filter(|l| !l.starts_with('#'))
            .count();
        assert_eq!(listed, family.len());
        assert_eq!(
            listed,
            family
                .inner
                .lookup
                .iter()
                .map(|s| s.children().len())
                .sum::<usize>()
        );
    }

    #[test]
    fn named_sets_of_over_64_labels_still_find_their_child() {
        let names: Vec<String> = (0..70).map(|i| format!("l{i}")).collect();
        let set: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
        let family = Family::<Vec<(String, String)>, Counter>::default();
        family.get_or_create(&set[..]).inc();
        family.get_or_create(&set[..]).inc();
        assert_eq!(family.len(), 1);
        assert_eq!(family.get_or_create(&set[..]).get(), 2);
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

    #[test]
    fn a_remembered_child_is_forgotten_when_removed() {
        let (registry, family) = registered_family();
        // The second lookup finds the child in the shared map and remembers it, the third
        // finds it in this thread's table.
        (0..3).for_each(|_| family.with(&["a"], Counter::inc));
        assert!(family.remove(&["a"]));
        family.with(&["a"], Counter::inc);
        assert_eq!(
            scrape(&registry),
            "# HELP f_total F.\n# TYPE f_total counter\nf_total{k=\"a\"} 1\n"
        );
        (0..3).for_each(|_| family.with(&["a"], Counter::inc));
        family.clear();
        family.with(&["a"], Counter::inc);
        assert_eq!(family.with(&["a"], Counter::get), 1);
    }

    #[test]
    fn a_removal_reaches_every_thread_that_remembers_the_child() {
        let (registry, family) = registered_family();
        let (remembered, wait_remembered) = std::sync::mpsc::channel();
        let (removed, wait_removed) = std::sync::mpsc::channel();
        std::thread::scope(|s| {
            let family = &family;
            s.spawn(move || {
                (0..3).for_each(|_| family.with(&["a"], Counter::inc));
                remembered.send(()).expect("main thread waits");
                wait_removed.recv().expect("main thread removes");
                family.with(&["a"], Counter::inc);
            });
            wait_remembered.recv().expect("worker looks up");
            assert!(family.remove(&["a"]));
            removed.send(()).expect("worker waits");
        });
        assert!(scrape(&registry).contains("f_total{k=\"a\"} 1\n"));
    }

    #[test]
    fn the_closure_runs_without_locks_and_may_use_the_family() {
        let family = Family::<[String; 1], Counter>::new(["k"]);
        (0..3).for_each(|_| family.with(&["a"], Counter::inc));
        let (nested, children) = family.with(&["a"], |a| {
            a.inc();
            let nested = family.with(&["a"], Counter::get);
            family.with(&["b"], Counter::inc);
            assert!(family.remove(&["b"]));
            (nested, family.len())
        });
        assert_eq!((nested, children), (4, 1));
        assert_eq!(family.with(&["a"], Counter::get), 4);
    }
}
