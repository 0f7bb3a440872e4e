//! The protobuf exposition (`application/vnd.google.protobuf;
//! proto=io.prometheus.client.MetricFamily; encoding=delimited`): each family one
//! length-delimited `MetricFamily` message, as client_golang writes it (feature `protobuf`).
//!
//! Metrics write their samples through the same [`MetricEncoder`](super::MetricEncoder)
//! calls as for text; a family builder files each sample into the family's `Metric`
//! messages by the family's type: a counter's `_total`, a histogram's buckets, sum and count,
//! a summary's quantiles, `_created` as `created_timestamp`, exemplars where the schema has
//! them. Label values come unescaped; the `+Inf` bucket is left out unless it carries an
//! exemplar, as client_golang does.
//!
//! [`schema`] holds the messages, public so that a reader can decode what was written:
//!
//! ```
//! use prometheus_client::encoding::{protobuf::schema::MetricFamily, Format};
//! use prometheus_client::{Counter, Registry};
//! use prost::Message;
//!
//! let registry = Registry::new();
//! registry.register("jobs", "Jobs done.", Counter::new())?.inc_by(3);
//! let mut body = Vec::new();
//! registry.encode(Format::Protobuf, &mut body)?;
//! let family = MetricFamily::decode_length_delimited(&body[..])?;
//! assert_eq!(family.name(), "jobs_total");
//! assert_eq!(family.metric[0].counter.as_ref().and_then(|c| c.value), Some(3.0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod schema;

use prost::Message;

use super::{Escaping, ExtraLabel, NativeParts, Value};
use crate::labels::rendered;
use crate::metrics::exemplar::Exemplar;
use crate::MetricType;

/// The media type of the protobuf exposition.
pub(crate) const CONTENT_TYPE: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

/// One family's `MetricFamily` message, filled sample by sample.
#[derive(Debug)]
pub(crate) struct FamilyBuilder {
    family: schema::MetricFamily,
    metric_type: MetricType,
    /// The labels (constant, then the child's) of the last metric, as rendered.
    current: Option<(String, String)>,
    /// How label names outside the classic character set are written.
    escaping: Escaping,
}

impl FamilyBuilder {
    /// A family's message; `name` is already escaped, label names are as `escaping` says.
    pub(crate) fn new(
        name: &str,
        help: &str,
        unit: Option<&str>,
        metric_type: MetricType,
        escaping: Escaping,
    ) -> Self {
        let (suffix, proto_type) = match metric_type {
            MetricType::Counter => ("_total", schema::MetricType::Counter),
            MetricType::Gauge | MetricType::StateSet => ("", schema::MetricType::Gauge),
            MetricType::Info => ("_info", schema::MetricType::Gauge),
            MetricType::Histogram => ("", schema::MetricType::Histogram),
            MetricType::GaugeHistogram => ("", schema::MetricType::GaugeHistogram),
            MetricType::Summary => ("", schema::MetricType::Summary),
            MetricType::Unknown => ("", schema::MetricType::Untyped),
        };
        FamilyBuilder {
            family: schema::MetricFamily {
                name: Some(format!("{name}{suffix}")),
                help: (!help.is_empty()).then(|| help.to_owned()),
                r#type: Some(proto_type as i32),
                metric: Vec::new(),
                unit: unit.map(str::to_owned),
            },
            metric_type,
            current: None,
            escaping,
        }
    }

    /// Appends the finished family to `out`, length-delimited.
    pub(crate) fn finish(self, out: &mut Vec<u8>) {
        if self.family.metric.is_empty() {
            return;
        }
        // Writing into a `Vec` cannot run out of room.
        let _ = self.family.encode_length_delimited(out);
    }

    /// The metric for these labels: the current one when they are its labels and `fresh`
    /// is false, else a new one.
    fn metric(&mut self, labels: (&str, &str), fresh: bool) -> &mut schema::Metric {
        let same = self
            .current
            .as_ref()
            .is_some_and(|(c, l)| c == labels.0 && l == labels.1);
        if fresh || !same || self.family.metric.is_empty() {
            self.current = Some((labels.0.to_owned(), labels.1.to_owned()));
            let mut label = Vec::new();
            for rendered in [labels.0, labels.1] {
                push_labels(&mut label, rendered, self.escaping);
            }
            self.family.metric.push(schema::Metric {
                label,
                ..Default::default()
            });
        }
        let last = self.family.metric.len() - 1;
        &mut self.family.metric[last]
    }

