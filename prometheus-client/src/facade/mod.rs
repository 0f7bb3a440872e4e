//! A [`metrics::Recorder`] backed by a [`Registry`], so what libraries record through the
//! `metrics` crate's macros appears on the same `/metrics` as this library's own metrics
//! (feature `metrics`).
//!
//! - Names become families: `metrics`' names may have `.` or `-`, which become `_`
//!   ([`desc::sanitize_metric_name`](crate::desc::sanitize_metric_name)); label keys likewise.
//!   A counter `jobs.done` is the family `jobs_done`, written `jobs_done_total`.
//! - Counters are [`Counter`]s, gauges [`Gauge<f64>`](Gauge)s, histograms [`Histogram`]s
//!   with buckets chosen per name ([`MetricsRecorderBuilder::buckets`]); each label set is a
//!   child of its family.
//! - `describe_*` gives the family its HELP; a unit becomes OpenMetrics' `# UNIT` where the
//!   name already ends with it (`latency_seconds` with `Unit::Seconds`): names are never
//!   changed behind the caller's back.
//! - What cannot be exposed (a name registered as two kinds, a clash with one of the
//!   registry's own families, an invalid label set) gets a handle that records nothing, and
//!   is counted in `prometheus_client_metrics_refused_total{name}`.
//!
//! Handles are cached per key, so the macros' `counter!("x").increment(1)` costs a map
//! lookup, not a registration.
//!
//! ```
//! use prometheus_client::facade::MetricsRecorder;
//! use prometheus_client::{encoding::Format, Registry};
//!
//! let registry = Registry::new();
//! let recorder = MetricsRecorder::builder(&registry).build();
//! metrics::with_local_recorder(&recorder, || {
//!     metrics::describe_counter!("cache.hits", "Lookups answered from the cache.");
//!     metrics::counter!("cache.hits", "cache" => "users").increment(3);
//! });
//! assert_eq!(registry.encode_to_string(Format::Text)?, "\
//! ## HELP cache_hits_total Lookups answered from the cache.
//! ## TYPE cache_hits_total counter
//! cache_hits_total{cache=\"users\"} 3
//! ");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod handles;

use std::collections::HashMap;
use std::sync::Arc;

use dashmap::DashMap;
use metrics::{Key, KeyName, Metadata, Recorder, SharedString, Unit};
use parking_lot::Mutex;

use crate::desc::{sanitize_label_name, sanitize_metric_name};
use crate::{
    Buckets, Counter, Family, Gauge, Histogram, Metric, RegisterError, Registry, DEFAULT_BUCKETS,
};
use handles::{AbsoluteCounter, Handle};

/// Which names a bucket layout is for.
///
/// ```
/// use prometheus_client::facade::Matcher;
/// assert!(Matcher::Prefix("http_".into()).matches("http_latency_seconds"));
/// assert!(Matcher::Suffix("_bytes".into()).matches("body_bytes"));
/// assert!(!Matcher::Full("a".into()).matches("ab"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Matcher {
    /// Exactly this (sanitized) name.
    Full(String),
    /// Names that start with this.
    Prefix(String),
    /// Names that end with this.
    Suffix(String),
}

impl Matcher {
    /// Whether `name` (as exposed, after sanitizing) is matched.
    pub fn matches(&self, name: &str) -> bool {
        match self {
            Matcher::Full(full) => name == full,
            Matcher::Prefix(prefix) => name.starts_with(prefix.as_str()),
            Matcher::Suffix(suffix) => name.ends_with(suffix.as_str()),
        }
    }
}

/// Configures a [`MetricsRecorder`].
///
/// ```
/// use prometheus_client::facade::{Matcher, MetricsRecorder};
/// use prometheus_client::{Buckets, Registry};
///
/// let registry = Registry::new();
/// let recorder = MetricsRecorder::builder(&registry)
///     .buckets(Matcher::Suffix("_seconds".into()), Buckets::new(&[0.01, 0.1, 1.0])?)
///     .build();
/// # Ok::<(), prometheus_client::BucketError>(())
/// ```
#[derive(Debug)]
pub struct MetricsRecorderBuilder {
    registry: Registry,
    buckets: Vec<(Matcher, Buckets)>,
    default_buckets: Buckets,
}

impl MetricsRecorderBuilder {
    /// Histograms whose name `matcher` matches get `buckets`; the first matching rule wins.
    #[must_use]
    pub fn buckets(mut self, matcher: Matcher, buckets: Buckets) -> Self {
        self.buckets.push((matcher, buckets));
        self
    }

    /// Buckets for histograms no rule matches (default: [`DEFAULT_BUCKETS`]).
    #[must_use]
    pub fn default_buckets(mut self, buckets: Buckets) -> Self {
        self.default_buckets = buckets;
        self
    }

