//! Evaluating PromQL over a [`Storage`]: the subset a round-trip test needs, the way
//! Prometheus computes it. Expressions are parsed with `promql-parser`; anything outside the
//! subset gets an error that names what is not supported.
//!
//! Supported: selectors with `=`, `!=`, `=~`, `!~` (5-minute lookback; a stale marker ends a
//! series), range selectors, `rate`, `increase`, `histogram_quantile`, `sum`, `avg`, `min`,
//! `max`, `count` with `by`/`without`, number literals, unary minus, and `+ - * /` where one
//! side is a scalar.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use promql_parser::label::MatchOp;
use promql_parser::parser::{self, AggregateExpr, Call, Expr, LabelModifier, VectorSelector};

use super::storage::{is_stale, Matcher, Series, SeriesLabels, Storage};

/// How far back an instant selector looks for a sample, as Prometheus' default.
pub const LOOKBACK_MS: i64 = 5 * 60 * 1000;

/// A query's result.
#[derive(Clone, Debug, PartialEq)]
pub enum QueryValue {
    /// A single number.
    Scalar(f64),
    /// One value per series (labels sorted, `__name__` kept only where Prometheus keeps it).
    Vector(Vec<(SeriesLabels, f64)>),
    /// Samples per series, from a range selector or a range query.
    Matrix(Vec<Series>),
}

/// A query that could not be evaluated: a parse error, or something outside the subset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError(pub String);

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for QueryError {}

fn unsupported(what: impl fmt::Display) -> QueryError {
    QueryError(format!("unsupported in this pull server: {what}"))
}

/// Evaluates `query` at time `at` (ms).
pub fn instant_query(
    storage: &dyn Storage,
    query: &str,
    at: i64,
) -> Result<QueryValue, QueryError> {
    let expr = parser::parse(query).map_err(QueryError)?;
    eval(storage, &expr, at)
}

/// Evaluates `query` at every `step` from `start` to `end` (ms), as a matrix.
pub fn range_query(
    storage: &dyn Storage,
    query: &str,
    start: i64,
    end: i64,
    step: i64,
) -> Result<Vec<Series>, QueryError> {
    if step <= 0 || end < start {
        return Err(QueryError(
            "a range query needs start <= end and a positive step".into(),
        ));
    }
    if end.saturating_sub(start) / step > 11_000 {
        return Err(QueryError(
            "exceeded maximum resolution of 11,000 points per series".into(),
        ));
    }
    let expr = parser::parse(query).map_err(QueryError)?;
    let mut series: BTreeMap<SeriesLabels, Vec<(i64, f64)>> = BTreeMap::new();
    let mut t = start;
    loop {
        match eval(storage, &expr, t)? {
            QueryValue::Scalar(v) => series
                .entry(Arc::from(Vec::new()))
                .or_default()
                .push((t, v)),
            QueryValue::Vector(points) => {
                for (labels, v) in points {
                    series.entry(labels).or_default().push((t, v));
                }
            }
            QueryValue::Matrix(_) => {
                return Err(QueryError(
                    "a range query needs a scalar or instant vector expression".into(),
                ))
            }
        }
        match t.checked_add(step) {
            Some(next) if next <= end => t = next,
            _ => break,
        }
    }
    Ok(series.into_iter().collect())
}

fn eval(storage: &dyn Storage, expr: &Expr, t: i64) -> Result<QueryValue, QueryError> {
    match expr {
        Expr::NumberLiteral(n) => Ok(QueryValue::Scalar(n.val)),
        Expr::Paren(p) => eval(storage, &p.expr, t),
        Expr::Unary(u) => negate(eval(storage, &u.expr, t)?),
        Expr::VectorSelector(vs) => Ok(QueryValue::Vector(instant_vector(storage, vs, t)?)),
        Expr::MatrixSelector(ms) => {
            let range = i64::try_from(ms.range.as_millis())
                .map_err(|_| QueryError("range too long".into()))?;
            Ok(QueryValue::Matrix(range_vector(storage, &ms.vs, t, range)?))
        }
        Expr::Call(call) => eval_call(storage, call, t),
        Expr::Aggregate(agg) => eval_aggregate(storage, agg, t),
        Expr::Binary(b) => {
            let op = b.op.to_string();
            let lhs = eval(storage, &b.lhs, t)?;
            let rhs = eval(storage, &b.rhs, t)?;
            arithmetic(&op, lhs, rhs)
        }
        Expr::StringLiteral(_) => Err(unsupported("string literals")),
        Expr::Subquery(_) => Err(unsupported("subqueries")),
        Expr::Extension(_) => Err(unsupported("extension expressions")),
    }
}

