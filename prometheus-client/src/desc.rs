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

/// Whether `b` may start a metric name: `[a-zA-Z_:]`.
pub(crate) const fn is_metric_name_start(b: u8) -> bool {
    matches!(b, b'a'..=b'z' | b'A'..=b'Z' | b'_' | b':')
}

/// Whether `b` may follow the first byte of a metric name, or appear in a unit: `[a-zA-Z0-9_:]`.
pub(crate) const fn is_metric_name_char(b: u8) -> bool {
    is_metric_name_start(b) || b.is_ascii_digit()
}

/// Whether `b` may start a label name: `[a-zA-Z_]`.
pub(crate) const fn is_label_name_start(b: u8) -> bool {
    matches!(b, b'a'..=b'z' | b'A'..=b'Z' | b'_')
}

/// Whether `b` may follow the first byte of a label name: `[a-zA-Z0-9_]`.
pub(crate) const fn is_label_name_char(b: u8) -> bool {
    is_label_name_start(b) || b.is_ascii_digit()
}

/// Whether `name` is a valid metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
///
/// ```
/// use prometheus_client::desc::is_valid_metric_name;
/// assert!(is_valid_metric_name("http_requests:rate5m"));
/// assert!(!is_valid_metric_name("5xx"));
/// assert!(!is_valid_metric_name(""));
/// ```
pub const fn is_valid_metric_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    if bytes.is_empty() || !is_metric_name_start(bytes[0]) {
        return false;
    }
    let mut i = 1;
    while i < bytes.len() {
        if !is_metric_name_char(bytes[i]) {
            return false;
        }
        i += 1;
    }
    true
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
pub const fn is_valid_label_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    if bytes.is_empty() || !is_label_name_start(bytes[0]) {
        return false;
    }
    let mut i = 1;
    while i < bytes.len() {
        if !is_label_name_char(bytes[i]) {
            return false;
        }
        i += 1;
    }
    true
}

/// `name` made into a valid metric name: each character outside `[a-zA-Z0-9_:]` becomes
/// `_`, and a name that would start with a digit (or be empty) gets a leading `_`. For names
/// from systems with other rules (the `metrics` crate's `http.requests`).
///
/// ```
/// use prometheus_client::desc::sanitize_metric_name;
/// assert_eq!(sanitize_metric_name("http.requests-total"), "http_requests_total");
/// assert_eq!(sanitize_metric_name("5xx"), "_5xx");
/// assert_eq!(sanitize_metric_name("ok:rate"), "ok:rate");
/// ```
pub fn sanitize_metric_name(name: &str) -> String {
    sanitize(name, is_metric_name_start, is_metric_name_char)
}

/// `name` made into a valid label name, as [`sanitize_metric_name`] does with `[a-zA-Z0-9_]`.
///
/// ```
/// use prometheus_client::desc::sanitize_label_name;
/// assert_eq!(sanitize_label_name("http.method"), "http_method");
/// assert_eq!(sanitize_label_name("a:b"), "a_b");
/// assert_eq!(sanitize_label_name(""), "_");
/// ```
pub fn sanitize_label_name(name: &str) -> String {
    sanitize(name, is_label_name_start, is_label_name_char)
}

fn sanitize(name: &str, start: fn(u8) -> bool, rest: fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(name.len() + 1);
    if !name.bytes().next().is_some_and(start) {
        out.push('_');
    }
    out.extend(name.chars().map(|c| {
        if u8::try_from(c).is_ok_and(rest) {
            c
        } else {
            '_'
        }
    }));
    out
}

/// Whether `unit` is a valid unit: `[a-zA-Z0-9_:]+`, the characters of a metric name (the
/// unit becomes the name's suffix).
///
/// ```
/// use prometheus_client::desc::is_valid_unit;
/// assert!(is_valid_unit("seconds"));
/// assert!(!is_valid_unit("km/h"));
/// assert!(!is_valid_unit(""));
/// ```
pub const fn is_valid_unit(unit: &str) -> bool {
    let bytes = unit.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !is_metric_name_char(bytes[i]) {
            return false;
        }
        i += 1;
    }
    !bytes.is_empty()
}

