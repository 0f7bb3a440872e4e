//! Reading the protobuf exposition (feature `protobuf`): delimited
//! `io.prometheus.client.MetricFamily` messages, flattened into samples as Prometheus
//! flattens them (a histogram's `_bucket` per bound with `+Inf` always, `_sum`, `_count`; a
//! summary's quantiles, `_sum`, `_count`; a counter's value under the family's name).
//!
//! A [`ParseError`] from here has `line` = the message's number (from 1) and `column` = the
//! byte offset where the message starts (from 1).

use std::sync::Arc;

use prost::Message;

use super::error::ParseErrorKind as K;
use super::{FloatHistogram, ParseError};
use crate::desc::{is_valid_label_name, is_valid_metric_name};
use crate::encoding::protobuf::schema::{self, MetricType as ProtoType};
use crate::MetricType;

/// One sample of a protobuf exposition, owned.
#[derive(Clone, Debug, PartialEq)]
pub struct ProtobufSample {
    /// The family's name as written (a counter's with `_total`).
    pub family: String,
    /// The family's type.
    pub metric_type: MetricType,
    /// The sample name (`<family>_bucket`, `_sum`, `_count` for histograms and summaries).
    pub name: String,
    /// Its labels as written, `le`/`quantile` last where the type adds one.
    pub labels: Vec<(String, String)>,
    /// Its value.
    pub value: f64,
    /// Its timestamp in milliseconds, if written.
    pub timestamp_ms: Option<i64>,
    /// Its exemplar (a counter's, a bucket's), if written.
    pub exemplar: Option<ProtobufExemplar>,
    /// The native histogram, for the one sample a native histogram's metric gets under the
    /// family's own name (its value is the histogram's count). The histogram's classic
    /// samples (`_bucket`, `_sum`, `_count`) follow it, as for any histogram.
    ///
    /// A family's histograms are native when its first one is (it has spans, a zero bucket
    /// or a zero threshold), as Prometheus decides.
    pub histogram: Option<Arc<FloatHistogram>>,
}

/// An exemplar of a protobuf sample.
#[derive(Clone, Debug, PartialEq)]
pub struct ProtobufExemplar {
    /// Its labels.
    pub labels: Vec<(String, String)>,
    /// Its value.
    pub value: f64,
    /// Its timestamp in milliseconds, if written.
    pub timestamp_ms: Option<i64>,
}

/// The samples of a protobuf body, family by family; ends at the first error.
///
/// ```
/// use prometheus_client::encoding::Format;
/// use prometheus_client::parse::protobuf_samples;
/// use prometheus_client::{Counter, Registry};
///
/// let registry = Registry::new();
/// registry.register("jobs", "", Counter::new())?.inc_by(2);
/// let mut body = Vec::new();
/// registry.encode(Format::Protobuf, &mut body)?;
/// let samples: Vec<_> = protobuf_samples(&body).collect::<Result<_, _>>()?;
/// assert_eq!(samples[0].name, "jobs_total");
/// assert_eq!(samples[0].value, 2.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn protobuf_samples(body: &[u8]) -> ProtobufSamples<'_> {
    ProtobufSamples {
        rest: body,
        offset: 0,
        message: 0,
        pending: Vec::new().into_iter(),
        done: false,
    }
}

/// The iterator [`protobuf_samples`] returns.
#[derive(Debug)]
pub struct ProtobufSamples<'a> {
    rest: &'a [u8],
    offset: usize,
    message: usize,
    pending: std::vec::IntoIter<ProtobufSample>,
    done: bool,
}

/// One decoded family: its HELP, unit and samples.
pub(crate) struct DecodedFamily {
    pub(crate) help: String,
    pub(crate) unit: String,
    pub(crate) samples: Vec<ProtobufSample>,
}

impl ProtobufSamples<'_> {
    /// The next message's family, decoded and checked.
    pub(crate) fn next_family(&mut self) -> Option<Result<DecodedFamily, ParseError>> {
        if self.done || self.rest.is_empty() {
            return None;
        }
        self.message += 1;
        let start = self.offset;
        let before = self.rest.len();
        let error = |kind, found: String| ParseError {
            kind,
            line: self.message,
            column: start + 1,
            found,
        };
        let family = match schema::MetricFamily::decode_length_delimited(&mut self.rest) {
            Ok(family) => family,
            Err(e) => {
                self.done = true;
                return Some(Err(error(K::Protobuf(e.to_string()), String::new())));
            }
        };
        self.offset += before - self.rest.len();
        let help = family.help().to_owned();
        let unit = family.unit().to_owned();
        match flatten(family) {
            Ok(samples) => Some(Ok(DecodedFamily {
                help,
                unit,
                samples,
            })),
            Err((kind, found)) => {
                self.done = true;
                Some(Err(error(kind, found)))
            }
        }
    }
}

