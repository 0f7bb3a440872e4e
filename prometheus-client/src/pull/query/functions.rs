//! Every function of Prometheus 2.42's PromQL, with its arithmetic (`functions.go`,
//! `quantile.go`): range functions over each series' samples, instant functions over each
//! sample, and the special ones (`absent`, `scalar`, `vector`, `time`, `timestamp`, the date
//! functions, `label_replace`, `label_join`, `sort`, `histogram_quantile`). The native
//! histogram functions are in `native.rs`.

use std::sync::Arc;

use promql_parser::label::MatchOp;
use promql_parser::parser::{Call, Expr};

use super::eval::{
    drop_name, unique, unique_by_address, unique_mixed, Evaluator, HistogramSample, Map, Sample,
    Set, Value,
};
use super::QueryError;
use crate::pull::storage::SeriesLabels;

fn invalid(what: impl Into<String>) -> QueryError {
    QueryError::Invalid(what.into())
}

impl Evaluator<'_> {
    /// Evaluates a function call at `t`, and checks that its result has no two series with
    /// the same labels, as Prometheus does.
    pub(super) fn call(&mut self, call: &Call, t: i64) -> Result<Value, QueryError> {
        // A range function's labels are its series' without the name: canonical in a range
        // query (or, for `last_over_time`, its distinct inputs' own).
        let by_address = self.canonical() && is_range_function(call.func.name);
        Ok(match self.call_unchecked(call, t)? {
            Value::Vector(points) if by_address => {
                // The same series as at the last step were found distinct then.
                let node = std::ptr::from_ref(call) as usize;
                if self.checked_before(node, &points) {
                    Value::Vector(points)
                } else {
                    let points = unique_by_address(points)?;
                    self.remember_checked(node, &points);
                    Value::Vector(points)
                }
            }
            Value::Vector(points) => Value::Vector(unique(points)?),
            Value::Mixed(points, histograms) => {
                let (points, histograms) = unique_mixed(points, histograms)?;
                Value::Mixed(points, histograms)
            }
            other => other,
        })
    }

    fn call_unchecked(&mut self, call: &Call, t: i64) -> Result<Value, QueryError> {
        let name = call.func.name;
        let args: Vec<&Expr> = call.args.args.iter().map(|a| a.as_ref()).collect();
        match name {
            "time" => Ok(Value::Scalar(t as f64 / 1000.0)),
            "pi" => Ok(Value::Scalar(std::f64::consts::PI)),
            "vector" => {
                let v = self.scalar_arg(args[0], t)?;
                Ok(Value::Vector(vec![(SeriesLabels::from(Vec::new()), v)]))
            }
            "scalar" => {
                let vector = self.vector_arg(args[0], t)?;
                Ok(Value::Scalar(match vector.as_slice() {
                    [(_, v)] => *v,
                    _ => f64::NAN,
                }))
            }
            "timestamp" => {
                let samples = self.timestamps(args[0], t)?;
                Ok(Value::Vector(
                    samples
                        .into_iter()
                        .map(|(labels, at)| (drop_name(&labels), at as f64 / 1000.0))
                        .collect(),
                ))
            }
            "absent" => {
                let vector = self.vector_arg(args[0], t)?;
                Ok(Value::Vector(if vector.is_empty() {
                    vec![(absent_labels(args[0]), 1.0)]
                } else {
                    Vec::new()
                }))
            }
            "absent_over_time" => {
                let range = self.range_arg(args[0], t)?;
                Ok(Value::Vector(if range.series.is_empty() {
                    vec![(absent_labels(args[0]), 1.0)]
                } else {
                    Vec::new()
                }))
            }
            "sort" | "sort_desc" => {
                let mut vector = self.vector_arg(args[0], t)?;
                // NaN last, both ways.
                if name == "sort" {
                    vector.sort_by(|a, b| ascending(a.1, b.1));
                } else {
                    vector.sort_by(|a, b| descending(a.1, b.1));
                }
                Ok(Value::Vector(vector))
            }
            "label_replace" => {
                let vector = self.vector_arg(args[0], t)?;
                let strings = string_args(&args[1..])?;
                label_replace(vector, &strings[0], &strings[1], &strings[2], &strings[3])
                    .map(Value::Vector)
            }
            "label_join" => {
                let vector = self.vector_arg(args[0], t)?;
                let strings = string_args(&args[1..])?;
                label_join(vector, &strings[0], &strings[1], &strings[2..]).map(Value::Vector)
            }
            "histogram_quantile" => {
                let q = self.scalar_arg(args[0], t)?;
                let (vector, histograms) = self.vector_and_histograms(args[1], t)?;
                Ok(Value::Vector(histogram_quantile(q, vector, histograms)))
            }
            // Native histograms only; float samples are skipped.
            "histogram_count" | "histogram_sum" | "histogram_fraction" => {
                self.histogram_function(name, &args, t)
            }
            "clamp" => {
                let vector = self.vector_arg(args[0], t)?;
                let (min, max) = (self.scalar_arg(args[1], t)?, self.scalar_arg(args[2], t)?);
                if max < min {
                    return Ok(Value::Vector(Vec::new()));
                }
                Ok(map_vector(vector, |v| go_max(min, go_min(max, v))))
            }
            "clamp_max" => {
                let vector = self.vector_arg(args[0], t)?;
                let max = self.scalar_arg(args[1], t)?;
                Ok(map_vector(vector, |v| go_min(max, v)))
            }
            "clamp_min" => {
                let vector = self.vector_arg(args[0], t)?;
                let min = self.scalar_arg(args[1], t)?;
                Ok(map_vector(vector, |v| go_max(min, v)))
            }
            "round" => {
                let vector = self.vector_arg(args[0], t)?;
                let to_nearest = match args.get(1) {
                    Some(arg) => self.scalar_arg(arg, t)?,
                    None => 1.0,
                };
                let inverse = 1.0 / to_nearest;
                Ok(map_vector(vector, |v| {
                    (v * inverse + 0.5).floor() / inverse
                }))
            }
            "days_in_month" | "day_of_month" | "day_of_week" | "day_of_year" | "hour"
            | "minute" | "month" | "year" => {
                let part = date_part(name);
                match args.first() {
                    None => Ok(Value::Vector(vec![(
                        SeriesLabels::from(Vec::new()),
                        part(t.div_euclid(1000)),
                    )])),
                    Some(arg) => {
                        let vector = self.vector_arg(arg, t)?;
                        Ok(map_vector(vector, |v| part(go_int(v))))
                    }
                }
            }
            "predict_linear" | "quantile_over_time" | "holt_winters" => {
                self.range_function_with_scalars(name, &args, t)
            }
            _ => {
                if let Some(f) = simple(name) {
                    let vector = self.vector_arg(args[0], t)?;
                    return Ok(map_vector(vector, f));
                }
                if is_range_function(name) {
                    return self.range_function(name, args[0], &[], t);
                }
                Err(QueryError::Unsupported(format!("function {name}()")))
            }
        }
    }

    fn range_function_with_scalars(
        &mut self,
        name: &str,
        args: &[&Expr],
        t: i64,
    ) -> Result<Value, QueryError> {
        match name {
            "quantile_over_time" => {
                let q = self.scalar_arg(args[0], t)?;
                self.range_function(name, args[1], &[q], t)
            }
            "predict_linear" => {
                let duration = self.scalar_arg(args[1], t)?;
                self.range_function(name, args[0], &[duration], t)
            }
            _ => {
                let sf = self.scalar_arg(args[1], t)?;
                let tf = self.scalar_arg(args[2], t)?;
                if sf <= 0.0 || sf >= 1.0 {
                    return Err(invalid(format!(
                        "invalid smoothing factor. Expected: 0 < sf < 1, got: {sf}"
                    )));
                }
                if tf <= 0.0 || tf >= 1.0 {
                    return Err(invalid(format!(
                        "invalid trend factor. Expected: 0 < tf < 1, got: {tf}"
                    )));
                }
                self.range_function(name, args[0], &[sf, tf], t)
            }
        }
    }

    /// A function of each series' samples in a range (`rate(x[5m])`, `max_over_time(…)`).
    fn range_function(
        &mut self,
        name: &str,
        arg: &Expr,
        scalars: &[f64],
        t: i64,
    ) -> Result<Value, QueryError> {
        let keep_name = name == "last_over_time";
        if let Some((selector, windows)) = self.preloaded_windows(arg, t)? {
            // A range query's selector: each series' window read in place, its labels
            // without the name worked out once.
            let computed = windows
                .compute(|samples, start, end| apply_range(name, samples, start, end, scalars, t));
            let out = computed
                .into_iter()
                .map(|(i, v)| (self.preloaded_labels(selector, i, !keep_name), v))
                .collect();
            return Ok(Value::Vector(out));
        }
        let mut range = self.range_arg(arg, t)?;
        let histograms = if range.histograms.is_empty() {
            Vec::new()
        } else {
            let floats: Set<SeriesLabels> =
                range.series.iter().map(|(l, _)| Arc::clone(l)).collect();
            let bounds = (range.range_start, range.range_end);
            let histograms = std::mem::take(&mut range.histograms);
            self.histogram_rates(name, histograms, &floats, bounds)
        };
        let mut out = Vec::with_capacity(range.series.len());
        for (labels, samples) in range.series {
            let Some(value) = apply_range(
                name,
                &samples,
                range.range_start,
                range.range_end,
                scalars,
                t,
            ) else {
                continue;
            };
            let labels = if keep_name {
                labels
            } else {
                self.without_name(&labels)
            };
            out.push((labels, value));
        }
        Ok(Value::vector(out, histograms))
    }
}

