//! The rendered form of a label set, both ways: `name="value",…`, values escaped (`\\`,
//! `\"`, `\n`), and a name outside `[a-zA-Z_][a-zA-Z0-9_]*` (allowed by a registry that takes
//! UTF-8 names) in double quotes, escaped as a value is: `"http.method"="GET"`. That is the
//! quoted syntax of text 1.0.0 and OpenMetrics as Prometheus 3 reads it, so a scrape that
//! allows UTF-8 gets rendered labels as they are; others get the names escaped.

use std::borrow::Cow;

use crate::desc::is_valid_label_name;
use crate::encoding::{escape_label_value, Escaping};

/// Appends a label name as rendered labels hold it: as it is, or quoted.
pub(crate) fn push_name(out: &mut String, name: &str) {
    if is_valid_label_name(name) {
        out.push_str(name);
    } else {
        out.push('"');
        escape_label_value(out, name);
        out.push('"');
    }
}

/// A label name as rendered labels hold it.
pub(crate) fn name(name: &str) -> Box<str> {
    let mut out = String::with_capacity(name.len());
    push_name(&mut out, name);
    out.into_boxed_str()
}

/// One label of a rendered set, read back.
#[derive(Debug, PartialEq)]
pub(crate) struct Pair<'a> {
    /// The name, unescaped.
    pub(crate) name: Cow<'a, str>,
    /// Whether the name was quoted (it is outside the classic character set).
    pub(crate) quoted: bool,
    /// The value as rendered (escaped, without its quotes).
    pub(crate) escaped_value: &'a str,
}

impl Pair<'_> {
    /// The value, unescaped (for the protobuf format, which carries values as they are).
    #[cfg(feature = "protobuf")]
    pub(crate) fn value(&self) -> Cow<'_, str> {
        unescape(self.escaped_value)
    }
}

/// The labels of a rendered set, in order. Rendered sets come from this crate, so they are
/// well formed; reading stops at anything that is not.
pub(crate) fn pairs(rendered: &str) -> impl Iterator<Item = Pair<'_>> {
    let mut rest = rendered;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (name, quoted, after_name) = match rest.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted_len(quoted)?;
                (unescape(&quoted[..end]), true, &quoted[end + 1..])
            }
            None => {
                let end = rest.find('=')?;
                (Cow::Borrowed(&rest[..end]), false, &rest[end..])
            }
        };
        let value = after_name.strip_prefix("=\"")?;
        let end = quoted_len(value)?;
        rest = value[end + 1..].strip_prefix(',').unwrap_or("");
        Some(Pair {
            name,
            quoted,
            escaped_value: &value[..end],
        })
    })
}

/// Where the closing quote of an escaped string is.
fn quoted_len(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// An escaped string (`\\`, `\"`, `\n`), unescaped.
pub(crate) fn unescape(escaped: &str) -> Cow<'_, str> {
    if !escaped.contains('\\') {
        return Cow::Borrowed(escaped);
    }
    let mut out = String::with_capacity(escaped.len());
    let mut chars = escaped.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

/// Whether a rendered set holds a quoted (UTF-8) name: one starts the set or follows a comma
/// (inside a value a quote is always escaped).
pub(crate) fn has_quoted_name(rendered: &str) -> bool {
    rendered.starts_with('"') || rendered.contains(",\"")
}

/// Appends a rendered set with its quoted names escaped by `escaping` into the classic
/// label-name character set.
pub(crate) fn write_escaped(out: &mut Vec<u8>, rendered: &str, escaping: Escaping) {
    for (i, pair) in pairs(rendered).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if pair.quoted {
            out.extend_from_slice(escaping.escape_label(&pair.name).as_bytes());
        } else {
            out.extend_from_slice(pair.name.as_bytes());
        }
        out.extend_from_slice(b"=\"");
        out.extend_from_slice(pair.escaped_value.as_bytes());
        out.push(b'"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_outside_the_classic_set_are_quoted_and_read_back() {
        let mut rendered = String::new();
        push_name(&mut rendered, "method");
        rendered.push_str("=\"GET\",");
        push_name(&mut rendered, "http.\"route\"");
        rendered.push_str("=\"/a,\\\"b\\\"\"");
        assert_eq!(rendered, r#"method="GET","http.\"route\""="/a,\"b\"""#);
        assert!(has_quoted_name(&rendered));
        assert!(!has_quoted_name(r#"a="x,\"y""#));
        let read: Vec<_> = pairs(&rendered)
            .map(|p| (p.name.into_owned(), p.quoted, p.escaped_value.to_owned()))
            .collect();
        assert_eq!(
            read,
            [
                ("method".to_owned(), false, "GET".to_owned()),
                ("http.\"route\"".to_owned(), true, r#"/a,\"b\""#.to_owned()),
            ]
        );
        let second = pairs(&rendered)
            .nth(1)
            .map(|p| unescape(p.escaped_value).into_owned());
        assert_eq!(second.as_deref(), Some("/a,\"b\""));
        let mut out = Vec::new();
        write_escaped(&mut out, &rendered, Escaping::Underscores);
        assert_eq!(out, br#"method="GET",http__route_="/a,\"b\"""#);
    }

    #[test]
    fn malformed_sets_stop_the_reading() {
        assert_eq!(pairs("a=\"x").count(), 0);
        assert_eq!(pairs("\"a").count(), 0);
        assert_eq!(pairs("a").count(), 0);
        assert_eq!(pairs("a=\"1\",b").count(), 1);
    }
}
