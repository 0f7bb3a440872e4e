//! Unknown: a value whose type is not known, such as one relayed from another system.

use std::fmt;
use std::sync::Arc;

use super::{Metric, TypedMetric};
use crate::encoding::{ExtraLabel, MetricEncoder};
use crate::sync::{AtomicF64, Ordering};
use crate::MetricType;

/// A value of unknown type: OpenMetrics `unknown`, text 0.0.4 `untyped`.
///
/// Useful in [`Collector`](crate::Collector)s that relay values from elsewhere.
///
/// ```
/// use prometheus_client::{Unknown, Registry, encoding::Format};
///
/// let registry = Registry::new();
/// registry.register("legacy_value", "Relayed as is.", Unknown::new(4.5))?;
/// assert_eq!(registry.encode_to_string(Format::Text)?, "\
/// ## HELP legacy_value Relayed as is.
/// ## TYPE legacy_value untyped
/// legacy_value 4.5
/// ");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default)]
pub struct Unknown {
    value: Arc<AtomicF64>,
}

impl Unknown {
    /// An unknown-typed value.
    pub fn new(value: f64) -> Self {
        Unknown {
            value: Arc::new(AtomicF64::new(value)),
        }
    }

    /// Replaces the value.
    pub fn set(&self, value: f64) {
        self.value.store(value, Ordering::Relaxed);
    }

    /// The value.
    pub fn get(&self) -> f64 {
        self.value.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for Unknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Unknown").field(&self.get()).finish()
    }
}

impl Metric for Unknown {
    fn metric_type(&self) -> MetricType {
        MetricType::Unknown
    }
    fn encode(&self, encoder: &mut MetricEncoder<'_>) {
        encoder.sample_f64("", ExtraLabel::None, self.get());
    }
}

impl TypedMetric for Unknown {
    const TYPE: MetricType = MetricType::Unknown;
}
