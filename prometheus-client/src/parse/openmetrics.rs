//! OpenMetrics 1.0, read strictly.
//!
//! Beyond the line grammar (single spaces, no blank lines, `# EOF` last), this checks what a
//! family may contain: metadata once each and before samples; families and the metrics within
//! a family not interleaved; sample names the type defines; names that do not clash across
//! families; counters, buckets, counts and sums neither negative nor NaN; histogram buckets in
//! increasing order with `+Inf` equal to `_count`, and no `_sum` with negative buckets; info
//! values of 1, stateset values of 0 or 1; quantiles in [0, 1]; exemplars only on counter
//! totals and buckets, at most 128 characters of labels; timestamps that never go back.
//! Unknown escapes are kept as written, as the OpenMetrics test suite expects.

use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher};

use super::cursor::Cursor;
use super::error::{ErrorAt, ParseErrorKind as K};
use super::labels::{unescape, Labels};
use super::number::{parse_f64, NumberSyntax};
use super::{Entry, Exemplar, Sample, Timestamp};
use crate::desc;
use crate::encoding::Format;
use crate::MetricType;

const EXEMPLAR_LABEL_CHARS: usize = 128;

/// Which sample of its family a sample is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Plain,
    Total,
    Created,
    Bucket,
    Count,
    Sum,
    GaugeCount,
    GaugeSum,
    Info,
}

fn roles(metric_type: MetricType) -> &'static [(&'static str, Role)] {
    match metric_type {
        MetricType::Counter => &[("_total", Role::Total), ("_created", Role::Created)],
        MetricType::Histogram => &[
            ("_bucket", Role::Bucket),
            ("_count", Role::Count),
            ("_sum", Role::Sum),
            ("_created", Role::Created),
        ],
        MetricType::GaugeHistogram => &[
            ("_bucket", Role::Bucket),
            ("_gcount", Role::GaugeCount),
            ("_gsum", Role::GaugeSum),
        ],
        MetricType::Summary => &[
            ("", Role::Plain),
            ("_count", Role::Count),
            ("_sum", Role::Sum),
            ("_created", Role::Created),
        ],
        MetricType::Info => &[("_info", Role::Info)],
        _ => &[("", Role::Plain)],
    }
}

/// The families seen so far and the one being read.
#[derive(Default)]
pub(super) struct OpenMetricsState<'a> {
    family: Option<Family<'a>>,
    finished: HashSet<&'a str>,
    claimed: HashSet<String>,
}

struct Family<'a> {
    name: &'a str,
    name_at: usize,
    metric_type: MetricType,
    typed: bool,
    help: bool,
    unit: Option<&'a str>,
    has_samples: bool,
    metrics: HashSet<u64>,
    metric: Option<Metric>,
}

/// The metric (label set) being read and what its samples said so far.
struct Metric {
    key: u64,
    at: usize,
    with_timestamps: bool,
    last_timestamp: f64,
    last_le: Option<f64>,
    last_bucket: f64,
    inf_bucket: Option<f64>,
    negative_buckets: bool,
    count: Option<f64>,
    sum: Option<f64>,
}

impl Metric {
    /// Starts the next point (a later timestamp) of the same metric at `at`.
    fn next_point(&mut self, at: usize) {
        let (key, with_timestamps, last_timestamp) =
            (self.key, self.with_timestamps, self.last_timestamp);
        *self = Metric::new(key, at, with_timestamps);
        self.last_timestamp = last_timestamp;
    }

    fn new(key: u64, at: usize, with_timestamps: bool) -> Self {
        Metric {
            key,
            at,
            with_timestamps,
            last_timestamp: f64::NEG_INFINITY,
            last_le: None,
            last_bucket: 0.0,
            inf_bucket: None,
            negative_buckets: false,
            count: None,
            sum: None,
        }
    }
}

/// The parts of a sample line the checks need.
struct Parsed<'a> {
    role: Role,
    key: u64,
    special: Option<(&'a str, usize)>,
    value: f64,
    value_at: usize,
    timestamp: Option<f64>,
    exemplar: bool,
}

fn invalid_value(why: &str, at: usize, len: usize) -> ErrorAt {
    ErrorAt::new(K::InvalidValue(why.to_owned()), at, len)
}

