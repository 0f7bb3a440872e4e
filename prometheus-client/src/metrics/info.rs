//! Info: constant labels describing the target, such as its version.

use std::fmt;
use std::sync::Arc;

use super::{Metric, TypedMetric};
use crate::encoding::{ExtraLabel, MetricEncoder};
use crate::labels::{render, LabelError, LabelSet};
use crate::MetricType;

/// Labels describing the target (version, commit, build options), exposed with value 1.
///
/// OpenMetrics has an `info` type (`# TYPE build info`, sample `build_info`); text 0.0.4 has
/// none, so there it is a gauge named `build_info`, as client_python writes it.
///
/// ```
/// use prometheus_client::{Info, Registry, encoding::Format};
///
/// let registry = Registry::new();
/// registry.register("build", "Build information.", Info::new(&[("version", "1.2.3")])?)?;
/// assert_eq!(registry.encode_to_string(Format::Text)?, "\
/// ## HELP build_info Build information.
/// ## TYPE build_info gauge
/// build_info{version=\"1.2.3\"} 1
/// ");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Info {
    rendered: Arc<str>,
}

impl Info {
    /// Info with these labels (named: pairs or a derived label set).
    pub fn new<L: LabelSet + ?Sized>(labels: &L) -> Result<Self, LabelError> {
        let rendered = render(labels, &[], MetricType::Info, String::new())?;
        Ok(Info {
            rendered: rendered.into(),
        })
    }
}

impl fmt::Debug for Info {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Info").field(&self.rendered).finish()
    }
}

impl Metric for Info {
    fn metric_type(&self) -> MetricType {
        MetricType::Info
    }
    fn encode(&self, encoder: &mut MetricEncoder<'_>) {
        let labels = if self.rendered.is_empty() {
            ExtraLabel::None
        } else {
            ExtraLabel::Rendered(&self.rendered)
        };
        encoder.sample_u64("_info", labels, 1);
    }
}

impl TypedMetric for Info {
    const TYPE: MetricType = MetricType::Info;
}
