//! The Prometheus text format 0.0.4, read as Prometheus and client_golang read it.
//!
//! Blank lines and comments are skipped; tokens are separated by any spaces and tabs;
//! label sets may end with a comma. A family may have one HELP and one TYPE line, and its TYPE
//! must come before its samples. A histogram bucket's `le` and a summary's `quantile`, where
//! present, must be floats. Families may interleave and series may repeat, and whitespace may
//! end a sample line, as the Prometheus server accepts (promtool is stricter there).

use std::borrow::Cow;
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
        if !matches!(c.peek(), None | Some(b' ' | b'\t')) {
            return Err(ErrorAt::new(
                K::InvalidMetricName,
                name_at,
                c.pos - name_at + 1,
            ));
        }
        c.skip_blanks();
        if c.at_end() {
            // `# HELP name` or `# TYPE name` and nothing more: a plain comment to
            // client_golang's parser.
            return Ok(None);
        }
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
            let at = c.pos;
            let help = match c.rest_lossy() {
                Cow::Borrowed(raw) => {
                    c.check_escapes(raw, at, b"\\n")?;
                    unescape(raw, Format::Text, false)
                }
                Cow::Owned(decoded) => {
                    c.check_escapes(&decoded, at, b"\\n")?;
                    Cow::Owned(unescape(&decoded, Format::Text, false).into_owned())
                }
            };
            return Ok(Some(Entry::Help { name, help }));
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
        let (name, in_braces) = super::sample_name(c)?;
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
        if in_braces.unwrap_or_else(|| c.eat(b'{')) {
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
        let (value, _) = c.number("a value", NumberSyntax::Text)?;
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

#[cfg(test)]
mod tests {
    use crate::encoding::Format;
    use crate::parse::{validate, Entry, ParseErrorKind as K, Parser, Timestamp};

    fn error_of(input: &str) -> Option<K> {
        validate(input.as_bytes(), Format::Text)
            .err()
            .map(|e| e.kind)
    }

    #[test]
    fn accepts_what_prometheus_accepts() {
        for ok in [
            "",
            "\n\n",
            "a 1\n",
            "a 1",
            "  a 1\n",
            "a 1 \n",
            "a\t1\t-5\n",
            "a{b=\"1\",} 1\n",
            "a { b = \"1\" , c=\"2\" } 1\n",
            "a{b=\"1\"}1\n",
            "a{} 1\n",
            "a inf\na -Infinity\na NaN\na .5\na 5.\na 1e-400\n",
            "# any comment\n#HELP is a comment too\n# TYPE\n# TYPE a\n# HELP b \n",
            "a.5\nb2.5e3\n",
            "# HELP a\n# TYPE a gauge\na 1\n",
            "a 1\n# HELP a later help is fine\n",
            "a 1\nb 1\na 2\n",
            "a{b=\"x\"} 1\na{b=\"x\"} 2\n",
            "# TYPE s summary\ns 1\ns{quantile=\"0.5\"} 2\ns_sum 1\ns_count 1\n",
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_bucket 2\n",
            "a{b=\"\\\\ \\\" \\n ☃\"} 1\n",
            "a{__b=\"1\"} 1\n",
        ] {
            assert_eq!(error_of(ok), None, "{ok:?}");
        }
    }

    #[test]
    fn rejects_what_prometheus_rejects() {
        let table: &[(&str, K)] = &[
            ("a{b=\"\\z\"} 1\n", K::InvalidEscape),
            ("# HELP a x\\ty\n", K::InvalidEscape),
            ("a 1e400\n", K::NumberOutOfRange),
            ("a 0x1p3\n", K::InvalidNumber),
            ("a 1_000\n", K::InvalidNumber),
            ("a +nan\n", K::InvalidNumber),
            ("a 1 1.5\n", K::InvalidTimestamp),
            (
                "a 1 123 4\n",
                K::Expected("end of line after the timestamp"),
            ),
            (
                "# TYPE a gauge\n# TYPE a gauge\n",
                K::DuplicateMetadata("TYPE"),
            ),
            ("# HELP a x\n# HELP a y\n", K::DuplicateMetadata("HELP")),
            ("a 1\n# TYPE a gauge\n", K::MetadataAfterSamples),
            ("# TYPE a info\n", K::UnknownType),
            (
                "# TYPE a gauge extra\n",
                K::Expected("end of line after the type"),
            ),
            ("# HELP a{x} help\n", K::InvalidMetricName),
            ("a-b 1\n", K::InvalidNumber),
            ("1a 1\n", K::InvalidMetricName),
            ("a{1b=\"1\"} 1\n", K::InvalidLabelName),
            ("a{b=\"1\",b=\"2\"} 1\n", K::DuplicateLabel("b".into())),
            ("a{b=\"1} 1\n", K::UnterminatedLabelValue),
            ("a{b=1} 1\n", K::Expected("'\"' opening the label value")),
            ("a\n", K::Expected("a value")),
            ("a 1\r\n", K::InvalidNumber),
            ("a{b=\"\u{0}\"} x\n", K::InvalidNumber),
        ];
        for (input, kind) in table {
            assert_eq!(error_of(input).as_ref(), Some(kind), "{input:?}");
        }
        assert!(error_of("# TYPE h histogram\nh_bucket{le=\"x\"} 1\n").is_some());
        assert!(error_of("# TYPE s summary\ns{quantile=\"q\"} 1\n").is_some());
        assert_eq!(
            validate(b"a{b=\"\xff\"} 1\n", Format::Text).map_err(|e| e.kind),
            Err(K::InvalidUtf8)
        );
    }

    #[test]
    fn entries_borrow_and_unescape() {
        let input =
            b"# HELP a Multi\\nline \\\\ help\n# TYPE a counter\na{x=\"q\\\"\"} 3 1700000000000\n";
        let entries: Vec<Entry<'_>> = Parser::new(input, Format::Text)
            .collect::<Result<_, _>>()
            .expect("valid");
        assert!(
            matches!(&entries[0], Entry::Help { name: "a", help } if help == "Multi\nline \\ help")
        );
        assert!(matches!(&entries[1], Entry::Type { name: "a", .. }));
        let Entry::Sample(s) = &entries[2] else {
            panic!("a sample")
        };
        assert_eq!((s.family, s.name, s.value), ("a", "a", 3.0));
        assert_eq!(s.labels.get("x").as_deref(), Some("q\""));
        assert_eq!(s.timestamp, Some(Timestamp::Millis(1_700_000_000_000)));
    }

    #[test]
    fn help_that_is_not_utf8_is_decoded_lossily() {
        let mut parser = Parser::new(b"# HELP a caf\xe9\n", Format::Text);
        let Some(Ok(Entry::Help { help, .. })) = parser.next() else {
            panic!("a HELP entry")
        };
        assert_eq!(help, "caf\u{fffd}");
    }

    #[test]
    fn samples_find_their_histogram_or_summary() {
        let input = b"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 2\nh_count 1\nh_other 1\n";
        let families: Vec<&str> = Parser::new(input, Format::Text)
            .filter_map(|e| match e {
                Ok(Entry::Sample(s)) => Some(s.family),
                _ => None,
            })
            .collect();
        assert_eq!(families, ["h", "h", "h", "h_other"]);
    }

    #[test]
    fn errors_point_at_the_offending_bytes() {
        let err = validate(b"a 1\nb{c=\"d\"} 1 x\n", Format::Text).expect_err("bad timestamp");
        assert_eq!((err.line, err.column, err.found.as_str()), (2, 12, "x"));
        assert_eq!(err.to_string(), "2:12: invalid timestamp: \"x\"");
    }
}
