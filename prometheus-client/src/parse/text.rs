//! The Prometheus text format 0.0.4, read as Prometheus and client_golang read it.
//!
//! Blank lines and comments are skipped; tokens are separated by any spaces and tabs;
//! label sets may end with a comma. A family may have one HELP and one TYPE line, and its TYPE
//! must come before its samples. A histogram bucket's `le` and a summary's `quantile`, where
//! present, must be floats. Families may interleave and series may repeat, and whitespace may
//! end a sample line, as the Prometheus server accepts (promtool is stricter there).

use std::collections::HashMap;

use super::cursor::Cursor;
use super::error::{ErrorAt, ParseErrorKind as K};
use super::labels::{unescape, Labels};
use super::number::{parse_f64, parse_millis, NumberSyntax};
use super::{Entry, Sample, Timestamp};
use crate::encoding::Format;
use crate::MetricType;

/// What has been seen of each family.
#[derive(Default)]
pub(super) struct TextState<'a> {
    families: HashMap<&'a str, Seen>,
}

#[derive(Default)]
struct Seen {
    help: bool,
    metric_type: Option<MetricType>,
    samples: bool,
}

impl<'a> TextState<'a> {
    /// Parses one line; `None` for a blank or comment line.
    pub(super) fn line(&mut self, c: &mut Cursor<'a>) -> Result<Option<Entry<'a>>, ErrorAt> {
        c.skip_blanks();
        match c.peek() {
            None => Ok(None),
            Some(b'#') => self.comment(c),
            Some(_) => self.sample(c).map(|s| Some(Entry::Sample(s))),
        }
    }

    fn comment(&mut self, c: &mut Cursor<'a>) -> Result<Option<Entry<'a>>, ErrorAt> {
        c.eat(b'#');
        if !matches!(c.peek(), Some(b' ' | b'\t')) {
            return Ok(None);
        }
        c.skip_blanks();
        let keyword = c.take_while(|b| b.is_ascii_alphabetic());
        if !matches!(keyword, "HELP" | "TYPE") || !matches!(c.peek(), Some(b' ' | b'\t')) {
            return Ok(None);
        }
        c.skip_blanks();
        let name_at = c.pos;
        let name = c.metric_name()?;
        let seen = self.families.entry(name).or_default();
        if keyword == "HELP" {
            if seen.help {
                return Err(ErrorAt::new(
                    K::DuplicateMetadata("HELP"),
                    name_at,
                    name.len(),
                ));
            }
            seen.help = true;
            c.skip_blanks();
            let at = c.pos;
            let raw = c.rest()?;
            c.check_escapes(raw, at, b"\\n")?;
            return Ok(Some(Entry::Help {
                name,
                help: unescape(raw, Format::Text, false),
            }));
        }
        if seen.metric_type.is_some() {
            return Err(ErrorAt::new(
                K::DuplicateMetadata("TYPE"),
                name_at,
                name.len(),
            ));
        }
        if seen.samples {
            return Err(ErrorAt::new(K::MetadataAfterSamples, name_at, name.len()));
        }
        c.separator("the metric type")?;
        let type_at = c.pos;
        let metric_type = match c.token()? {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "histogram" => MetricType::Histogram,
            "summary" => MetricType::Summary,
            "untyped" => MetricType::Unknown,
            other => return Err(ErrorAt::new(K::UnknownType, type_at, other.len())),
        };
        c.skip_blanks();
        if !c.at_end() {
            return Err(c.error(K::Expected("end of line after the type"), 1));
        }
        seen.metric_type = Some(metric_type);
        Ok(Some(Entry::Type { name, metric_type }))
    }

    /// The family a sample belongs to: the one named like it, or the histogram or summary
    /// whose `_bucket`, `_count` or `_sum` it is.
    fn family_of(&self, name: &'a str) -> (&'a str, Option<MetricType>) {
        if let Some(seen) = self.families.get(name) {
            return (name, seen.metric_type);
        }
        for suffix in ["_bucket", "_count", "_sum"] {
            let Some(base) = name.strip_suffix(suffix) else {
                continue;
            };
            let metric_type = self.families.get(base).and_then(|s| s.metric_type);
            match metric_type {
                Some(MetricType::Histogram) => return (base, metric_type),
                Some(MetricType::Summary) if suffix != "_bucket" => return (base, metric_type),
                _ => {}
            }
        }
        (name, None)
    }

    fn sample(&mut self, c: &mut Cursor<'a>) -> Result<Sample<'a>, ErrorAt> {
        let name = c.metric_name()?;
        let (family, metric_type) = self.family_of(name);
        let checked = match metric_type {
            Some(MetricType::Histogram) if name.strip_prefix(family) == Some("_bucket") => {
                Some("le")
            }
            Some(MetricType::Summary) if name == family => Some("quantile"),
            _ => None,
        };
        c.skip_blanks();
        let mut labels = Labels::empty(Format::Text);
        if c.eat(b'{') {
            let raw = c.label_set(|label| {
                if Some(label.name) == checked {
                    let value = unescape(label.value, Format::Text, true);
                    parse_f64(&value, NumberSyntax::Text).map_err(|_| {
                        let why = format!("{:?} needs a float value", label.name);
                        ErrorAt::new(
                            K::InvalidTypeLabel(why),
                            label.value_offset,
                            label.value.len(),
                        )
                    })?;
                }
                Ok(())
            })?;
            labels = Labels::new(raw, Format::Text);
            c.skip_blanks();
        }
        let value_at = c.pos;
        let token = c.token()?;
        if token.is_empty() {
            return Err(c.error(K::Expected("a value"), 1));
        }
        let value = parse_f64(token, NumberSyntax::Text)
            .map_err(|kind| ErrorAt::new(kind, value_at, token.len()))?;
        c.skip_blanks();
        let mut timestamp = None;
        if !c.at_end() {
            let at = c.pos;
            let token = c.token()?;
            let millis = parse_millis(token).map_err(|kind| ErrorAt::new(kind, at, token.len()))?;
            timestamp = Some(Timestamp::Millis(millis));
            c.skip_blanks();
            if !c.at_end() {
                return Err(c.error(K::Expected("end of line after the timestamp"), 1));
            }
        }
        self.families.entry(family).or_default().samples = true;
        Ok(Sample {
            family,
            name,
            labels,
            value,
            timestamp,
            exemplar: None,
        })
    }
}
