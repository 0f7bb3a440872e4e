//! How metric names outside the classic character set are written for a scraper: as they
//! are (quoted where the syntax needs it), or escaped into the classic set by one of the
//! schemes Prometheus 3 and client_golang 1.20+ negotiate with the `escaping` parameter of
//! `Accept` and `Content-Type`.

use std::borrow::Cow;
use std::fmt::{self, Write};

use crate::desc::{
    is_label_name_char, is_label_name_start, is_metric_name_char, is_metric_name_start,
    is_valid_label_name, is_valid_metric_name,
};
use crate::MetricType;

/// A way of writing names outside `[a-zA-Z_:][a-zA-Z0-9_:]*`. Names inside that set are
/// written as they are by every scheme.
///
/// ```
/// use prometheus_client::encoding::Escaping;
///
/// assert_eq!(Escaping::AllowUtf8.escape("http.requests"), "http.requests");
/// assert_eq!(Escaping::Underscores.escape("http.requests"), "http_requests");
/// assert_eq!(Escaping::Dots.escape("http.requests_total"), "http_dot_requests__total");
/// assert_eq!(Escaping::Values.escape("http.requests"), "U__http_2e_requests");
/// assert_eq!(Escaping::Values.escape("ok_name"), "ok_name");
/// assert_eq!("dots".parse::<Escaping>(), Ok(Escaping::Dots));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Escaping {
    /// No escaping: names are written in the quoted syntax where they need it
    /// (`{"http.requests",method="GET"}`). `escaping=allow-utf-8`.
    AllowUtf8,
    /// Each character outside the classic set becomes `_`. `escaping=underscores`; what a
    /// scraper that does not say gets, as in client_golang.
    #[default]
    Underscores,
    /// `.` becomes `_dot_`, `_` becomes `__`, any other character outside the classic set
    /// `__`. `escaping=dots`.
    Dots,
    /// `U__` first, then `_` becomes `__` and any other character outside the classic set
    /// its code point in hex between underscores (`_2e_`). `escaping=values`; reversible.
    Values,
}

/// An `escaping` value that names no scheme.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownEscaping(pub String);

impl fmt::Display for UnknownEscaping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown escaping scheme {:?} (allow-utf-8, underscores, dots or values)",
            self.0
        )
    }
}

impl std::error::Error for UnknownEscaping {}

impl std::str::FromStr for Escaping {
    type Err = UnknownEscaping;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "allow-utf-8" => Ok(Escaping::AllowUtf8),
            "underscores" => Ok(Escaping::Underscores),
            "dots" => Ok(Escaping::Dots),
            "values" => Ok(Escaping::Values),
            other => Err(UnknownEscaping(other.to_owned())),
        }
    }
}

impl Escaping {
    /// The scheme's name in the `escaping` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Escaping::AllowUtf8 => "allow-utf-8",
            Escaping::Underscores => "underscores",
            Escaping::Dots => "dots",
            Escaping::Values => "values",
        }
    }

    /// The metric name `name` as this scheme writes it: unchanged when it is in the
    /// classic set (or the scheme allows UTF-8), escaped otherwise.
    pub fn escape(self, name: &str) -> Cow<'_, str> {
        if is_valid_metric_name(name) {
            return Cow::Borrowed(name);
        }
        self.escape_with(name, is_metric_name_start, is_metric_name_char)
    }

    /// The label name `name` as this scheme writes it, into `[a-zA-Z_][a-zA-Z0-9_]*` (unlike
    /// client_golang, which keeps a `:` that no label name may hold).
    ///
    /// ```
    /// use prometheus_client::encoding::Escaping;
    /// assert_eq!(Escaping::Underscores.escape_label("http.route:v2"), "http_route_v2");
    /// assert_eq!(Escaping::Underscores.escape("http.route:v2"), "http_route:v2");
    /// ```
    pub fn escape_label(self, name: &str) -> Cow<'_, str> {
        if is_valid_label_name(name) {
            return Cow::Borrowed(name);
        }
        self.escape_with(name, is_label_name_start, is_label_name_char)
    }

    fn escape_with(self, name: &str, start: fn(u8) -> bool, rest: fn(u8) -> bool) -> Cow<'_, str> {
        if self == Escaping::AllowUtf8 || name.is_empty() {
            return Cow::Borrowed(name);
        }
        let classic = |i: usize, c: char| {
            c.is_ascii()
                && if i == 0 {
                    start(c as u8)
                } else {
                    rest(c as u8)
                }
        };
        let mut out = String::with_capacity(name.len() + 8);
        match self {
            Escaping::AllowUtf8 | Escaping::Underscores => {
                for (i, c) in name.char_indices() {
                    out.push(if classic(i, c) { c } else { '_' });
                }
            }
            Escaping::Dots => {
                for (i, c) in name.char_indices() {
                    match c {
                        '_' => out.push_str("__"),
                        '.' => out.push_str("_dot_"),
                        c if classic(i, c) => out.push(c),
                        _ => out.push_str("__"),
                    }
                }
            }
            Escaping::Values => {
                out.push_str("U__");
                for (i, c) in name.char_indices() {
                    match c {
                        '_' => out.push_str("__"),
                        c if classic(i, c) => out.push(c),
                        c => {
                            let _ = write!(out, "_{:x}_", u32::from(c));
                        }
                    }
                }
            }
        }
        Cow::Owned(out)
    }
}

