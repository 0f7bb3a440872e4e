//! The registry: named, described metric families and their checks, and rendering them.
//!
//! Registration validates everything once (names, units, labels, consistency with families
//! already there), so a scrape only writes. Updating a metric never touches the registry:
//! it holds handles to the same atomics the caller updates.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, LazyLock};

use parking_lot::RwLock;

use crate::collector::{CollectError, Collected, CollectedFamilies, Collector};
use crate::desc::{check_label_name_in, is_valid_metric_name, is_valid_unit, LabelNameError};
use crate::encoding::{self, escape_label_value, Escaping, Format, MetricEncoder};
use crate::metrics::ChildLabels;
use crate::{Counter, Family, Metric, MetricType};

/// Metric families by name, ready to be rendered.
///
/// A `Registry` is a cheap handle: clones and sub-registries share the same families.
/// Sub-registries add a name prefix or constant labels to what is registered through them;
/// encoding any of them renders the whole shared registry.
///
/// ```
/// use prometheus_client::{Counter, Gauge, Registry, encoding::Format};
///
/// let registry = Registry::new();
/// let db = registry.sub_registry_with_prefix("db")?.sub_registry_with_labels([("pool", "main")])?;
/// let queries = db.register("queries", "Queries run.", Counter::new())?;
/// let open = db.register("connections_open", "Open connections.", Gauge::<i64>::default())?;
/// queries.inc();
/// open.set(4);
/// assert_eq!(registry.encode_to_string(Format::Text)?, "\
/// ## HELP db_connections_open Open connections.
/// ## TYPE db_connections_open gauge
/// db_connections_open{pool=\"main\"} 4
/// ## HELP db_queries_total Queries run.
/// ## TYPE db_queries_total counter
/// db_queries_total{pool=\"main\"} 1
/// ");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default)]
pub struct Registry {
    shared: Arc<RwLock<Families>>,
    prefix: Option<Arc<str>>,
    const_labels: Arc<[(String, String)]>,
}

struct CollectorEntry {
    collector: Box<dyn Collector>,
    prefix: Option<Arc<str>>,
    const_labels: Arc<[(String, String)]>,
}

/// Families by name, with every sample name they write, and the collectors.
#[derive(Default)]
struct Families {
    by_name: BTreeMap<String, FamilyEntry>,
    sample_names: HashMap<String, String>,
    collectors: Vec<CollectorEntry>,
    /// Whether counters, histograms and summaries keep their creation time and OpenMetrics
    /// shows it as `_created`.
    created_timestamps: bool,
    /// Whether metric names may be any UTF-8 text, not only `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    utf8_names: bool,
    /// The registry's own count of what families with a child limit refused, by family,
    /// registered with the first such family.
    refused_children: Option<Family<[String; 1], Counter>>,
}

struct FamilyEntry {
    metric_type: MetricType,
    help: String,
    unit: Option<String>,
    /// Every label name of the family (constant and child), sorted; `None` when the children
    /// carry their own names, which are then only known per child.
    label_names: Option<Vec<String>>,
    registrations: Vec<Registration>,
}

struct Registration {
    const_labels: Vec<(String, String)>,
    rendered_const_labels: String,
    metric: Box<dyn Metric>,
}

/// A registration checked on its own, not yet against the other families.
struct Prepared {
    name: String,
    help: String,
    unit: Option<String>,
    metric_type: MetricType,
    label_names: Option<Vec<String>>,
    const_labels: Vec<(String, String)>,
    metric: Box<dyn Metric>,
}

/// Why a metric could not be registered. Each variant names the offender.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegisterError {
    /// The metric name (with its prefix and unit) is not `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    InvalidName(String),
    /// A sub-registry prefix that cannot start a metric name.
    InvalidPrefix(String),
    /// A unit with characters a metric name cannot have, or empty, or a unit on a type that
    /// cannot have one (info, stateset).
    InvalidUnit {
        /// The metric.
        name: String,
        /// The unit.
        unit: String,
    },
    /// A label name that is invalid, starts with `__`, or is reserved for the metric's type.
    InvalidLabel {
        /// The metric.
        name: String,
        /// What is wrong with the label.
        error: LabelNameError,
    },
    /// The same label name twice (between constant and child labels, or among either).
    DuplicateLabel {
        /// The metric.
        name: String,
        /// The label.
        label: String,
    },
    /// A family's declared label names do not match the number its label type has.
    LabelCount {
        /// The metric.
        name: String,
        /// Names declared.
        declared: usize,
        /// Values in the label type.
        arity: usize,
    },
    /// A family of named label sets (pairs, derived structs) was also given label names.
    NamedLabelsDeclared(String),
    /// A metric with this name and these constant label values is already registered.
    Duplicate(String),
    /// The name is registered with another type.
    InconsistentType {
        /// The metric.
        name: String,
        /// Its registered type.
        existing: MetricType,
        /// The type given now.
        new: MetricType,
    },
    /// The name is registered with another HELP text.
    InconsistentHelp {
        /// The metric.
        name: String,
        /// Its registered HELP.
        existing: String,
        /// The HELP given now.
        new: String,
    },
    /// The name is registered with another unit.
    InconsistentUnit(String),
    /// The name is registered with other label names.
    InconsistentLabelNames {
        /// The metric.
        name: String,
        /// Its registered label names.
        existing: Vec<String>,
        /// The label names given now.
        new: Vec<String>,
    },
    /// A sample name this family would write is written by another family already
    /// (a counter `a` writes `a_total`, so no gauge may be called `a_total`).
    NameClash {
        /// The metric being registered.
        name: String,
        /// The sample name both would write.
        sample: String,
        /// The family already writing it.
        other: String,
    },
}

