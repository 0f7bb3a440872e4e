//! Typed metric families built from the entries of a [`Parser`]: for tests and tools that
//! want "the value of `requests_total{method="GET"}`" rather than a stream of lines.

use std::collections::HashMap;

use super::{Entry, ParseError, Parser, Timestamp};
use crate::encoding::Format;
use crate::MetricType;

/// Every family of an exposition, in the order they appeared.
///
/// ```
/// use prometheus_client::{encoding::Format, parse::{parse_families, PointValue}};
///
/// let text = "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 3\nh_sum 2.5\nh_count 3\n";
/// let families = parse_families(text.as_bytes(), Format::Text)?;
/// assert_eq!(families.sample("h_bucket", &[("le", "+Inf")]), Some(3.0));
/// let h = families.get("h").expect("family h");
/// let PointValue::Histogram { buckets, count, .. } = &h.points[0].value else { panic!() };
/// assert_eq!(buckets, &[(1.0, 2.0), (f64::INFINITY, 3.0)]);
/// assert_eq!(*count, Some(3.0));
/// # Ok::<(), prometheus_client::parse::ParseError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Families {
    families: Vec<MetricFamily>,
}

/// One family.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricFamily {
    /// The family name as the format writes it (text 0.0.4 counters keep `_total`).
    pub name: String,
    /// Its type (`Unknown` when not given).
    pub metric_type: MetricType,
    /// Its HELP text.
    pub help: String,
    /// Its unit (OpenMetrics), empty when none.
    pub unit: String,
    /// Its metric points: one per label set (and timestamp).
    pub points: Vec<MetricPoint>,
    /// Its samples as written.
    pub samples: Vec<ParsedSample>,
}

/// One sample as written, owned.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedSample {
    /// The sample name.
    pub name: String,
    /// Its labels, sorted by name.
    pub labels: Vec<(String, String)>,
    /// Its value.
    pub value: f64,
}

/// Where each metric point of a family is, by its labels and timestamp.
type PointIndex = HashMap<(Vec<(String, String)>, Option<i64>), usize>;

/// One metric of a family: a label set and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricPoint {
    /// Its labels, sorted by name (without `le`, `quantile` or a stateset's own label).
    pub labels: Vec<(String, String)>,
    /// Its timestamp, if written.
    pub timestamp: Option<Timestamp>,
    /// Its value.
    pub value: PointValue,
}

/// The value of a metric point, by type.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum PointValue {
    /// A counter's total and creation time.
    Counter {
        /// The total.
        total: Option<f64>,
        /// `_created`, if written.
        created: Option<f64>,
    },
    /// A gauge.
    Gauge(f64),
    /// An unknown-typed (untyped) value.
    Unknown(f64),
    /// A histogram or gauge histogram: cumulative `(upper bound, count)` buckets.
    Histogram {
        /// The buckets, in order.
        buckets: Vec<(f64, f64)>,
        /// `_count` (or `_gcount`).
        count: Option<f64>,
        /// `_sum` (or `_gsum`).
        sum: Option<f64>,
        /// `_created`, if written.
        created: Option<f64>,
    },
    /// A summary.
    Summary {
        /// `(quantile, value)` pairs.
        quantiles: Vec<(f64, f64)>,
        /// `_count`.
        count: Option<f64>,
        /// `_sum`.
        sum: Option<f64>,
        /// `_created`, if written.
        created: Option<f64>,
    },
    /// An info metric (its labels are the information).
    Info,
    /// A state set: each state and whether it is enabled.
    StateSet(Vec<(String, bool)>),
}

impl Families {
    /// The family named `name`.
    pub fn get(&self, name: &str) -> Option<&MetricFamily> {
        self.families.iter().find(|f| f.name == name)
    }

    /// The families in order.
    pub fn iter(&self) -> impl Iterator<Item = &MetricFamily> {
        self.families.iter()
    }

    /// The number of families.
    pub fn len(&self) -> usize {
        self.families.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.families.is_empty()
    }

    /// The value of the sample `name` with exactly these labels (in any order).
    pub fn sample(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut wanted: Vec<(&str, &str)> = labels.to_vec();
        wanted.sort();
        self.families.iter().flat_map(|f| &f.samples).find_map(|s| {
            let same = s.name == name
                && s.labels.len() == wanted.len()
                && s.labels
                    .iter()
                    .zip(&wanted)
                    .all(|((a, b), (c, d))| a == c && b == d);
            same.then_some(s.value)
        })
    }
}

/// Parses `input` and groups its samples into typed families.
pub fn parse_families(input: &[u8], format: Format) -> Result<Families, ParseError> {
    let mut families: Vec<MetricFamily> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut points: Vec<PointIndex> = Vec::new();
    let mut family_at = |name: &str, families: &mut Vec<MetricFamily>, points: &mut Vec<_>| {
        *index.entry(name.to_owned()).or_insert_with(|| {
            families.push(MetricFamily {
                name: name.to_owned(),
                metric_type: MetricType::Unknown,
                help: String::new(),
                unit: String::new(),
                points: Vec::new(),
                samples: Vec::new(),
            });
            points.push(HashMap::new());
            families.len() - 1
        })
    };
    #[cfg(feature = "protobuf")]
    if format == Format::Protobuf {
        return protobuf_families(input);
    }
    for entry in Parser::new(input, format) {
        match entry? {
            Entry::Help { name, help } => {
                let i = family_at(name, &mut families, &mut points);
                families[i].help = help.into_owned();
            }
            Entry::Type { name, metric_type } => {
                let i = family_at(name, &mut families, &mut points);
                families[i].metric_type = metric_type;
            }
            Entry::Unit { name, unit } => {
                let i = family_at(name, &mut families, &mut points);
                families[i].unit = unit.to_owned();
            }
            Entry::Sample(sample) => {
                let i = family_at(sample.family, &mut families, &mut points);
                let labels = sample
                    .labels
                    .iter()
                    .map(|l| (l.name.to_owned(), l.value.into_owned()))
                    .collect();
                add_sample(
                    &mut families[i],
                    &mut points[i],
                    sample.name,
                    labels,
                    sample.value,
                    sample.timestamp,
                );
            }
            Entry::Eof => {}
        }
    }
    Ok(Families { families })
}

