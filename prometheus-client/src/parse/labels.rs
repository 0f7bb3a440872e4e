//! Borrowed label sets of parsed samples, unescaped only where an escape occurs.

use std::borrow::Cow;
use std::fmt;

use crate::encoding::Format;

/// The labels of a parsed sample or exemplar: the text between the braces, already checked,
/// read again on demand. Values are borrowed from the input unless they contain an escape.
///
/// ```
/// use prometheus_client::{encoding::Format, parse::{Entry, Parser}};
/// let mut parser = Parser::new(b"a{x=\"1\",y=\"q\\\"t\"} 2\n", Format::Text);
/// let Some(Ok(Entry::Sample(sample))) = parser.next() else { panic!("a sample") };
/// assert_eq!(sample.labels.get("y").as_deref(), Some("q\"t"));
/// let names: Vec<&str> = sample.labels.iter().map(|l| l.name).collect();
/// assert_eq!(names, ["x", "y"]);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Labels<'a> {
    raw: &'a str,
    format: Format,
}

/// One label of a parsed sample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label<'a> {
    /// The label name.
    pub name: &'a str,
    /// The value, unescaped.
    pub value: Cow<'a, str>,
}

impl<'a> Labels<'a> {
    pub(super) fn new(raw: &'a str, format: Format) -> Self {
        Labels { raw, format }
    }

    /// No labels.
    pub(super) fn empty(format: Format) -> Self {
        Labels { raw: "", format }
    }

    /// The labels in the order written.
    pub fn iter(&self) -> LabelsIter<'a> {
        LabelsIter {
            rest: self.raw,
            format: self.format,
        }
    }

    /// The value of label `name`, if present.
    pub fn get(&self, name: &str) -> Option<Cow<'a, str>> {
        self.iter().find(|l| l.name == name).map(|l| l.value)
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// The labels as they were written between the braces (escaped).
    pub fn as_written(&self) -> &'a str {
        self.raw
    }
}

impl fmt::Debug for Labels<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|l| (l.name, l.value)))
            .finish()
    }
}

impl<'a> IntoIterator for Labels<'a> {
    type Item = Label<'a>;
    type IntoIter = LabelsIter<'a>;
    fn into_iter(self) -> LabelsIter<'a> {
        self.iter()
    }
}

/// Iterator over [`Labels`].
#[derive(Clone, Debug)]
pub struct LabelsIter<'a> {
    rest: &'a str,
    format: Format,
}

impl<'a> Iterator for LabelsIter<'a> {
    type Item = Label<'a>;

    fn next(&mut self) -> Option<Label<'a>> {
        // The text was validated when parsed, so this only needs to find the pieces.
        let rest = self.rest.trim_start_matches([' ', '\t', ',']);
        // A quoted (UTF-8) name holds no escapes, so its closing quote is the next one.
        let (name, after) = match rest.strip_prefix('"') {
            Some(quoted) => {
                let (name, after) = quoted.split_once('"')?;
                let after = after.trim_start_matches([' ', '\t']).strip_prefix('=')?;
                (name, after)
            }
            None => {
                let (name, after) = rest.split_once('=')?;
                (name.trim_end_matches([' ', '\t']), after)
            }
        };
        let after = after.trim_start_matches([' ', '\t']).strip_prefix('"')?;
        let bytes = after.as_bytes();
        let mut i = 0;
        while i < bytes.len() && bytes[i] != b'"' {
            i += if bytes[i] == b'\\' { 2 } else { 1 };
        }
        let raw = after.get(..i)?;
        self.rest = after.get(i + 1..).unwrap_or_default();
        Some(Label {
            name,
            value: unescape(raw, self.format, true),
        })
    }
}

/// Unescapes a label value (`quote`) or HELP text. `\\`, `\n` and (where `quote`, or in
/// OpenMetrics) `\"` are decoded; any other escape, which only OpenMetrics lets through,
/// stays as written.
pub(super) fn unescape(raw: &str, format: Format, quote: bool) -> Cow<'_, str> {
    if !raw.contains('\\') {
        return Cow::Borrowed(raw);
    }
    let decode_quote = quote || format == Format::OpenMetrics;
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if decode_quote => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}