impl fmt::Display for RegisterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use RegisterError as E;
        match self {
            E::InvalidName(name) => write!(
                f,
                "invalid metric name {name:?}: must match [a-zA-Z_:][a-zA-Z0-9_:]*"
            ),
            E::InvalidPrefix(prefix) => write!(f, "invalid metric name prefix {prefix:?}"),
            E::InvalidUnit { name, unit } => write!(f, "metric {name:?}: invalid unit {unit:?}"),
            E::InvalidLabel { name, error } => write!(f, "metric {name:?}: {error}"),
            E::DuplicateLabel { name, label } => {
                write!(f, "metric {name:?}: label {label:?} appears twice")
            }
            E::LabelCount { name, declared, arity } => write!(
                f,
                "metric {name:?}: {declared} label names declared for label sets of {arity} values"
            ),
            E::NamedLabelsDeclared(name) => write!(
                f,
                "metric {name:?}: its label sets name their labels, so the family must not declare names"
            ),
            E::Duplicate(name) => write!(
                f,
                "metric {name:?} is already registered with the same constant labels"
            ),
            E::InconsistentType { name, existing, new } => write!(
                f,
                "metric {name:?} is registered as a {existing}, not a {new}"
            ),
            E::InconsistentHelp { name, existing, new } => write!(
                f,
                "metric {name:?} is registered with help {existing:?}, not {new:?}"
            ),
            E::InconsistentUnit(name) => {
                write!(f, "metric {name:?} is registered with another unit")
            }
            E::InconsistentLabelNames { name, existing, new } => write!(
                f,
                "metric {name:?} is registered with labels {existing:?}, not {new:?}"
            ),
            E::NameClash { name, sample, other } => write!(
                f,
                "metric {name:?} would write samples named {sample:?}, which metric {other:?} writes already"
            ),
        }
    }
}

impl std::error::Error for RegisterError {}

/// Why a registry could not be rendered. Nothing partial is kept: the output buffer is
/// restored to what it held before.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// A collector returned an error.
    Collect(CollectError),
    /// A collector produced a family that could not have been registered.
    Collected(RegisterError),
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::Collect(e) => write!(f, "collector failed: {e}"),
            EncodeError::Collected(e) => write!(f, "collector produced an invalid family: {e}"),
        }
    }
}

impl std::error::Error for EncodeError {}

static DEFAULT_REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::new);

