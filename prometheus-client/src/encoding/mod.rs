//! Rendering metrics as Prometheus text 0.0.4 or OpenMetrics 1.0.
//!
//! [`Registry::encode`](crate::Registry::encode) drives the encoders: it writes each family's
//! metadata, then hands each metric a [`MetricEncoder`] that writes sample lines. A metric
//! only says which samples it has; the encoder knows the family name, the labels already
//! rendered for this child, and the format's rules.

mod escape;
mod escaping;
mod negotiate;
mod number;
mod openmetrics;
#[cfg(feature = "protobuf")]
pub mod protobuf;
mod text;
mod value;

pub(crate) use escaping::{escape_family, needs_quotes};
pub use escaping::{Escaping, UnknownEscaping};
pub use negotiate::{negotiate, negotiate_with_escaping};
pub(crate) use value::Value;

pub(crate) use escape::{label_value as escape_label_value, match_quoted_label_value};
#[cfg(feature = "protobuf")]
pub(crate) use number::write_canonical_f64;

/// Renders `name="value"` for a float label (`le`, `quantile`) in the form `format` wants:
/// Go's form in text 0.0.4 (`le="1"`), canonical in OpenMetrics (`le="1.0"`).
pub(crate) fn float_label(name: &str, value: f64, format: Format) -> Box<str> {
    let mut out = Vec::with_capacity(name.len() + 24);
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"=\"");
    match format {
        Format::OpenMetrics => number::write_canonical_f64(&mut out, value),
        _ => number::write_f64(&mut out, value),
    }
    out.push(b'"');
    String::from_utf8_lossy(&out).into()
}

use crate::labels::rendered;
use crate::metrics::exemplar::Exemplar;
use crate::MetricType;

/// An exposition format.
///
/// ```
/// use prometheus_client::encoding::Format;
/// assert_eq!(Format::Text.content_type(), "text/plain; version=0.0.4; charset=utf-8");
/// assert_eq!(
///     Format::OpenMetrics.content_type(),
///     "application/openmetrics-text; version=1.0.0; charset=utf-8"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Format {
    /// The Prometheus text format, version 0.0.4.
    #[default]
    Text,
    /// OpenMetrics text, version 1.0.0.
    OpenMetrics,
    /// Length-delimited `io.prometheus.client.MetricFamily` protobuf messages, as
    /// client_golang writes them (feature `protobuf`); see [`protobuf`].
    #[cfg(feature = "protobuf")]
    Protobuf,
}

impl Format {
    /// The `Content-Type` header value for a body in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            #[cfg(feature = "protobuf")]
            Format::Protobuf => protobuf::CONTENT_TYPE,
        }
    }
}

/// A native histogram's buckets, for the formats that carry them (protobuf; without that
/// feature nothing reads them).
#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(feature = "protobuf"), allow(dead_code))]
pub(crate) struct NativeParts<'a> {
    pub(crate) schema: i32,
    pub(crate) zero_threshold: f64,
    pub(crate) zero_count: u64,
    /// `(key, count)` by key.
    pub(crate) positive: &'a [(i32, u64)],
    pub(crate) negative: &'a [(i32, u64)],
    /// The native histogram's own exemplars.
    pub(crate) exemplars: &'a [Exemplar],
}

/// Writes the metadata lines (HELP, TYPE, UNIT) that open a family; `name` says whether it
/// is written in double quotes (a UTF-8 name where the scraper allows them).
pub(crate) fn write_family_header(
    out: &mut Vec<u8>,
    format: Format,
    name: (&str, bool),
    help: &str,
    unit: Option<&str>,
    metric_type: MetricType,
) {
    match format {
        Format::Text => text::write_family_header(out, name, help, metric_type),
        Format::OpenMetrics => openmetrics::write_family_header(out, name, help, unit, metric_type),
        // Each family is one message, written whole by the registry.
        #[cfg(feature = "protobuf")]
        Format::Protobuf => {}
    }
}

/// Writes what ends an exposition (`# EOF` in OpenMetrics, nothing in text 0.0.4).
pub(crate) fn write_end(out: &mut Vec<u8>, format: Format) {
    if format == Format::OpenMetrics {
        out.extend_from_slice(b"# EOF\n");
    }
}