fn matchers(vs: &VectorSelector) -> Result<Vec<Matcher>, QueryError> {
    if vs.offset.is_some() {
        return Err(unsupported("offset"));
    }
    if vs.at.is_some() {
        return Err(unsupported("the @ modifier"));
    }
    if !vs.matchers.or_matchers.is_empty() {
        return Err(unsupported("\"or\" in label matchers"));
    }
    let mut out = Vec::new();
    if let Some(name) = &vs.name {
        out.push(Matcher::Equal("__name__".into(), name.clone()));
    }
    for m in &vs.matchers.matchers {
        out.push(match &m.op {
            MatchOp::Equal => Matcher::Equal(m.name.clone(), m.value.clone()),
            MatchOp::NotEqual => Matcher::NotEqual(m.name.clone(), m.value.clone()),
            MatchOp::Re(_) | MatchOp::NotRe(_) => {
                let matcher = m.clone();
                Matcher::Regex {
                    name: m.name.clone(),
                    negated: matches!(m.op, MatchOp::NotRe(_)),
                    // promql-parser's regex is anchored and negates itself for `!~`, so ask
                    // it whether the value matches `=~` and let `negated` apply.
                    test: Arc::new(move |v| match &matcher.op {
                        MatchOp::NotRe(_) => !matcher.is_match(v),
                        _ => matcher.is_match(v),
                    }),
                }
            }
        });
    }
    Ok(out)
}

/// The latest sample of each series in `(t - 5m, t]`, unless it is a stale marker.
fn instant_vector(
    storage: &dyn Storage,
    vs: &VectorSelector,
    t: i64,
) -> Result<Vec<(SeriesLabels, f64)>, QueryError> {
    let selected = storage.select(&matchers(vs)?, t.saturating_sub(LOOKBACK_MS - 1), t);
    Ok(selected
        .into_iter()
        .filter_map(|(labels, samples)| {
            let (_, v) = *samples.last()?;
            (!is_stale(v)).then_some((labels, v))
        })
        .collect())
}

