//! Where queries run: each on a thread of its own, with a stack sized for the longest text
//! allowed, under a concurrency limit and a deadline, a panic failing that query alone.

use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use tokio::sync::{oneshot, Semaphore};

use promql_parser::parser::{Expr, VectorSelector};

use super::eval::{matchers, Evaluator};
use super::guard::{check_depth, check_text};
use super::{QueryError, QueryLimits, QueryValue};
use crate::pull::storage::{Matcher, SeriesLabels, Storage};

/// What to evaluate a query text for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum QueryTime {
    /// At one time (ms).
    Instant { at: i64 },
    /// At every `step` from `start` to `end` (ms).
    Range { start: i64, end: i64, step: i64 },
}

/// Evaluates queries within [`QueryLimits`]. The pull server's API runs every query through
/// one; use one of your own to query a store with other limits.
///
/// ```
/// use prometheus_client::pull::{MemoryStorage, QueryEngine, QueryError, QueryLimits};
/// let engine = QueryEngine::new(QueryLimits { max_depth: 4, ..Default::default() });
/// let storage = MemoryStorage::default();
/// assert!(engine.instant(&storage, "-(-1)", 0).is_ok());
/// assert_eq!(
///     engine.instant(&storage, "-(-(-1))", 0),
///     Err(QueryError::TooDeep { limit: 4 })
/// );
/// ```
#[derive(Debug)]
pub struct QueryEngine {
    limits: QueryLimits,
    slots: Arc<Semaphore>,
}

impl QueryEngine {
    /// An engine with these limits.
    pub fn new(limits: QueryLimits) -> Self {
        let slots = limits.max_concurrency.clamp(1, Semaphore::MAX_PERMITS);
        QueryEngine {
            limits,
            slots: Arc::new(Semaphore::new(slots)),
        }
    }

    /// Its limits.
    pub fn limits(&self) -> &QueryLimits {
        &self.limits
    }

    /// Evaluates `query` at `at` (ms), on a query thread; the calling thread waits.
    pub fn instant(
        &self,
        storage: &dyn Storage,
        query: &str,
        at: i64,
    ) -> Result<QueryValue, QueryError> {
        self.on_scoped_thread(storage, query, QueryTime::Instant { at })
    }

    /// Evaluates `query` at every `step` from `start` to `end` (ms), as a matrix, on a query
    /// thread; the calling thread waits.
    pub fn range(
        &self,
        storage: &dyn Storage,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryValue, QueryError> {
        self.on_scoped_thread(storage, query, QueryTime::Range { start, end, step })
    }

    fn on_scoped_thread(
        &self,
        storage: &dyn Storage,
        query: &str,
        time: QueryTime,
    ) -> Result<QueryValue, QueryError> {
        let deadline = Instant::now() + self.limits.timeout;
        let limits = &self.limits;
        self.scoped(|| evaluate(storage, query, time, limits, deadline))
    }

    /// Runs `job` on a query thread and waits for it; a panic becomes
    /// [`QueryError::Panicked`].
    fn scoped<R: Send>(
        &self,
        job: impl FnOnce() -> Result<R, QueryError> + Send,
    ) -> Result<R, QueryError> {
        thread::scope(|scope| {
            query_thread(&self.limits)
                .spawn_scoped(scope, move || catch_unwind(AssertUnwindSafe(job)))
                .map_err(|e| QueryError::Unavailable(e.to_string()))?
                .join()
                .map_or(Err(QueryError::Panicked), |r| {
                    r.unwrap_or(Err(QueryError::Panicked))
                })
        })
    }

    /// The matchers of every series selector in `query`, parsed on a query thread; the
    /// calling thread waits. See [`PullServer::query_exemplars`](crate::pull::PullServer::query_exemplars).
    pub(crate) fn selectors_now(&self, query: &str) -> Result<Vec<Vec<Matcher>>, QueryError> {
        let limits = self.limits;
        self.scoped(|| parse_selectors(query, &limits))
    }

    /// Evaluates `query` on a query thread once a slot is free, and calls `render` with the
    /// result there too, so a large result is turned into its answer where it was made.
    pub(crate) async fn run<R: Send + 'static>(
        &self,
        storage: Arc<dyn Storage>,
        query: String,
        time: QueryTime,
        render: impl FnOnce(Result<QueryValue, QueryError>) -> R + Send + 'static,
    ) -> Result<R, QueryError> {
        let limits = self.limits;
        self.on_query_thread(move |deadline| {
            render(evaluate(storage.as_ref(), &query, time, &limits, deadline))
        })
        .await
    }

    /// The labels of the series any of `selectors` matches with samples in `[start, end]`,
    /// as `/api/v1/series` answers; each selector is checked and parsed as a query is.
    pub(crate) async fn series(
        &self,
        storage: Arc<dyn Storage>,
        selectors: Vec<String>,
        start: i64,
        end: i64,
    ) -> Result<Vec<SeriesLabels>, QueryError> {
        let limits = self.limits;
        self.on_query_thread(move |_| {
            let mut found = BTreeSet::new();
            for selector in &selectors {
                check_text(selector, limits.length_cap(), limits.max_depth)?;
                let expr = parse(selector)?;
                let Expr::VectorSelector(vs) = &expr else {
                    return Err(QueryError::Invalid(format!(
                        "{selector:?} is not a series selector"
                    )));
                };
                found.extend(storage.series(&matchers(vs)?, start, end));
            }
            Ok(found.into_iter().collect())
        })
        .await?
    }