/// Rendered labels with their quoted (UTF-8) names escaped, if they have any.
#[cold]
fn write_labels_escaped(out: &mut Vec<u8>, rendered_labels: &str, escaping: Escaping) {
    if rendered::has_quoted_name(rendered_labels) {
        rendered::write_escaped(out, rendered_labels, escaping);
    } else {
        out.extend_from_slice(rendered_labels.as_bytes());
    }
}

/// A label that a metric type adds to one of its samples.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub enum ExtraLabel<'a> {
    /// No extra label.
    #[default]
    None,
    /// One or more pairs already rendered and escaped, such as `le="0.5"`.
    Rendered(&'a str),
    /// A pair whose name is the family's own name and whose value is given already escaped,
    /// as a stateset writes `name{name="state"}`.
    FamilyName(&'a str),
}

/// Writes the samples of one metric (one child of a family) in the chosen format.
///
/// Metric types call it from [`Metric::encode`](crate::Metric::encode); the registry has
/// already written the family's metadata and set the name and the rendered labels.
///
/// ```
/// use prometheus_client::{Counter, Registry, encoding::Format};
///
/// let registry = Registry::new();
/// let hits = registry.register("hits", "Cache hits.", Counter::new())?;
/// hits.inc_by(3);
/// assert_eq!(
///     registry.encode_to_string(Format::Text)?,
///     "# HELP hits_total Cache hits.\n# TYPE hits_total counter\nhits_total 3\n"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct MetricEncoder<'a> {
    out: &'a mut Vec<u8>,
    format: Format,
    name: &'a str,
    const_labels: &'a str,
    labels: &'a str,
    /// The timestamp every sample gets, in milliseconds since the Unix epoch.
    timestamp_ms: Option<i64>,
    /// Whether `_created` samples are written (a registry's choice; OpenMetrics and
    /// protobuf only).
    created: bool,
    /// Whether the name goes in double quotes inside the braces (a UTF-8 name where the
    /// scraper allows them).
    quoted_name: bool,
    /// How quoted (UTF-8) label names in rendered labels are escaped, where the registry
    /// allows them and the scraper does not.
    label_escaping: Option<Escaping>,
    /// Where samples go instead of `out` in the protobuf format.
    #[cfg(feature = "protobuf")]
    proto: Option<&'a mut protobuf::FamilyBuilder>,
}

impl<'a> MetricEncoder<'a> {
    pub(crate) fn new(
        out: &'a mut Vec<u8>,
        format: Format,
        name: &'a str,
        const_labels: &'a str,
        created: bool,
    ) -> Self {
        MetricEncoder {
            out,
            format,
            name,
            const_labels,
            labels: "",
            timestamp_ms: None,
            created,
            quoted_name: false,
            label_escaping: None,
            #[cfg(feature = "protobuf")]
            proto: None,
        }
    }

    /// The same encoder, escaping quoted label names with `escaping`.
    pub(crate) fn escaping_label_names(self, escaping: Escaping) -> Self {
        MetricEncoder {
            label_escaping: Some(escaping),
            ..self
        }
    }

    /// The same encoder, writing the name in the quoted syntax: `{"name_total",a="b"} 1`.
    pub(crate) fn quoting_name(self) -> Self {
        MetricEncoder {
            quoted_name: true,
            ..self
        }
    }

    /// An encoder that files samples into `builder` (the protobuf format).
    #[cfg(feature = "protobuf")]
    pub(crate) fn for_protobuf(
        out: &'a mut Vec<u8>,
        builder: &'a mut protobuf::FamilyBuilder,
        name: &'a str,
        const_labels: &'a str,
        created: bool,
    ) -> Self {
        MetricEncoder {
            proto: Some(builder),
            ..MetricEncoder::new(out, Format::Protobuf, name, const_labels, created)
        }
    }

    /// The format being written.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Whether the format carries exemplars (OpenMetrics and protobuf; text 0.0.4 does not).
    pub(crate) fn carries_exemplars(&self) -> bool {
        self.format != Format::Text
    }