    /// Files one sample. `labels` are the constant and the child's rendered labels.
    pub(crate) fn sample(
        &mut self,
        labels: (&str, &str),
        suffix: &str,
        extra: ExtraLabel<'_>,
        value: Value,
        timestamp_ms: Option<i64>,
        exemplar: Option<&Exemplar>,
    ) {
        let v = value.as_f64();
        let exemplar = exemplar
            .filter(|e| !e.labels().is_empty())
            .map(proto_exemplar);
        let metric_type = self.metric_type;
        match (metric_type, suffix) {
            (MetricType::Counter, "_total") => {
                let metric = self.metric(labels, true);
                metric.counter = Some(schema::Counter {
                    value: Some(v),
                    exemplar,
                    created_timestamp: None,
                });
                metric.timestamp_ms = timestamp_ms;
            }
            (MetricType::Gauge | MetricType::Info | MetricType::StateSet, _) => {
                let mut extra_pairs = Vec::new();
                match extra {
                    // A stateset's state: the label named as the family.
                    ExtraLabel::FamilyName(state) => {
                        extra_pairs.push(pair(self.family.name(), &unescape(state)));
                    }
                    ExtraLabel::Rendered(pairs) => {
                        push_labels(&mut extra_pairs, pairs, Escaping::AllowUtf8);
                    }
                    ExtraLabel::None => {}
                }
                let metric = self.metric(labels, true);
                metric.label.extend(extra_pairs);
                metric.gauge = Some(schema::Gauge { value: Some(v) });
                metric.timestamp_ms = timestamp_ms;
            }
            (MetricType::Unknown, _) => {
                let metric = self.metric(labels, true);
                metric.untyped = Some(schema::Untyped { value: Some(v) });
                metric.timestamp_ms = timestamp_ms;
            }
            (MetricType::Histogram | MetricType::GaugeHistogram, _) => {
                let metric = self.metric(labels, false);
                metric.timestamp_ms = timestamp_ms;
                let histogram = metric.histogram.get_or_insert_with(Default::default);
                match suffix {
                    "_bucket" => {
                        let upper_bound = float_label(extra, "le");
                        // client_golang writes the +Inf bucket only to carry an exemplar.
                        if upper_bound != Some(f64::INFINITY) || exemplar.is_some() {
                            histogram.bucket.push(schema::Bucket {
                                cumulative_count: Some(v as u64),
                                cumulative_count_float: None,
                                upper_bound,
                                exemplar,
                            });
                        }
                    }
                    "_sum" | "_gsum" => histogram.sample_sum = Some(v),
                    "_count" | "_gcount" => histogram.sample_count = Some(v as u64),
                    _ => {}
                }
            }
            (MetricType::Summary, _) => {
                let metric = self.metric(labels, false);
                metric.timestamp_ms = timestamp_ms;
                let summary = metric.summary.get_or_insert_with(Default::default);
                match suffix {
                    "" => summary.quantile.push(schema::Quantile {
                        quantile: float_label(extra, "quantile"),
                        value: Some(v),
                    }),
                    "_sum" => summary.sample_sum = Some(v),
                    "_count" => summary.sample_count = Some(v as u64),
                    _ => {}
                }
            }
            (MetricType::Counter, _) => {}
        }
    }

    /// Sets the created timestamp of the metric with these labels (the last one written).
    pub(crate) fn created(&mut self, labels: (&str, &str), seconds: f64) {
        let created = Some(schema::Timestamp::from_seconds(seconds));
        let metric = self.metric(labels, false);
        if let Some(counter) = &mut metric.counter {
            counter.created_timestamp = created;
        } else if let Some(histogram) = &mut metric.histogram {
            histogram.created_timestamp = created;
        } else if let Some(summary) = &mut metric.summary {
            summary.created_timestamp = created;
        }
    }
}