/// A range function of one series' samples in `[range_start, range_end]` (not empty).
fn apply_range(
    name: &str,
    samples: &[(i64, f64)],
    range_start: i64,
    range_end: i64,
    scalars: &[f64],
    t: i64,
) -> Option<f64> {
    match name {
        "rate" => extrapolated_rate(samples, range_start, range_end, true, true),
        "increase" => extrapolated_rate(samples, range_start, range_end, true, false),
        "delta" => extrapolated_rate(samples, range_start, range_end, false, false),
        "irate" => instant_value(samples, true),
        "idelta" => instant_value(samples, false),
        "deriv" => (samples.len() >= 2).then(|| linear_regression(samples, samples[0].0).0),
        "predict_linear" => (samples.len() >= 2).then(|| {
            let (slope, intercept) = linear_regression(samples, t);
            slope * scalars[0] + intercept
        }),
        "holt_winters" => holt_winters(samples, scalars[0], scalars[1]),
        "quantile_over_time" => {
            let mut values: Vec<f64> = samples.iter().map(|s| s.1).collect();
            Some(quantile(scalars[0], &mut values))
        }
        other => over_time(other, samples),
    }
}

/// NaN after every number; `None` when neither is NaN.
fn nan_last(a: f64, b: f64) -> Option<std::cmp::Ordering> {
    match (a.is_nan(), b.is_nan()) {
        (false, false) => None,
        (x, y) => Some(x.cmp(&y)),
    }
}

