//! The evaluator: walks a parsed expression at one time as Prometheus 2.42 does (lookback,
//! staleness, `offset` and `@`, subqueries, matching, every function), loading samples
//! through the storage's limited selects and counting every sample it holds against its
//! budget. A range query evaluates each step in turn, sharing what it can between steps
//! (see `preload.rs`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use promql_parser::label::MatchOp;
use promql_parser::parser::token::{T_COUNT, T_SUM};
use promql_parser::parser::{
    AggregateExpr, AtModifier, Expr, Offset, SubqueryExpr, VectorSelector,
};

use super::aggregate::{aggregate, grouping_of, Param};
use super::binary;
use super::preload::{collect_preloadable, Loaded, Preloaded, Window, Windows};
use super::{QueryError, QueryValue, LOOKBACK_MS, MAX_POINTS_PER_SERIES};
use crate::pull::storage::{
    is_stale, Histogram, HistogramSeries, Matcher, SelectError, SelectLimits, Series, SeriesLabels,
    Storage,
};

/// A series and its value at one time.
pub(super) type Sample = (SeriesLabels, f64);

/// The evaluator's hash maps and sets: randomly seeded, and much faster than SipHash on the
/// short keys (labels, addresses) queries hash per sample.
pub(super) type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
pub(super) type Set<T> = HashSet<T, foldhash::fast::RandomState>;

/// A series, the time of its sample, and its value.
type TimedSample = (SeriesLabels, i64, f64);

/// A series and its native histogram at one time.
pub(super) type HistogramSample = (SeriesLabels, Histogram);

/// What an expression evaluates to at one time.
pub(super) enum Value {
    Scalar(f64),
    Vector(Vec<Sample>),
    /// An instant vector with native histogram samples (at least one), and maybe floats.
    Mixed(Vec<Sample>, Vec<HistogramSample>),
    Matrix(Vec<Series>),
    /// A range vector with native histogram series (at least one), and maybe floats.
    MixedMatrix(Vec<Series>, Vec<HistogramSeries>),
    String(String),
}

impl Value {
    /// An instant vector: [`Value::Mixed`] only when it has histograms.
    pub(super) fn vector(floats: Vec<Sample>, histograms: Vec<HistogramSample>) -> Value {
        if histograms.is_empty() {
            Value::Vector(floats)
        } else {
            Value::Mixed(floats, histograms)
        }
    }

    /// The value as operators and functions of floats see it: histogram samples left out.
    fn floats_only(self) -> Value {
        match self {
            Value::Mixed(floats, _) => Value::Vector(floats),
            Value::MixedMatrix(floats, _) => Value::Matrix(floats),
            other => other,
        }
    }
}

/// A range vector argument: the series' samples, and the range they were taken from.
pub(super) struct RangeArg {
    pub(super) series: Vec<(SeriesLabels, Window)>,
    /// The series with native histogram samples in the range, with them.
    pub(super) histograms: Vec<HistogramSeries>,
    pub(super) range_start: i64,
    pub(super) range_end: i64,
}

fn unsupported(what: impl Into<String>) -> QueryError {
    QueryError::Unsupported(what.into())
}

fn invalid(what: impl Into<String>) -> QueryError {
    QueryError::Invalid(what.into())
}

/// The interval of a subquery without a step (Prometheus: the global evaluation interval,
/// 1 minute by default).
const DEFAULT_SUBQUERY_STEP_MS: i64 = 60_000;

/// One query's evaluation: the store, what it may still spend, and the query's own start
/// and end (for `@ start()` and `@ end()`).
pub(super) struct Evaluator<'s> {
    storage: &'s dyn Storage,
    max_samples: usize,
    deadline: Instant,
    timeout: Duration,
    /// Samples held by the step being evaluated.
    held: usize,
    /// Samples kept in a range query's result so far.
    kept: usize,
    start: i64,
    end: i64,
    /// For a range query, each selector's samples over the whole range, loaded once (by the
    /// selector's address in the expression), so that the steps share the work.
    preloaded: Map<usize, Preloaded>,
    /// For a range query, labels without their name by the labels' address (the source kept
    /// alive beside, so the address stays its own): each step reuses them.
    unnamed: Map<usize, (SeriesLabels, SeriesLabels)>,
    /// For a range query, each series' grouping labels by aggregation and labels' address.
    grouped: Map<(usize, usize), (SeriesLabels, SeriesLabels)>,
    /// For a range query, one `Arc` for each labels content the two memos above gave, so
    /// that equal labels are told by address.
    interned: Set<SeriesLabels>,
    /// For a range query, the canonical labels (by address) a function's result had at the
    /// last step, found distinct then.
    checked: Map<usize, Vec<usize>>,
}

