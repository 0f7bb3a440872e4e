//! A cursor over one line of input, and the tokens both formats share: names, quoted strings,
//! label sets and numbers. Positions are offsets into the whole input, for error reporting.

use std::collections::HashSet;

use super::error::{ErrorAt, ParseErrorKind as K};
use super::number::{parse_f64, NumberSyntax};
use crate::desc;
use crate::encoding::Format;

/// A cursor over `input[pos..end]`, where `end` is the end of the current line.
pub(super) struct Cursor<'a> {
    input: &'a [u8],
    pub(super) pos: usize,
    end: usize,
    format: Format,
    /// Labels a label set may have (0: no limit).
    max_labels: usize,
}

/// One label as read from a label set: its name and its value as written (still escaped).
pub(super) struct RawLabel<'a> {
    pub(super) name: &'a str,
    pub(super) value: &'a str,
    pub(super) value_offset: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(
        input: &'a [u8],
        pos: usize,
        end: usize,
        format: Format,
        max_labels: usize,
    ) -> Self {
        Cursor {
            input,
            pos,
            end,
            format,
            max_labels,
        }
    }

    pub(super) fn peek(&self) -> Option<u8> {
        (self.pos < self.end).then(|| self.input[self.pos])
    }

    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.end
    }

    pub(super) fn error(&self, kind: K, len: usize) -> ErrorAt {
        ErrorAt::new(kind, self.pos, len)
    }

    /// Consumes `b` if it is next.
    pub(super) fn eat(&mut self, b: u8) -> bool {
        let found = self.peek() == Some(b);
        self.pos += usize::from(found);
        found
    }

    pub(super) fn expect(&mut self, b: u8, what: &'static str) -> Result<(), ErrorAt> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(self.error(K::Expected(what), 1))
        }
    }

    /// Skips spaces and tabs (text 0.0.4 only; OpenMetrics allows no optional whitespace).
    pub(super) fn skip_blanks(&mut self) {
        if self.format == Format::Text {
            while matches!(self.peek(), Some(b' ' | b'\t')) {
                self.pos += 1;
            }
        }
    }

    /// The separator between tokens: one space in OpenMetrics, any spaces and tabs in text.
    pub(super) fn separator(&mut self, what: &'static str) -> Result<(), ErrorAt> {
        match self.format {
            Format::OpenMetrics => {
                if matches!(self.peek(), Some(b'\t')) {
                    return Err(self.error(K::InvalidWhitespace, 1));
                }
                self.expect(b' ', what)?;
                if matches!(self.peek(), Some(b' ' | b'\t')) {
                    return Err(self.error(K::InvalidWhitespace, 1));
                }
            }
            _ => {
                if !matches!(self.peek(), Some(b' ' | b'\t')) {
                    return Err(self.error(K::Expected(what), 1));
                }
                self.skip_blanks();
            }
        }
        Ok(())
    }

    pub(super) fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
        // Only ASCII bytes are taken by the callers' predicates.
        std::str::from_utf8(&self.input[start..self.pos]).unwrap_or_default()
    }

    pub(super) fn metric_name(&mut self) -> Result<&'a str, ErrorAt> {
        if self.peek() == Some(b'"') {
            return self.quoted_name(K::InvalidMetricName);
        }
        let start = self.pos;
        let name = self.take_while(desc::is_metric_name_char);
        // Text 0.0.4 lets a value follow the name directly (`a.5` is `a` then `.5`), as
        // client_golang reads it; OpenMetrics needs a space or a label set.
        let ends_well =
            self.format == Format::Text || matches!(self.peek(), None | Some(b' ' | b'\t' | b'{'));
        if !name.bytes().next().is_some_and(desc::is_metric_name_start) || !ends_well {
            self.pos = start;
            let len = self.token_len();
            return Err(self.error(K::InvalidMetricName, len));
        }
        Ok(name)
    }

    pub(super) fn label_name(&mut self) -> Result<&'a str, ErrorAt> {
        if self.peek() == Some(b'"') {
            return self.quoted_name(K::InvalidLabelName);
        }
        let start = self.pos;
        let name = self.take_while(desc::is_label_name_char);
        if !name.bytes().next().is_some_and(desc::is_label_name_start) {
            self.pos = start;
            let len = self.token_len();
            return Err(self.error(K::InvalidLabelName, len));
        }
        Ok(name)
    }

    /// A name in the quoted syntax of UTF-8 names (`"http.requests"`), at the opening quote:
    /// any non-empty UTF-8 text without escapes (a name needing them is refused as
    /// `invalid`).
    fn quoted_name(&mut self, invalid: K) -> Result<&'a str, ErrorAt> {
        let start = self.pos;
        self.pos += 1;
        let (raw, _) = self.quoted()?;
        if raw.is_empty() || raw.contains('\\') {
            return Err(ErrorAt::new(invalid, start, self.pos - start));
        }
        Ok(raw)
    }

    /// The metric name of a sample written in the quoted syntax inside its braces
    /// (`{"http.requests",method="GET"}`), the `{` already consumed; the cursor is left
    /// where the labels start (after the `,`), or after the `}` when there are none, which
    /// the second value says.
    pub(super) fn name_in_braces(&mut self) -> Result<(&'a str, bool), ErrorAt> {
        self.skip_blanks();
        if self.peek() != Some(b'"') {
            return Err(self.error(K::Expected("a quoted metric name after '{'"), 1));
        }
        let name = self.quoted_name(K::InvalidMetricName)?;
        self.skip_blanks();
        if self.eat(b',') {
            return Ok((name, true));
        }
        self.expect(b'}', "',' or '}' after the metric name")?;
        Ok((name, false))
    }

    /// Length of the token at the cursor (up to whitespace or the line end), for messages.
    fn token_len(&self) -> usize {
        self.input[self.pos..self.end]
            .iter()
            .position(|b| matches!(b, b' ' | b'\t'))
            .unwrap_or(self.end - self.pos)
    }

    /// A token up to the next space or tab (or line end), as UTF-8.
    pub(super) fn token(&mut self) -> Result<&'a str, ErrorAt> {
        let start = self.pos;
        self.pos += self.token_len();
        std::str::from_utf8(&self.input[start..self.pos])
            .map_err(|_| ErrorAt::new(K::InvalidUtf8, start, self.pos - start))
    }

    /// A number token and where it starts; `what` names it when the token is missing.
    pub(super) fn number(
        &mut self,
        what: &'static str,
        syntax: NumberSyntax,
    ) -> Result<(f64, usize), ErrorAt> {
        let at = self.pos;
        let token = self.token()?;
        if token.is_empty() {
            return Err(self.error(K::Expected(what), 1));
        }
        parse_f64(token, syntax)
            .map(|v| (v, at))
            .map_err(|kind| ErrorAt::new(kind, at, token.len()))
    }

    /// The rest of the line, decoded lossily where it is not UTF-8 (as text 0.0.4 HELP may be).
    pub(super) fn rest_lossy(&mut self) -> std::borrow::Cow<'a, str> {
        let start = self.pos;
        self.pos = self.end;
        String::from_utf8_lossy(&self.input[start..self.end])
    }

    /// The rest of the line as UTF-8.
    pub(super) fn rest(&mut self) -> Result<&'a str, ErrorAt> {
        let start = self.pos;
        self.pos = self.end;
        std::str::from_utf8(&self.input[start..self.end])
            .map_err(|_| ErrorAt::new(K::InvalidUtf8, start, self.end - start))
    }

    /// Checks escapes in `text` (starting at input offset `at`): text 0.0.4 allows only the
    /// ones given; OpenMetrics keeps unknown escapes as written, as its test suite requires.
    pub(super) fn check_escapes(
        &self,
        text: &str,
        at: usize,
        allowed: &[u8],
    ) -> Result<(), ErrorAt> {
        if self.format == Format::OpenMetrics {
            return Ok(());
        }
        let bytes = text.as_bytes();
        let mut i = 0;
        while let Some(p) = bytes[i..].iter().position(|&b| b == b'\\') {
            let at_escape = i + p;
            match bytes.get(at_escape + 1) {
                Some(c) if allowed.contains(c) => i = at_escape + 2,
                _ => return Err(ErrorAt::new(K::InvalidEscape, at + at_escape, 2)),
            }
        }
        Ok(())
    }

    /// A quoted label value, the opening quote already consumed; returns it still escaped.
    fn quoted(&mut self) -> Result<(&'a str, usize), ErrorAt> {
        let start = self.pos;
        loop {
            match self.peek() {
                None => {
                    return Err(ErrorAt::new(
                        K::UnterminatedLabelValue,
                        start - 1,
                        self.end - start + 1,
                    ))
                }
                Some(b'"') => break,
                Some(b'\\') => self.pos += 2,
                Some(_) => self.pos += 1,
            }
        }
        let raw = std::str::from_utf8(&self.input[start..self.pos])
            .map_err(|_| ErrorAt::new(K::InvalidUtf8, start, self.pos - start))?;
        self.check_escapes(raw, start, b"\\\"n")?;
        self.pos += 1;
        Ok((raw, start))
    }

    /// A label set `{name="value",…}`, the `{` already consumed. Calls `each` for every label
    /// and checks that no name repeats, in time linear in the labels, and that there are no
    /// more than the limit (checked as each is read). Returns the text between the braces.
    pub(super) fn label_set(
        &mut self,
        mut each: impl FnMut(&RawLabel<'a>) -> Result<(), ErrorAt>,
    ) -> Result<&'a str, ErrorAt> {
        let start = self.pos;
        let mut names = SeenNames::default();
        self.skip_blanks();
        let mut after_comma = false;
        loop {
            if self.eat(b'}') {
                if after_comma && self.format == Format::OpenMetrics {
                    return Err(ErrorAt::new(
                        K::Expected("a label name after ','"),
                        self.pos - 1,
                        1,
                    ));
                }
                break;
            }
            let name_at = self.pos;
            let name = self.label_name()?;
            if self.max_labels > 0 && names.len() == self.max_labels {
                return Err(ErrorAt::new(
                    K::TooManyLabels(self.max_labels),
                    name_at,
                    name.len(),
                ));
            }
            if !names.insert(name) {
                return Err(ErrorAt::new(
                    K::DuplicateLabel(name.to_owned()),
                    name_at,
                    name.len(),
                ));
            }
            self.skip_blanks();
            self.expect(b'=', "'=' after the label name")?;
            self.skip_blanks();
            self.expect(b'"', "'\"' opening the label value")?;
            let (value, value_offset) = self.quoted()?;
            each(&RawLabel {
                name,
                value,
                value_offset,
            })?;
            self.skip_blanks();
            if self.eat(b',') {
                self.skip_blanks();
                after_comma = true;
                continue;
            }
            self.expect(b'}', "',' or '}' after the label value")?;
            break;
        }
        let inner = &self.input[start..self.pos - 1];
        Ok(std::str::from_utf8(inner).unwrap_or_default())
    }
}

/// The label names of one label set: the usual small sets on the stack, compared in a line;
/// larger ones in a hash set, so a set of many labels is checked in linear time.
#[derive(Default)]
struct SeenNames<'a> {
    inline: [&'a str; 16],
    len: usize,
    spilled: HashSet<&'a str, foldhash::fast::RandomState>,
}

impl<'a> SeenNames<'a> {
    /// Adds `name`; false when it was there already.
    fn insert(&mut self, name: &'a str) -> bool {
        if self.inline[..self.len].contains(&name) {
            return false;
        }
        if self.len < self.inline.len() {
            self.inline[self.len] = name;
            self.len += 1;
            true
        } else {
            self.spilled.insert(name)
        }
    }

    fn len(&self) -> usize {
        self.len + self.spilled.len()
    }
}