    /// An encoder for a child whose own labels are `labels` (rendered and escaped).
    pub(crate) fn with_labels<'b>(&'b mut self, labels: &'b str) -> MetricEncoder<'b> {
        MetricEncoder {
            out: self.out,
            format: self.format,
            name: self.name,
            const_labels: self.const_labels,
            labels,
            timestamp_ms: self.timestamp_ms,
            created: self.created,
            quoted_name: self.quoted_name,
            label_escaping: self.label_escaping,
            #[cfg(feature = "protobuf")]
            proto: self.proto.as_deref_mut(),
        }
    }

    /// An encoder whose samples all carry this timestamp (milliseconds since the Unix epoch):
    /// integer milliseconds in text 0.0.4, float seconds in OpenMetrics, as client_golang
    /// writes them. [`Timestamped`](crate::Timestamped) uses it.
    ///
    /// ```
    /// use prometheus_client::{encoding::{Format, MetricEncoder}, Metric, MetricType, Registry};
    ///
    /// #[derive(Clone)]
    /// struct Relayed;
    /// impl Metric for Relayed {
    ///     fn metric_type(&self) -> MetricType { MetricType::Gauge }
    ///     fn encode(&self, encoder: &mut MetricEncoder<'_>) {
    ///         encoder.with_timestamp(1_700_000_000_500).sample_f64("", Default::default(), 2.5);
    ///     }
    /// }
    /// let registry = Registry::new();
    /// registry.register("relayed", "", Relayed)?;
    /// assert_eq!(registry.encode_to_string(Format::Text)?, "# TYPE relayed gauge\nrelayed 2.5 1700000000500\n");
    /// assert!(registry.encode_to_string(Format::OpenMetrics)?.contains("relayed 2.5 1.7000000005e+09\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_timestamp(&mut self, millis: i64) -> MetricEncoder<'_> {
        MetricEncoder {
            out: self.out,
            format: self.format,
            name: self.name,
            const_labels: self.const_labels,
            labels: self.labels,
            timestamp_ms: Some(millis),
            created: self.created,
            quoted_name: self.quoted_name,
            label_escaping: self.label_escaping,
            #[cfg(feature = "protobuf")]
            proto: self.proto.as_deref_mut(),
        }
    }

    /// Writes the sample `<name><suffix>{labels} <value>` with an integer value.
    pub fn sample_u64(&mut self, suffix: &str, extra: ExtraLabel<'_>, value: u64) {
        self.sample(suffix, extra, Value::U64(value), None);
    }

    /// Writes a sample with a signed integer value.
    pub fn sample_i64(&mut self, suffix: &str, extra: ExtraLabel<'_>, value: i64) {
        self.sample(suffix, extra, Value::I64(value), None);
    }

    /// Writes a sample with a float value (`+Inf`, `-Inf`, `NaN` included).
    ///
    /// Text 0.0.4 gets Go's form (`1`, `-0`, `1e+06`); OpenMetrics the canonical float form
    /// (`1.0`, `-0.0`, `1e+06`), so that no parser mistakes a float for an integer and, for
    /// example, loses the sign of `-0.0`.
    pub fn sample_f64(&mut self, suffix: &str, extra: ExtraLabel<'_>, value: f64) {
        self.sample(suffix, extra, Value::F64(value), None);
    }

    /// Writes a sample, its timestamp if the encoder has one, and, in OpenMetrics, its
    /// exemplar as client_golang writes it (` # {trace_id="abc"} 0.67 1.7e+09`; an exemplar
    /// without labels is left out, as there).
    pub(crate) fn sample(
        &mut self,
        suffix: &str,
        extra: ExtraLabel<'_>,
        value: Value,
        exemplar: Option<&Exemplar>,
    ) {
        #[cfg(feature = "protobuf")]
        if let Some(builder) = self.proto.as_deref_mut() {
            let labels = (self.const_labels, self.labels);
            builder.sample(labels, suffix, extra, value, self.timestamp_ms, exemplar);
            return;
        }
        self.write_head(suffix, extra);
        let out = &mut *self.out;
        match value {
            Value::U64(v) => number::write_u64(out, v),
            Value::I64(v) => number::write_i64(out, v),
            Value::F64(v) if self.format == Format::OpenMetrics => {
                number::write_canonical_f64(out, v)
            }
            Value::F64(v) => number::write_f64(out, v),
        }
        if let Some(millis) = self.timestamp_ms {
            out.push(b' ');
            match self.format {
                Format::OpenMetrics => number::write_canonical_f64(out, millis as f64 / 1000.0),
                _ => number::write_i64(out, millis),
            }
        }
        if let Some(exemplar) = exemplar.filter(|e| !e.labels().is_empty()) {
            if self.format == Format::OpenMetrics {
                out.extend_from_slice(b" # {");
                out.extend_from_slice(exemplar.labels().as_bytes());
                out.extend_from_slice(b"} ");
                number::write_canonical_f64(out, exemplar.value());
                out.push(b' ');
                number::write_canonical_f64(out, exemplar.timestamp());
            }
        }
        out.push(b'\n');
    }

    /// Whether [`native`](Self::native) writes anything (the protobuf format).
    pub(crate) fn native_wanted(&self) -> bool {
        #[cfg(feature = "protobuf")]
        return self.proto.is_some();
        #[cfg(not(feature = "protobuf"))]
        false
    }

    /// Adds a native histogram's buckets to the histogram just written, where the format
    /// carries them (protobuf; text formats have none).
    pub(crate) fn native(&mut self, parts: &NativeParts<'_>) {
        #[cfg(feature = "protobuf")]
        if let Some(builder) = self.proto.as_deref_mut() {
            builder.native((self.const_labels, self.labels), parts);
        }
        #[cfg(not(feature = "protobuf"))]
        let _ = parts;
    }

    /// Writes `<name>_created{labels} <seconds>` when the registry exposes created
    /// timestamps and the format is OpenMetrics (text 0.0.4 has no `_created`, as in
    /// client_golang).
    pub(crate) fn created(&mut self, seconds: Option<f64>) {
        let Some(seconds) = seconds else {
            return;
        };
        #[cfg(feature = "protobuf")]
        if let Some(builder) = self.proto.as_deref_mut() {
            if self.created {
                builder.created((self.const_labels, self.labels), seconds);
            }
            return;
        }
        if !(self.created && self.format == Format::OpenMetrics) {
            return;
        }
        self.write_head("_created", ExtraLabel::None);
        number::write_canonical_f64(self.out, seconds);
        self.out.push(b'\n');
    }

    /// Writes a histogram's or summary's `_sum` and `_count`, in the order each format's
    /// reference client uses (client_golang: sum, count; client_python: count, sum).
    ///
    /// OpenMetrics treats the sum as a counter: a negative or NaN sum (after negative or NaN
    /// observations) cannot be written, and the count may only come with a sum, so both are
    /// left out there. Text 0.0.4 has both always.
    pub(crate) fn sum_and_count(&mut self, sum: f64, count: u64) {
        if self.format == Format::OpenMetrics {
            if sum.is_nan() || sum < 0.0 {
                return;
            }
            self.sample_u64("_count", ExtraLabel::None, count);
            self.sample_f64("_sum", ExtraLabel::None, sum);
        } else {
            self.sample_f64("_sum", ExtraLabel::None, sum);
            self.sample_u64("_count", ExtraLabel::None, count);
        }
    }

    fn write_head(&mut self, suffix: &str, extra: ExtraLabel<'_>) {
        let out = &mut *self.out;
        let mut first = true;
        if self.quoted_name {
            out.push(b'{');
            first = false;
            escaping::write_name(out, &[self.name, suffix], true);
        } else {
            out.extend_from_slice(self.name.as_bytes());
            out.extend_from_slice(suffix.as_bytes());
        }
        for part in [self.const_labels, self.labels] {
            if !part.is_empty() {
                out.push(if first { b'{' } else { b',' });
                match self.label_escaping {
                    None => out.extend_from_slice(part.as_bytes()),
                    Some(escaping) => write_labels_escaped(out, part, escaping),
                }
                first = false;
            }
        }
        match extra {
            ExtraLabel::None => {}
            ExtraLabel::Rendered(pairs) => {
                out.push(if first { b'{' } else { b',' });
                out.extend_from_slice(pairs.as_bytes());
                first = false;
            }
            ExtraLabel::FamilyName(value) => {
                out.push(if first { b'{' } else { b',' });
                escaping::write_name(out, &[self.name], self.quoted_name);
                out.extend_from_slice(b"=\"");
                out.extend_from_slice(value.as_bytes());
                out.push(b'"');
                first = false;
            }
        }
        if !first {
            out.push(b'}');
        }
        out.push(b' ');
    }
}
