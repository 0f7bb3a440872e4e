//! The evaluator: walks a parsed expression at one time, loading samples through the
//! storage's limited selects and counting every sample it holds against its budget.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use promql_parser::label::MatchOp;
use promql_parser::parser::token::{
    T_ADD, T_AVG, T_COUNT, T_DIV, T_MAX, T_MIN, T_MUL, T_SUB, T_SUM,
};
use promql_parser::parser::{self, AggregateExpr, Call, Expr, LabelModifier, VectorSelector};

use super::functions::{bucket_quantile, extrapolated_rate};
use super::{QueryError, QueryValue, LOOKBACK_MS, MAX_POINTS_PER_SERIES};
use crate::pull::storage::{
    is_stale, Matcher, SelectError, SelectLimits, Series, SeriesLabels, Storage,
};

fn unsupported(what: impl Into<String>) -> QueryError {
    QueryError::Unsupported(what.into())
}

fn invalid(what: impl Into<String>) -> QueryError {
    QueryError::Invalid(what.into())
}

/// One query's evaluation: the store, and what it may still spend.
pub(super) struct Evaluator<'s> {
    storage: &'s dyn Storage,
    max_samples: usize,
    deadline: Instant,
    timeout: Duration,
    /// Samples held by the step being evaluated.
    held: usize,
    /// Samples kept in a range query's result so far.
    kept: usize,
}

impl<'s> Evaluator<'s> {
    pub(super) fn new(
        storage: &'s dyn Storage,
        max_samples: usize,
        timeout: Duration,
        deadline: Instant,
    ) -> Self {
        Evaluator {
            storage,
            max_samples,
            deadline,
            timeout,
            held: 0,
            kept: 0,
        }
    }

    /// Evaluates `expr` at `t` (ms).
    pub(super) fn instant(&mut self, expr: &Expr, t: i64) -> Result<QueryValue, QueryError> {
        self.held = 0;
        self.check_deadline()?;
        self.eval(expr, t)
    }