/// A family's name as `escaping` writes it. A counter's is escaped with its `_total`, as
/// client_golang escapes the whole name (`http.requests_total` with `dots` is
/// `http_dot_requests__total`), and the family name is that without `_total`.
pub(crate) fn escape_family(
    name: &str,
    metric_type: MetricType,
    escaping: Escaping,
) -> Cow<'_, str> {
    if metric_type != MetricType::Counter || is_valid_metric_name(name) {
        return escaping.escape(name);
    }
    match escaping.escape(&format!("{name}_total")) {
        Cow::Owned(mut escaped) => {
            escaped.truncate(escaped.len() - "_total".len());
            Cow::Owned(escaped)
        }
        Cow::Borrowed(_) => Cow::Borrowed(name),
    }
}

/// Whether a name is written in the quoted syntax under `escaping`: only when UTF-8 is
/// allowed and the name is outside the classic set.
pub(crate) fn needs_quotes(name: &str, escaping: Escaping) -> bool {
    escaping == Escaping::AllowUtf8 && !is_valid_metric_name(name)
}

/// Writes a name (its parts one after the other: a family name and a suffix) as it is, or
/// in double quotes, escaped as a label value is (`\\`, `\"`, `\n`).
pub(crate) fn write_name(out: &mut Vec<u8>, parts: &[&str], quoted: bool) {
    if !quoted {
        for part in parts {
            out.extend_from_slice(part.as_bytes());
        }
        return;
    }
    let mut text = String::with_capacity(parts.iter().map(|p| p.len()).sum::<usize>() + 2);
    text.push('"');
    for part in parts {
        super::escape_label_value(&mut text, part);
    }
    text.push('"');
    out.extend_from_slice(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cases of prometheus/common's `TestEscapeName`, by scheme.
    #[test]
    fn schemes_escape_as_prometheus_common() {
        let cases: &[(&str, &str, &str, &str)] = &[
            // name, underscores, dots, values
            ("", "", "", ""),
            (
                "no:escaping_required",
                "no:escaping_required",
                "no:escaping_required",
                "no:escaping_required",
            ),
            (
                "mysystem.prod.west.cpu.load",
                "mysystem_prod_west_cpu_load",
                "mysystem_dot_prod_dot_west_dot_cpu_dot_load",
                "U__mysystem_2e_prod_2e_west_2e_cpu_2e_load",
            ),
            (
                "mysystem.prod.west.cpu.load_total",
                "mysystem_prod_west_cpu_load_total",
                "mysystem_dot_prod_dot_west_dot_cpu_dot_load__total",
                "U__mysystem_2e_prod_2e_west_2e_cpu_2e_load__total",
            ),
            (
                "http.status:sum",
                "http_status:sum",
                "http_dot_status:sum",
                "U__http_2e_status:sum",
            ),
            (
                "label with 😱",
                "label_with__",
                "label__with____",
                "U__label_20_with_20__1f631_",
            ),
            (
                "label with \u{FFFD}",
                "label_with__",
                "label__with____",
                "U__label_20_with_20__fffd_",
            ),
            (
                "5000 errors",
                "_000_errors",
                "__000__errors",
                "U___35_000_20_errors",
            ),
        ];
        for &(name, underscores, dots, values) in cases {
            assert_eq!(Escaping::Underscores.escape(name), underscores, "{name}");
            assert_eq!(Escaping::Dots.escape(name), dots, "{name}");
            assert_eq!(Escaping::Values.escape(name), values, "{name}");
            assert_eq!(Escaping::AllowUtf8.escape(name), name);
        }
    }

    #[test]
    fn schemes_have_their_parameter_names() {
        for scheme in [
            Escaping::AllowUtf8,
            Escaping::Underscores,
            Escaping::Dots,
            Escaping::Values,
        ] {
            assert_eq!(scheme.as_str().parse(), Ok(scheme));
        }
        let err = "spaces".parse::<Escaping>().unwrap_err();
        assert_eq!(err, UnknownEscaping("spaces".into()));
        assert!(err.to_string().contains("\"spaces\""));
    }

    #[test]
    fn only_utf8_names_are_quoted() {
        assert!(needs_quotes("a.b", Escaping::AllowUtf8));
        assert!(!needs_quotes("a_b", Escaping::AllowUtf8));
        assert!(!needs_quotes("a.b", Escaping::Underscores));
        let mut out = Vec::new();
        write_name(&mut out, &["say \"hi\"\n", "_total"], true);
        assert_eq!(out, br#""say \"hi\"\n_total""#);
        out.clear();
        write_name(&mut out, &["plain", "_total"], false);
        assert_eq!(out, b"plain_total");
    }
}