impl Iterator for ProtobufSamples<'_> {
    type Item = Result<ProtobufSample, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(sample) = self.pending.next() {
                return Some(Ok(sample));
            }
            match self.next_family()? {
                Ok(family) => self.pending = family.samples.into_iter(),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// One family's samples, checked.
fn flatten(family: schema::MetricFamily) -> Result<Vec<ProtobufSample>, (K, String)> {
    let name = family.name().to_owned();
    if !is_valid_metric_name(&name) {
        return Err((K::InvalidMetricName, name));
    }
    let proto_type = ProtoType::try_from(family.r#type.unwrap_or(0))
        .map_err(|_| (K::UnknownType, name.clone()))?;
    let metric_type = match proto_type {
        ProtoType::Counter => MetricType::Counter,
        ProtoType::Gauge => MetricType::Gauge,
        ProtoType::Summary => MetricType::Summary,
        ProtoType::Untyped => MetricType::Unknown,
        ProtoType::Histogram => MetricType::Histogram,
        ProtoType::GaugeHistogram => MetricType::GaugeHistogram,
    };
    let native = matches!(
        metric_type,
        MetricType::Histogram | MetricType::GaugeHistogram
    ) && family
        .metric
        .first()
        .and_then(|m| m.histogram.as_ref())
        .is_some_and(FloatHistogram::is_native);
    let mut out = Vec::new();
    for metric in family.metric {
        let labels = labels(&metric.label)?;
        let sample = |suffix: &str, extra: Option<(&str, f64)>, value: f64| ProtobufSample {
            family: name.clone(),
            metric_type,
            name: format!("{name}{suffix}"),
            labels: match extra {
                Some((label, bound)) => {
                    let mut all = labels.clone();
                    all.push((label.to_owned(), format_bound(bound)));
                    all
                }
                None => labels.clone(),
            },
            value,
            timestamp_ms: metric.timestamp_ms,
            exemplar: None,
            histogram: None,
        };
        match metric_type {
            MetricType::Counter => {
                let counter = metric.counter.as_ref().ok_or_else(|| missing(&name))?;
                let mut s = sample("", None, counter.value());
                s.exemplar = counter.exemplar.as_ref().map(exemplar).transpose()?;
                out.push(s);
            }
            MetricType::Gauge => {
                let gauge = metric.gauge.as_ref().ok_or_else(|| missing(&name))?;
                out.push(sample("", None, gauge.value()));
            }
            MetricType::Unknown => {
                let untyped = metric.untyped.as_ref().ok_or_else(|| missing(&name))?;
                out.push(sample("", None, untyped.value()));
            }
            MetricType::Summary => {
                let summary = metric.summary.as_ref().ok_or_else(|| missing(&name))?;
                for q in &summary.quantile {
                    out.push(sample("", Some(("quantile", q.quantile())), q.value()));
                }
                out.push(sample("_sum", None, summary.sample_sum()));
                out.push(sample("_count", None, summary.sample_count() as f64));
            }
            _ => {
                let histogram = metric.histogram.as_ref().ok_or_else(|| missing(&name))?;
                if native {
                    let value = FloatHistogram::from_protobuf(histogram).map_err(|e| {
                        (
                            K::InvalidMetric(format!("native histogram: {e}")),
                            name.clone(),
                        )
                    })?;
                    let mut s = sample("", None, value.count());
                    s.histogram = Some(Arc::new(value));
                    // The newest of the native histogram's own exemplars.
                    let newest = histogram
                        .exemplars
                        .iter()
                        .max_by_key(|e| e.timestamp.as_ref().map(|t| (t.seconds, t.nanos)));
                    s.exemplar = newest.map(exemplar).transpose()?;
                    out.push(s);
                }
                let count = match histogram.sample_count_float {
                    Some(f) if f > 0.0 => f,
                    _ => histogram.sample_count() as f64,
                };
                let mut has_inf = false;
                let mut previous = f64::NEG_INFINITY;
                for bucket in &histogram.bucket {
                    let bound = bucket.upper_bound();
                    if bound.is_nan() || bound <= previous {
                        return Err((
                            K::InvalidMetric("buckets out of order".into()),
                            format_bound(bound),
                        ));
                    }
                    previous = bound;
                    has_inf |= bound == f64::INFINITY;
                    let cumulative = match bucket.cumulative_count_float {
                        Some(f) if f > 0.0 => f,
                        _ => bucket.cumulative_count() as f64,
                    };
                    let mut s = sample("_bucket", Some(("le", bound)), cumulative);
                    s.exemplar = bucket.exemplar.as_ref().map(exemplar).transpose()?;
                    out.push(s);
                }
                if !has_inf {
                    out.push(sample("_bucket", Some(("le", f64::INFINITY)), count));
                }
                let (sum_suffix, count_suffix) = if metric_type == MetricType::GaugeHistogram {
                    ("_gsum", "_gcount")
                } else {
                    ("_sum", "_count")
                };
                out.push(sample(sum_suffix, None, histogram.sample_sum()));
                out.push(sample(count_suffix, None, count));
            }
        }
    }
    Ok(out)
}

fn missing(name: &str) -> (K, String) {
    (
        K::InvalidMetric("a metric without its type's value".into()),
        name.to_owned(),
    )
}

fn labels(pairs: &[schema::LabelPair]) -> Result<Vec<(String, String)>, (K, String)> {
    let mut labels: Vec<(String, String)> = Vec::with_capacity(pairs.len());
    for pair in pairs {
        let name = pair.name();
        if !is_valid_label_name(name) {
            return Err((K::InvalidLabelName, name.to_owned()));
        }
        if labels.iter().any(|(n, _)| n == name) {
            return Err((K::DuplicateLabel(name.to_owned()), name.to_owned()));
        }
        labels.push((name.to_owned(), pair.value().to_owned()));
    }
    Ok(labels)
}

fn exemplar(e: &schema::Exemplar) -> Result<ProtobufExemplar, (K, String)> {
    Ok(ProtobufExemplar {
        labels: labels(&e.label)?,
        value: e.value(),
        timestamp_ms: e
            .timestamp
            .map(|t| t.seconds.saturating_mul(1000) + i64::from(t.nanos / 1_000_000)),
    })
}

/// A bound as Prometheus 2.42 writes a protobuf bucket's or quantile's label: the OpenMetrics
/// canonical form (`1.0`, `0.25`, `+Inf`).
fn format_bound(v: f64) -> String {
    let mut out = Vec::new();
    crate::encoding::write_canonical_f64(&mut out, v);
    String::from_utf8_lossy(&out).into_owned()
}
