//! Escaping of HELP text and label values.
//!
//! Text 0.0.4: HELP escapes `\` and line feed; label values also escape `"`.
//! OpenMetrics 1.0 escapes `\`, line feed and `"` in both. Nothing else is escaped: any other
//! UTF-8, NUL included, is written as it is.

/// Appends `value` escaped for use inside a quoted label value.
pub(crate) fn label_value(out: &mut String, value: &str) {
    escape_into(out, value, true);
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

    proptest! {
        #[test]
        fn unescape_of_escape_is_identity(value in "(\\PC|[\\\\\"\n\0])*") {
            let mut out = String::new();
            label_value(&mut out, &value);
            prop_assert!(!out.contains('\n'));
            prop_assert_eq!(unescape(&out), Some(value));
        }
    }
}