impl<'a> OpenMetricsState<'a> {
    /// Parses one line (never blank: the caller reports blank lines).
    pub(super) fn line(&mut self, c: &mut Cursor<'a>) -> Result<Entry<'a>, ErrorAt> {
        if c.peek() == Some(b'#') {
            self.metadata(c)
        } else {
            self.sample(c).map(Entry::Sample)
        }
    }

    fn metadata(&mut self, c: &mut Cursor<'a>) -> Result<Entry<'a>, ErrorAt> {
        let start = c.pos;
        c.eat(b'#');
        let unknown = |c: &Cursor<'a>| ErrorAt::new(K::UnknownMetadata, start, c.pos - start + 1);
        if !c.eat(b' ') {
            return Err(unknown(c));
        }
        let keyword = c.take_while(|b| b.is_ascii_alphabetic());
        if keyword == "EOF" {
            if !c.at_end() {
                return Err(unknown(c));
            }
            self.finish_family(start)?;
            return Ok(Entry::Eof);
        }
        if !matches!(keyword, "HELP" | "TYPE" | "UNIT") {
            return Err(unknown(c));
        }
        c.expect(b' ', "a space and the metric name")?;
        let name_at = c.pos;
        let name = c.metric_name()?;
        self.enter_family(name, name_at)?;
        let family = self.current()?;
        if family.has_samples {
            return Err(ErrorAt::new(K::MetadataAfterSamples, start, c.pos - start));
        }
        let metadata_len = c.pos - start;
        let duplicate = |what| {
            Err(ErrorAt::new(
                K::DuplicateMetadata(what),
                start,
                metadata_len,
            ))
        };
        c.expect(b' ', "a space after the metric name")?;
        match keyword {
            "HELP" => {
                if family.help {
                    return duplicate("HELP");
                }
                family.help = true;
                let help = unescape(c.rest()?, Format::OpenMetrics, true);
                Ok(Entry::Help { name, help })
            }
            "TYPE" => {
                if family.typed {
                    return duplicate("TYPE");
                }
                let type_at = c.pos;
                let token = c.token()?;
                let metric_type = match token {
                    "counter" => MetricType::Counter,
                    "gauge" => MetricType::Gauge,
                    "histogram" => MetricType::Histogram,
                    "gaugehistogram" => MetricType::GaugeHistogram,
                    "summary" => MetricType::Summary,
                    "info" => MetricType::Info,
                    "stateset" => MetricType::StateSet,
                    "unknown" => MetricType::Unknown,
                    _ => return Err(ErrorAt::new(K::UnknownType, type_at, token.len().max(1))),
                };
                if !c.at_end() {
                    return Err(c.error(K::Expected("end of line after the type"), 1));
                }
                family.typed = true;
                family.metric_type = metric_type;
                family.check_unit(start)?;
                Ok(Entry::Type { name, metric_type })
            }
            _ => {
                if family.unit.is_some() {
                    return duplicate("UNIT");
                }
                let unit = c.take_while(desc::is_metric_name_char);
                if !c.at_end() {
                    return Err(c.error(K::Expected("end of line after the unit"), 1));
                }
                family.unit = Some(unit);
                family.check_unit(start)?;
                Ok(Entry::Unit { name, unit })
            }
        }
    }

    fn current(&mut self) -> Result<&mut Family<'a>, ErrorAt> {
        self.family
            .as_mut()
            .ok_or_else(|| ErrorAt::new(K::Expected("a family"), 0, 0))
    }

    /// Makes `name` the current family, finishing the previous one.
    fn enter_family(&mut self, name: &'a str, at: usize) -> Result<(), ErrorAt> {
        if self.family.as_ref().is_some_and(|f| f.name == name) {
            return Ok(());
        }
        self.finish_family(at)?;
        if self.finished.contains(name) {
            return Err(ErrorAt::new(
                K::InterleavedFamily(name.to_owned()),
                at,
                name.len(),
            ));
        }
        if self.claimed.contains(name) {
            return Err(ErrorAt::new(
                K::ClashingNames(name.to_owned()),
                at,
                name.len(),
            ));
        }
        self.family = Some(Family {
            name,
            name_at: at,
            metric_type: MetricType::Unknown,
            typed: false,
            help: false,
            unit: None,
            has_samples: false,
            metrics: HashSet::new(),
            metric: None,
        });
        Ok(())
    }

    /// Ends the current family: its last metric's checks, and its names claimed.
    pub(super) fn finish_family(&mut self, at: usize) -> Result<(), ErrorAt> {
        let Some(mut family) = self.family.take() else {
            return Ok(());
        };
        if let Some(metric) = family.metric.take() {
            family.check_metric_end(&metric)?;
        }
        let suffixes = roles(family.metric_type).iter().map(|(s, _)| *s);
        for suffix in suffixes.chain(std::iter::once("")) {
            let sample = format!("{}{suffix}", family.name);
            if self.claimed.contains(&sample) && !suffix.is_empty() {
                return Err(ErrorAt::new(
                    K::ClashingNames(sample),
                    family.name_at.min(at),
                    family.name.len(),
                ));
            }
            self.claimed.insert(sample);
        }
        self.finished.insert(family.name);
        Ok(())
    }

    /// Which sample of the current family `name` is, starting an untyped family if it
    /// belongs to none.
    fn role_of(&mut self, name: &'a str, at: usize) -> Result<Role, ErrorAt> {
        if let Some(family) = &self.family {
            let suffix = name.strip_prefix(family.name);
            if let Some((_, role)) = roles(family.metric_type)
                .iter()
                .find(|(s, _)| Some(*s) == suffix)
            {
                return Ok(*role);
            }
            if suffix == Some("") {
                let why = format!(
                    "a {} family has no sample named {name:?}",
                    family.metric_type
                );
                return Err(ErrorAt::new(K::InvalidSampleName(why), at, name.len()));
            }
        }
        self.enter_family(name, at)?;
        Ok(Role::Plain)
    }

    fn sample(&mut self, c: &mut Cursor<'a>) -> Result<Sample<'a>, ErrorAt> {
        let name_at = c.pos;
        let (name, in_braces) = super::sample_name(c)?;
        let role = self.role_of(name, name_at)?;
        let family = self.current()?;
        let family_name = family.name;
        let special = match (family.metric_type, role) {
            (MetricType::Histogram | MetricType::GaugeHistogram, Role::Bucket) => Some("le"),
            (MetricType::Summary, Role::Plain) => Some("quantile"),
            (MetricType::StateSet, Role::Plain) => Some(family_name),
            _ => None,
        };
        let mut key = 0u64;
        let mut special_value = None;
        let mut labels = Labels::empty(Format::OpenMetrics);
        if in_braces.unwrap_or_else(|| c.eat(b'{')) {
            let hasher = foldhash::fast::FixedState::with_seed(0x0be7);
            let raw = c.label_set(|label| {
                if Some(label.name) == special {
                    special_value = Some((label.value, label.value_offset));
                } else {
                    // Order-insensitive: the same labels in another order are the same metric.
                    let mut h = hasher.build_hasher();
                    h.write(label.name.as_bytes());
                    h.write_u8(0xff);
                    h.write(label.value.as_bytes());
                    key = key.wrapping_add(h.finish());
                }
                Ok(())
            })?;
            labels = Labels::new(raw, Format::OpenMetrics);
        }
        c.separator("a space before the value")?;
        let (value, value_at) = c.number("a value", NumberSyntax::OpenMetrics)?;
        let mut timestamp = None;
        let mut exemplar = None;
        if !c.at_end() {
            c.separator("a space before the timestamp or exemplar")?;
            if c.peek() != Some(b'#') {
                timestamp = Some(seconds(c)?);
                if !c.at_end() {
                    c.separator("a space before the exemplar")?;
                }
            }
            if !c.at_end() {
                exemplar = Some(self::exemplar(c)?);
            }
        }
        let parsed = Parsed {
            role,
            key,
            special: special_value,
            value,
            value_at,
            timestamp,
            exemplar: exemplar.is_some(),
        };
        self.current()?.check_sample(&parsed, name_at, special)?;
        Ok(Sample {
            family: family_name,
            name,
            labels,
            value,
            timestamp: timestamp.map(Timestamp::Seconds),
            exemplar,
        })
    }
}

/// A timestamp in seconds: a finite decimal.
fn seconds(c: &mut Cursor<'_>) -> Result<f64, ErrorAt> {
    let at = c.pos;
    let token = c.token()?;
    if token.is_empty() {
        return Err(c.error(K::Expected("a timestamp"), 1));
    }
    parse_f64(token, NumberSyntax::OpenMetricsTimestamp)
        .map_err(|_| ErrorAt::new(K::InvalidTimestamp, at, token.len()))
}

/// `# {labels} value [timestamp]`, at the `#`.
fn exemplar<'a>(c: &mut Cursor<'a>) -> Result<Exemplar<'a>, ErrorAt> {
    let start = c.pos;
    c.expect(b'#', "'#' starting an exemplar")?;
    c.separator("a space after '#'")?;
    c.expect(b'{', "'{' starting the exemplar's labels")?;
    let mut chars = 0;
    let raw = c.label_set(|label| {
        chars += label.name.chars().count() + label.value.chars().count();
        Ok(())
    })?;
    if chars > EXEMPLAR_LABEL_CHARS {
        let why = format!("its labels have {chars} characters, more than {EXEMPLAR_LABEL_CHARS}");
        return Err(ErrorAt::new(K::InvalidExemplar(why), start, c.pos - start));
    }
    c.separator("a space before the exemplar value")?;
    let (value, _) = c.number("the exemplar value", NumberSyntax::OpenMetrics)?;
    let mut timestamp = None;
    if !c.at_end() {
        c.separator("a space before the exemplar timestamp")?;
        timestamp = Some(Timestamp::Seconds(seconds(c)?));
        if !c.at_end() {
            return Err(c.error(K::Expected("end of line after the exemplar"), 1));
        }
    }
    Ok(Exemplar {
        labels: Labels::new(raw, Format::OpenMetrics),
        value,
        timestamp,
    })
}