/// Orders values ascending, NaN after every number.
pub(super) fn ascending(a: f64, b: f64) -> std::cmp::Ordering {
    nan_last(a, b).unwrap_or_else(|| a.total_cmp(&b))
}

/// Orders values descending, NaN after every number.
pub(super) fn descending(a: f64, b: f64) -> std::cmp::Ordering {
    nan_last(a, b).unwrap_or_else(|| b.total_cmp(&a))
}

fn is_range_function(name: &str) -> bool {
    matches!(
        name,
        "rate"
            | "increase"
            | "delta"
            | "irate"
            | "idelta"
            | "deriv"
            | "changes"
            | "resets"
            | "avg_over_time"
            | "count_over_time"
            | "last_over_time"
            | "max_over_time"
            | "min_over_time"
            | "sum_over_time"
            | "stddev_over_time"
            | "stdvar_over_time"
            | "present_over_time"
            | "predict_linear"
            | "quantile_over_time"
            | "holt_winters"
    )
}

/// The `*_over_time` functions, `changes` and `resets`.
fn over_time(name: &str, samples: &[(i64, f64)]) -> Option<f64> {
    let values = samples.iter().map(|s| s.1);
    Some(match name {
        "avg_over_time" => {
            let (mut mean, mut c, mut count) = (0.0_f64, 0.0, 0.0);
            for v in values {
                count += 1.0;
                if mean.is_infinite() {
                    if v.is_infinite() && (mean > 0.0) == (v > 0.0) {
                        continue;
                    }
                    if !v.is_infinite() && !v.is_nan() {
                        continue;
                    }
                }
                (mean, c) = kahan_inc(v / count - mean / count, mean, c);
            }
            if mean.is_infinite() {
                mean
            } else {
                mean + c
            }
        }
        "count_over_time" => samples.len() as f64,
        "last_over_time" => samples.last()?.1,
        "present_over_time" => 1.0,
        "max_over_time" => values.fold(
            samples[0].1,
            |max, v| if v > max || max.is_nan() { v } else { max },
        ),
        "min_over_time" => values.fold(
            samples[0].1,
            |min, v| if v < min || min.is_nan() { v } else { min },
        ),
        "sum_over_time" => {
            let (mut sum, mut c) = (0.0, 0.0);
            for v in values {
                (sum, c) = kahan_inc(v, sum, c);
            }
            if sum.is_infinite() {
                sum
            } else {
                sum + c
            }
        }
        "stddev_over_time" | "stdvar_over_time" => {
            let (mut count, mut mean, mut c_mean, mut aux, mut c_aux) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for v in values {
                count += 1.0;
                let delta = v - (mean + c_mean);
                (mean, c_mean) = kahan_inc(delta / count, mean, c_mean);
                (aux, c_aux) = kahan_inc(delta * (v - (mean + c_mean)), aux, c_aux);
            }
            let variance = (aux + c_aux) / count;
            if name == "stddev_over_time" {
                variance.sqrt()
            } else {
                variance
            }
        }
        "changes" => samples
            .windows(2)
            .filter(|w| w[1].1 != w[0].1 && !(w[1].1.is_nan() && w[0].1.is_nan()))
            .count() as f64,
        "resets" => samples.windows(2).filter(|w| w[1].1 < w[0].1).count() as f64,
        _ => return None,
    })
}