    /// The recorder. Its own family, `prometheus_client_metrics_refused_total`, is
    /// registered when something is first refused.
    pub fn build(self) -> MetricsRecorder {
        MetricsRecorder {
            inner: Arc::new(Inner {
                registry: self.registry,
                buckets: self.buckets,
                default_buckets: self.default_buckets,
                handles: Default::default(),
                families: Mutex::new(HashMap::new()),
                refused: Mutex::new(None),
            }),
        }
    }

    /// Builds the recorder and makes it the process's global `metrics` recorder.
    ///
    /// Fails when a global recorder was already set (`metrics` allows one per process).
    pub fn install(self) -> Result<(), InstallError> {
        metrics::set_global_recorder(self.build()).map_err(|_| InstallError)
    }
}

/// A global `metrics` recorder was already installed.
///
/// ```
/// let e = prometheus_client::facade::InstallError;
/// assert_eq!(e.to_string(), "a global metrics recorder is already installed");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstallError;

impl std::fmt::Display for InstallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a global metrics recorder is already installed")
    }
}

impl std::error::Error for InstallError {}

/// A `metrics` recorder writing into a [`Registry`] (see the [module](self)).
#[derive(Clone)]
pub struct MetricsRecorder {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for MetricsRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsRecorder")
            .field("families", &self.inner.families.lock().len())
            .field(
                "handles",
                &self.inner.handles.iter().map(DashMap::len).sum::<usize>(),
            )
            .finish()
    }
}

impl MetricsRecorder {
    /// A builder for a recorder writing into `registry` (which it shares, as clones do).
    pub fn builder(registry: &Registry) -> MetricsRecorderBuilder {
        MetricsRecorderBuilder {
            registry: registry.clone(),
            buckets: Vec::new(),
            default_buckets: Buckets::new(&DEFAULT_BUCKETS)
                .unwrap_or_else(|_| unreachable!("DEFAULT_BUCKETS are valid")),
        }
    }
}

type Labels = Vec<(String, String)>;

/// A family registered for one `metrics` name.
#[derive(Clone)]
enum FamilyOf {
    Counter(Family<Labels, Counter>),
    Gauge(Family<Labels, Gauge<f64>>),
    Histogram(Family<Labels, Histogram>),
}