/// The process-wide registry, created on first use.
///
/// ```
/// use prometheus_client::{default_registry, Counter};
/// let jobs = default_registry().register("doc_jobs_done", "Jobs done.", Counter::new())?;
/// jobs.inc();
/// # Ok::<(), prometheus_client::RegisterError>(())
/// ```
pub fn default_registry() -> &'static Registry {
    &DEFAULT_REGISTRY
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty registry whose counters, histograms and summaries (family children
    /// included) keep when they were created, which OpenMetrics shows as `_created`, so a
    /// scraper tells a restarted series from a new one. Text 0.0.4 has no `_created`, as in
    /// client_golang. Keeping the time costs one clock read when a metric is registered or a
    /// child created; updates cost nothing more.
    ///
    /// ```
    /// use prometheus_client::{Counter, Registry, encoding::Format};
    /// let registry = Registry::with_created_timestamps();
    /// let jobs = registry.register("jobs", "", Counter::new())?;
    /// jobs.inc();
    /// let text = registry.encode_to_string(Format::OpenMetrics)?;
    /// assert!(text.starts_with("# TYPE jobs counter\njobs_total 1\njobs_created 1."));
    /// assert!(!registry.encode_to_string(Format::Text)?.contains("_created"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_created_timestamps() -> Self {
        let registry = Self::default();
        registry.shared.write().created_timestamps = true;
        registry
    }

    /// The same registry, now taking metric names outside `[a-zA-Z_:][a-zA-Z0-9_:]*` (any
    /// non-empty UTF-8 text), as Prometheus 3 does. A scrape writes them as its `Accept`
    /// header's `escaping` parameter asks ([`Escaping`]): in the quoted syntax for
    /// `allow-utf-8` (`{"http.requests",method="GET"} 1`), escaped into the classic
    /// character set otherwise, `underscores` when the scraper does not say. Label names
    /// keep the classic rules.
    ///
    /// ```
    /// use prometheus_client::encoding::{Escaping, Format};
    /// use prometheus_client::{Counter, Registry};
    ///
    /// let registry = Registry::new().allow_utf8_names();
    /// registry.register("http.requests", "", Counter::new())?.inc();
    /// let mut out = Vec::new();
    /// registry.encode_with_escaping(Format::Text, Escaping::AllowUtf8, &mut out)?;
    /// assert_eq!(out, b"# TYPE \"http.requests_total\" counter\n{\"http.requests_total\"} 1\n");
    /// assert!(registry.encode_to_string(Format::Text)?.contains("\nhttp_requests_total 1\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allow_utf8_names(self) -> Self {
        self.shared.write().utf8_names = true;
        self
    }

    /// Whether the registry takes UTF-8 metric names ([`allow_utf8_names`]).
    ///
    /// [`allow_utf8_names`]: Self::allow_utf8_names
    pub fn allows_utf8_names(&self) -> bool {
        self.shared.read().utf8_names
    }

    /// A view that registers with `prefix_` before each name (nested prefixes join with `_`).
    pub fn sub_registry_with_prefix(&self, prefix: &str) -> Result<Registry, RegisterError> {
        let full = self.full_name(prefix);
        if !metric_name_allowed(&full, self.allows_utf8_names()) {
            return Err(RegisterError::InvalidPrefix(full));
        }
        Ok(Registry {
            shared: Arc::clone(&self.shared),
            prefix: Some(full.into()),
            const_labels: Arc::clone(&self.const_labels),
        })
    }

    /// A view that adds these constant labels to each metric registered through it.
    pub fn sub_registry_with_labels<K: AsRef<str>, V: AsRef<str>>(
        &self,
        labels: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Registry, RegisterError> {
        let mut all: Vec<(String, String)> = self.const_labels.to_vec();
        for (name, value) in labels {
            let name = name.as_ref();
            let context = || self.prefix.as_deref().unwrap_or("").to_owned();
            let utf8 = self.allows_utf8_names();
            check_label_name_in(name, MetricType::Unknown, utf8).map_err(|error| {
                RegisterError::InvalidLabel {
                    name: context(),
                    error,
                }
            })?;
            if all.iter().any(|(n, _)| n == name) {
                return Err(RegisterError::DuplicateLabel {
                    name: context(),
                    label: name.to_owned(),
                });
            }
            all.push((name.to_owned(), value.as_ref().to_owned()));
        }
        all.sort();
        Ok(Registry {
            shared: Arc::clone(&self.shared),
            prefix: self.prefix.clone(),
            const_labels: all.into(),
        })
    }

    fn full_name(&self, name: &str) -> String {
        match &self.prefix {
            Some(prefix) => format!("{prefix}_{name}"),
            None => name.to_owned(),
        }
    }

    /// Registers `metric` as `name` and gives it back, so the caller keeps a handle.
    ///
    /// A counter's `_total` and an info's `_info` suffix may be given or left out; either way
    /// the family is named without it and the samples with it.
    pub fn register<M: Metric + Clone>(
        &self,
        name: &str,
        help: &str,
        metric: M,
    ) -> Result<M, RegisterError> {
        self.register_boxed(name, help, None, Box::new(metric.clone()))?;
        Ok(metric)
    }

    /// Registers `metric` with a unit (`seconds`, `bytes`, …), which becomes the name's
    /// suffix unless it already is, and OpenMetrics' `# UNIT`.
    pub fn register_with_unit<M: Metric + Clone>(
        &self,
        name: &str,
        help: &str,
        unit: &str,
        metric: M,
    ) -> Result<M, RegisterError> {
        self.register_boxed(name, help, Some(unit), Box::new(metric.clone()))?;
        Ok(metric)
    }

    fn register_boxed(
        &self,
        name: &str,
        help: &str,
        unit: Option<&str>,
        metric: Box<dyn Metric>,
    ) -> Result<(), RegisterError> {
        let prepared = prepare(
            &self.full_name(name),
            help,
            unit,
            &self.const_labels,
            metric,
            self.allows_utf8_names(),
        )?;
        let mut families = self.shared.write();
        if families.created_timestamps {
            prepared.metric.start_created_timestamp();
        }
        if families.utf8_names {
            prepared.metric.allow_utf8_names();
        }
        let limited = prepared
            .metric
            .limits_children()
            .then(|| prepared.name.clone());
        families.insert(prepared)?;
        if let Some(name) = limited {
            let refused = families.refused_children().get_or_create(&[name.as_str()]);
            if let Some(registration) = families
                .by_name
                .get(&name)
                .and_then(|f| f.registrations.iter().last())
            {
                registration.metric.count_refused_children_in(refused);
            }
        }
        Ok(())
    }

    /// Removes what this view registered as `name` (the family name as exposed, such as
    /// `requests` or `requests_total`, `latency_seconds`). Says whether anything was removed.
    ///
    /// ```
    /// use prometheus_client::{Counter, Registry};
    /// let registry = Registry::new();
    /// registry.register("jobs", "Jobs.", Counter::new())?;
    /// assert!(registry.unregister("jobs_total"));
    /// assert!(!registry.unregister("jobs"));
    /// registry.register("jobs", "Jobs.", Counter::new())?;
    /// # Ok::<(), prometheus_client::RegisterError>(())
    /// ```
    pub fn unregister(&self, name: &str) -> bool {
        let full = self.full_name(name);
        let mut families = self.shared.write();
        let stripped = ["_total", "_info"]
            .iter()
            .find_map(|s| full.strip_suffix(s));
        let Some(key) = [Some(full.as_str()), stripped]
            .into_iter()
            .flatten()
            .find(|k| families.by_name.contains_key(*k))
            .map(str::to_owned)
        else {
            return false;
        };
        let removed = families.remove(&key, &self.const_labels);
        if !families.by_name.contains_key(&key) {
            if let Some(refused) = &families.refused_children {
                refused.remove(&[key.as_str()]);
            }
        }
        removed
    }

    /// Adds a collector, called on every scrape. Its families get this view's prefix and
    /// constant labels.
    pub fn register_collector(&self, collector: impl Collector) {
        self.shared.write().collectors.push(CollectorEntry {
            collector: Box::new(collector),
            prefix: self.prefix.clone(),
            const_labels: Arc::clone(&self.const_labels),
        });
    }

    /// Appends the whole registry to `out` in `format`: families sorted by name, then
    /// `# EOF` for OpenMetrics. On error, `out` is left as it was. UTF-8 metric names (see
    /// [`allow_utf8_names`](Self::allow_utf8_names)) are escaped with
    /// [`Escaping::Underscores`].
    pub fn encode(&self, format: Format, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.encode_with_escaping(format, Escaping::default(), out)
    }

    /// [`encode`](Self::encode), writing metric names outside the classic character set as
    /// `escaping` says: what a scraper asked for with the `escaping` parameter
    /// ([`negotiate_with_escaping`](crate::encoding::negotiate_with_escaping)).
    pub fn encode_with_escaping(
        &self,
        format: Format,
        escaping: Escaping,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        let families = self.shared.read();
        let collected = families.collect()?;
        let mut registered = families.by_name.iter().peekable();
        let mut gathered = collected.by_name.iter().peekable();
        loop {
            let next = match (registered.peek(), gathered.peek()) {
                (Some(r), Some(g)) if g.0 < r.0 => gathered.next(),
                (Some(_), _) => registered.next(),
                (None, Some(_)) => gathered.next(),
                (None, None) => break,
            };
            if let Some((name, family)) = next {
                let flags = (families.created_timestamps, families.utf8_names);
                family.encode(name, (format, escaping), flags, out);
            }
        }
        encoding::write_end(out, format);
        Ok(())
    }

    /// The whole registry as a string; see [`encode`](Self::encode).
    pub fn encode_to_string(&self, format: Format) -> Result<String, EncodeError> {
        let mut out = Vec::new();
        self.encode(format, &mut out)?;
        Ok(String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let families = self.shared.read();
        f.debug_struct("Registry")
            .field("prefix", &self.prefix)
            .field("const_labels", &self.const_labels)
            .field("families", &families.by_name.keys().collect::<Vec<_>>())
            .field("collectors", &families.collectors.len())
            .finish()
    }
}

/// Checks a registration on its own: names, unit, labels.
fn prepare(
    full_name: &str,
    help: &str,
    unit: Option<&str>,
    const_labels: &[(String, String)],
    metric: Box<dyn Metric>,
    utf8_names: bool,
) -> Result<Prepared, RegisterError> {
    let metric_type = metric.metric_type();
    let mut name = match metric_type.name_suffix() {
        Some(suffix) => full_name
            .strip_suffix(suffix)
            .unwrap_or(full_name)
            .to_owned(),
        None => full_name.to_owned(),
    };
    if let Some(unit) = unit {
        if !is_valid_unit(unit) {
            return Err(RegisterError::InvalidUnit {
                name,
                unit: unit.to_owned(),
            });
        }
        if !name.ends_with(&format!("_{unit}")) {
            name = format!("{name}_{unit}");
        }
    }
    if !metric_name_allowed(&name, utf8_names) {
        return Err(RegisterError::InvalidName(name));
    }
    let invalid_label = |error| RegisterError::InvalidLabel {
        name: name.clone(),
        error,
    };
    let mut all_names: Vec<String> = Vec::new();
    for (label, _) in const_labels {
        check_label_name_in(label, metric_type, utf8_names).map_err(invalid_label)?;
        all_names.push(label.clone());
    }
    let mut known = true;
    match metric.child_labels() {
        ChildLabels::None => {}
        ChildLabels::Named { declared } => {
            if !declared.is_empty() {
                return Err(RegisterError::NamedLabelsDeclared(name));
            }
            known = false;
        }
        ChildLabels::Positional { names, arity } => {
            if let Some(arity) = arity.filter(|a| *a != names.len()) {
                return Err(RegisterError::LabelCount {
                    name,
                    declared: names.len(),
                    arity,
                });
            }
            for label in names {
                check_label_name_in(label, metric_type, utf8_names).map_err(invalid_label)?;
                all_names.push(label.to_string());
            }
        }
    }
    all_names.sort();
    if let Some(pair) = all_names.windows(2).find(|w| w[0] == w[1]) {
        return Err(RegisterError::DuplicateLabel {
            name,
            label: pair[0].clone(),
        });
    }
    if metric_type == MetricType::StateSet && all_names.contains(&name) {
        return Err(RegisterError::DuplicateLabel {
            label: name.clone(),
            name,
        });
    }
    Ok(Prepared {
        name,
        help: help.to_owned(),
        unit: unit.map(str::to_owned),
        metric_type,
        label_names: known.then_some(all_names),
        const_labels: const_labels.to_vec(),
        metric,
    })
}

/// The name of the registry's own family counting refused children.
const REFUSED_CHILDREN: &str = "prometheus_client_family_children_refused";

impl Families {
    /// The registry's count of refused children, registered on first use (unexported when
    /// a user took its name first: refusals are still counted by each family).
    fn refused_children(&mut self) -> Family<[String; 1], Counter> {
        if let Some(family) = &self.refused_children {
            return family.clone();
        }
        let family = Family::new(["family"]);
        let prepared = prepare(
            REFUSED_CHILDREN,
            "Label sets refused by families with a child limit, by family.",
            None,
            &[],
            Box::new(family.clone()),
            false,
        );
        if let Ok(prepared) = prepared {
            // Taken by a family of the user's: the count stays unexported.
            let _ = self.insert(prepared);
        }
        self.refused_children = Some(family.clone());
        family
    }

    /// Adds a prepared registration, merging it into a family of the same name when they
    /// agree on type, help, unit and label names.
    fn insert(&mut self, p: Prepared) -> Result<(), RegisterError> {
        self.check(&p)?;
        let rendered_const_labels = render_const_labels(&p.const_labels);
        let registration = Registration {
            const_labels: p.const_labels,
            rendered_const_labels,
            metric: p.metric,
        };
        match self.by_name.get_mut(&p.name) {
            Some(family) => {
                let at = family.registrations.partition_point(|r| {
                    r.rendered_const_labels < registration.rendered_const_labels
                });
                family.registrations.insert(at, registration);
            }
            None => {
                for suffix in p.metric_type.sample_suffixes() {
                    self.sample_names
                        .insert(format!("{}{suffix}", p.name), p.name.clone());
                }
                self.by_name.insert(
                    p.name,
                    FamilyEntry {
                        metric_type: p.metric_type,
                        help: p.help,
                        unit: p.unit,
                        label_names: p.label_names,
                        registrations: vec![registration],
                    },
                );
            }
        }
        Ok(())
    }

    /// Whether `p` may join these families.
    fn check(&self, p: &Prepared) -> Result<(), RegisterError> {
        match self.by_name.get(&p.name) {
            Some(family) => family.check_joins(p),
            None => self.check_no_clash(p),
        }
    }

    /// A new family may not write a sample another family writes, nor be named like one
    /// (OpenMetrics family names must differ from every sample name of other families).
    fn check_no_clash(&self, p: &Prepared) -> Result<(), RegisterError> {
        let own_samples = p
            .metric_type
            .sample_suffixes()
            .iter()
            .map(|s| format!("{}{s}", p.name));
        for sample in own_samples.chain(std::iter::once(p.name.clone())) {
            if let Some(other) = self.sample_names.get(&sample) {
                return Err(RegisterError::NameClash {
                    name: p.name.clone(),
                    sample,
                    other: other.clone(),
                });
            }
        }
        Ok(())
    }

    /// Removes the registration with these constant labels from family `name`.
    fn remove(&mut self, name: &str, const_labels: &[(String, String)]) -> bool {
        let Some(family) = self.by_name.get_mut(name) else {
            return false;
        };
        let before = family.registrations.len();
        family
            .registrations
            .retain(|r| r.const_labels != const_labels);
        let removed = family.registrations.len() != before;
        if family.registrations.is_empty() {
            self.sample_names.retain(|_, owner| owner != name);
            self.by_name.remove(name);
        }
        removed
    }

    /// Runs the collectors and checks what they produced against the registered families.
    fn collect(&self) -> Result<Families, EncodeError> {
        let mut collected = Families::default();
        for entry in &self.collectors {
            let mut families = CollectedFamilies::default();
            entry
                .collector
                .collect(&mut families)
                .map_err(EncodeError::Collect)?;
            for Collected {
                name,
                help,
                unit,
                metric,
            } in families.items
            {
                let full = match &entry.prefix {
                    Some(prefix) => format!("{prefix}_{name}"),
                    None => name,
                };
                let utf8_names = self.utf8_names;
                let prepared = prepare(
                    &full,
                    &help,
                    unit.as_deref(),
                    &entry.const_labels,
                    metric,
                    utf8_names,
                )
                .map_err(EncodeError::Collected)?;
                self.check_disjoint(&prepared)
                    .map_err(EncodeError::Collected)?;
                collected.insert(prepared).map_err(EncodeError::Collected)?;
            }
        }
        Ok(collected)
    }

    /// A collected family may not share a name or sample name with a registered one.
    fn check_disjoint(&self, p: &Prepared) -> Result<(), RegisterError> {
        if self.by_name.contains_key(&p.name) {
            return Err(RegisterError::Duplicate(p.name.clone()));
        }
        self.check_no_clash(p)
    }
}

impl FamilyEntry {
    /// Whether `p` may be registered into this family: same type, help, unit and label
    /// names, and constant label values of its own.
    fn check_joins(&self, p: &Prepared) -> Result<(), RegisterError> {
        let name = || p.name.clone();
        if self.metric_type != p.metric_type {
            return Err(RegisterError::InconsistentType {
                name: name(),
                existing: self.metric_type,
                new: p.metric_type,
            });
        }
        if self.help != p.help {
            return Err(RegisterError::InconsistentHelp {
                name: name(),
                existing: self.help.clone(),
                new: p.help.clone(),
            });
        }
        if self.unit != p.unit {
            return Err(RegisterError::InconsistentUnit(name()));
        }
        if let (Some(existing), Some(new)) = (&self.label_names, &p.label_names) {
            if existing != new {
                return Err(RegisterError::InconsistentLabelNames {
                    name: name(),
                    existing: existing.clone(),
                    new: new.clone(),
                });
            }
        }
        if self
            .registrations
            .iter()
            .any(|r| r.const_labels == p.const_labels)
        {
            return Err(RegisterError::Duplicate(name()));
        }
        Ok(())
    }

    fn encode(
        &self,
        name: &str,
        (format, escaping): (Format, Escaping),
        (created, utf8_names): (bool, bool),
        out: &mut Vec<u8>,
    ) {
        let quoted = encoding::needs_quotes(name, escaping);
        // Label names outside the classic set are rendered quoted; others than
        // `allow-utf-8` get them escaped.
        let utf8_labels = utf8_names && escaping != Escaping::AllowUtf8;
        let name = &*encoding::escape_family(name, self.metric_type, escaping);
        #[cfg(feature = "protobuf")]
        if format == Format::Protobuf {
            let mut builder = encoding::protobuf::FamilyBuilder::new(
                name,
                &self.help,
                self.unit.as_deref(),
                self.metric_type,
                escaping,
            );
            for registration in &self.registrations {
                let mut encoder = MetricEncoder::for_protobuf(
                    out,
                    &mut builder,
                    name,
                    &registration.rendered_const_labels,
                    created,
                );
                registration.metric.encode(&mut encoder);
            }
            builder.finish(out);
            return;
        }
        encoding::write_family_header(
            out,
            format,
            (name, quoted),
            &self.help,
            self.unit.as_deref(),
            self.metric_type,
        );
        for registration in &self.registrations {
            let mut encoder = MetricEncoder::new(
                out,
                format,
                name,
                &registration.rendered_const_labels,
                created,
            );
            if quoted {
                encoder = encoder.quoting_name();
            }
            if utf8_labels {
                encoder = encoder.escaping_label_names(escaping);
            }
            registration.metric.encode(&mut encoder);
        }
    }
}

/// Whether `name` may name a metric: the classic character set, or any non-empty text when
/// the registry allows UTF-8 names.
fn metric_name_allowed(name: &str, utf8_names: bool) -> bool {
    is_valid_metric_name(name) || (utf8_names && !name.is_empty())
}

fn render_const_labels(labels: &[(String, String)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        crate::labels::rendered::push_name(&mut out, name);
        out.push_str("=\"");
        escape_label_value(&mut out, value);
        out.push('"');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Counter, Family, Gauge, Histogram, Info, StateSet, Summary};

    fn text(registry: &Registry) -> String {
        registry.encode_to_string(Format::Text).expect("encodes")
    }

    #[test]
    fn invalid_names_are_refused_with_the_name() {
        let r = Registry::new();
        let err = r.register("9lives", "", Counter::new()).unwrap_err();
        assert_eq!(err, RegisterError::InvalidName("9lives".into()));
        assert!(err.to_string().contains("\"9lives\""));
        assert!(
            matches!(r.sub_registry_with_prefix("a-b"), Err(RegisterError::InvalidPrefix(p)) if p == "a-b")
        );
        let err = r
            .register_with_unit("x", "", "per cent", Gauge::new())
            .unwrap_err();
        assert_eq!(
            err,
            RegisterError::InvalidUnit {
                name: "x".into(),
                unit: "per cent".into()
            }
        );
    }

    #[test]
    fn reserved_and_invalid_label_names_are_refused() {
        let r = Registry::new();
        let le = Family::<[String; 1], Histogram>::new(["le"]);
        let err = r.register("h", "", le).unwrap_err();
        assert!(
            matches!(err, RegisterError::InvalidLabel { ref name, error: LabelNameError::Reserved { .. } } if name == "h"),
            "{err}"
        );
        let q = Family::<[String; 1], Summary>::new(["quantile"]);
        assert!(r.register("s", "", q).is_err());
        let dunder = Family::<[String; 1], Counter>::new(["__x"]);
        assert!(matches!(
            r.register("c", "", dunder),
            Err(RegisterError::InvalidLabel {
                error: LabelNameError::DoubleUnderscore(_),
                ..
            })
        ));
        let shard = r.sub_registry_with_labels([("shard", "1")]).expect("valid");
        let clash = Family::<[String; 1], Counter>::new(["shard"]);
        assert_eq!(
            shard.register("d", "", clash).unwrap_err(),
            RegisterError::DuplicateLabel {
                name: "d".into(),
                label: "shard".into()
            }
        );
        assert!(r
            .sub_registry_with_labels([("a", "1"), ("a", "2")])
            .is_err());
        assert!(r.sub_registry_with_labels([("__a", "1")]).is_err());
        let state = StateSet::new(["on"]).expect("valid");
        let by_own_name = r.sub_registry_with_labels([("mode", "x")]).expect("valid");
        assert!(by_own_name.register("mode", "", state).is_err());
    }

    #[test]
    fn label_count_must_match_the_label_type() {
        let r = Registry::new();
        let family = Family::<[String; 2], Counter>::new(["only_one"]);
        assert_eq!(
            r.register("f", "", family).unwrap_err(),
            RegisterError::LabelCount {
                name: "f".into(),
                declared: 1,
                arity: 2
            }
        );
        let named = Family::<Vec<(String, String)>, Counter>::new(["x"]);
        assert_eq!(
            r.register("g", "", named).unwrap_err(),
            RegisterError::NamedLabelsDeclared("g".into())
        );
    }

    #[test]
    fn duplicates_and_inconsistencies_are_refused() {
        let r = Registry::new();
        r.register("jobs", "Jobs.", Counter::new()).expect("first");
        assert_eq!(
            r.register("jobs_total", "Jobs.", Counter::new())
                .unwrap_err(),
            RegisterError::Duplicate("jobs".into())
        );
        assert!(matches!(
            r.register("jobs", "Other.", Gauge::new()),
            Err(RegisterError::InconsistentType {
                existing: MetricType::Counter,
                new: MetricType::Gauge,
                ..
            })
        ));
        let a = r.sub_registry_with_labels([("shard", "a")]).expect("valid");
        let b = r.sub_registry_with_labels([("shard", "b")]).expect("valid");
        a.register("work", "Work.", Counter::new())
            .expect("shard a");
        b.register("work", "Work.", Counter::new())
            .expect("shard b joins the family");
        assert!(matches!(
            b.register("work", "Work!", Counter::new()),
            Err(RegisterError::InconsistentHelp { .. })
        ));
        let c = r.sub_registry_with_labels([("zone", "c")]).expect("valid");
        assert!(matches!(
            c.register("work", "Work.", Counter::new()),
            Err(RegisterError::InconsistentLabelNames { .. })
        ));
        r.register_with_unit("size", "Size.", "bytes", Gauge::new())
            .expect("with unit");
        let d = r.sub_registry_with_labels([("disk", "d")]).expect("valid");
        assert!(
            d.register("size_bytes", "Size.", Gauge::new()).is_err(),
            "unit differs"
        );
        assert_eq!(
            text(&r),
            "# HELP jobs_total Jobs.\n# TYPE jobs_total counter\njobs_total 0\n\
             # HELP size_bytes Size.\n# TYPE size_bytes gauge\nsize_bytes 0\n\
             # HELP work_total Work.\n# TYPE work_total counter\n\
             work_total{shard=\"a\"} 0\nwork_total{shard=\"b\"} 0\n"
        );
    }

    #[test]
    fn sample_names_may_not_clash() {
        let r = Registry::new();
        r.register("a", "", Counter::new()).expect("counter a");
        assert_eq!(
            r.register("a_total", "", Gauge::new()).unwrap_err(),
            RegisterError::NameClash {
                name: "a_total".into(),
                sample: "a_total".into(),
                other: "a".into()
            }
        );
        r.register("x_count", "", Gauge::new()).expect("gauge");
        assert!(
            matches!(r.register("x", "", Histogram::default()), Err(RegisterError::NameClash { sample, .. }) if sample == "x_count")
        );
        r.register("h", "", Histogram::default())
            .expect("histogram");
        assert!(r.register("h_bucket", "", Gauge::new()).is_err());
        r.register("build", "", Info::new(&[("v", "1")]).expect("valid"))
            .expect("info");
        assert!(r.register("build_info", "", Gauge::new()).is_err());
    }

    #[test]
    fn a_failed_registration_changes_nothing() {
        let r = Registry::new();
        r.register("kept", "Kept.", Gauge::new()).expect("valid");
        let before = text(&r);
        assert!(r.register("bad name", "", Gauge::new()).is_err());
        assert!(r.register("kept", "Other help.", Gauge::new()).is_err());
        assert_eq!(text(&r), before);
    }

    #[test]
    fn unregister_removes_one_registration_and_frees_the_names() {
        let r = Registry::new();
        let a = r.sub_registry_with_labels([("s", "a")]).expect("valid");
        let b = r.sub_registry_with_labels([("s", "b")]).expect("valid");
        a.register("n", "", Gauge::new()).expect("a");
        b.register("n", "", Gauge::new()).expect("b");
        assert!(a.unregister("n"));
        assert_eq!(text(&r), "# TYPE n gauge\nn{s=\"b\"} 0\n");
        assert!(b.unregister("n"));
        assert_eq!(text(&r), "");
        r.register("n_total", "", Gauge::new())
            .expect("sample names were freed");
        assert!(!r.unregister("missing"));
    }

    #[test]
    fn prefixes_nest_and_units_are_not_doubled() {
        let r = Registry::new();
        let sub = r
            .sub_registry_with_prefix("app")
            .and_then(|s| s.sub_registry_with_prefix("db"))
            .expect("valid");
        sub.register_with_unit(
            "latency_seconds",
            "",
            "seconds",
            Histogram::with_buckets(&[1.0]).expect("valid"),
        )
        .expect("valid");
        sub.register_with_unit("read", "", "bytes", Counter::new())
            .expect("valid");
        let out = r.encode_to_string(Format::OpenMetrics).expect("encodes");
        assert!(
            out.contains(
                "# TYPE app_db_latency_seconds histogram\n# UNIT app_db_latency_seconds seconds\n"
            ),
            "{out}"
        );
        assert!(out.contains("# TYPE app_db_read_bytes counter\n# UNIT app_db_read_bytes bytes\napp_db_read_bytes_total 0\n"), "{out}");
    }

    struct Failing;
    impl Collector for Failing {
        fn collect(&self, _: &mut CollectedFamilies) -> Result<(), CollectError> {
            Err(CollectError::new("sensor offline"))
        }
    }

    struct Clashing;
    impl Collector for Clashing {
        fn collect(&self, families: &mut CollectedFamilies) -> Result<(), CollectError> {
            families.add("taken", "", Gauge::new());
            Ok(())
        }
    }

    #[test]
    fn collector_problems_fail_the_scrape_and_leave_the_buffer_alone() {
        let r = Registry::new();
        r.register("taken", "", Gauge::new()).expect("valid");
        let failing = Registry::new();
        failing.register_collector(Failing);
        let mut out = b"kept".to_vec();
        let err = failing.encode(Format::Text, &mut out).unwrap_err();
        assert_eq!(err.to_string(), "collector failed: sensor offline");
        assert_eq!(out, b"kept");
        r.register_collector(Clashing);
        assert_eq!(
            r.encode(Format::Text, &mut out).unwrap_err(),
            EncodeError::Collected(RegisterError::Duplicate("taken".into()))
        );
        assert_eq!(out, b"kept");
    }
}