/// Kahan-Neumaier summation, one step.
fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// The functions of one value.
fn simple(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "sqrt" => f64::sqrt,
        "ln" => f64::ln,
        "log2" => f64::log2,
        "log10" => f64::log10,
        "sin" => f64::sin,
        "cos" => f64::cos,
        "tan" => f64::tan,
        "asin" => f64::asin,
        "acos" => f64::acos,
        "atan" => f64::atan,
        "sinh" => f64::sinh,
        "cosh" => f64::cosh,
        "tanh" => f64::tanh,
        "asinh" => f64::asinh,
        "acosh" => f64::acosh,
        "atanh" => f64::atanh,
        "rad" => |v| v * std::f64::consts::PI / 180.0,
        "deg" => |v| v * 180.0 / std::f64::consts::PI,
        "sgn" => |v: f64| {
            if v < 0.0 {
                -1.0
            } else if v > 0.0 {
                1.0
            } else {
                v
            }
        },
        _ => return None,
    })
}

fn map_vector(vector: Vec<Sample>, f: impl Fn(f64) -> f64) -> Value {
    Value::Vector(
        vector
            .into_iter()
            .map(|(labels, v)| (drop_name(&labels), f(v)))
            .collect(),
    )
}

/// Go's `math.Min`: NaN if either is.
fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

/// Go's `math.Max`: NaN if either is.
fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Go's `int64(f)` for the date functions (NaN and out-of-range values give the minimum, as
/// on amd64).
fn go_int(v: f64) -> i64 {
    if v.is_nan() || v >= i64::MAX as f64 || v < i64::MIN as f64 {
        i64::MIN
    } else {
        v as i64
    }
}

/// A date function of seconds since the epoch, in UTC.
fn date_part(name: &str) -> fn(i64) -> f64 {
    match name {
        "days_in_month" => |s| {
            let (y, m, _) = civil(s);
            days_in_month(y, m) as f64
        },
        "day_of_month" => |s| civil(s).2 as f64,
        "day_of_week" => |s| (s.div_euclid(86_400) + 4).rem_euclid(7) as f64,
        "day_of_year" => |s| {
            let (y, m, d) = civil(s);
            ((1..m).map(|month| days_in_month(y, month)).sum::<i64>() + d) as f64
        },
        "hour" => |s| s.rem_euclid(86_400).div_euclid(3600) as f64,
        "minute" => |s| s.rem_euclid(3600).div_euclid(60) as f64,
        "month" => |s| civil(s).1 as f64,
        _ => |s| civil(s).0 as f64,
    }
}

