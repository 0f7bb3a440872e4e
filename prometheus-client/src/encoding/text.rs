//! The Prometheus text format 0.0.4: metadata lines.
//!
//! The format has no `info`, `stateset` or `unknown` types; like client_python, info and
//! stateset families are written as gauges (info as `<name>_info`) and unknown as `untyped`.
//! Counter metadata names the `_total` sample, as client_golang writes it. The format cannot
//! carry leading blanks of a HELP text: parsers skip the blanks after the name, and no escape
//! exists for them (OpenMetrics keeps them).

use super::escape;
use crate::MetricType;

pub(super) fn write_family_header(
    out: &mut Vec<u8>,
    name: &str,
    help: &str,
    metric_type: MetricType,
) {
    let (suffix, type_name) = match metric_type {
        MetricType::Counter => ("_total", "counter"),
        MetricType::Info => ("_info", "gauge"),
        MetricType::StateSet => ("", "gauge"),
        MetricType::Unknown => ("", "untyped"),
        MetricType::GaugeHistogram => ("", "histogram"),
        other => ("", other.as_str()),
    };
    if !help.is_empty() {
        out.extend_from_slice(b"# HELP ");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(suffix.as_bytes());
        out.push(b' ');
        escape::help(out, help, false);
        out.push(b'\n');
    }
    out.extend_from_slice(b"# TYPE ");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(suffix.as_bytes());
    out.push(b' ');
    out.extend_from_slice(type_name.as_bytes());
    out.push(b'\n');
}