    /// Evaluates `expr` at every `step` from `start` to `end` (ms), as a matrix.
    pub(super) fn range(
        &mut self,
        expr: &Expr,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Vec<Series>, QueryError> {
        check_range(start, end, step)?;
        let mut series: BTreeMap<SeriesLabels, Vec<(i64, f64)>> = BTreeMap::new();
        let mut t = start;
        loop {
            let points = match self.instant(expr, t)? {
                QueryValue::Scalar(v) => vec![(Arc::from(Vec::new()), v)],
                QueryValue::Vector(points) => points,
                QueryValue::Matrix(_) => {
                    return Err(invalid(
                        "a range query needs a scalar or instant vector expression",
                    ))
                }
            };
            // The step's points move into the result: held before, kept now.
            self.kept += points.len();
            for (labels, v) in points {
                series.entry(labels).or_default().push((t, v));
            }
            match t.checked_add(step) {
                Some(next) if next <= end => t = next,
                _ => break,
            }
        }
        Ok(series.into_iter().collect())
    }

    fn check_deadline(&self) -> Result<(), QueryError> {
        if Instant::now() >= self.deadline {
            return Err(self.timed_out());
        }
        Ok(())
    }

    fn timed_out(&self) -> QueryError {
        QueryError::Timeout {
            limit: self.timeout,
        }
    }

    fn too_many_samples(&self) -> QueryError {
        QueryError::TooManySamples {
            limit: self.max_samples,
        }
    }

    /// What the next select may return.
    fn select_limits(&self) -> SelectLimits {
        SelectLimits {
            max_samples: self.max_samples.saturating_sub(self.held + self.kept),
            deadline: Some(self.deadline),
        }
    }

    fn select_error(&self, e: SelectError) -> QueryError {
        match e {
            SelectError::TooManySamples => self.too_many_samples(),
            SelectError::Timeout => self.timed_out(),
        }
    }

    /// Counts `n` more samples held by this step.
    fn hold(&mut self, n: usize) -> Result<(), QueryError> {
        self.held += n;
        if self.held.saturating_add(self.kept) > self.max_samples {
            return Err(self.too_many_samples());
        }
        Ok(())
    }

    fn eval(&mut self, expr: &Expr, t: i64) -> Result<QueryValue, QueryError> {
        match expr {
            Expr::NumberLiteral(n) => Ok(QueryValue::Scalar(n.val)),
            Expr::Paren(p) => self.eval(&p.expr, t),
            Expr::Unary(u) => {
                let value = self.eval(&u.expr, t)?;
                arithmetic(T_MUL, value, QueryValue::Scalar(-1.0))
            }
            Expr::VectorSelector(vs) => Ok(QueryValue::Vector(self.instant_vector(vs, t)?)),
            Expr::MatrixSelector(ms) => {
                let range = millis(ms.range)?;
                Ok(QueryValue::Matrix(self.range_vector(&ms.vs, t, range)?))
            }
            Expr::Call(call) => self.eval_call(call, t),
            Expr::Aggregate(agg) => self.eval_aggregate(agg, t),
            Expr::Binary(b) => {
                let lhs = self.eval(&b.lhs, t)?;
                let rhs = self.eval(&b.rhs, t)?;
                arithmetic(b.op.id(), lhs, rhs)
            }
            Expr::StringLiteral(_) => Err(unsupported("string literals")),
            Expr::Subquery(_) => Err(unsupported("subqueries")),
            Expr::Extension(_) => Err(unsupported("extension expressions")),
        }
    }

    /// The latest sample of each series in `(t - 5m, t]`, unless it is a stale marker.
    fn instant_vector(
        &mut self,
        vs: &VectorSelector,
        t: i64,
    ) -> Result<Vec<(SeriesLabels, f64)>, QueryError> {
        let matchers = matchers(vs)?;
        let latest = self
            .storage
            .select_latest(
                &matchers,
                t.saturating_sub(LOOKBACK_MS - 1),
                t,
                self.select_limits(),
            )
            .map_err(|e| self.select_error(e))?;
        self.hold(latest.len())?;
        Ok(latest
            .into_iter()
            .filter(|(_, _, v)| !is_stale(*v))
            .map(|(labels, _, v)| (labels, v))
            .collect())
    }

    /// The samples of each series in `(t - range, t]`, stale markers left out.
    fn range_vector(
        &mut self,
        vs: &VectorSelector,
        t: i64,
        range: i64,
    ) -> Result<Vec<Series>, QueryError> {
        let matchers = matchers(vs)?;
        let start = t.saturating_sub(range).saturating_add(1);
        let selected = self
            .storage
            .select(&matchers, start, t, self.select_limits())
            .map_err(|e| self.select_error(e))?;
        self.hold(selected.iter().map(|(_, s)| s.len()).sum())?;
        Ok(selected
            .into_iter()
            .map(|(labels, mut samples)| {
                samples.retain(|(_, v)| !is_stale(*v));
                (labels, samples)
            })
            .filter(|(_, samples)| !samples.is_empty())
            .collect())
    }

    fn eval_call(&mut self, call: &Call, t: i64) -> Result<QueryValue, QueryError> {
        let name = call.func.name;
        let args = &call.args.args;
        match name {
            "rate" | "increase" => {
                let Some(Expr::MatrixSelector(ms)) = args.first().map(|a| a.as_ref()) else {
                    return Err(invalid(format!("{name} needs a range selector")));
                };
                let range = millis(ms.range)?;
                let series = self.range_vector(&ms.vs, t, range)?;
                let points: Vec<_> = series
                    .into_iter()
                    .filter_map(|(labels, samples)| {
                        let v = extrapolated_rate(
                            &samples,
                            t.saturating_sub(range),
                            t,
                            name == "rate",
                        )?;
                        Some((without_labels(&labels, &["__name__"]), v))
                    })
                    .collect();
                self.hold(points.len())?;
                Ok(QueryValue::Vector(points))
            }
            "histogram_quantile" => {
                let [phi, buckets] = args.as_slice() else {
                    return Err(invalid("histogram_quantile needs two arguments"));
                };
                let QueryValue::Scalar(phi) = self.eval(phi, t)? else {
                    return Err(invalid(
                        "histogram_quantile's first argument must be a scalar",
                    ));
                };
                let QueryValue::Vector(points) = self.eval(buckets, t)? else {
                    return Err(invalid(
                        "histogram_quantile's second argument must be an instant vector",
                    ));
                };
                let groups = bucket_groups(points);
                self.hold(groups.len())?;
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

    fn eval_aggregate(&mut self, agg: &AggregateExpr, t: i64) -> Result<QueryValue, QueryError> {
        let op = agg.op.id();
        let combine: fn(&[f64]) -> f64 = match op {
            T_SUM => |values| values.iter().sum(),
            T_AVG => |values| values.iter().sum::<f64>() / values.len() as f64,
            T_COUNT => |values| values.len() as f64,
            T_MIN => |values| {
                values
                    .iter()
                    .copied()
                    .fold(f64::NAN, |a, b| if a.is_nan() || b < a { b } else { a })
            },
            T_MAX => |values| {
                values
                    .iter()
                    .copied()
                    .fold(f64::NAN, |a, b| if a.is_nan() || b > a { b } else { a })
            },
            _ => return Err(unsupported(format!("aggregation {}", agg.op))),
        };
        if agg.param.is_some() {
            return Err(unsupported(format!(
                "aggregation {} with a parameter",
                agg.op
            )));
        }
        let QueryValue::Vector(points) = self.eval(&agg.expr, t)? else {
            return Err(invalid(format!("{} needs an instant vector", agg.op)));
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
        self.hold(groups.len())?;
        let points = groups
            .into_iter()
            .map(|(labels, values)| (labels, combine(&values)))
            .collect();
        Ok(QueryValue::Vector(points))
    }
}

/// A range query's bounds, checked as Prometheus' API checks them.
fn check_range(start: i64, end: i64, step: i64) -> Result<(), QueryError> {
    if step <= 0 {
        return Err(invalid(
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    if end < start {
        return Err(invalid("end timestamp must not be before start time"));
    }
    if (end as i128 - start as i128) / step as i128 > i128::from(MAX_POINTS_PER_SERIES) {
        return Err(QueryError::TooManyPoints);
    }
    Ok(())
}

fn millis(d: Duration) -> Result<i64, QueryError> {
    i64::try_from(d.as_millis()).map_err(|_| QueryError::InvalidDuration(format!("{d:?}")))
}

pub(super) fn matchers(vs: &VectorSelector) -> Result<Vec<Matcher>, QueryError> {
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

fn without_labels(labels: &SeriesLabels, drop: &[&str]) -> SeriesLabels {
    labels
        .iter()
        .filter(|(n, _)| !drop.contains(&n.as_str()))
        .cloned()
        .collect::<Vec<_>>()
        .into()
}

/// Bucket series grouped by their labels without `__name__` and `le`, as `(le, count)`.
fn bucket_groups(points: Vec<(SeriesLabels, f64)>) -> BTreeMap<SeriesLabels, Vec<(f64, f64)>> {
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
    groups
}

fn arithmetic(
    op: parser::token::TokenId,
    lhs: QueryValue,
    rhs: QueryValue,
) -> Result<QueryValue, QueryError> {
    let apply: fn(f64, f64) -> f64 = match op {
        T_ADD => |a, b| a + b,
        T_SUB => |a, b| a - b,
        T_MUL => |a, b| a * b,
        T_DIV => |a, b| a / b,
        other => {
            return Err(unsupported(format!(
                "operator {}",
                parser::token::TokenType::new(other)
            )))
        }
    };
    let vector = |points: Vec<(SeriesLabels, f64)>, f: &dyn Fn(f64) -> f64| {
        QueryValue::Vector(
            points
                .into_iter()
                .map(|(labels, v)| (without_labels(&labels, &["__name__"]), f(v)))
                .collect(),
        )
    };
    match (lhs, rhs) {
        (QueryValue::Scalar(a), QueryValue::Scalar(b)) => Ok(QueryValue::Scalar(apply(a, b))),
        (QueryValue::Vector(points), QueryValue::Scalar(b)) => Ok(vector(points, &|a| apply(a, b))),
        (QueryValue::Scalar(a), QueryValue::Vector(points)) => Ok(vector(points, &|b| apply(a, b))),
        _ => Err(unsupported(
            "operators between two vectors, or on range vectors",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(s: &MemoryStorage, samples: &[(SeriesLabels, i64, f64)]) {
        s.append(samples).expect("within the series limit");
    }
    use crate::pull::query::{instant_query, range_query};
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
        put(&s, &samples);
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
        put(
            &s,
            &[
                (c.clone(), 10_000, 5.0),
                (c.clone(), 20_000, 10.0),
                (c.clone(), 30_000, 2.0),
            ],
        );
        // 5 -> 10 (+5), reset, 0 -> 2 (+2): 7 over the samples, extrapolated.
        let got = vector(instant_query(&s, "increase(c_total[30s])", 30_000).expect("valid"));
        assert!(got[0].1 > 7.0 && got[0].1 < 11.0, "{got:?}");
    }

    #[test]
    fn stale_markers_end_series_and_lookback_is_five_minutes() {
        let s = MemoryStorage::default();
        let up = labels(&[("__name__", "up"), ("job", "a")]);
        put(
            &s,
            &[
                (up.clone(), 1_000, 1.0),
                (up.clone(), 2_000, f64::from_bits(STALE_NAN)),
            ],
        );
        assert!(vector(instant_query(&s, "up", 1_500).expect("valid")).len() == 1);
        assert!(vector(instant_query(&s, "up", 2_500).expect("valid")).is_empty());
        let gauge = labels(&[("__name__", "g")]);
        put(&s, &[(gauge, 0, 3.0)]);
        assert_eq!(
            vector(instant_query(&s, "g", 299_999).expect("valid")).len(),
            1
        );
        assert!(vector(instant_query(&s, "g", 300_000).expect("valid")).is_empty());
    }

    #[test]
    fn aggregations_group_by_and_without() {
        let s = MemoryStorage::default();
        put(
            &s,
            &[
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
            ],
        );
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
            put(
                &s,
                &[(labels(&[("__name__", "h_bucket"), ("le", le)]), 1, v)],
            );
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
        put(&s, &[(labels(&[("__name__", "x")]), 0, 1.0)]);
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
        let err = |q| {
            instant_query(&s, q, 0)
                .expect_err("unsupported")
                .to_string()
        };
        assert!(err("irate(x[1m])").contains("function irate()"));
        assert!(err("x offset 5m").contains("offset"));
        assert!(err("a + b").contains("two vectors"));
        assert!(err("topk(3, x)").contains("topk"));
        assert!(
            instant_query(&s, "sum(", 0).is_err(),
            "parse errors are reported"
        );
    }
}