/// Files one sample under its family: in the family's samples, and into its point.
fn add_sample(
    family: &mut MetricFamily,
    points: &mut PointIndex,
    name: &str,
    mut all: Vec<(String, String)>,
    value: f64,
    timestamp: Option<Timestamp>,
) {
    all.sort();
    let special = special_label(family, name);
    let special_value = special
        .and_then(|s| all.iter().find(|(n, _)| n == s))
        .map(|(_, v)| v.clone());
    let point_labels: Vec<(String, String)> = all
        .iter()
        .filter(|(n, _)| Some(n.as_str()) != special)
        .cloned()
        .collect();
    family.samples.push(ParsedSample {
        name: name.to_owned(),
        labels: all,
        value,
    });
    let key = (point_labels, timestamp.and_then(Timestamp::as_millis));
    let point = *points.entry(key.clone()).or_insert_with(|| {
        family.points.push(MetricPoint {
            labels: key.0,
            timestamp,
            value: empty_value(family.metric_type),
        });
        family.points.len() - 1
    });
    let suffix = name.strip_prefix(family.name.as_str()).unwrap_or(name);
    apply(
        &mut family.points[point].value,
        suffix,
        special_value,
        value,
    );
}

/// The families of a protobuf body (HELP, type and unit from each message).
#[cfg(feature = "protobuf")]
fn protobuf_families(input: &[u8]) -> Result<Families, ParseError> {
    let mut families: Vec<MetricFamily> = Vec::new();
    let mut points: Vec<PointIndex> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut decoder = super::protobuf_samples(input);
    while let Some(decoded) = decoder.next_family() {
        let decoded = decoded?;
        // A native histogram's own sample is left out: families hold classic points, and
        // its `_count`, `_sum` and buckets follow it.
        for sample in decoded
            .samples
            .into_iter()
            .filter(|s| s.histogram.is_none())
        {
            let i = *index.entry(sample.family.clone()).or_insert_with(|| {
                families.push(MetricFamily {
                    name: sample.family.clone(),
                    metric_type: sample.metric_type,
                    help: decoded.help.clone(),
                    unit: decoded.unit.clone(),
                    points: Vec::new(),
                    samples: Vec::new(),
                });
                points.push(HashMap::new());
                families.len() - 1
            });
            add_sample(
                &mut families[i],
                &mut points[i],
                &sample.name,
                sample.labels,
                sample.value,
                sample.timestamp_ms.map(Timestamp::Millis),
            );
        }
    }
    Ok(Families { families })
}

fn special_label<'f>(family: &'f MetricFamily, sample_name: &str) -> Option<&'f str> {
    let suffix = sample_name.strip_prefix(family.name.as_str());
    match family.metric_type {
        MetricType::Histogram | MetricType::GaugeHistogram if suffix == Some("_bucket") => {
            Some("le")
        }
        MetricType::Summary if suffix == Some("") => Some("quantile"),
        MetricType::StateSet => Some(family.name.as_str()),
        _ => None,
    }
}

fn empty_value(metric_type: MetricType) -> PointValue {
    match metric_type {
        MetricType::Counter => PointValue::Counter {
            total: None,
            created: None,
        },
        MetricType::Gauge => PointValue::Gauge(f64::NAN),
        MetricType::Histogram | MetricType::GaugeHistogram => PointValue::Histogram {
            buckets: Vec::new(),
            count: None,
            sum: None,
            created: None,
        },
        MetricType::Summary => PointValue::Summary {
            quantiles: Vec::new(),
            count: None,
            sum: None,
            created: None,
        },
        MetricType::Info => PointValue::Info,
        MetricType::StateSet => PointValue::StateSet(Vec::new()),
        _ => PointValue::Unknown(f64::NAN),
    }
}

/// Adds one sample (`suffix` after the family name) to its point.
fn apply(point: &mut PointValue, suffix: &str, special: Option<String>, v: f64) {
    let number = |s: &str| match s {
        "+Inf" | "Inf" | "inf" => f64::INFINITY,
        "-Inf" | "-inf" => f64::NEG_INFINITY,
        other => other.parse().unwrap_or(f64::NAN),
    };
    match point {
        // A text counter family is named with `_total`, so its sample has no suffix.
        PointValue::Counter { total, created } => match suffix {
            "_created" => *created = Some(v),
            _ => *total = Some(v),
        },
        PointValue::Gauge(g) | PointValue::Unknown(g) => *g = v,
        PointValue::Histogram {
            buckets,
            count,
            sum,
            created,
        } => match suffix {
            "_bucket" => buckets.push((special.as_deref().map_or(f64::NAN, number), v)),
            "_count" | "_gcount" => *count = Some(v),
            "_sum" | "_gsum" => *sum = Some(v),
            "_created" => *created = Some(v),
            _ => {}
        },
        PointValue::Summary {
            quantiles,
            count,
            sum,
            created,
        } => match suffix {
            "_count" => *count = Some(v),
            "_sum" => *sum = Some(v),
            "_created" => *created = Some(v),
            _ => quantiles.push((special.as_deref().map_or(f64::NAN, number), v)),
        },
        PointValue::Info => {}
        PointValue::StateSet(states) => states.push((special.unwrap_or_default(), v != 0.0)),
    }
}