    /// The matchers of every series selector in `query` (checked and parsed as a query is),
    /// for `/api/v1/query_exemplars`, as Prometheus finds the series whose exemplars to
    /// return.
    pub(crate) async fn selectors(&self, query: String) -> Result<Vec<Vec<Matcher>>, QueryError> {
        let limits = self.limits;
        self.on_query_thread(move |_| parse_selectors(&query, &limits))
            .await?
    }

    /// Runs `job` on a query thread once a slot is free. The wait for a slot counts towards
    /// the timeout; a job past its deadline stops at its next check and holds its slot until
    /// then, so no more than `max_concurrency` ever run.
    async fn on_query_thread<R: Send + 'static>(
        &self,
        job: impl FnOnce(Instant) -> R + Send + 'static,
    ) -> Result<R, QueryError> {
        let deadline = Instant::now() + self.limits.timeout;
        let timed_out = || QueryError::Timeout {
            limit: self.limits.timeout,
        };
        let slot =
            tokio::time::timeout_at(deadline.into(), Arc::clone(&self.slots).acquire_owned())
                .await
                .map_err(|_| timed_out())?
                .map_err(|_| QueryError::Unavailable("the engine is closed".into()))?;
        let (send, receive) = oneshot::channel();
        query_thread(&self.limits)
            .spawn(move || {
                let result = catch_unwind(AssertUnwindSafe(|| job(deadline)))
                    .map_err(|_| QueryError::Panicked);
                drop(slot);
                let _ = send.send(result);
            })
            .map_err(|e| QueryError::Unavailable(e.to_string()))?;
        match tokio::time::timeout_at(deadline.into(), receive).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(QueryError::Panicked),
            Err(_) => Err(timed_out()),
        }
    }
}

fn query_thread(limits: &QueryLimits) -> thread::Builder {
    thread::Builder::new()
        .name("promql-query".into())
        .stack_size(limits.stack_size())
}

/// Checks, parses and evaluates a query on the current thread, which must have the stack
/// [`QueryLimits::stack_size`] provides. The parsed tree is dropped here too.
fn evaluate(
    storage: &dyn Storage,
    text: &str,
    time: QueryTime,
    limits: &QueryLimits,
    deadline: Instant,
) -> Result<QueryValue, QueryError> {
    check_text(text, limits.length_cap(), limits.max_depth)?;
    let expr = parse(text)?;
    check_depth(&expr, limits.max_depth)?;
    let mut evaluator = Evaluator::new(storage, limits.max_samples, limits.timeout, deadline);
    match time {
        QueryTime::Instant { at } => evaluator.instant(&expr, at),
        QueryTime::Range { start, end, step } => evaluator.range(&expr, start, end, step),
    }
}

/// Parses a query, with Prometheus 2.42's `holt_winters` known to the parser (which follows
/// Prometheus 3, where it became `double_exponential_smoothing`).
fn parse(text: &str) -> Result<Expr, QueryError> {
    static REGISTERED: std::sync::Once = std::sync::Once::new();
    REGISTERED.call_once(|| {
        use promql_parser::parser::function::{register_extra_functions, Function};
        use promql_parser::parser::value::ValueType;
        let holt_winters = Function::new(
            "holt_winters",
            vec![ValueType::Matrix, ValueType::Scalar, ValueType::Scalar],
            0,
            ValueType::Vector,
            false,
        );
        // Only fails if a later parser made it a built-in, which is then what is used.
        let _ = register_extra_functions(vec![holt_winters]);
    });
    promql_parser::parser::parse(text).map_err(QueryError::Parse)
}

/// Checks and parses `query` as a query is, and gives the matchers of its series selectors.
fn parse_selectors(query: &str, limits: &QueryLimits) -> Result<Vec<Vec<Matcher>>, QueryError> {
    check_text(query, limits.length_cap(), limits.max_depth)?;
    let expr = parse(query)?;
    check_depth(&expr, limits.max_depth)?;
    let mut selectors = Vec::new();
    collect_selectors(&expr, &mut selectors);
    selectors.into_iter().map(matchers).collect()
}

/// Every vector selector in `expr` (those inside range selectors too).
fn collect_selectors<'e>(expr: &'e Expr, out: &mut Vec<&'e VectorSelector>) {
    match expr {
        Expr::VectorSelector(vs) => out.push(vs),
        Expr::MatrixSelector(ms) => out.push(&ms.vs),
        Expr::Aggregate(a) => {
            collect_selectors(&a.expr, out);
            if let Some(p) = &a.param {
                collect_selectors(p, out);
            }
        }
        Expr::Unary(u) => collect_selectors(&u.expr, out),
        Expr::Binary(b) => {
            collect_selectors(&b.lhs, out);
            collect_selectors(&b.rhs, out);
        }
        Expr::Paren(p) => collect_selectors(&p.expr, out),
        Expr::Subquery(s) => collect_selectors(&s.expr, out),
        Expr::Call(c) => c.args.args.iter().for_each(|a| collect_selectors(a, out)),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}