impl Family<'_> {
    /// A unit must be the name's suffix, and info and stateset families have none.
    fn check_unit(&self, at: usize) -> Result<(), ErrorAt> {
        let Some(unit) = self.unit.filter(|u| !u.is_empty()) else {
            return Ok(());
        };
        if matches!(self.metric_type, MetricType::Info | MetricType::StateSet) {
            let why = format!("{} families have no unit", self.metric_type);
            return Err(ErrorAt::new(K::InvalidUnit(why), at, 1));
        }
        if !self
            .name
            .strip_suffix(unit)
            .is_some_and(|n| n.ends_with('_'))
        {
            let why = format!("{:?} does not end with \"_{unit}\"", self.name);
            return Err(ErrorAt::new(K::InvalidUnit(why), at, 1));
        }
        Ok(())
    }

    fn check_sample(
        &mut self,
        s: &Parsed<'_>,
        at: usize,
        special: Option<&str>,
    ) -> Result<(), ErrorAt> {
        self.has_samples = true;
        let same_metric = self.metric.as_ref().is_some_and(|m| m.key == s.key);
        if !same_metric {
            if let Some(previous) = self.metric.take() {
                self.check_metric_end(&previous)?;
            }
            if !self.metrics.insert(s.key) {
                return Err(ErrorAt::new(K::InterleavedMetric, at, 1));
            }
            self.metric = Some(Metric::new(s.key, at, s.timestamp.is_some()));
        }
        // A later timestamp starts the metric's next point: the previous one must be
        // complete (a histogram's buckets, count and sum), and the next is checked afresh.
        let next_point = match (self.metric.as_ref(), s.timestamp) {
            (Some(m), Some(t)) => m.last_timestamp > f64::NEG_INFINITY && t > m.last_timestamp,
            _ => false,
        };
        if next_point {
            if let Some(previous) = self.metric.as_ref() {
                self.check_metric_end(previous)?;
            }
            if let Some(m) = self.metric.as_mut() {
                m.next_point(at);
            }
        }
        let metric_type = self.metric_type;
        let Some(metric) = self.metric.as_mut() else {
            return Ok(());
        };
        if metric.with_timestamps != s.timestamp.is_some() {
            return Err(ErrorAt::new(K::InvalidTimestampOrder, at, 1));
        }
        if let Some(t) = s.timestamp {
            if t < metric.last_timestamp {
                return Err(ErrorAt::new(K::InvalidTimestampOrder, at, 1));
            }
            metric.last_timestamp = t;
        }
        let histogram = matches!(
            metric_type,
            MetricType::Histogram | MetricType::GaugeHistogram
        );
        let exemplar_allowed = (metric_type == MetricType::Counter && s.role == Role::Total)
            || (histogram && s.role == Role::Bucket);
        if s.exemplar && !exemplar_allowed {
            let why = format!(
                "only counter totals and histogram buckets have exemplars, not this sample of the {metric_type} {:?}",
                self.name
            );
            return Err(ErrorAt::new(K::InvalidExemplar(why), at, 1));
        }
        let (v, v_at) = (s.value, s.value_at);
        let counter_like = |what: &str| {
            if v.is_nan() || v < 0.0 {
                Err(invalid_value(
                    &format!("{what} must not be negative or NaN"),
                    v_at,
                    1,
                ))
            } else {
                Ok(())
            }
        };
        // "Count and bucket values MUST be integers": in value (the spec's own examples
        // write `42.0`), so finite and without a fraction.
        let integer = |what: &str| {
            if v.is_finite() && v.fract() == 0.0 {
                Ok(())
            } else {
                Err(invalid_value(
                    &format!("{what} must be an integer"),
                    v_at,
                    1,
                ))
            }
        };
        let special_value = || -> Result<(f64, usize), ErrorAt> {
            let name = special.unwrap_or_default();
            let (raw, raw_at) = s.special.ok_or_else(|| {
                ErrorAt::new(
                    K::InvalidTypeLabel(format!("missing label {name:?}")),
                    at,
                    1,
                )
            })?;
            let value = unescape(raw, Format::OpenMetrics, true);
            // Canonical numbers: the spec fixes the spelling of the infinities
            // (`+Inf`, as Go's `%g` writes them; `-Inf` likewise) and forbids NaN.
            let parsed = parse_f64(&value, NumberSyntax::OpenMetrics)
                .ok()
                .filter(|f| !f.is_nan())
                .filter(|f| f.is_finite() || value == if *f > 0.0 { "+Inf" } else { "-Inf" });
            let why = || {
                format!("label {name:?} must be a canonical number (infinities are \"+Inf\" and \"-Inf\"), not {value:?}")
            };
            parsed
                .map(|f| (f, raw_at))
                .ok_or_else(|| ErrorAt::new(K::InvalidTypeLabel(why()), raw_at, raw.len()))
        };
        match (metric_type, s.role) {
            (MetricType::Counter, Role::Total) => counter_like("a counter")?,
            (_, Role::Bucket) => {
                let (le, le_at) = special_value()?;
                counter_like("a bucket")?;
                integer("a bucket")?;
                if metric.last_le.is_some_and(|last| le <= last) {
                    return Err(ErrorAt::new(
                        K::InvalidMetric("buckets out of order".into()),
                        le_at,
                        1,
                    ));
                }
                if v < metric.last_bucket {
                    return Err(invalid_value("bucket counts must not decrease", v_at, 1));
                }
                metric.negative_buckets |= le < 0.0;
                metric.last_le = Some(le);
                metric.last_bucket = v;
                if le == f64::INFINITY {
                    metric.inf_bucket = Some(v);
                }
            }
            (_, Role::Count | Role::GaugeCount) => {
                counter_like("a count")?;
                integer("a count")?;
                metric.count = Some(v);
            }
            (MetricType::GaugeHistogram, Role::GaugeSum) => {
                if v.is_nan() {
                    return Err(invalid_value(
                        "a gauge histogram's sum must not be NaN",
                        v_at,
                        1,
                    ));
                }
                metric.sum = Some(v);
            }
            (_, Role::Sum) => {
                counter_like("a sum")?;
                metric.sum = Some(v);
            }
            (MetricType::Summary, Role::Plain) => {
                let (q, q_at) = special_value()?;
                if !(0.0..=1.0).contains(&q) {
                    let why = format!("quantile {q} is not between 0 and 1");
                    return Err(ErrorAt::new(K::InvalidTypeLabel(why), q_at, 1));
                }
                if v < 0.0 {
                    return Err(invalid_value("a quantile must not be negative", v_at, 1));
                }
            }
            (MetricType::Info, Role::Info) if v != 1.0 => {
                return Err(invalid_value("an info value must be 1", v_at, 1));
            }
            (MetricType::StateSet, Role::Plain) => {
                if s.special.is_none() {
                    let why = format!("a stateset sample needs the label {:?}", self.name);
                    return Err(ErrorAt::new(K::InvalidTypeLabel(why), at, 1));
                }
                if v != 0.0 && v != 1.0 {
                    return Err(invalid_value("a state must be 0 or 1", v_at, 1));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// What can only be checked once a histogram's metric has all its samples.
    fn check_metric_end(&self, m: &Metric) -> Result<(), ErrorAt> {
        let gauge = match self.metric_type {
            MetricType::Histogram => false,
            MetricType::GaugeHistogram => true,
            _ => return Ok(()),
        };
        let fail = |why: &str| Err(ErrorAt::new(K::InvalidMetric(why.to_owned()), m.at, 1));
        let Some(inf) = m.inf_bucket else {
            return fail("the +Inf bucket is missing");
        };
        if m.count.is_some_and(|c| c != inf) {
            return fail("the count differs from the +Inf bucket");
        }
        if m.count.is_some() != m.sum.is_some() {
            return fail("a sum and a count must come together");
        }
        if !gauge && m.negative_buckets && m.sum.is_some() {
            return fail("a histogram with negative buckets has no sum");
        }
        if gauge && !m.negative_buckets && m.sum.is_some_and(|s| s < 0.0) {
            return fail("a negative sum needs negative buckets");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::encoding::Format;
    use crate::parse::{validate, ParseErrorKind as K};

    fn error_of(body: &str) -> Option<K> {
        let input = format!("{body}# EOF\n");
        validate(input.as_bytes(), Format::OpenMetrics)
            .err()
            .map(|e| e.kind)
    }

    /// What the ABNF allows (its strings are case-insensitive, as RFC 5234's are), and the
    /// spellings the text fixes (canonical `+Inf` in `le` and `quantile`).
    #[test]
    fn numbers_as_the_abnf_writes_them() {
        for ok in [
            "a Inf\n",
            "a -infinity\n",
            "a +INF\n",
            "a nan\n",
            "a NaN\n",
            "a 1E3\n",
            "a 1.\n",
            "a +.5e-3\n",
            "a 0042\n",
            "a 1 -1.5E+3\n",
            "# TYPE h histogram\nh_bucket{le=\"-Inf\"} 0\nh_bucket{le=\"1e-4\"} 0\nh_bucket{le=\"+Inf\"} 2.0\n",
            "# TYPE s summary\ns{quantile=\"1.0\"} NaN\ns_count 3.0\ns_sum 1\n",
        ] {
            assert_eq!(error_of(ok), None, "{ok:?}");
        }
        let invalid_label = |kind: Option<K>| matches!(kind, Some(K::InvalidTypeLabel(_)));
        for spelling in ["inf", "Inf", "+inf", "Infinity", "+INF"] {
            let body = format!("# TYPE h histogram\nh_bucket{{le=\"{spelling}\"}} 0\n");
            assert!(invalid_label(error_of(&body)), "{body:?}");
        }
        for bad in ["-inf", "-Infinity"] {
            let body = format!(
                "# TYPE h histogram\nh_bucket{{le=\"{bad}\"}} 0\nh_bucket{{le=\"+Inf\"}} 0\n"
            );
            assert!(invalid_label(error_of(&body)), "{body:?}");
        }
        for bad in [
            "a -nan\n",
            "a +NaN\n",
            "a infinit\n",
            "a 1e\n",
            "a 0x1\n",
            "a 1_0\n",
        ] {
            assert_eq!(error_of(bad), Some(K::InvalidNumber), "{bad:?}");
        }
        for bad in ["a 1 Inf\n", "a 1 nan\n"] {
            assert!(error_of(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn counts_and_buckets_are_integers() {
        for bad in [
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1.5\nh_count 1.5\nh_sum 1\n",
            "# TYPE h histogram\nh_bucket{le=\"1\"} 0.5\nh_bucket{le=\"+Inf\"} 1\n",
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} +Inf\n",
            "# TYPE g gaugehistogram\ng_bucket{le=\"+Inf\"} 1.5\n",
            "# TYPE s summary\ns_count 1.5\ns_sum 1\n",
        ] {
            assert!(
                matches!(error_of(bad), Some(K::InvalidValue(why)) if why.contains("integer")),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_histogram_may_have_points_at_several_times() {
        let two_points = "# TYPE h histogram\nh_bucket{le=\"1\"} 1 1\nh_bucket{le=\"+Inf\"} 2 1\nh_bucket{le=\"1\"} 3 2\nh_bucket{le=\"+Inf\"} 4 2\n";
        assert_eq!(error_of(two_points), None);
        let incomplete = "# TYPE h histogram\nh_bucket{le=\"1\"} 1 1\nh_bucket{le=\"1\"} 3 2\nh_bucket{le=\"+Inf\"} 4 2\n";
        assert!(matches!(error_of(incomplete), Some(K::InvalidMetric(_))));
    }

    #[test]
    fn keywords_are_case_sensitive() {
        for bad in [
            "# type a counter\n",
            "# TYPE a Counter\n",
            "# help a x\n",
            "# Unit a s\n",
        ] {
            assert!(error_of(bad).is_some(), "{bad:?}");
        }
        let lower_eof = validate(b"a 1\n# eof\n", Format::OpenMetrics);
        assert!(lower_eof.is_err());
    }
}