/// Year, month and day of seconds since the epoch (Howard Hinnant's algorithm).
fn civil(seconds: i64) -> (i64, i64, i64) {
    let z = seconds.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The labels `absent()` gives: those its selector fixes with `=` (a name fixed twice, or
/// also matched otherwise, is left out).
fn absent_labels(arg: &Expr) -> SeriesLabels {
    let mut expr = arg;
    while let Expr::Paren(p) = expr {
        expr = &p.expr;
    }
    let vs = match expr {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector(ms) => &ms.vs,
        _ => return SeriesLabels::from(Vec::new()),
    };
    let mut labels: Vec<(String, String)> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for m in &vs.matchers.matchers {
        if m.name == "__name__" {
            continue;
        }
        if matches!(m.op, MatchOp::Equal) && !seen.contains(&m.name.as_str()) {
            labels.retain(|(n, _)| *n != m.name);
            labels.push((m.name.clone(), m.value.clone()));
            seen.push(&m.name);
        } else {
            labels.retain(|(n, _)| *n != m.name);
        }
    }
    labels.sort();
    labels.into()
}

fn string_args(args: &[&Expr]) -> Result<Vec<String>, QueryError> {
    args.iter()
        .map(|arg| {
            let mut expr = *arg;
            while let Expr::Paren(p) = expr {
                expr = &p.expr;
            }
            match expr {
                Expr::StringLiteral(s) => Ok(s.val.clone()),
                _ => Err(invalid("expected a string argument")),
            }
        })
        .collect()
}

fn set_label(labels: &SeriesLabels, name: &str, value: &str) -> SeriesLabels {
    let mut pairs: Vec<(String, String)> =
        labels.iter().filter(|(n, _)| n != name).cloned().collect();
    if !value.is_empty() {
        pairs.push((name.to_owned(), value.to_owned()));
    }
    pairs.sort();
    pairs.into()
}

fn label_value<'l>(labels: &'l SeriesLabels, name: &str) -> &'l str {
    labels
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.as_str())
}

fn label_replace(
    vector: Vec<Sample>,
    dst: &str,
    replacement: &str,
    src: &str,
    regex: &str,
) -> Result<Vec<Sample>, QueryError> {
    let re = regex::Regex::new(&format!("^(?s:{regex})$")).map_err(|_| {
        invalid(format!(
            "invalid regular expression in label_replace(): {regex}"
        ))
    })?;
    if !crate::desc::is_valid_label_name(dst) {
        return Err(invalid(format!(
            "invalid destination label name in label_replace(): {dst}"
        )));
    }
    Ok(vector
        .into_iter()
        .map(|(labels, v)| {
            let labels = match re.captures(label_value(&labels, src)) {
                Some(captures) => {
                    let mut expanded = String::new();
                    captures.expand(replacement, &mut expanded);
                    set_label(&labels, dst, &expanded)
                }
                None => labels,
            };
            (labels, v)
        })
        .collect())
}

fn label_join(
    vector: Vec<Sample>,
    dst: &str,
    separator: &str,
    sources: &[String],
) -> Result<Vec<Sample>, QueryError> {
    for src in sources {
        if !crate::desc::is_valid_label_name(src) {
            return Err(invalid(format!(
                "invalid source label name in label_join(): {src}"
            )));
        }
    }
    if !crate::desc::is_valid_label_name(dst) {
        return Err(invalid(format!(
            "invalid destination label name in label_join(): {dst}"
        )));
    }
    Ok(vector
        .into_iter()
        .map(|(labels, v)| {
            let joined: Vec<&str> = sources.iter().map(|s| label_value(&labels, s)).collect();
            (set_label(&labels, dst, &joined.join(separator)), v)
        })
        .collect())
}

/// A `count_values` label value: Go's `FormatFloat(v, 'f', -1, 64)`.
pub(super) fn value_label(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

/// Prometheus' `quantile` over values (sorted here): a weighted average of the two nearest.
pub(super) fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

/// `histogram_quantile` of native histograms (first) and of classic buckets grouped by
/// their labels without `le`; where both have the same labels, neither, as in Prometheus.
fn histogram_quantile(
    q: f64,
    vector: Vec<Sample>,
    histograms: Vec<HistogramSample>,
) -> Vec<Sample> {
    let mut order: Vec<SeriesLabels> = Vec::new();
    let mut groups: Map<SeriesLabels, Vec<(f64, f64)>> = Map::default();
    for (labels, v) in vector {
        let Ok(upper) = parse_go_float(label_value(&labels, "le")) else {
            continue;
        };
        // Grouped by every label but `le` (two histograms differing only in name stay
        // apart, and then collide in the result, as in Prometheus).
        let key: SeriesLabels = labels
            .iter()
            .filter(|(n, _)| n != "le")
            .cloned()
            .collect::<Vec<_>>()
            .into();
        let group = groups.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            Vec::new()
        });
        group.push((upper, v));
    }
    let mut out = Vec::new();
    for (labels, h) in histograms {
        if groups.remove(&labels).is_some() {
            continue;
        }
        out.push((drop_name(&labels), h.quantile(q)));
    }
    out.extend(order.into_iter().filter_map(|key| {
        let mut buckets = groups.remove(&key)?;
        Some((drop_name(&key), bucket_quantile(q, &mut buckets)))
    }));
    out
}

