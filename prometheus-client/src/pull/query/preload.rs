//! What a range query shares between its steps: each selector's samples loaded once for the
//! whole range, each series' window moved forward from step to step (the steps go forward in
//! time), and read in place.

use std::sync::Arc;

use promql_parser::parser::{Expr, VectorSelector};

use super::eval::millis;
use super::{QueryError, LOOKBACK_MS};
use crate::pull::storage::{is_stale, SeriesLabels};

/// Part of a series' samples, shared with what a range query loaded, not copied.
#[derive(Clone)]
pub(super) struct Window {
    samples: Arc<[(i64, f64)]>,
    from: usize,
    to: usize,
}

impl Window {
    /// A window over `samples[from..to]`, shared.
    pub(super) fn shared(samples: &Arc<[(i64, f64)]>, from: usize, to: usize) -> Window {
        Window {
            samples: Arc::clone(samples),
            from,
            to,
        }
    }

    /// A window over samples of its own.
    pub(super) fn owned(samples: Vec<(i64, f64)>) -> Window {
        let to = samples.len();
        Window {
            samples: samples.into(),
            from: 0,
            to,
        }
    }
}

impl std::ops::Deref for Window {
    type Target = [(i64, f64)];

    fn deref(&self) -> &[(i64, f64)] {
        &self.samples[self.from..self.to]
    }
}

/// One step's windows of a preloaded selector, to compute over in place.
pub(super) struct Windows<'p> {
    loaded: &'p Preloaded,
    start: i64,
    end: i64,
}

impl<'p> Windows<'p> {
    pub(super) fn new(loaded: &'p Preloaded, start: i64, end: i64) -> Windows<'p> {
        Windows { loaded, start, end }
    }

    /// `f` of each series' samples in the window (stale markers left out), where it has any
    /// and `f` gives a value: with the series' index.
    pub(super) fn compute(
        &self,
        mut f: impl FnMut(&[(i64, f64)], i64, i64) -> Option<f64>,
    ) -> Vec<(usize, f64)> {
        let mut out = Vec::with_capacity(self.loaded.series.len());
        let mut filtered = Vec::new();
        for (i, ((_, samples), (from, to))) in self
            .loaded
            .series
            .iter()
            .zip(&self.loaded.cursors)
            .enumerate()
        {
            let mut window = &samples[*from..*to];
            if window.iter().any(|(_, v)| is_stale(*v)) {
                filtered.clear();
                filtered.extend(window.iter().filter(|(_, v)| !is_stale(*v)));
                window = &filtered;
            }
            if window.is_empty() {
                continue;
            }
            if let Some(v) = f(window, self.start, self.end) {
                out.push((i, v));
            }
        }
        out
    }
}

/// A series as a range query loads it: its samples shared by the steps.
pub(super) type Loaded = (SeriesLabels, Arc<[(i64, f64)]>);

/// A selector's samples for a whole range query, and where the last step's window was in
/// each series: the steps go forward in time, so each window is found by moving on from the
/// last one, reading the samples in order, not by searching them again.
pub(super) struct Preloaded {
    pub(super) series: Vec<Loaded>,
    cursors: Vec<(usize, usize)>,
    last_start: i64,
    /// Each series' labels without the name (canonical), once asked for.
    pub(super) unnamed: Vec<Option<SeriesLabels>>,
}

impl Preloaded {
    pub(super) fn new(series: Vec<Loaded>) -> Preloaded {
        Preloaded {
            cursors: vec![(0, 0); series.len()],
            unnamed: vec![None; series.len()],
            series,
            last_start: i64::MIN,
        }
    }

    /// Each series' window `[start, end]` as index ranges.
    pub(super) fn windows(&mut self, start: i64, end: i64) -> &[(usize, usize)] {
        if start < self.last_start {
            self.cursors.iter_mut().for_each(|c| *c = (0, 0));
        }
        self.last_start = start;
        for ((_, samples), (from, to)) in self.series.iter().zip(self.cursors.iter_mut()) {
            while *from < samples.len() && samples[*from].0 < start {
                *from += 1;
            }
            *to = (*to).max(*from);
            while *to < samples.len() && samples[*to].0 <= end {
                *to += 1;
            }
        }
        &self.cursors
    }
}

/// The selectors of `expr` a range query can load once, with how far before each step they
/// read (the lookback, or the range): not those with `@` (read at one time anyway) nor those
/// in subqueries (read at the subquery's own steps).
pub(super) fn collect_preloadable<'e>(
    expr: &'e Expr,
    out: &mut Vec<(&'e VectorSelector, i64)>,
) -> Result<(), QueryError> {
    match expr {
        Expr::VectorSelector(vs) if vs.at.is_none() => out.push((vs, LOOKBACK_MS)),
        Expr::MatrixSelector(ms) if ms.vs.at.is_none() => out.push((&ms.vs, millis(ms.range)?)),
        Expr::Aggregate(a) => {
            collect_preloadable(&a.expr, out)?;
            if let Some(p) = &a.param {
                collect_preloadable(p, out)?;
            }
        }
        Expr::Unary(u) => collect_preloadable(&u.expr, out)?,
        Expr::Binary(b) => {
            collect_preloadable(&b.lhs, out)?;
            collect_preloadable(&b.rhs, out)?;
        }
        Expr::Paren(p) => collect_preloadable(&p.expr, out)?,
        Expr::Call(c) => {
            for arg in &c.args.args {
                collect_preloadable(arg, out)?;
            }
        }
        _ => {}
    }
    Ok(())
}