impl FamilyBuilder {
    /// Adds a native histogram's buckets to the histogram of the metric with these labels.
    pub(crate) fn native(&mut self, labels: (&str, &str), parts: &NativeParts<'_>) {
        let metric = self.metric(labels, false);
        let histogram = metric.histogram.get_or_insert_with(Default::default);
        histogram.schema = Some(parts.schema);
        histogram.zero_threshold = Some(parts.zero_threshold);
        histogram.zero_count = Some(parts.zero_count);
        (histogram.negative_span, histogram.negative_delta) = spans(parts.negative);
        (histogram.positive_span, histogram.positive_delta) = spans(parts.positive);
        histogram.exemplars = parts.exemplars.iter().map(proto_exemplar).collect();
        // Without observations and with a zero threshold of 0, a no-op span tells a reader
        // this is a native histogram, not a classic one without buckets (client_golang).
        if parts.zero_threshold == 0.0
            && parts.zero_count == 0
            && histogram.positive_span.is_empty()
            && histogram.negative_span.is_empty()
        {
            histogram.positive_span = vec![schema::BucketSpan {
                offset: Some(0),
                length: Some(0),
            }];
        }
    }
}

/// Spans and count deltas of populated buckets `(key, count)` sorted by key, as
/// client_golang writes them: a gap of one or two buckets is filled with empty buckets
/// rather than starting a new span.
fn spans(buckets: &[(i32, u64)]) -> (Vec<schema::BucketSpan>, Vec<i64>) {
    let mut spans: Vec<schema::BucketSpan> = Vec::new();
    let mut deltas = Vec::new();
    let mut previous_count = 0i64;
    let mut next_key = 0i32;
    for (n, &(key, count)) in buckets.iter().enumerate() {
        let gap = key - next_key;
        if n == 0 || gap > 2 {
            spans.push(schema::BucketSpan {
                offset: Some(gap),
                length: Some(0),
            });
        } else {
            for _ in 0..gap {
                deltas.push(-previous_count);
                previous_count = 0;
                if let Some(span) = spans.last_mut() {
                    span.length = Some(span.length() + 1);
                }
            }
        }
        let count = count as i64;
        deltas.push(count - previous_count);
        previous_count = count;
        if let Some(span) = spans.last_mut() {
            span.length = Some(span.length() + 1);
        }
        next_key = key + 1;
    }
    (spans, deltas)
}

/// Parses rendered, escaped `name="value",…` pairs into label pairs, names outside the
/// classic character set escaped by `escaping`.
fn push_labels(out: &mut Vec<schema::LabelPair>, rendered: &str, escaping: Escaping) {
    for label in rendered::pairs(rendered) {
        let name = if label.quoted {
            escaping.escape_label(&label.name)
        } else {
            std::borrow::Cow::Borrowed(&*label.name)
        };
        out.push(pair(&name, &label.value()));
    }
}

fn pair(name: &str, value: &str) -> schema::LabelPair {
    schema::LabelPair {
        name: Some(name.to_owned()),
        value: Some(value.to_owned()),
    }
}

/// A label value escaped as text writes it, unescaped.
fn unescape(escaped: &str) -> String {
    rendered::unescape(escaped).into_owned()
}

/// The float value of the `name` label among an extra label's rendered pairs.
fn float_label(extra: ExtraLabel<'_>, name: &str) -> Option<f64> {
    let ExtraLabel::Rendered(pairs) = extra else {
        return None;
    };
    let pair = rendered::pairs(pairs).find(|p| p.name == name)?;
    match &*pair.value() {
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        other => other.parse().ok(),
    }
}

fn proto_exemplar(exemplar: &Exemplar) -> schema::Exemplar {
    let mut label = Vec::new();
    push_labels(&mut label, exemplar.labels(), Escaping::AllowUtf8);
    schema::Exemplar {
        label,
        value: Some(exemplar.value()),
        timestamp: Some(schema::Timestamp::from_seconds(exemplar.timestamp())),
    }
}