/// Checks a metric name where it is a constant: a name that breaks the rule fails to compile.
/// `#[derive(Metrics)]` checks every name it builds with it.
///
/// ```
/// use prometheus_client::desc::assert_metric_name;
/// const _: () = assert_metric_name("http_requests");
/// ```
///
/// ```compile_fail
/// use prometheus_client::desc::assert_metric_name;
/// const _: () = assert_metric_name("5xx");
/// ```
///
/// # Panics
/// When `name` is not a valid metric name (at compile time in a constant).
pub const fn assert_metric_name(name: &str) {
    if !is_valid_metric_name(name) {
        panic!("invalid metric name: must match [a-zA-Z_:][a-zA-Z0-9_:]*");
    }
}

/// Checks a unit where it is a constant, as [`assert_metric_name`] does names.
///
/// ```
/// use prometheus_client::desc::assert_unit;
/// const _: () = assert_unit("bytes");
/// ```
///
/// ```compile_fail
/// use prometheus_client::desc::assert_unit;
/// const _: () = assert_unit("km/h");
/// ```
///
/// # Panics
/// When `unit` is not a valid unit (at compile time in a constant).
pub const fn assert_unit(unit: &str) {
    if !is_valid_unit(unit) {
        panic!("invalid unit: use letters, digits, '_' and ':', such as \"seconds\"");
    }
}

/// Checks, where it is a constant, a label name that may be used on a family of any type: the
/// character set, the `__` prefix Prometheus reserves, and the labels histograms (`le`) and
/// summaries (`quantile`) add themselves. `#[derive(LabelSet)]` and `#[derive(Metrics)]` check
/// every label name with it. At run time, [`check_label_name`] checks a name for one type.
///
/// ```
/// use prometheus_client::desc::assert_label_name;
/// const _: () = assert_label_name("method");
/// ```
///
/// ```compile_fail
/// use prometheus_client::desc::assert_label_name;
/// const _: () = assert_label_name("le");
/// ```
///
/// # Panics
/// When `name` breaks one of the rules (at compile time in a constant).
pub const fn assert_label_name(name: &str) {
    let bytes = name.as_bytes();
    if !is_valid_label_name(name) {
        panic!("invalid label name: must match [a-zA-Z_][a-zA-Z0-9_]*");
    }
    if bytes.len() >= 2 && bytes[0] == b'_' && bytes[1] == b'_' {
        panic!("label names starting with \"__\" are reserved for Prometheus");
    }
    if matches!(bytes, b"le") {
        panic!("label name \"le\" is reserved for histogram buckets");
    }
    if matches!(bytes, b"quantile") {
        panic!("label name \"quantile\" is reserved for summary quantiles");
    }
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
    check_label_name_in(name, metric_type, false)
}

/// [`check_label_name`], where `utf8` also allows any non-empty name outside
/// `[a-zA-Z_][a-zA-Z0-9_]*` (a registry that allows UTF-8 names; `__` and the type's own
/// label stay reserved).
///
/// ```
/// use prometheus_client::{desc::check_label_name_in, MetricType};
/// assert!(check_label_name_in("http.method", MetricType::Counter, true).is_ok());
/// assert!(check_label_name_in("http.method", MetricType::Counter, false).is_err());
/// assert!(check_label_name_in("", MetricType::Counter, true).is_err());
/// assert!(check_label_name_in("__x.y", MetricType::Counter, true).is_err());
/// ```
pub fn check_label_name_in(
    name: &str,
    metric_type: MetricType,
    utf8: bool,
) -> Result<(), LabelNameError> {
    if !(is_valid_label_name(name) || (utf8 && !name.is_empty())) {
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
    fn units() {
        for ok in ["seconds", "bytes", "9", "a:b_c"] {
            assert!(is_valid_unit(ok), "{ok}");
        }
        for bad in ["", "km/h", "a b", "é"] {
            assert!(!is_valid_unit(bad), "{bad}");
        }
    }

    #[test]
    fn constant_checks_panic_with_the_rule() {
        let message = |f: fn()| {
            let payload = std::panic::catch_unwind(f).unwrap_err();
            payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .unwrap()
        };
        assert!(message(|| assert_metric_name("5xx")).contains("invalid metric name"));
        assert!(message(|| assert_unit("")).contains("invalid unit"));
        assert!(message(|| assert_label_name("a-b")).contains("invalid label name"));
        assert!(message(|| assert_label_name("__x")).contains("reserved for Prometheus"));
        assert!(message(|| assert_label_name("le")).contains("histogram"));
        assert!(message(|| assert_label_name("quantile")).contains("summary"));
        assert_label_name("method");
        assert_unit("bytes");
        assert_metric_name("a:b");
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