/// The samples of each series in `(t - range, t]`, stale markers left out.
fn range_vector(
    storage: &dyn Storage,
    vs: &VectorSelector,
    t: i64,
    range: i64,
) -> Result<Vec<Series>, QueryError> {
    let selected = storage.select(&matchers(vs)?, t.saturating_sub(range).saturating_add(1), t);
    Ok(selected
        .into_iter()
        .map(|(labels, samples)| {
            (
                labels,
                samples
                    .into_iter()
                    .filter(|(_, v)| !is_stale(*v))
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, samples)| !samples.is_empty())
        .collect())
}

fn without_labels(labels: &SeriesLabels, drop: &[&str]) -> SeriesLabels {
    labels
        .iter()
        .filter(|(n, _)| !drop.contains(&n.as_str()))
        .cloned()
        .collect::<Vec<_>>()
        .into()
}

fn eval_call(storage: &dyn Storage, call: &Call, t: i64) -> Result<QueryValue, QueryError> {
    let name = call.func.name;
    let args = &call.args.args;
    match name {
        "rate" | "increase" => {
            let Some(Expr::MatrixSelector(ms)) = args.first().map(|a| a.as_ref()) else {
                return Err(QueryError(format!("{name} needs a range selector")));
            };
            let range = i64::try_from(ms.range.as_millis())
                .map_err(|_| QueryError("range too long".into()))?;
            let series = range_vector(storage, &ms.vs, t, range)?;
            let points = series
                .into_iter()
                .filter_map(|(labels, samples)| {
                    let v =
                        extrapolated_rate(&samples, t.saturating_sub(range), t, name == "rate")?;
                    Some((without_labels(&labels, &["__name__"]), v))
                })
                .collect();
            Ok(QueryValue::Vector(points))
        }
        "histogram_quantile" => {
            let [phi, buckets] = args.as_slice() else {
                return Err(QueryError("histogram_quantile needs two arguments".into()));
            };
            let QueryValue::Scalar(phi) = eval(storage, phi, t)? else {
                return Err(QueryError(
                    "histogram_quantile's first argument must be a scalar".into(),
                ));
            };
            let QueryValue::Vector(points) = eval(storage, buckets, t)? else {
                return Err(QueryError(
                    "histogram_quantile's second argument must be an instant vector".into(),
                ));
            };
            let mut groups: BTreeMap<SeriesLabels, Vec<(f64, f64)>> = BTreeMap::new();
            for (labels, v) in points {
                let Some(le) = labels.iter().find(|(n, _)| n == "le") else {
                    continue;
                };
                let upper = match le.1.as_str() {
                    "+Inf" | "Inf" | "inf" => f64::INFINITY,
                    other => match other.parse() {
                        Ok(u) => u,
                        Err(_) => continue,
                    },
                };
                groups
                    .entry(without_labels(&labels, &["__name__", "le"]))
                    .or_default()
                    .push((upper, v));
            }
            let points = groups
                .into_iter()
                .map(|(labels, mut buckets)| {
                    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
                    (labels, bucket_quantile(phi, &mut buckets))
                })
                .collect();
            Ok(QueryValue::Vector(points))
        }
        other => Err(unsupported(format!("function {other}()"))),
    }
}

/// Prometheus' `extrapolatedRate`: the increase over the samples, corrected for counter
/// resets and extrapolated towards the range's ends (at most half an average interval beyond
/// the samples, and never below zero), per second for `rate`.
fn extrapolated_rate(
    samples: &[(i64, f64)],
    range_start: i64,
    range_end: i64,
    per_second: bool,
) -> Option<f64> {
    let (first_t, first_v) = *samples.first()?;
    let (last_t, last_v) = *samples.last()?;
    if samples.len() < 2 {
        return None;
    }
    let mut result = last_v - first_v;
    for pair in samples.windows(2) {
        if pair[1].1 < pair[0].1 {
            result += pair[0].1;
        }
    }
    let mut to_start = first_t.saturating_sub(range_start) as f64 / 1000.0;
    let to_end = range_end.saturating_sub(last_t) as f64 / 1000.0;
    let sampled = (last_t - first_t) as f64 / 1000.0;
    let average = sampled / (samples.len() - 1) as f64;
    if result > 0.0 && first_v >= 0.0 {
        let to_zero = sampled * (first_v / result);
        to_start = to_start.min(to_zero);
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
    result *= interval / sampled;
    if per_second {
        result /= range_end.saturating_sub(range_start) as f64 / 1000.0;
    }
    Some(result)
}

/// Prometheus' `bucketQuantile` over cumulative buckets sorted by upper bound.
fn bucket_quantile(phi: f64, buckets: &mut [(f64, f64)]) -> f64 {
    if phi.is_nan() {
        return f64::NAN;
    }
    if phi < 0.0 {
        return f64::NEG_INFINITY;
    }
    if phi > 1.0 {
        return f64::INFINITY;
    }
    if buckets.len() < 2 || buckets.last().is_none_or(|b| b.0 != f64::INFINITY) {
        return f64::NAN;
    }
    // Counts must not decrease; scrapes at slightly different times can make them.
    for i in 1..buckets.len() {
        buckets[i].1 = buckets[i].1.max(buckets[i - 1].1);
    }
    let observations = buckets[buckets.len() - 1].1;
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = phi * observations;
    let b = buckets.partition_point(|bucket| bucket.1 < rank);
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

fn eval_aggregate(
    storage: &dyn Storage,
    agg: &AggregateExpr,
    t: i64,
) -> Result<QueryValue, QueryError> {
    let op = agg.op.to_string();
    if agg.param.is_some() {
        return Err(unsupported(format!("aggregation {op} with a parameter")));
    }
    let QueryValue::Vector(points) = eval(storage, &agg.expr, t)? else {
        return Err(QueryError(format!("{op} needs an instant vector")));
    };
    let mut groups: BTreeMap<SeriesLabels, Vec<f64>> = BTreeMap::new();
    for (labels, v) in points {
        let key: Vec<(String, String)> = match &agg.modifier {
            Some(LabelModifier::Include(by)) => labels
                .iter()
                .filter(|(n, _)| by.labels.contains(n))
                .cloned()
                .collect(),
            Some(LabelModifier::Exclude(without)) => labels
                .iter()
                .filter(|(n, _)| n != "__name__" && !without.labels.contains(n))
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        groups.entry(key.into()).or_default().push(v);
    }
    let combine = |values: &[f64]| -> Result<f64, QueryError> {
        let n = values.len() as f64;
        Ok(match op.as_str() {
            "sum" => values.iter().sum(),
            "avg" => values.iter().sum::<f64>() / n,
            "count" => n,
            "min" => values
                .iter()
                .copied()
                .fold(f64::NAN, |a, b| if a.is_nan() || b < a { b } else { a }),
            "max" => values
                .iter()
                .copied()
                .fold(f64::NAN, |a, b| if a.is_nan() || b > a { b } else { a }),
            other => return Err(unsupported(format!("aggregation {other}"))),
        })
    };
    let points = groups
        .into_iter()
        .map(|(labels, values)| Ok((labels, combine(&values)?)))
        .collect::<Result<_, QueryError>>()?;
    Ok(QueryValue::Vector(points))
}

fn negate(value: QueryValue) -> Result<QueryValue, QueryError> {
    arithmetic("*", value, QueryValue::Scalar(-1.0))
}

fn arithmetic(op: &str, lhs: QueryValue, rhs: QueryValue) -> Result<QueryValue, QueryError> {
    let apply = |a: f64, b: f64| -> Result<f64, QueryError> {
        Ok(match op {
            "+" => a + b,
            "-" => a - b,
            "*" => a * b,
            "/" => a / b,
            other => return Err(unsupported(format!("operator {other}"))),
        })
    };
    let vector = |points: Vec<(SeriesLabels, f64)>, f: &dyn Fn(f64) -> Result<f64, QueryError>| {
        points
            .into_iter()
            .map(|(labels, v)| Ok((without_labels(&labels, &["__name__"]), f(v)?)))
            .collect::<Result<Vec<_>, QueryError>>()
            .map(QueryValue::Vector)
    };
    match (lhs, rhs) {
        (QueryValue::Scalar(a), QueryValue::Scalar(b)) => Ok(QueryValue::Scalar(apply(a, b)?)),
        (QueryValue::Vector(points), QueryValue::Scalar(b)) => vector(points, &|a| apply(a, b)),
        (QueryValue::Scalar(a), QueryValue::Vector(points)) => vector(points, &|b| apply(a, b)),
        _ => Err(unsupported(
            "operators between two vectors, or on range vectors",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pull::storage::{series_labels, MemoryStorage, STALE_NAN};

    fn labels(pairs: &[(&str, &str)]) -> SeriesLabels {
        series_labels(
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        )
    }

    fn vector(value: QueryValue) -> Vec<(Vec<(String, String)>, f64)> {
        match value {
            QueryValue::Vector(v) => v.into_iter().map(|(l, v)| (l.to_vec(), v)).collect(),
            other => panic!("not a vector: {other:?}"),
        }
    }

    #[test]
    fn rate_matches_prometheus_on_a_steady_counter() {
        let s = MemoryStorage::default();
        let c = labels(&[("__name__", "c_total"), ("job", "j")]);
        // 1 per second, sampled every 10 s, from t = 10 s to 60 s.
        let samples: Vec<_> = (1..=6)
            .map(|i| (c.clone(), i * 10_000, (i * 10) as f64))
            .collect();
        s.append(&samples);
        let rate = vector(instant_query(&s, "rate(c_total[1m])", 60_000).expect("valid"));
        assert_eq!(rate.len(), 1);
        assert!((rate[0].1 - 1.0).abs() < 1e-9, "{rate:?}");
        assert!(!rate[0].0.iter().any(|(n, _)| n == "__name__"));
        let increase = vector(instant_query(&s, "increase(c_total[1m])", 60_000).expect("valid"));
        assert!((increase[0].1 - 60.0).abs() < 1e-9, "{increase:?}");
    }

    #[test]
    fn counter_resets_are_corrected() {
        let s = MemoryStorage::default();
        let c = labels(&[("__name__", "c_total")]);
        s.append(&[
            (c.clone(), 10_000, 5.0),
            (c.clone(), 20_000, 10.0),
            (c.clone(), 30_000, 2.0),
        ]);
        // 5 -> 10 (+5), reset, 0 -> 2 (+2): 7 over the samples, extrapolated.
        let got = vector(instant_query(&s, "increase(c_total[30s])", 30_000).expect("valid"));
        assert!(got[0].1 > 7.0 && got[0].1 < 11.0, "{got:?}");
    }

    #[test]
    fn stale_markers_end_series_and_lookback_is_five_minutes() {
        let s = MemoryStorage::default();
        let up = labels(&[("__name__", "up"), ("job", "a")]);
        s.append(&[
            (up.clone(), 1_000, 1.0),
            (up.clone(), 2_000, f64::from_bits(STALE_NAN)),
        ]);
        assert!(vector(instant_query(&s, "up", 1_500).expect("valid")).len() == 1);
        assert!(vector(instant_query(&s, "up", 2_500).expect("valid")).is_empty());
        let gauge = labels(&[("__name__", "g")]);
        s.append(&[(gauge, 0, 3.0)]);
        assert_eq!(
            vector(instant_query(&s, "g", 299_999).expect("valid")).len(),
            1
        );
        assert!(vector(instant_query(&s, "g", 300_000).expect("valid")).is_empty());
    }

    #[test]
    fn aggregations_group_by_and_without() {
        let s = MemoryStorage::default();
        s.append(&[
            (
                labels(&[("__name__", "r"), ("m", "GET"), ("c", "200")]),
                1,
                1.0,
            ),
            (
                labels(&[("__name__", "r"), ("m", "GET"), ("c", "500")]),
                1,
                2.0,
            ),
            (
                labels(&[("__name__", "r"), ("m", "POST"), ("c", "200")]),
                1,
                4.0,
            ),
        ]);
        let by = vector(instant_query(&s, "sum by (m) (r)", 10).expect("valid"));
        assert_eq!(
            by,
            vec![
                (vec![("m".into(), "GET".into())], 3.0),
                (vec![("m".into(), "POST".into())], 4.0)
            ]
        );
        let without = vector(instant_query(&s, "max without (m) (r)", 10).expect("valid"));
        assert_eq!(without.len(), 2);
        for (query, expected) in [
            ("count(r)", 3.0),
            ("avg(r{c=~\"2..\"})", 2.5),
            ("min(r{m!=\"GET\"}) * 2", 8.0),
            ("sum(r{c!~\"5..\"})", 5.0),
        ] {
            let result = vector(instant_query(&s, query, 10).expect("valid"));
            assert_eq!(result[0].1, expected, "{query}");
        }
    }

    #[test]
    fn histogram_quantile_interpolates_like_prometheus() {
        let s = MemoryStorage::default();
        for (le, v) in [("0.1", 10.0), ("0.5", 30.0), ("+Inf", 40.0)] {
            s.append(&[(labels(&[("__name__", "h_bucket"), ("le", le)]), 1, v)]);
        }
        let median =
            vector(instant_query(&s, "histogram_quantile(0.5, h_bucket)", 10).expect("valid"));
        // Rank 20 falls in (0.1, 0.5] holding 20 observations, 10 before: 0.1 + 0.4 * 10/20.
        assert!((median[0].1 - 0.3).abs() < 1e-12, "{median:?}");
        let top =
            vector(instant_query(&s, "histogram_quantile(0.99, h_bucket)", 10).expect("valid"));
        assert_eq!(top[0].1, 0.5, "the +Inf bucket answers its lower bound");
    }

    #[test]
    fn extreme_times_give_answers_not_overflows() {
        let s = MemoryStorage::default();
        s.append(&[(labels(&[("__name__", "x")]), 0, 1.0)]);
        assert!(instant_query(&s, "x", i64::MIN).is_ok());
        assert!(instant_query(&s, "rate(x[5m])", i64::MIN).is_ok());
        assert!(
            range_query(&s, "x", i64::MIN, i64::MAX, 1).is_err(),
            "too many points"
        );
        let near_end = range_query(&s, "x", i64::MAX - 10, i64::MAX, 7).expect("valid");
        assert!(near_end.is_empty());
    }

    #[test]
    fn outside_the_subset_the_error_says_what() {
        let s = MemoryStorage::default();
        let err = instant_query(&s, "irate(x[1m])", 0).expect_err("unsupported");
        assert!(err.0.contains("function irate()"), "{err}");
        assert!(instant_query(&s, "x offset 5m", 0)
            .expect_err("unsupported")
            .0
            .contains("offset"));
        assert!(instant_query(&s, "a + b", 0)
            .expect_err("unsupported")
            .0
            .contains("two vectors"));
        assert!(instant_query(&s, "topk(3, x)", 0)
            .expect_err("unsupported")
            .0
            .contains("topk"));
        assert!(
            instant_query(&s, "sum(", 0).is_err(),
            "parse errors are reported"
        );
    }
}
