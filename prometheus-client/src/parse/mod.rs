//! Reading Prometheus text 0.0.4 and OpenMetrics 1.0: the inverse of the encoders.
//!
//! [`Parser`] is a pull parser over borrowed bytes: each call to `next` reads one line and
//! returns an [`Entry`] whose names, labels and HELP borrow from the input (a value is copied
//! only to unescape it). It checks what the format requires as it goes and stops at the first
//! error, which says what is wrong, where (line and column) and quotes the offending bytes.
//! [`parse_families`] builds typed families on top of it, for tests and tools.
//!
//! ```
//! use prometheus_client::{encoding::Format, parse::{Entry, Parser}};
//!
//! let body = b"# TYPE requests counter\nrequests_total{method=\"GET\"} 3\n# EOF\n";
//! let mut total = 0.0;
//! for entry in Parser::new(body, Format::OpenMetrics) {
//!     if let Entry::Sample(sample) = entry? {
//!         assert_eq!(sample.family, "requests");
//!         assert_eq!(sample.labels.get("method").as_deref(), Some("GET"));
//!         total += sample.value;
//!     }
//! }
//! assert_eq!(total, 3.0);
//! # Ok::<(), prometheus_client::parse::ParseError>(())
//! ```

mod cursor;
mod error;
mod families;
mod float_histogram;
mod labels;
mod number;
mod openmetrics;
#[cfg(feature = "protobuf")]
mod protobuf;
mod text;

use std::borrow::Cow;

pub use error::{ParseError, ParseErrorKind};
pub use families::{parse_families, Families, MetricFamily, MetricPoint, ParsedSample, PointValue};
pub use float_histogram::{FloatHistogram, HistogramBucket, HistogramError};
pub use labels::{Label, Labels, LabelsIter};
#[cfg(feature = "protobuf")]
pub use protobuf::{protobuf_samples, ProtobufExemplar, ProtobufSample, ProtobufSamples};

use crate::encoding::Format;
use crate::MetricType;
use cursor::Cursor;
use error::{ErrorAt, ParseErrorKind as K};
use openmetrics::OpenMetricsState;
use text::TextState;

/// One line's worth of meaning.
#[derive(Clone, Debug)]
pub enum Entry<'a> {
    /// `# HELP name text`, the text unescaped.
    Help {
        /// The family name.
        name: &'a str,
        /// The HELP text.
        help: Cow<'a, str>,
    },
    /// `# TYPE name type` (text 0.0.4 `untyped` reads as [`MetricType::Unknown`]).
    Type {
        /// The family name.
        name: &'a str,
        /// The type.
        metric_type: MetricType,
    },
    /// `# UNIT name unit` (OpenMetrics).
    Unit {
        /// The family name.
        name: &'a str,
        /// The unit, possibly empty.
        unit: &'a str,
    },
    /// A sample.
    Sample(Sample<'a>),
    /// `# EOF` (OpenMetrics), always the last entry.
    Eof,
}

/// One sample line.
#[derive(Clone, Debug)]
pub struct Sample<'a> {
    /// The family it belongs to (`requests` for `requests_total` after `# TYPE requests
    /// counter`, `h` for `h_bucket` of histogram `h`).
    pub family: &'a str,
    /// The sample name as written.
    pub name: &'a str,
    /// Its labels.
    pub labels: Labels<'a>,
    /// Its value.
    pub value: f64,
    /// Its timestamp, if written.
    pub timestamp: Option<Timestamp>,
    /// Its exemplar, if written (OpenMetrics).
    pub exemplar: Option<Exemplar<'a>>,
}

/// An OpenMetrics exemplar: `# {labels} value [timestamp]` after a sample.
#[derive(Clone, Debug)]
pub struct Exemplar<'a> {
    /// Its labels (such as a trace id).
    pub labels: Labels<'a>,
    /// Its value.
    pub value: f64,
    /// Its timestamp, if written.
    pub timestamp: Option<Timestamp>,
}