/// Go's `strconv.ParseFloat`, enough for `le` values.
fn parse_go_float(text: &str) -> Result<f64, ()> {
    match text.to_ascii_lowercase().trim_start_matches('+') {
        "inf" | "infinity" => Ok(f64::INFINITY),
        "-inf" | "-infinity" => Ok(f64::NEG_INFINITY),
        "nan" => Ok(f64::NAN),
        _ => text.parse().map_err(|_| ()),
    }
}

/// Prometheus' `bucketQuantile` over `(upper bound, cumulative count)` buckets.
pub(super) fn bucket_quantile(q: f64, buckets: &mut Vec<(f64, f64)>) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    if buckets.last().is_none_or(|b| b.0 != f64::INFINITY) {
        return f64::NAN;
    }
    // Buckets with the same bound are added together.
    buckets.dedup_by(|later, earlier| {
        if later.0 == earlier.0 {
            earlier.1 += later.1;
            true
        } else {
            false
        }
    });
    // Counts must not decrease; scrapes at slightly different times can make them.
    for i in 1..buckets.len() {
        if buckets[i].1 < buckets[i - 1].1 {
            buckets[i].1 = buckets[i - 1].1;
        }
    }
    if buckets.len() < 2 {
        return f64::NAN;
    }
    let observations = buckets[buckets.len() - 1].1;
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * observations;
    let b = buckets[..buckets.len() - 1]
        .iter()
        .position(|bucket| bucket.1 >= rank)
        .unwrap_or(buckets.len() - 1);
    if b == buckets.len() - 1 {
        return buckets[buckets.len() - 2].0;
    }
    if b == 0 && buckets[0].0 <= 0.0 {
        return buckets[0].0;
    }
    let (start, mut count) = (if b == 0 { 0.0 } else { buckets[b - 1].0 }, buckets[b].1);
    if b > 0 {
        count -= buckets[b - 1].1;
        rank -= buckets[b - 1].1;
    }
    start + (buckets[b].0 - start) * (rank / count)
}

/// Prometheus' `extrapolatedRate` for `rate`, `increase` and `delta`.
pub(super) fn extrapolated_rate(
    samples: &[(i64, f64)],
    range_start: i64,
    range_end: i64,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    if samples.len() < 2 {
        return None;
    }
    let first_v = samples[0].1;
    let last_v = samples[samples.len() - 1].1;
    let mut result = last_v - first_v;
    if is_counter {
        for pair in samples.windows(2) {
            if pair[1].1 < pair[0].1 {
                result += pair[0].1;
            }
        }
    }
    // A counter that went up started at zero no earlier than its slope says.
    let zero_at = (is_counter && result > 0.0 && first_v >= 0.0).then_some(first_v / result);
    let times = samples.iter().map(|(t, _)| *t);
    Some(result * extrapolation(times, (range_start, range_end), zero_at, is_rate))
}

