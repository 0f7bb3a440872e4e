//! The Prometheus text format 0.0.4: metadata lines.
//!
//! The format has no `info`, `stateset` or `unknown` types; like client_python, info and
//! stateset families are written as gauges (info as `<name>_info`) and unknown as `untyped`.
//! Counter metadata names the `_total` sample, as client_golang writes it. The format cannot
//! carry leading blanks of a HELP text: parsers skip the blanks after the name, and no escape
//! exists for them (OpenMetrics keeps them).

use super::escape;
use super::escaping::write_name;
use crate::MetricType;

/// The HELP and TYPE lines; `quoted` puts the name in double quotes (a UTF-8 name).
pub(super) fn write_family_header(
    out: &mut Vec<u8>,
    (name, quoted): (&str, bool),
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
        write_name(out, &[name, suffix], quoted);
        out.push(b' ');
        escape::help(out, help, false);
        out.push(b'\n');
    }
    out.extend_from_slice(b"# TYPE ");
    write_name(out, &[name, suffix], quoted);
    out.push(b' ');
    out.extend_from_slice(type_name.as_bytes());
    out.push(b'\n');
}