/// A sample's timestamp, as the format writes it.
///
/// ```
/// use prometheus_client::parse::Timestamp;
/// assert_eq!(Timestamp::Millis(1500).as_millis(), Some(1500));
/// assert_eq!(Timestamp::Seconds(1.5).as_millis(), Some(1500));
/// assert_eq!(Timestamp::Seconds(1e30).as_millis(), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Timestamp {
    /// Text 0.0.4: integer milliseconds since the Unix epoch.
    Millis(i64),
    /// OpenMetrics: seconds since the Unix epoch, possibly fractional.
    Seconds(f64),
}

impl Timestamp {
    /// Milliseconds since the epoch (rounded), or `None` if out of `i64` range.
    pub fn as_millis(self) -> Option<i64> {
        match self {
            Timestamp::Millis(ms) => Some(ms),
            Timestamp::Seconds(s) => {
                let ms = (s * 1000.0).round();
                (ms >= i64::MIN as f64 && ms < i64::MAX as f64).then_some(ms as i64)
            }
        }
    }

    /// Seconds since the epoch.
    pub fn as_seconds(self) -> f64 {
        match self {
            Timestamp::Millis(ms) => ms as f64 / 1000.0,
            Timestamp::Seconds(s) => s,
        }
    }
}

/// The format a `Content-Type` names, by its media type alone (parameters are ignored, as
/// Prometheus 3 does): `application/openmetrics-text` or `text/plain`; `None` for others.
///
/// Prometheus 2 read anything else as text 0.0.4; Prometheus 3 fails such a scrape unless a
/// fallback protocol is configured, whose usual setting is text 0.0.4 ([`FALLBACK_FORMAT`]).
///
/// ```
/// use prometheus_client::{encoding::Format, parse::format_for_content_type};
/// assert_eq!(
///     format_for_content_type("application/openmetrics-text; version=1.0.0; charset=utf-8"),
///     Some(Format::OpenMetrics)
/// );
/// assert_eq!(format_for_content_type("text/plain;version=0.0.4"), Some(Format::Text));
/// assert_eq!(format_for_content_type("application/json"), None);
/// ```
pub fn format_for_content_type(content_type: &str) -> Option<Format> {
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if media_type.eq_ignore_ascii_case("application/openmetrics-text") {
        Some(Format::OpenMetrics)
    } else if media_type.eq_ignore_ascii_case("text/plain") {
        Some(Format::Text)
    } else {
        protobuf_media_type(media_type)
    }
}

/// A sample's metric name: before its labels, or, in the quoted syntax of UTF-8 names, first
/// inside its braces (`{"http.requests",method="GET"}`). For the latter, whether labels
/// follow the name inside the braces (else the braces are closed); `None` for the former.
fn sample_name<'a>(c: &mut Cursor<'a>) -> Result<(&'a str, Option<bool>), ErrorAt> {
    if c.eat(b'{') {
        let (name, labels_follow) = c.name_in_braces()?;
        return Ok((name, Some(labels_follow)));
    }
    Ok((c.metric_name()?, None))
}

/// The protobuf format for its media type, where the feature is on.
#[cfg(feature = "protobuf")]
fn protobuf_media_type(media_type: &str) -> Option<Format> {
    media_type
        .eq_ignore_ascii_case("application/vnd.google.protobuf")
        .then_some(Format::Protobuf)
}

#[cfg(not(feature = "protobuf"))]
fn protobuf_media_type(_: &str) -> Option<Format> {
    None
}

/// The format to assume when a target's `Content-Type` names none we read.
pub const FALLBACK_FORMAT: Format = Format::Text;

/// A pull parser: an iterator of entries, ending at the first error (OpenMetrics: at `# EOF`).
#[derive(Debug)]
pub struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
    format: Format,
    state: State<'a>,
    done: bool,
    max_labels: usize,
}

enum State<'a> {
    Text(TextState<'a>),
    OpenMetrics(Box<OpenMetricsState<'a>>),
}

impl std::fmt::Debug for State<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            State::Text(_) => "Text",
            State::OpenMetrics(_) => "OpenMetrics",
        })
    }
}

impl<'a> Parser<'a> {
    /// A parser of `input` in `format`.
    pub fn new(input: &'a [u8], format: Format) -> Self {
        let state = match format {
            Format::OpenMetrics => State::OpenMetrics(Box::default()),
            _ => State::Text(TextState::default()),
        };
        Parser {
            input,
            pos: 0,
            format,
            state,
            done: false,
            max_labels: 0,
        }
    }

