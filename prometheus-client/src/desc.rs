//! Metric and label names, units and metric types, and their validation.
//!
//! Names follow the classic Prometheus character sets, which every scraper accepts:
//! metric names `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names `[a-zA-Z_][a-zA-Z0-9_]*`, and label
//! names starting with `__` are reserved for Prometheus itself.

use std::fmt;

/// The type a metric family is exposed as.
///
/// ```
/// use prometheus_client::MetricType;
/// assert_eq!(MetricType::Histogram.as_str(), "histogram");
/// assert_eq!(MetricType::Summary.reserved_label(), Some("quantile"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MetricType {
    /// A monotonically increasing total.
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// Observations counted in cumulative buckets, with their sum and count.
    Histogram,
    /// Observations summarised by their sum, count and optional quantiles.
    Summary,
    /// A histogram of current values, which may go down (OpenMetrics `gaugehistogram`).
    GaugeHistogram,
    /// Constant labels describing the target (OpenMetrics `info`).
    Info,
    /// A set of named boolean states (OpenMetrics `stateset`).
    StateSet,
    /// A value of unknown type (`untyped` in text 0.0.4).
    Unknown,
}

impl MetricType {
    /// The OpenMetrics name of this type.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::Summary => "summary",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
            MetricType::Unknown => "unknown",
        }
    }

    /// The label this type adds to its own samples, which users may therefore not use.
    pub fn reserved_label(self) -> Option<&'static str> {
        match self {
            MetricType::Histogram | MetricType::GaugeHistogram => Some("le"),
            MetricType::Summary => Some("quantile"),
            _ => None,
        }
    }

    /// The suffix the family name must not repeat, because the samples add it
    /// (`requests` is exposed as `requests_total`).
    pub(crate) fn name_suffix(self) -> Option<&'static str> {
        match self {
            MetricType::Counter => Some("_total"),
            MetricType::Info => Some("_info"),
            _ => None,
        }
    }

    /// Every sample name a family of this type may write, as suffixes of the family name.
    pub(crate) fn sample_suffixes(self) -> &'static [&'static str] {
        match self {
            MetricType::Counter => &["_total", "_created"],
            MetricType::Histogram => &["_bucket", "_count", "_sum", "_created"],
            MetricType::Summary => &["", "_count", "_sum", "_created"],
            MetricType::GaugeHistogram => &["_bucket", "_gcount", "_gsum"],
            MetricType::Info => &["_info"],
            MetricType::Gauge | MetricType::StateSet | MetricType::Unknown => &[""],
        }
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `name` is a valid metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
///
/// ```
/// use prometheus_client::desc::is_valid_metric_name;
/// assert!(is_valid_metric_name("http_requests:rate5m"));
/// assert!(!is_valid_metric_name("5xx"));
/// assert!(!is_valid_metric_name(""));
/// ```
pub fn is_valid_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_' | b':'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

/// Whether `name` is a valid label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
///
/// Names starting with `__` pass this check but are reserved; see [`check_label_name`].
///
/// ```
/// use prometheus_client::desc::is_valid_label_name;
/// assert!(is_valid_label_name("status_code"));
/// assert!(!is_valid_label_name("status-code"));
/// ```
pub fn is_valid_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Why a label name was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LabelNameError {
    /// The name does not match `[a-zA-Z_][a-zA-Z0-9_]*`.
    Invalid(String),
    /// The name starts with `__`, which Prometheus reserves for itself.
    DoubleUnderscore(String),
    /// The name is the one the metric type adds itself (`le`, `quantile`).
    Reserved {
        /// The label name.
        name: String,
        /// The metric type that reserves it.
        metric_type: MetricType,
    },
}

impl fmt::Display for LabelNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabelNameError::Invalid(name) => {
                write!(
                    f,
                    "invalid label name {name:?}: must match [a-zA-Z_][a-zA-Z0-9_]*"
                )
            }
            LabelNameError::DoubleUnderscore(name) => {
                write!(
                    f,
                    "label name {name:?} starts with \"__\", which is reserved"
                )
            }
            LabelNameError::Reserved { name, metric_type } => {
                write!(
                    f,
                    "label name {name:?} is reserved for {metric_type} metrics"
                )
            }
        }
    }
}

impl std::error::Error for LabelNameError {}

/// Checks a label name for use on a metric of type `metric_type`.
///
/// ```
/// use prometheus_client::{desc::check_label_name, MetricType};
/// assert!(check_label_name("method", MetricType::Histogram).is_ok());
/// assert!(check_label_name("le", MetricType::Histogram).is_err());
/// assert!(check_label_name("le", MetricType::Counter).is_ok());
/// assert!(check_label_name("__name__", MetricType::Gauge).is_err());
/// ```
pub fn check_label_name(name: &str, metric_type: MetricType) -> Result<(), LabelNameError> {
    if !is_valid_label_name(name) {
        return Err(LabelNameError::Invalid(name.to_owned()));
    }
    if name.starts_with("__") {
        return Err(LabelNameError::DoubleUnderscore(name.to_owned()));
    }
    if metric_type.reserved_label() == Some(name) {
        return Err(LabelNameError::Reserved {
            name: name.to_owned(),
            metric_type,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names() {
        for ok in ["a", "_", ":", "a:b_c9", "A"] {
            assert!(is_valid_metric_name(ok), "{ok}");
        }
        for bad in ["", "9a", "a-b", "a b", "é", "a.b"] {
            assert!(!is_valid_metric_name(bad), "{bad}");
        }
    }

    #[test]
    fn label_names() {
        for ok in ["a", "_a", "a9_"] {
            assert!(is_valid_label_name(ok), "{ok}");
        }
        for bad in ["", "9a", "a:b", "a-b", "ü"] {
            assert!(!is_valid_label_name(bad), "{bad}");
        }
    }

    #[test]
    fn reserved_labels_name_their_type() {
        let err = check_label_name("quantile", MetricType::Summary).unwrap_err();
        assert_eq!(
            err.to_string(),
            "label name \"quantile\" is reserved for summary metrics"
        );
    }
}
