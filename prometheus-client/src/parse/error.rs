//! Parse errors: what went wrong, where (line and column), and the offending bytes.

use std::fmt;

/// What was wrong with the input.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// A token other than the one the grammar needs here.
    Expected(&'static str),
    /// A metric name outside `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    InvalidMetricName,
    /// A label name outside `[a-zA-Z_][a-zA-Z0-9_]*`.
    InvalidLabelName,
    /// An escape sequence the format does not define.
    InvalidEscape,
    /// A label value without its closing quote.
    UnterminatedLabelValue,
    /// Bytes that are not UTF-8.
    InvalidUtf8,
    /// A number the format does not allow (hex, `_`, a lone sign…).
    InvalidNumber,
    /// A number too large for an `f64` (such as `1e400`).
    NumberOutOfRange,
    /// A timestamp the format does not allow.
    InvalidTimestamp,
    /// The same label name twice in one label set.
    DuplicateLabel(String),
    /// More labels in one label set than the parser's limit ([`Parser::label_limit`]).
    ///
    /// [`Parser::label_limit`]: super::Parser::label_limit
    TooManyLabels(usize),
    /// A second HELP, TYPE or UNIT line for one family.
    DuplicateMetadata(&'static str),
    /// Metadata after the family's samples.
    MetadataAfterSamples,
    /// A TYPE the format does not know.
    UnknownType,
    /// A metadata line other than HELP, TYPE, UNIT and EOF (OpenMetrics).
    UnknownMetadata,
    /// A family's samples interrupted by another family's.
    InterleavedFamily(String),
    /// One metric's samples interrupted by another metric's of the same family.
    InterleavedMetric,
    /// A sample name that the family's type does not have.
    InvalidSampleName(String),
    /// Two families whose sample names clash.
    ClashingNames(String),
    /// A UNIT that does not suit the family.
    InvalidUnit(String),
    /// A sample value the family's type forbids.
    InvalidValue(String),
    /// A required label missing or invalid (`le`, `quantile`, a stateset's own label).
    InvalidTypeLabel(String),
    /// An inconsistent histogram or summary.
    InvalidMetric(String),
    /// An exemplar where the format allows none, or a malformed one.
    InvalidExemplar(String),
    /// Timestamps that go backwards, or present on some samples of a metric and not others.
    InvalidTimestampOrder,
    /// Whitespace the format does not allow (OpenMetrics: single spaces only).
    InvalidWhitespace,
    /// A blank line (OpenMetrics).
    BlankLine,
    /// The input ended without `# EOF` (OpenMetrics).
    MissingEof,
    /// Something after `# EOF` (OpenMetrics).
    TextAfterEof,
    /// A protobuf message that does not decode (its reason from the decoder).
    Protobuf(String),
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ParseErrorKind as K;
        match self {
            K::Expected(what) => write!(f, "expected {what}"),
            K::InvalidMetricName => f.write_str("invalid metric name"),
            K::InvalidLabelName => f.write_str("invalid label name"),
            K::InvalidEscape => f.write_str("invalid escape sequence"),
            K::UnterminatedLabelValue => f.write_str("label value without closing quote"),
            K::InvalidUtf8 => f.write_str("invalid UTF-8"),
            K::InvalidNumber => f.write_str("invalid number"),
            K::NumberOutOfRange => f.write_str("number out of range"),
            K::InvalidTimestamp => f.write_str("invalid timestamp"),
            K::DuplicateLabel(name) => write!(f, "label {name:?} appears twice"),
            K::TooManyLabels(limit) => write!(f, "more than {limit} labels"),
            K::DuplicateMetadata(what) => write!(f, "second {what} line for this family"),
            K::MetadataAfterSamples => f.write_str("metadata after the family's samples"),
            K::UnknownType => f.write_str("unknown metric type"),
            K::UnknownMetadata => f.write_str("unknown metadata line"),
            K::InterleavedFamily(name) => {
                write!(
                    f,
                    "family {name:?} continues after another family's samples"
                )
            }
            K::InterleavedMetric => {
                f.write_str("metric continues after another metric of its family")
            }
            K::InvalidSampleName(why) => write!(f, "invalid sample name: {why}"),
            K::ClashingNames(name) => write!(f, "sample name {name:?} clashes with another family"),
            K::InvalidUnit(why) => write!(f, "invalid unit: {why}"),
            K::InvalidValue(why) => write!(f, "invalid value: {why}"),
            K::InvalidTypeLabel(why) => write!(f, "invalid label: {why}"),
            K::InvalidMetric(why) => write!(f, "invalid metric: {why}"),
            K::InvalidExemplar(why) => write!(f, "invalid exemplar: {why}"),
            K::InvalidTimestampOrder => {
                f.write_str("timestamps go backwards or are missing on some samples")
            }
            K::InvalidWhitespace => f.write_str("invalid whitespace"),
            K::BlankLine => f.write_str("blank line"),
            K::MissingEof => f.write_str("missing \"# EOF\""),
            K::TextAfterEof => f.write_str("text after \"# EOF\""),
            K::Protobuf(why) => write!(f, "invalid protobuf message: {why}"),
        }
    }
}

/// A parse error: the kind, its line and column (1-based, in characters), and the bytes it
/// is about.
///
/// ```
/// use prometheus_client::{encoding::Format, parse::Parser};
/// let err = Parser::new(b"a{b=\"\\z\"} 1\n", Format::Text)
///     .find_map(Result::err)
///     .expect("an invalid escape");
/// assert_eq!(err.to_string(), "1:6: invalid escape sequence: \"\\\\z\"");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// What was wrong.
    pub kind: ParseErrorKind,
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1, in characters.
    pub column: usize,
    /// The offending bytes (lossily decoded), at most 40 characters.
    pub found: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {:?}",
            self.line, self.column, self.kind, self.found
        )
    }
}

impl std::error::Error for ParseError {}

/// An error found at a byte offset of the input, before its line and column are known.
#[derive(Debug)]
pub(super) struct ErrorAt {
    pub(super) kind: ParseErrorKind,
    pub(super) offset: usize,
    pub(super) len: usize,
}

impl ErrorAt {
    pub(super) fn new(kind: ParseErrorKind, offset: usize, len: usize) -> Self {
        ErrorAt { kind, offset, len }
    }

    /// Locates the error in `input`.
    pub(super) fn locate(self, input: &[u8]) -> ParseError {
        let offset = self.offset.min(input.len());
        let line_start = input[..offset]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let line = 1 + input[..line_start].iter().filter(|&&b| b == b'\n').count();
        let column = 1 + String::from_utf8_lossy(&input[line_start..offset])
            .chars()
            .count();
        let end = (offset + self.len.max(1)).min(input.len());
        let found: String = String::from_utf8_lossy(&input[offset..end])
            .chars()
            .take(40)
            .collect();
        ParseError {
            kind: self.kind,
            line,
            column,
            found,
        }
    }
}