    /// Refuses a label set with more than `n` labels (0, the default: no limit) as soon as
    /// its label `n + 1` is read, so a huge label set is not read whole first.
    ///
    /// ```
    /// use prometheus_client::{encoding::Format, parse::{ParseErrorKind, Parser}};
    /// let mut parser = Parser::new(b"a{x=\"1\",y=\"2\"} 1\n", Format::Text).label_limit(1);
    /// let error = parser.next().and_then(Result::err).expect("an error");
    /// assert_eq!(error.kind, ParseErrorKind::TooManyLabels(1));
    /// ```
    pub fn label_limit(mut self, n: usize) -> Self {
        self.max_labels = n;
        self
    }

    /// The format being read.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Continues after an error with the next line, to report further problems (as a checker
    /// does). Best effort: later errors may follow from the first. A missing `# EOF` or text
    /// after it ends the input for good.
    ///
    /// ```
    /// use prometheus_client::{encoding::Format, parse::Parser};
    /// let mut parser = Parser::new(b"a 1\nb x\nc 3\nd y\n", Format::Text);
    /// let mut errors = Vec::new();
    /// while let Some(entry) = parser.next() {
    ///     if let Err(e) = entry {
    ///         errors.push(e.line);
    ///         parser.recover();
    ///     }
    /// }
    /// assert_eq!(errors, [2, 4]);
    /// ```
    pub fn recover(&mut self) {
        self.done = self.pos >= self.input.len();
    }

    fn fail(&mut self, error: ErrorAt) -> Option<Result<Entry<'a>, ParseError>> {
        self.done = true;
        Some(Err(error.locate(self.input)))
    }

    /// Reads the next line: `Ok(None)` for a line without an entry (text comments, blanks).
    fn line(&mut self, start: usize, end: usize) -> Result<Option<Entry<'a>>, ErrorAt> {
        let mut cursor = Cursor::new(self.input, start, end, self.format, self.max_labels);
        match &mut self.state {
            State::Text(state) => state.line(&mut cursor),
            State::OpenMetrics(state) => {
                if start == end {
                    return Err(ErrorAt::new(K::BlankLine, start, 0));
                }
                state.line(&mut cursor).map(Some)
            }
        }
    }
}

impl<'a> Iterator for Parser<'a> {
    type Item = Result<Entry<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        #[cfg(feature = "protobuf")]
        if self.format == Format::Protobuf && !self.done {
            self.done = true;
            let why = "not a text format: read it with protobuf_samples".to_owned();
            return Some(Err(ErrorAt::new(K::Protobuf(why), 0, 0).locate(self.input)));
        }
        while !self.done {
            if self.pos >= self.input.len() {
                self.done = true;
                if self.format == Format::OpenMetrics {
                    return Some(Err(
                        ErrorAt::new(K::MissingEof, self.input.len(), 0).locate(self.input)
                    ));
                }
                return None;
            }
            let start = self.pos;
            let end = self.input[start..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(self.input.len(), |i| start + i);
            self.pos = end + 1;
            match self.line(start, end) {
                Ok(None) => {}
                Ok(Some(Entry::Eof)) => {
                    self.done = true;
                    if self.pos < self.input.len() {
                        let rest = self.input.len() - self.pos;
                        return self.fail(ErrorAt::new(K::TextAfterEof, self.pos, rest));
                    }
                    return Some(Ok(Entry::Eof));
                }
                Ok(Some(entry)) => return Some(Ok(entry)),
                Err(error) => return self.fail(error),
            }
        }
        None
    }
}

/// Checks a whole exposition, returning the first error.
///
/// ```
/// use prometheus_client::{encoding::Format, parse::validate};
/// assert!(validate(b"a 1\n", Format::Text).is_ok());
/// assert!(validate(b"a 1\n", Format::OpenMetrics).is_err(), "no # EOF");
/// ```
pub fn validate(input: &[u8], format: Format) -> Result<(), ParseError> {
    #[cfg(feature = "protobuf")]
    if format == Format::Protobuf {
        return protobuf_samples(input).try_for_each(|sample| sample.map(drop));
    }
    Parser::new(input, format).try_for_each(|entry| entry.map(drop))
}
