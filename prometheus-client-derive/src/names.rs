//! The naming rules, checked at compile time where names are literals.

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
pub(crate) fn is_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_' | b':'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

/// Why `name` cannot be a label name, if it cannot.
pub(crate) fn label_name_problem(name: &str) -> Option<String> {
    let mut bytes = name.bytes();
    let valid = matches!(bytes.next(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        Some(format!(
            "invalid label name {name:?}: must match [a-zA-Z_][a-zA-Z0-9_]*"
        ))
    } else if name.starts_with("__") {
        Some(format!(
            "label name {name:?} starts with \"__\", which Prometheus reserves"
        ))
    } else if name == "le" || name == "quantile" {
        Some(format!(
            "label name {name:?} is reserved for histogram buckets and summary quantiles"
        ))
    } else {
        None
    }
}

/// `[a-zA-Z0-9_:]+`, what can follow a metric name's `_`.
pub(crate) fn is_unit(unit: &str) -> bool {
    !unit.is_empty()
        && unit
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}
