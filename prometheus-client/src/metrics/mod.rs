//! The metric types. One file a type; [`Metric`] is what the registry needs from each.

pub(crate) mod buckets;
pub(crate) mod child_limits;
pub(crate) mod constant;
pub(crate) mod counter;
pub(crate) mod created;
pub(crate) mod exemplar;
pub(crate) mod family;
pub(crate) mod gauge;
pub(crate) mod histogram;
pub(crate) mod info;
pub(crate) mod native;
mod number;
mod observations;
mod quantile;
mod recent_children;
pub(crate) mod stateset;
mod striped;
pub(crate) mod summary;
pub(crate) mod timestamped;
pub(crate) mod unknown;

pub use number::Number;

pub use family::ChildLabels;

use crate::encoding::MetricEncoder;
use crate::MetricType;

/// Something the registry can expose: it knows its type and writes its own samples.
///
/// `encode` is called from the scraping thread while other threads keep updating the metric;
/// each implementation decides what a consistent snapshot is (for a histogram: `_count`
/// equals the `+Inf` bucket). It must not block updaters for long, and must not panic.
///
/// ```
/// use prometheus_client::{Metric, MetricType, Registry, encoding::{ExtraLabel, Format, MetricEncoder}};
///
/// /// Seconds since this process started, computed at scrape time.
/// #[derive(Clone)]
/// struct Uptime(std::time::Instant);
///
/// impl Metric for Uptime {
///     fn metric_type(&self) -> MetricType {
///         MetricType::Gauge
///     }
///     fn encode(&self, encoder: &mut MetricEncoder<'_>) {
///         encoder.sample_f64("", ExtraLabel::None, self.0.elapsed().as_secs_f64().floor());
///     }
/// }
///
/// let registry = Registry::new();
/// registry.register("uptime_seconds", "Time since start.", Uptime(std::time::Instant::now()))?;
/// assert!(registry.encode_to_string(Format::Text)?.contains("\nuptime_seconds 0\n"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Metric: Send + Sync + 'static {
    /// The type this metric is exposed as.
    fn metric_type(&self) -> MetricType;
    /// Writes this metric's samples.
    fn encode(&self, encoder: &mut MetricEncoder<'_>);
    /// The labels of this metric's children, for registration checks; only families have any.
    fn child_labels(&self) -> ChildLabels<'_> {
        ChildLabels::None
    }
    /// Starts keeping when this metric (and, for a family, each of its children, as each is
    /// created) was created, for OpenMetrics' `_created` sample. A registry that exposes
    /// created timestamps ([`Registry::with_created_timestamps`](crate::Registry::with_created_timestamps))
    /// calls it when the metric is registered; metrics without a `_created` sample (gauges,
    /// infos, statesets) ignore it.
    fn start_created_timestamp(&self) {}
    /// Allows label names outside `[a-zA-Z_][a-zA-Z0-9_]*` in this metric's children: a
    /// registry that allows UTF-8 names ([`Registry::allow_utf8_names`](crate::Registry::allow_utf8_names))
    /// calls it when the metric is registered; only families have children's labels.
    fn allow_utf8_names(&self) {}
    /// Whether this metric may refuse children: a [`Family`](crate::Family) with a child
    /// limit. The registry then calls [`count_refused_children_in`](Self::count_refused_children_in)
    /// when it is registered.
    fn limits_children(&self) -> bool {
        false
    }
    /// Counts refused children in `refused` too: the registry's
    /// `prometheus_client_family_children_refused_total` child for this family's name.
    fn count_refused_children_in(&self, _refused: crate::Counter) {}
}

/// A metric whose type is known without an instance, as a [`Family`](crate::Family) needs
/// for its children.
///
/// ```
/// use prometheus_client::{Counter, Histogram, MetricType, TypedMetric};
/// assert_eq!(<Counter as TypedMetric>::TYPE, MetricType::Counter);
/// assert_eq!(Histogram::TYPE, MetricType::Histogram);
/// ```
pub trait TypedMetric: Metric + Clone {
    /// The type of every metric of this Rust type.
    const TYPE: MetricType;
}