/// What `rate`, `increase` and `delta` multiply the change between the first and the last
/// sample by: the sampled interval extrapolated towards the range's ends (at most half an
/// average interval past a sample, and not before the counter's zero point, given as the
/// share of the sampled interval before the first sample), per second for a rate.
pub(super) fn extrapolation(
    times: impl ExactSizeIterator<Item = i64> + Clone,
    (range_start, range_end): (i64, i64),
    zero_at: Option<f64>,
    is_rate: bool,
) -> f64 {
    let n = times.len();
    let first_t = times.clone().next().unwrap_or(range_start);
    let last_t = times.last().unwrap_or(range_end);
    let mut to_start = (first_t - range_start) as f64 / 1000.0;
    let to_end = (range_end - last_t) as f64 / 1000.0;
    let sampled = (last_t - first_t) as f64 / 1000.0;
    let average = sampled / (n - 1) as f64;
    if let Some(share) = zero_at {
        let to_zero = sampled * share;
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    let threshold = average * 1.1;
    let mut interval = sampled;
    interval += if to_start < threshold {
        to_start
    } else {
        average / 2.0
    };
    interval += if to_end < threshold {
        to_end
    } else {
        average / 2.0
    };
    let mut factor = interval / sampled;
    if is_rate {
        factor /= (range_end - range_start) as f64 / 1000.0;
    }
    factor
}

/// `irate` and `idelta`: from the last two samples.
fn instant_value(samples: &[(i64, f64)], is_rate: bool) -> Option<f64> {
    if samples.len() < 2 {
        return None;
    }
    let (last_t, last_v) = samples[samples.len() - 1];
    let (previous_t, previous_v) = samples[samples.len() - 2];
    let mut result = if is_rate && last_v < previous_v {
        last_v
    } else {
        last_v - previous_v
    };
    let interval = last_t - previous_t;
    if interval == 0 {
        return None;
    }
    if is_rate {
        result /= interval as f64 / 1000.0;
    }
    Some(result)
}

/// Least squares over the samples, times relative to `intercept_time`: (slope, intercept).
fn linear_regression(samples: &[(i64, f64)], intercept_time: i64) -> (f64, f64) {
    let (mut n, mut sum_x, mut c_x, mut sum_y, mut c_y) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut sum_xy, mut c_xy, mut sum_x2, mut c_x2) = (0.0, 0.0, 0.0, 0.0);
    let init_y = samples[0].1;
    let mut const_y = true;
    for (i, (t, v)) in samples.iter().enumerate() {
        if const_y && i > 0 && *v != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (t - intercept_time) as f64 / 1e3;
        (sum_x, c_x) = kahan_inc(x, sum_x, c_x);
        (sum_y, c_y) = kahan_inc(*v, sum_y, c_y);
        (sum_xy, c_xy) = kahan_inc(x * v, sum_xy, c_xy);
        (sum_x2, c_x2) = kahan_inc(x * x, sum_x2, c_x2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    let (sum_x, sum_y, sum_xy, sum_x2) = (sum_x + c_x, sum_y + c_y, sum_xy + c_xy, sum_x2 + c_x2);
    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    let slope = cov_xy / var_x;
    let intercept = sum_y / n - slope * sum_x / n;
    (slope, intercept)
}

/// Double exponential smoothing (Prometheus 2.42's `holt_winters`).
fn holt_winters(samples: &[(i64, f64)], sf: f64, tf: f64) -> Option<f64> {
    if samples.len() < 2 {
        return None;
    }
    let (mut s0, mut s1) = (0.0, samples[0].1);
    let mut b = samples[1].1 - samples[0].1;
    for (i, (_, v)) in samples.iter().enumerate().skip(1) {
        let x = sf * v;
        b = if i == 1 {
            b
        } else {
            tf * (s1 - s0) + (1.0 - tf) * b
        };
        let y = (1.0 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + y;
    }
    Some(s1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_calendar_dates() {
        // 2024-02-29T13:45:00Z, a Thursday.
        let s = 1_709_214_300;
        assert_eq!(civil(s), (2024, 2, 29));
        assert_eq!(date_part("day_of_week")(s), 4.0);
        assert_eq!(date_part("day_of_year")(s), 60.0);
        assert_eq!(date_part("days_in_month")(s), 29.0);
        assert_eq!(date_part("hour")(s), 13.0);
        assert_eq!(date_part("minute")(s), 45.0);
        assert_eq!(civil(-1), (1969, 12, 31));
    }

    #[test]
    fn nan_sorts_last_both_ways() {
        let mut values = [2.0, f64::NAN, 1.0, 3.0];
        values.sort_by(|a, b| ascending(*a, *b));
        assert_eq!(&values[..3], [1.0, 2.0, 3.0]);
        assert!(values[3].is_nan());
        values.sort_by(|a, b| descending(*a, *b));
        assert_eq!(&values[..3], [3.0, 2.0, 1.0]);
        assert!(values[3].is_nan());
    }

    #[test]
    fn quantiles_interpolate() {
        assert_eq!(quantile(0.5, &mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(quantile(0.25, &mut [1.0, 2.0]), 1.25);
        assert!(quantile(0.5, &mut []).is_nan());
        let mut buckets = vec![(0.1, 10.0), (0.5, 30.0), (f64::INFINITY, 40.0)];
        assert!((bucket_quantile(0.5, &mut buckets) - 0.3).abs() < 1e-12);
    }
}
