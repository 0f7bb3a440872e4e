//! OpenMetrics 1.0: metadata lines.
//!
//! Metadata names the family (`requests`, not `requests_total`); `# UNIT` is written when the
//! family has a unit, which registration guarantees is also the name's suffix.

use super::escape;
use super::escaping::write_name;
use crate::MetricType;

/// The TYPE, UNIT and HELP lines; `quoted` puts the name in double quotes (a UTF-8 name).
pub(super) fn write_family_header(
    out: &mut Vec<u8>,
    (name, quoted): (&str, bool),
    help: &str,
    unit: Option<&str>,
    metric_type: MetricType,
) {
    out.extend_from_slice(b"# TYPE ");
    write_name(out, &[name], quoted);
    out.push(b' ');
    out.extend_from_slice(metric_type.as_str().as_bytes());
    out.push(b'\n');
    if let Some(unit) = unit {
        out.extend_from_slice(b"# UNIT ");
        write_name(out, &[name], quoted);
        out.push(b' ');
        out.extend_from_slice(unit.as_bytes());
        out.push(b'\n');
    }
    if !help.is_empty() {
        out.extend_from_slice(b"# HELP ");
        write_name(out, &[name], quoted);
        out.push(b' ');
        escape::help(out, help, true);
        out.push(b'\n');
    }
}
