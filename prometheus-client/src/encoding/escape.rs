//! Escaping of HELP text and label values.
//!
//! Text 0.0.4: HELP escapes `\` and line feed; label values also escape `"`.
//! OpenMetrics 1.0 escapes `\`, line feed and `"` in both. Nothing else is escaped: any other
//! UTF-8, NUL included, is written as it is.

/// Appends `value` escaped for use inside a quoted label value.
pub(crate) fn label_value(out: &mut String, value: &str) {
    escape_into(out, value, true);
}

/// If `value`, escaped as [`label_value`] escapes it and followed by its closing `"`, comes
/// at byte `at` of `rendered`: how many bytes it takes there.
///
/// Families compare a lookup's values with a child's rendered labels this way. Values with
/// something to escape go through the very code that rendered them, so the two cannot
/// disagree.
#[inline]
pub(crate) fn match_quoted_label_value(rendered: &[u8], at: usize, value: &str) -> Option<usize> {
    // The common case: the value appears as it is, then its closing quote. Rendering leaves
    // a value unchanged only when it holds none of `\`, `"` and line feed; a line feed never
    // appears unescaped in rendered text, so ruling out the other two rules out false
    // matches. One pass without early exits or calls: values are short.
    let (r, v) = (rendered, value.as_bytes());
    if let (Some(body), Some(&b'"')) = (r.get(at..at + v.len()), r.get(at + v.len())) {
        let mismatch = body.iter().zip(v).fold(0, |m, (&r, &v)| {
            m | (r ^ v) | u8::from(v == b'\\' || v == b'"')
        });
        if mismatch == 0 {
            return Some(v.len() + 1);
        }
    }
    match_escaped(std::str::from_utf8(rendered.get(at..)?).ok()?, value)
}

#[cold]
fn match_escaped(rendered: &str, value: &str) -> Option<usize> {
    let mut matcher = Matcher {
        rest: Some(rendered),
    };
    escape_into(&mut matcher, value, true);
    let rest = matcher.rest?.strip_prefix('"')?;
    Some(rendered.len() - rest.len())
}

/// A sink that, instead of writing, checks that what it is given comes next.
struct Matcher<'r> {
    /// What is left to match; `None` once something did not.
    rest: Option<&'r str>,
}

impl Sink for Matcher<'_> {
    #[inline]
    fn push_str(&mut self, s: &str) {
        self.rest = self.rest.and_then(|rest| rest.strip_prefix(s));
    }
}

/// Appends HELP text escaped; `quote` says whether `"` is escaped too (OpenMetrics).
pub(crate) fn help(out: &mut Vec<u8>, text: &str, quote: bool) {
    escape_into(out, text, quote);
}

/// Where escaped text goes: the rendered label strings or the output buffer.
trait Sink {
    fn push_str(&mut self, s: &str);
}

impl Sink for String {
    fn push_str(&mut self, s: &str) {
        String::push_str(self, s);
    }
}

impl Sink for Vec<u8> {
    fn push_str(&mut self, s: &str) {
        self.extend_from_slice(s.as_bytes());
    }
}

#[inline]
fn escape_into(out: &mut impl Sink, value: &str, quote: bool) {
    let mut rest = value;
    while let Some(at) = rest
        .bytes()
        .position(|b| b == b'\\' || b == b'\n' || (quote && b == b'"'))
    {
        out.push_str(&rest[..at]);
        out.push_str(match rest.as_bytes()[at] {
            b'\\' => "\\\\",
            b'\n' => "\\n",
            _ => "\\\"",
        });
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn unescape(escaped: &str) -> Option<String> {
        let mut out = String::new();
        let mut chars = escaped.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next()? {
                '\\' => out.push('\\'),
                'n' => out.push('\n'),
                '"' => out.push('"'),
                _ => return None,
            }
        }
        Some(out)
    }

    #[test]
    fn escapes_exactly_the_three_characters() {
        let mut out = String::new();
        label_value(&mut out, "a\\b\"c\nd\té\0");
        assert_eq!(out, "a\\\\b\\\"c\\nd\té\0");
    }

    #[test]
    fn text_help_keeps_quotes() {
        let mut out = Vec::new();
        help(&mut out, "say \"hi\"\\\n", false);
        assert_eq!(out, b"say \"hi\"\\\\\\n");
        out.clear();
        help(&mut out, "say \"hi\"", true);
        assert_eq!(out, b"say \\\"hi\\\"");
    }

    #[test]
    fn a_value_cannot_match_past_its_closing_quote() {
        let rendered = "k=\"a\",x=\"y\"";
        assert_eq!(
            match_quoted_label_value(rendered.as_bytes(), 3, "a"),
            Some(2)
        );
        assert_eq!(
            match_quoted_label_value(rendered.as_bytes(), 3, "a\",x=\"y"),
            None
        );
        assert_eq!(match_quoted_label_value(rendered.as_bytes(), 3, ""), None);
        assert_eq!(match_quoted_label_value(b"a\\\\\"", 0, "a\\"), Some(4));
        assert_eq!(match_quoted_label_value(b"\\\"\"", 0, "\""), Some(3));
        assert_eq!(match_quoted_label_value(b"\"", 1, ""), None, "past the end");
    }

    proptest! {
        #[test]
        fn unescape_of_escape_is_identity(value in "(\\PC|[\\\\\"\n\0])*") {
            let mut out = String::new();
            label_value(&mut out, &value);
            prop_assert!(!out.contains('\n'));
            prop_assert_eq!(unescape(&out), Some(value));
        }

        #[test]
        fn a_value_matches_its_own_rendering_only(
            value in "(\\PC|[\\\\\"\n])*",
            other in "(\\PC|[\\\\\"\n])*",
        ) {
            let mut rendered = String::from("k=\"");
            label_value(&mut rendered, &value);
            rendered.push_str("\",x=\"y\"");
            let len = rendered.len() - "k=\"".len() - ",x=\"y\"".len();
            prop_assert_eq!(match_quoted_label_value(rendered.as_bytes(), 3, &value), Some(len));
            let other_matches = match_quoted_label_value(rendered.as_bytes(), 3, &other).is_some();
            prop_assert_eq!(other_matches, other == value);
            let injected = format!("{value}\",x=\"y");
            prop_assert_eq!(match_quoted_label_value(rendered.as_bytes(), 3, &injected), None);
        }
    }
}