impl FamilyOf {
    fn kind(&self) -> Kind {
        match self {
            FamilyOf::Counter(_) => Kind::Counter,
            FamilyOf::Gauge(_) => Kind::Gauge,
            FamilyOf::Histogram(_) => Kind::Histogram,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// A family's registration: the family and what it was registered with.
struct Registered {
    family: FamilyOf,
    help: String,
    unit: Option<&'static str>,
}

struct Inner {
    registry: Registry,
    buckets: Vec<(Matcher, Buckets)>,
    default_buckets: Buckets,
    /// Handles by `metrics` key, one map per kind (the same key may be asked for as two).
    handles: [DashMap<Key, Handle>; 3],
    /// Families by exposed name, and descriptions given before their family existed.
    families: Mutex<HashMap<String, Slot>>,
    refused: Mutex<Option<Family<[String; 1], Counter>>>,
}

/// What is known about one exposed name.
#[derive(Default)]
struct Slot {
    registered: Option<Registered>,
    description: Option<(String, Option<Unit>)>,
}

/// The OpenMetrics unit for `unit`, if `name` already ends with it.
fn unit_for(name: &str, unit: Option<Unit>) -> Option<&'static str> {
    let unit = unit.filter(|u| *u != Unit::Count)?.as_str();
    name.strip_suffix(unit)
        .is_some_and(|rest| rest.ends_with('_'))
        .then_some(unit)
}

impl Inner {
    fn handle(&self, kind: Kind, key: &Key) -> Handle {
        let handles = &self.handles[kind as usize];
        if let Some(handle) = handles.get(key) {
            return handle.clone();
        }
        let handle = self.create(kind, key);
        handles.entry(key.clone()).or_insert(handle).clone()
    }

    fn create(&self, kind: Kind, key: &Key) -> Handle {
        let name = sanitize_metric_name(key.name());
        let Some(family) = self.family(kind, &name) else {
            self.refuse(&name);
            return Handle::Noop;
        };
        let labels: Labels = key
            .labels()
            .map(|l| (sanitize_label_name(l.key()), l.value().to_owned()))
            .collect();
        let child = match family {
            FamilyOf::Counter(f) => f
                .try_get_or_create(&labels)
                .map(|c| Handle::Counter(Arc::new(AbsoluteCounter::new(c)))),
            FamilyOf::Gauge(f) => f
                .try_get_or_create(&labels)
                .map(|g| Handle::Gauge(Arc::new(g))),
            FamilyOf::Histogram(f) => f
                .try_get_or_create(&labels)
                .map(|h| Handle::Histogram(Arc::new(h))),
        };
        child.unwrap_or_else(|_| {
            self.refuse(&name);
            Handle::Noop
        })
    }

    /// The family for `name`, registering it on first use; `None` where `name` is taken (by
    /// another kind, or by one of the registry's own families).
    fn family(&self, kind: Kind, name: &str) -> Option<FamilyOf> {
        let mut families = self.families.lock();
        let slot = families.entry(name.to_owned()).or_default();
        if let Some(registered) = &slot.registered {
            return (registered.family.kind() == kind).then(|| registered.family.clone());
        }
        let family = match kind {
            Kind::Counter => FamilyOf::Counter(Family::default()),
            Kind::Gauge => FamilyOf::Gauge(Family::default()),
            Kind::Histogram => {
                let buckets = self
                    .buckets
                    .iter()
                    .find(|(m, _)| m.matches(name))
                    .map_or(&self.default_buckets, |(_, b)| b)
                    .clone();
                FamilyOf::Histogram(Family::new_with_constructor(
                    Vec::<String>::new(),
                    move || Histogram::new(buckets.clone()),
                ))
            }
        };
        let (help, unit) = match &slot.description {
            Some((help, unit)) => (help.clone(), unit_for(name, *unit)),
            None => (String::new(), None),
        };
        self.register(name, &family, &help, unit).ok()?;
        slot.registered = Some(Registered {
            family: family.clone(),
            help,
            unit,
        });
        Some(family)
    }

    fn register(
        &self,
        name: &str,
        family: &FamilyOf,
        help: &str,
        unit: Option<&str>,
    ) -> Result<(), RegisterError> {
        match family {
            FamilyOf::Counter(f) => register_as(&self.registry, name, help, unit, f.clone()),
            FamilyOf::Gauge(f) => register_as(&self.registry, name, help, unit, f.clone()),
            FamilyOf::Histogram(f) => register_as(&self.registry, name, help, unit, f.clone()),
        }
    }

    /// Records a description; a family registered before it was given is registered again
    /// with it (the same family, so no value is lost).
    fn describe(&self, kind: Kind, name: &KeyName, unit: Option<Unit>, help: &SharedString) {
        let name = sanitize_metric_name(name.as_str());
        let mut families = self.families.lock();
        let slot = families.entry(name.clone()).or_default();
        slot.description = Some((help.to_string(), unit));
        let Some(registered) = &mut slot.registered else {
            return;
        };
        let unit = unit_for(&name, unit);
        if registered.family.kind() != kind
            || (registered.help == **help && registered.unit == unit)
        {
            return;
        }
        self.registry.unregister(&name);
        if self.register(&name, &registered.family, help, unit).is_ok() {
            registered.help = help.to_string();
            registered.unit = unit;
        } else {
            let restored =
                self.register(&name, &registered.family, &registered.help, registered.unit);
            debug_assert!(
                restored.is_ok(),
                "the family was registered this way before"
            );
        }
    }

    fn refuse(&self, name: &str) {
        let mut refused = self.refused.lock();
        let family = refused.get_or_insert_with(|| {
            let family = Family::new(["name"]);
            // A registry that already has this name keeps the count unexposed; it is still
            // counted here.
            let _ = self.registry.register(
                "prometheus_client_metrics_refused",
                "Names recorded through the metrics facade that could not be exposed.",
                family.clone(),
            );
            family
        });
        family.get_or_create(&[name.to_owned()]).inc();
    }
}

fn register_as<M: Metric + Clone>(
    registry: &Registry,
    name: &str,
    help: &str,
    unit: Option<&str>,
    metric: M,
) -> Result<(), RegisterError> {
    match unit {
        Some(unit) => registry
            .register_with_unit(name, help, unit, metric)
            .map(drop),
        None => registry.register(name, help, metric).map(drop),
    }
}

impl Recorder for MetricsRecorder {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe(Kind::Counter, &key, unit, &description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe(Kind::Gauge, &key, unit, &description);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner
            .describe(Kind::Histogram, &key, unit, &description);
    }

    fn register_counter(&self, key: &Key, _metadata: &Metadata<'_>) -> metrics::Counter {
        self.inner.handle(Kind::Counter, key).counter()
    }

    fn register_gauge(&self, key: &Key, _metadata: &Metadata<'_>) -> metrics::Gauge {
        self.inner.handle(Kind::Gauge, key).gauge()
    }

    fn register_histogram(&self, key: &Key, _metadata: &Metadata<'_>) -> metrics::Histogram {
        self.inner.handle(Kind::Histogram, key).histogram()
    }
}
