//! Collectors: metrics computed when a scrape happens.

use std::fmt;

use crate::Metric;

/// Produces metric families at scrape time, such as process statistics read from `/proc`
/// or values relayed from another system.
///
/// `collect` is called once per scrape, possibly from several threads at once for concurrent
/// scrapes, so it must be safe to call concurrently. It must not block for long; it should not
/// panic. It runs while the registry is being read, so it must not register or unregister
/// anything in that registry (that would wait for itself); put what it computes in
/// `families` instead. What it adds is validated like a registration (names, labels, clashes with
/// registered families); a problem, or an `Err` it returns, fails the whole scrape with an
/// [`EncodeError`](crate::EncodeError) naming the family, rather than exposing half a result.
///
/// ```
/// use prometheus_client::{Collector, CollectedFamilies, CollectError, Gauge, Unknown, Registry, encoding::Format};
///
/// struct Temperature;
///
/// impl Collector for Temperature {
///     fn collect(&self, families: &mut CollectedFamilies) -> Result<(), CollectError> {
///         let celsius = Gauge::new();
///         celsius.set(21.5);
///         families.add_with_unit("room_temperature", "Measured now.", "celsius", celsius);
///         families.add("legacy_reading", "", Unknown::new(7.0));
///         Ok(())
///     }
/// }
///
/// let registry = Registry::new();
/// registry.register_collector(Temperature);
/// assert_eq!(registry.encode_to_string(Format::OpenMetrics)?, "\
/// ## TYPE legacy_reading unknown
/// legacy_reading 7.0
/// ## TYPE room_temperature_celsius gauge
/// ## UNIT room_temperature_celsius celsius
/// ## HELP room_temperature_celsius Measured now.
/// room_temperature_celsius 21.5
/// ## EOF
/// ");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Collector: Send + Sync + 'static {
    /// Adds this scrape's families to `families`.
    fn collect(&self, families: &mut CollectedFamilies) -> Result<(), CollectError>;
}

/// One family a collector produced.
pub(crate) struct Collected {
    pub(crate) name: String,
    pub(crate) help: String,
    pub(crate) unit: Option<String>,
    pub(crate) metric: Box<dyn Metric>,
}

/// Where a [`Collector`] puts the families it computed.
#[derive(Default)]
pub struct CollectedFamilies {
    pub(crate) items: Vec<Collected>,
}

impl CollectedFamilies {
    /// Adds a family named `name` (a plain metric, or a [`Family`](crate::Family) of them).
    pub fn add(&mut self, name: &str, help: &str, metric: impl Metric) {
        self.items.push(Collected {
            name: name.to_owned(),
            help: help.to_owned(),
            unit: None,
            metric: Box::new(metric),
        });
    }

    /// Adds a family with a unit, as [`Registry::register_with_unit`](crate::Registry::register_with_unit) does.
    pub fn add_with_unit(&mut self, name: &str, help: &str, unit: &str, metric: impl Metric) {
        self.items.push(Collected {
            name: name.to_owned(),
            help: help.to_owned(),
            unit: Some(unit.to_owned()),
            metric: Box::new(metric),
        });
    }
}

impl fmt::Debug for CollectedFamilies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.items.iter().map(|c| &c.name))
            .finish()
    }
}

/// A collector could not produce its families.
///
/// ```
/// let e = prometheus_client::CollectError::new("reading /proc/self/stat: permission denied");
/// assert_eq!(e.to_string(), "reading /proc/self/stat: permission denied");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollectError(String);

impl CollectError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        CollectError(message.into())
    }
}

impl fmt::Display for CollectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CollectError {}