/// A selector's key in [`Evaluator::preloaded`].
fn key(vs: &VectorSelector) -> usize {
    std::ptr::from_ref(vs) as usize
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
            start: 0,
            end: 0,
            preloaded: Map::default(),
            unnamed: Map::default(),
            grouped: Map::default(),
            interned: Set::default(),
            checked: Map::default(),
        }
    }

    /// Whether `points` have exactly the canonical labels the node's result had when last
    /// checked (and so are distinct).
    pub(super) fn checked_before(&self, node: usize, points: &[Sample]) -> bool {
        self.checked.get(&node).is_some_and(|addresses| {
            addresses.len() == points.len()
                && addresses
                    .iter()
                    .zip(points)
                    .all(|(a, (labels, _))| *a == Arc::as_ptr(labels).cast::<()>() as usize)
        })
    }

    /// Remembers the canonical labels of a node's result, found distinct.
    pub(super) fn remember_checked(&mut self, node: usize, points: &[Sample]) {
        let addresses = points
            .iter()
            .map(|(labels, _)| Arc::as_ptr(labels).cast::<()>() as usize)
            .collect();
        self.checked.insert(node, addresses);
    }

    /// Whether this is a range query whose labels memos give canonical `Arc`s.
    pub(super) fn canonical(&self) -> bool {
        !self.preloaded.is_empty()
    }

    /// The one `Arc` kept for this content.
    fn intern(&mut self, labels: SeriesLabels) -> SeriesLabels {
        if let Some(existing) = self.interned.get(&labels) {
            return Arc::clone(existing);
        }
        self.interned.insert(Arc::clone(&labels));
        labels
    }

    /// `labels` without `__name__`; in a range query, the same `Arc` at every step.
    pub(super) fn without_name(&mut self, labels: &SeriesLabels) -> SeriesLabels {
        if self.preloaded.is_empty() {
            return drop_name(labels);
        }
        let key = Arc::as_ptr(labels).cast::<()>() as usize;
        if let Some((_, unnamed)) = self.unnamed.get(&key) {
            return Arc::clone(unnamed);
        }
        let unnamed = self.intern(drop_name(labels));
        self.unnamed
            .insert(key, (Arc::clone(labels), Arc::clone(&unnamed)));
        unnamed
    }

    /// Evaluates `expr` at `t` (ms).
    pub(super) fn instant(&mut self, expr: &Expr, t: i64) -> Result<QueryValue, QueryError> {
        self.start = t;
        self.end = t;
        self.step(expr, t)
    }

    fn step(&mut self, expr: &Expr, t: i64) -> Result<QueryValue, QueryError> {
        self.held = 0;
        self.check_deadline()?;
        Ok(match self.eval(expr, t)? {
            Value::Scalar(v) => QueryValue::Scalar(v),
            Value::Vector(v) => QueryValue::Vector(v),
            Value::Mixed(floats, histograms) => QueryValue::MixedVector(floats, histograms),
            Value::Matrix(m) => QueryValue::Matrix(m),
            Value::MixedMatrix(floats, histograms) => QueryValue::MixedMatrix(floats, histograms),
            Value::String(s) => QueryValue::String(s),
        })
    }

    /// Evaluates `expr` at every `step` from `start` to `end` (ms), as a matrix
    /// ([`QueryValue::Matrix`], or [`QueryValue::MixedMatrix`] when it has histograms).
    pub(super) fn range(
        &mut self,
        expr: &Expr,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryValue, QueryError> {
        check_range(start, end, step)?;
        self.start = start;
        self.end = end;
        if start < end {
            self.preload(expr, start, end)?;
        }
        let mut series: Vec<Series> = Vec::new();
        let mut index: Map<SeriesLabels, usize> = Map::default();
        let mut histogram_series: BTreeMap<SeriesLabels, Vec<(i64, Histogram)>> = BTreeMap::new();
        let mut t = start;
        loop {
            let points = match self.step(expr, t)? {
                QueryValue::Scalar(v) => vec![(Arc::from(Vec::new()), v)],
                QueryValue::Vector(points) => points,
                QueryValue::MixedVector(points, histograms) => {
                    self.kept += histograms.len();
                    for (labels, h) in histograms {
                        histogram_series.entry(labels).or_default().push((t, h));
                    }
                    points
                }
                QueryValue::Matrix(_) | QueryValue::MixedMatrix(..) | QueryValue::String(_) => {
                    return Err(invalid(
                        "a range query needs a scalar or instant vector expression",
                    ))
                }
            };
            // The step's points move into the result: held before, kept now.
            self.kept += points.len();
            for (labels, v) in points {
                match index.get(&labels) {
                    Some(&i) => series[i].1.push((t, v)),
                    None => {
                        index.insert(Arc::clone(&labels), series.len());
                        series.push((labels, vec![(t, v)]));
                    }
                }
            }
            match t.checked_add(step) {
                Some(next) if next <= end => t = next,
                _ => break,
            }
        }
        series.sort_by(|a, b| a.0.cmp(&b.0));
        if histogram_series.is_empty() {
            return Ok(QueryValue::Matrix(series));
        }
        Ok(QueryValue::MixedMatrix(
            series,
            histogram_series.into_iter().collect(),
        ))
    }

    /// Loads the samples each selector of `expr` (outside subqueries, and without `@`) reads
    /// over the steps from `start` to `end`, once: the steps then read them from memory. A
    /// selector whose samples do not fit in what the query may hold is read step by step.
    fn preload(&mut self, expr: &Expr, start: i64, end: i64) -> Result<(), QueryError> {
        let mut selectors: Vec<(&VectorSelector, i64)> = Vec::new();
        collect_preloadable(expr, &mut selectors)?;
        for (vs, reach) in selectors {
            if self.preloaded.contains_key(&key(vs)) {
                continue;
            }
            let first = self.reference_time(None, vs.offset.as_ref(), start)?;
            let last = self.reference_time(None, vs.offset.as_ref(), end)?;
            let matchers = matchers(vs)?;
            // A selector of native histograms is read step by step.
            let histograms = self.storage.select_histograms(
                &matchers,
                first.saturating_sub(reach),
                last,
                self.select_limits().max_samples(1),
            );
            match histograms {
                Ok(none) if none.is_empty() => {}
                Ok(_) | Err(SelectError::TooManySamples) => continue,
                Err(e) => return Err(self.select_error(e)),
            }
            let loaded = self.storage.select(
                &matchers,
                first.saturating_sub(reach),
                last,
                self.select_limits(),
            );
            // Held for the whole query; what does not fit is read step by step instead.
            let selected = match loaded {
                Ok(selected) => selected,
                Err(SelectError::TooManySamples) => continue,
                Err(e) => return Err(self.select_error(e)),
            };
            self.kept += selected.iter().map(|(_, s)| s.len()).sum::<usize>();
            let series: Vec<Loaded> = selected
                .into_iter()
                .map(|(labels, samples)| (labels, Arc::from(samples)))
                .collect();
            self.preloaded.insert(key(vs), Preloaded::new(series));
        }
        Ok(())
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

    pub(super) fn eval(&mut self, expr: &Expr, t: i64) -> Result<Value, QueryError> {
        let value = match expr {
            Expr::NumberLiteral(n) => Value::Scalar(n.val),
            Expr::StringLiteral(s) => Value::String(s.val.clone()),
            Expr::Paren(p) => self.eval(&p.expr, t)?,
            Expr::Unary(u) => match self.eval(&u.expr, t)?.floats_only() {
                Value::Scalar(v) => Value::Scalar(-v),
                Value::Vector(points) => Value::Vector(unique(
                    points
                        .into_iter()
                        .map(|(labels, v)| (drop_name(&labels), -v))
                        .collect(),
                )?),
                _ => return Err(invalid("unary minus needs a scalar or an instant vector")),
            },
            Expr::VectorSelector(vs) => {
                let (floats, histograms) = self.selector_all(vs, t)?;
                let floats = floats.into_iter().map(|(labels, _, v)| (labels, v));
                Value::vector(floats.collect(), histograms)
            }
            Expr::MatrixSelector(_) | Expr::Subquery(_) => {
                let range = self.range_arg(expr, t)?;
                let floats = range
                    .series
                    .into_iter()
                    .map(|(labels, window)| (labels, window.to_vec()))
                    .collect();
                if range.histograms.is_empty() {
                    Value::Matrix(floats)
                } else {
                    Value::MixedMatrix(floats, range.histograms)
                }
            }
            Expr::Call(call) => self.call(call, t)?,
            Expr::Aggregate(agg) => self.aggregate(agg, t)?,
            Expr::Binary(b) => {
                let lhs = self.eval(&b.lhs, t)?.floats_only();
                let rhs = self.eval(&b.rhs, t)?.floats_only();
                let op = b.op.id();
                let return_bool = b.modifier.as_ref().is_some_and(|m| m.return_bool);
                match (lhs, rhs) {
                    (Value::Scalar(a), Value::Scalar(b)) => {
                        Value::Scalar(binary::scalars(op, a, b)?)
                    }
                    (Value::Vector(v), Value::Scalar(s)) => Value::Vector(unique(
                        binary::vector_scalar(op, v, s, false, return_bool)?,
                    )?),
                    (Value::Scalar(s), Value::Vector(v)) => {
                        Value::Vector(unique(binary::vector_scalar(op, v, s, true, return_bool)?)?)
                    }
                    (Value::Vector(l), Value::Vector(r)) => {
                        Value::Vector(unique(binary::vectors(op, l, r, b.modifier.as_ref())?)?)
                    }
                    _ => return Err(invalid("operands must be scalars or instant vectors")),
                }
            }
            Expr::Extension(_) => return Err(unsupported("extension expressions")),
        };
        // A computed vector is held beside its inputs (a selector's samples were counted as
        // they were loaded).
        let computed = matches!(
            expr,
            Expr::Unary(_) | Expr::Call(_) | Expr::Aggregate(_) | Expr::Binary(_)
        );
        match (computed, &value) {
            (true, Value::Vector(points)) => self.hold(points.len())?,
            (true, Value::Mixed(points, histograms)) => {
                self.hold(points.len() + histograms.len())?;
            }
            _ => {}
        }
        Ok(value)
    }

    /// Evaluates `expr` to an instant vector, its float samples only.
    pub(super) fn vector_arg(&mut self, expr: &Expr, t: i64) -> Result<Vec<Sample>, QueryError> {
        Ok(self.vector_and_histograms(expr, t)?.0)
    }

    /// Evaluates `expr` to an instant vector: its float and its histogram samples.
    pub(super) fn vector_and_histograms(
        &mut self,
        expr: &Expr,
        t: i64,
    ) -> Result<(Vec<Sample>, Vec<HistogramSample>), QueryError> {
        match self.eval(expr, t)? {
            Value::Vector(points) => Ok((points, Vec::new())),
            Value::Mixed(points, histograms) => Ok((points, histograms)),
            _ => Err(invalid("expected an instant vector")),
        }
    }

    /// Evaluates `expr` to a scalar.
    pub(super) fn scalar_arg(&mut self, expr: &Expr, t: i64) -> Result<f64, QueryError> {
        match self.eval(expr, t)? {
            Value::Scalar(v) => Ok(v),
            _ => Err(invalid("expected a scalar")),
        }
    }

    /// The time a selector or subquery reads at: `@` (or `t`), minus its offset.
    fn reference_time(
        &self,
        at: Option<&AtModifier>,
        offset: Option<&Offset>,
        t: i64,
    ) -> Result<i64, QueryError> {
        let base = match at {
            None => t,
            Some(AtModifier::Start) => self.start,
            Some(AtModifier::End) => self.end,
            Some(AtModifier::At(time)) => system_time_millis(*time)?,
        };
        let shift = match offset {
            None => 0,
            Some(Offset::Pos(d)) => millis(*d)?,
            Some(Offset::Neg(d)) => -millis(*d)?,
        };
        Ok(base.saturating_sub(shift))
    }

    /// The latest sample of each series in `[ref - 5m, ref]`, unless it is a stale marker:
    /// floats `(labels, its time, value)`, and native histograms.
    fn selector_all(
        &mut self,
        vs: &VectorSelector,
        t: i64,
    ) -> Result<(Vec<TimedSample>, Vec<HistogramSample>), QueryError> {
        let reference = self.reference_time(vs.at.as_ref(), vs.offset.as_ref(), t)?;
        if let Some(loaded) = self.preloaded.get_mut(&key(vs)) {
            let from = reference.saturating_sub(LOOKBACK_MS);
            let windows = loaded.windows(from, reference).to_vec();
            let latest: Vec<(SeriesLabels, i64, f64)> = loaded
                .series
                .iter()
                .zip(windows)
                .filter_map(|((labels, samples), (first, end))| {
                    let (at, v) = *samples[first..end].last()?;
                    (!is_stale(v)).then(|| (Arc::clone(labels), at, v))
                })
                .collect();
            self.hold(latest.len())?;
            return Ok((latest, Vec::new()));
        }
        let matchers = matchers(vs)?;
        let from = reference.saturating_sub(LOOKBACK_MS);
        let latest = self
            .storage
            .select_latest(&matchers, from, reference, self.select_limits())
            .map_err(|e| self.select_error(e))?;
        self.hold(latest.len())?;
        let histograms = self
            .storage
            .select_latest_histograms(&matchers, from, reference, self.select_limits())
            .map_err(|e| self.select_error(e))?;
        self.hold(histograms.len())?;
        if histograms.is_empty() {
            let floats = latest.into_iter().filter(|(_, _, v)| !is_stale(*v));
            return Ok((floats.collect(), Vec::new()));
        }
        // A series with both kinds reads its newer one (a float if both have the same time;
        // a stale marker, a float, ends a histogram series).
        let float_at: Map<&SeriesLabels, i64> = latest.iter().map(|(l, at, _)| (l, *at)).collect();
        let histogram_at: Map<&SeriesLabels, i64> =
            histograms.iter().map(|(l, at, _)| (l, *at)).collect();
        let histograms: Vec<HistogramSample> = histograms
            .iter()
            .filter(|(l, at, _)| float_at.get(l).is_none_or(|f| f < at))
            .map(|(l, _, h)| (Arc::clone(l), Arc::clone(h)))
            .collect();
        let floats = latest
            .iter()
            .filter(|(l, at, v)| !is_stale(*v) && histogram_at.get(l).is_none_or(|h| h <= at))
            .cloned()
            .collect();
        Ok((floats, histograms))
    }

    /// The latest float sample of each series in `[ref - 5m, ref]`, unless it is a stale
    /// marker or the series' newest sample is a histogram: `(labels, its time, value)`.
    fn selector_samples(
        &mut self,
        vs: &VectorSelector,
        t: i64,
    ) -> Result<Vec<(SeriesLabels, i64, f64)>, QueryError> {
        Ok(self.selector_all(vs, t)?.0)
    }

    /// The sample times of `timestamp()`'s argument: a selector's own, else `t`.
    pub(super) fn timestamps(
        &mut self,
        expr: &Expr,
        t: i64,
    ) -> Result<Vec<(SeriesLabels, i64)>, QueryError> {
        let mut inner = expr;
        while let Expr::Paren(p) = inner {
            inner = &p.expr;
        }
        if let Expr::VectorSelector(vs) = inner {
            return Ok(self
                .selector_samples(vs, t)?
                .into_iter()
                .map(|(labels, at, _)| (labels, at))
                .collect());
        }
        Ok(self
            .vector_arg(expr, t)?
            .into_iter()
            .map(|(labels, _)| (labels, t))
            .collect())
    }

    /// The labels of series `i` of the preloaded selector `selector`, without the name when
    /// `unnamed` (canonical, and the same `Arc` at every step).
    pub(super) fn preloaded_labels(
        &mut self,
        selector: usize,
        i: usize,
        unnamed: bool,
    ) -> SeriesLabels {
        let Some(loaded) = self.preloaded.get(&selector) else {
            return SeriesLabels::from(Vec::new());
        };
        let labels = Arc::clone(&loaded.series[i].0);
        if !unnamed {
            return labels;
        }
        if let Some(Some(known)) = loaded.unnamed.get(i) {
            return Arc::clone(known);
        }
        let known = self.without_name(&labels);
        if let Some(slot) = self
            .preloaded
            .get_mut(&selector)
            .and_then(|l| l.unnamed.get_mut(i))
        {
            *slot = Some(Arc::clone(&known));
        }
        known
    }

    /// The windows at `t` of a range selector a range query preloaded, if `expr` is one, with
    /// the selector's key.
    pub(super) fn preloaded_windows(
        &mut self,
        expr: &Expr,
        t: i64,
    ) -> Result<Option<(usize, Windows<'_>)>, QueryError> {
        let mut inner = expr;
        while let Expr::Paren(p) = inner {
            inner = &p.expr;
        }
        let Expr::MatrixSelector(ms) = inner else {
            return Ok(None);
        };
        let range = millis(ms.range)?;
        let end = self.reference_time(ms.vs.at.as_ref(), ms.vs.offset.as_ref(), t)?;
        let start = end.saturating_sub(range);
        let Some(loaded) = self.preloaded.get_mut(&key(&ms.vs)) else {
            return Ok(None);
        };
        let held: usize = loaded
            .windows(start, end)
            .iter()
            .map(|(from, to)| to - from)
            .sum();
        self.hold(held)?;
        let selector = key(&ms.vs);
        let loaded = &self.preloaded[&selector];
        Ok(Some((selector, Windows::new(loaded, start, end))))
    }

    /// A range vector argument: a range selector's samples in `[ref - range, ref]` (stale
    /// markers left out), or a subquery's results at its steps.
    pub(super) fn range_arg(&mut self, expr: &Expr, t: i64) -> Result<RangeArg, QueryError> {
        match expr {
            Expr::Paren(p) => self.range_arg(&p.expr, t),
            Expr::MatrixSelector(ms) => {
                let range = millis(ms.range)?;
                let end = self.reference_time(ms.vs.at.as_ref(), ms.vs.offset.as_ref(), t)?;
                let start = end.saturating_sub(range);
                if let Some(loaded) = self.preloaded.get_mut(&key(&ms.vs)) {
                    let windows = loaded.windows(start, end).to_vec();
                    let series: Vec<(SeriesLabels, Window)> = loaded
                        .series
                        .iter()
                        .zip(windows)
                        .filter_map(|((labels, samples), (from, to))| {
                            let window = &samples[from..to];
                            let window = if window.iter().any(|(_, v)| is_stale(*v)) {
                                let kept: Vec<(i64, f64)> = window
                                    .iter()
                                    .filter(|(_, v)| !is_stale(*v))
                                    .copied()
                                    .collect();
                                Window::owned(kept)
                            } else {
                                Window::shared(samples, from, to)
                            };
                            (!window.is_empty()).then(|| (Arc::clone(labels), window))
                        })
                        .collect();
                    self.hold(series.iter().map(|(_, s)| s.len()).sum())?;
                    return Ok(RangeArg {
                        series,
                        histograms: Vec::new(),
                        range_start: start,
                        range_end: end,
                    });
                }
                let matchers = matchers(&ms.vs)?;
                let selected = self
                    .storage
                    .select(&matchers, start, end, self.select_limits())
                    .map_err(|e| self.select_error(e))?;
                self.hold(selected.iter().map(|(_, s)| s.len()).sum())?;
                let series = selected
                    .into_iter()
                    .map(|(labels, mut samples)| {
                        samples.retain(|(_, v)| !is_stale(*v));
                        (labels, Window::owned(samples))
                    })
                    .filter(|(_, samples)| !samples.is_empty())
                    .collect();
                let histograms = self
                    .storage
                    .select_histograms(&matchers, start, end, self.select_limits())
                    .map_err(|e| self.select_error(e))?;
                self.hold(histograms.iter().map(|(_, s)| s.len()).sum())?;
                Ok(RangeArg {
                    series,
                    histograms,
                    range_start: start,
                    range_end: end,
                })
            }
            Expr::Subquery(sq) => self.subquery(sq, t),
            _ => Err(invalid("expected a range vector")),
        }
    }

    /// A subquery: its expression at every step (aligned to the step) in
    /// `[ref - range, ref]`.
    fn subquery(&mut self, sq: &SubqueryExpr, t: i64) -> Result<RangeArg, QueryError> {
        let range = millis(sq.range)?;
        let step = match sq.step {
            Some(step) => millis(step)?,
            None => DEFAULT_SUBQUERY_STEP_MS,
        };
        if step <= 0 {
            return Err(invalid("a subquery step must be positive"));
        }
        let end = self.reference_time(sq.at.as_ref(), sq.offset.as_ref(), t)?;
        let first = end.saturating_sub(range);
        let mut at = step * (first / step);
        if at < first {
            at += step;
        }
        if (end - at) / step > MAX_POINTS_PER_SERIES {
            return Err(QueryError::TooManyPoints);
        }
        let mut series: BTreeMap<SeriesLabels, Vec<(i64, f64)>> = BTreeMap::new();
        let mut histograms: BTreeMap<SeriesLabels, Vec<(i64, Histogram)>> = BTreeMap::new();
        while at <= end {
            self.check_deadline()?;
            match self.eval(&sq.expr, at)? {
                Value::Vector(points) => {
                    for (labels, v) in points {
                        series.entry(labels).or_default().push((at, v));
                    }
                }
                Value::Mixed(points, histogram_points) => {
                    for (labels, v) in points {
                        series.entry(labels).or_default().push((at, v));
                    }
                    for (labels, h) in histogram_points {
                        histograms.entry(labels).or_default().push((at, h));
                    }
                }
                Value::Scalar(v) => series
                    .entry(Arc::from(Vec::new()))
                    .or_default()
                    .push((at, v)),
                _ => return Err(invalid("a subquery needs an instant vector")),
            }
            at += step;
        }
        Ok(RangeArg {
            series: series
                .into_iter()
                .map(|(labels, samples)| (labels, Window::owned(samples)))
                .collect(),
            histograms: histograms.into_iter().collect(),
            range_start: first,
            range_end: end,
        })
    }

    fn aggregate(&mut self, agg: &AggregateExpr, t: i64) -> Result<Value, QueryError> {
        let param = match &agg.param {
            None => Param::None,
            Some(p) => match self.eval(p, t)? {
                Value::Scalar(v) => Param::Number(v),
                Value::String(s) => Param::Label(s),
                _ => {
                    return Err(invalid(format!(
                        "{}'s parameter must be a scalar or a string",
                        agg.op
                    )))
                }
            },
        };
        let (mut vector, histograms) = self.vector_and_histograms(&agg.expr, t)?;
        let modifier = agg.modifier.as_ref();
        let mut summed = Vec::new();
        match agg.op.id() {
            T_SUM if !histograms.is_empty() => {
                summed = sum_histograms(histograms, modifier);
            }
            // Every sample counts, whatever its kind.
            T_COUNT => vector.extend(histograms.into_iter().map(|(labels, _)| (labels, 0.0))),
            // The other aggregations are of floats.
            _ => {}
        }
        let node = std::ptr::from_ref(agg) as usize;
        let remember = self.canonical();
        let (grouped, interned) = (&mut self.grouped, &mut self.interned);
        // In a range query, each series' grouping labels are worked out once, one `Arc` for
        // each content.
        let mut group_of = |labels: &SeriesLabels| {
            if !remember {
                return grouping_of(labels, modifier);
            }
            let key = (node, Arc::as_ptr(labels).cast::<()>() as usize);
            let (_, group) = grouped.entry(key).or_insert_with(|| {
                let group = grouping_of(labels, modifier);
                let group = match interned.get(&group) {
                    Some(existing) => Arc::clone(existing),
                    None => {
                        interned.insert(Arc::clone(&group));
                        group
                    }
                };
                (Arc::clone(labels), group)
            });
            Arc::clone(group)
        };
        let mut floats = aggregate(
            agg.op.id(),
            vector,
            modifier,
            param,
            &mut group_of,
            remember,
        )?;
        if !summed.is_empty() {
            // A group with samples of both kinds has no sum, as in Prometheus.
            let both: Set<SeriesLabels> = floats
                .iter()
                .filter(|(l, _)| summed.iter().any(|(h, _)| h == l))
                .map(|(l, _)| Arc::clone(l))
                .collect();
            floats.retain(|(l, _)| !both.contains(l));
            summed.retain(|(l, _)| !both.contains(l));
        }
        Ok(Value::vector(floats, summed))
    }
}

/// `sum` of native histograms: one histogram per group, groups in the order their first
/// member appears.
fn sum_histograms(
    histograms: Vec<HistogramSample>,
    modifier: Option<&promql_parser::parser::LabelModifier>,
) -> Vec<HistogramSample> {
    let mut groups: Vec<(SeriesLabels, crate::parse::FloatHistogram)> = Vec::new();
    let mut index: Map<SeriesLabels, usize> = Map::default();
    for (labels, h) in histograms {
        let key = grouping_of(&labels, modifier);
        match index.get(&key) {
            Some(&i) => groups[i].1.add(&h),
            None => {
                index.insert(Arc::clone(&key), groups.len());
                groups.push((key, (*h).clone()));
            }
        }
    }
    groups
        .into_iter()
        .map(|(labels, h)| (labels, Arc::new(h)))
        .collect()
}

/// [`unique`] for labels that are canonical (one `Arc` for each content): by address.
pub(super) fn unique_by_address(points: Vec<Sample>) -> Result<Vec<Sample>, QueryError> {
    if points.len() > 1 {
        let mut seen: Set<usize> = Set::with_capacity_and_hasher(points.len(), Default::default());
        if !points
            .iter()
            .all(|(labels, _)| seen.insert(Arc::as_ptr(labels).cast::<()>() as usize))
        {
            return Err(invalid(
                "vector cannot contain metrics with the same labelset",
            ));
        }
    }
    Ok(points)
}

/// Prometheus' check that no two series of a result are the same once labels were changed.
pub(super) fn unique(points: Vec<Sample>) -> Result<Vec<Sample>, QueryError> {
    if points.len() > 1 {
        let mut seen = Set::with_capacity_and_hasher(points.len(), Default::default());
        if !points.iter().all(|(labels, _)| seen.insert(labels)) {
            return Err(invalid(
                "vector cannot contain metrics with the same labelset",
            ));
        }
    }
    Ok(points)
}

/// [`unique`] over an instant vector's float and histogram samples together.
pub(super) fn unique_mixed(
    points: Vec<Sample>,
    histograms: Vec<HistogramSample>,
) -> Result<(Vec<Sample>, Vec<HistogramSample>), QueryError> {
    let mut seen =
        Set::with_capacity_and_hasher(points.len() + histograms.len(), Default::default());
    let labels = points
        .iter()
        .map(|(l, _)| l)
        .chain(histograms.iter().map(|(l, _)| l));
    if !labels.into_iter().all(|l| seen.insert(l)) {
        return Err(invalid(
            "vector cannot contain metrics with the same labelset",
        ));
    }
    drop(seen);
    Ok((points, histograms))
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

pub(super) fn millis(d: Duration) -> Result<i64, QueryError> {
    i64::try_from(d.as_millis()).map_err(|_| QueryError::InvalidDuration(format!("{d:?}")))
}

fn system_time_millis(time: SystemTime) -> Result<i64, QueryError> {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => millis(after),
        Err(before) => millis(before.duration()).map(|m| -m),
    }
}

pub(super) fn matchers(vs: &VectorSelector) -> Result<Vec<Matcher>, QueryError> {
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

/// The labels without `__name__`.
pub(super) fn drop_name(labels: &SeriesLabels) -> SeriesLabels {
    if !labels.iter().any(|(n, _)| n == "__name__") {
        return Arc::clone(labels);
    }
    labels
        .iter()
        .filter(|(n, _)| n != "__name__")
        .cloned()
        .collect::<Vec<_>>()
        .into()
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
        // Prometheus 2.42 looks back 5 minutes, both ends included.
        assert_eq!(
            vector(instant_query(&s, "g", 300_000).expect("valid")).len(),
            1
        );
        assert!(vector(instant_query(&s, "g", 300_001).expect("valid")).is_empty());
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
        assert_eq!(near_end, QueryValue::Matrix(Vec::new()));
    }

    #[test]
    fn errors_say_what_went_wrong() {
        let s = MemoryStorage::default();
        put(&s, &[(labels(&[("__name__", "x"), ("a", "1")]), 0, 1.0)]);
        put(&s, &[(labels(&[("__name__", "y"), ("a", "1")]), 0, 2.0)]);
        let err = |q| instant_query(&s, q, 0).expect_err("an error").to_string();
        assert!(err("{__name__=~\"x|y\"} * 2").contains("same labelset"));
        assert!(err("holt_winters(x[5m], 2, 0.5)").contains("smoothing factor"));
        assert!(err("label_replace(x, \"a-b\", \"\", \"a\", \"\")").contains("destination label"));
        assert!(err("topk(1e30, x)").contains("overflows int64"));
        assert!(
            instant_query(&s, "sum(", 0).is_err(),
            "parse errors are reported"
        );
        assert_eq!(
            instant_query(&s, "\"text\"", 0),
            Ok(QueryValue::String("text".into()))
        );
    }
}
