//! Evaluating PromQL over a [`Storage`] as Prometheus 2.42 computes it, within limits that
//! keep one query from taking the process down. Expressions are parsed with
//! `promql-parser`; anything Prometheus 2.42 does not have gets an error that names it.
//!
//! Native histogram samples are values of their own ([`QueryValue::MixedVector`],
//! [`QueryValue::MixedMatrix`]): `rate`, `increase`, `delta`, `sum`, `count` and the
//! `histogram_*` functions take them; operators and the functions of floats see only float
//! samples.
//!
//! Every query runs on a thread of its own whose stack is sized for the longest query text
//! allowed ([`QueryLimits::max_length`]), so no text can overflow it: a query is checked for
//! its length and its durations before it is parsed, and for its depth before it is
//! evaluated. Evaluation counts the samples it holds ([`QueryLimits::max_samples`]) and
//! stops at its deadline ([`QueryLimits::timeout`]); a panic fails that query alone.

mod aggregate;
mod binary;
mod engine;
mod eval;
mod functions;
mod guard;
mod native;
mod preload;

use std::fmt;
use std::time::Duration;

pub use engine::QueryEngine;
pub(crate) use engine::QueryTime;

use super::storage::{Histogram, HistogramSeries, Series, SeriesLabels, Storage};

/// How far back an instant selector looks for a sample, as Prometheus' default.
pub const LOOKBACK_MS: i64 = 5 * 60 * 1000;

/// Points one series of a range query may have at most, as in Prometheus.
pub const MAX_POINTS_PER_SERIES: i64 = 11_000;

/// A query's result.
#[derive(Clone, Debug, PartialEq)]
pub enum QueryValue {
    /// A single number.
    Scalar(f64),
    /// One value per series (labels sorted, `__name__` kept only where Prometheus keeps it).
    Vector(Vec<(SeriesLabels, f64)>),
    /// An instant vector with native histogram samples (at least one): its float samples
    /// and its histogram samples.
    MixedVector(Vec<(SeriesLabels, f64)>, Vec<(SeriesLabels, Histogram)>),
    /// Samples per series, from a range selector or a range query.
    Matrix(Vec<Series>),
    /// A range vector with native histogram series (at least one): its float series and its
    /// histogram series.
    MixedMatrix(Vec<Series>, Vec<HistogramSeries>),
    /// A string literal.
    String(String),
}

/// What bounds one query. Defaults are Prometheus' where it has one (`query.max-samples`,
/// `query.timeout`, `query.max-concurrency`), and bound the memory and time of one query.
///
/// ```
/// use std::time::Duration;
/// use prometheus_client::pull::QueryLimits;
/// let limits = QueryLimits { max_samples: 1_000_000, timeout: Duration::from_secs(10), ..Default::default() };
/// assert_eq!(limits.max_length, 64 * 1024);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueryLimits {
    /// Samples one query may hold in memory at once: those it has loaded for the step it
    /// evaluates plus those of its result (default 50,000,000, Prometheus'
    /// `query.max-samples`; about 16 bytes each).
    pub max_samples: usize,
    /// Bytes of query text (default 64 KiB; at most 1 MiB is honoured). The query thread's
    /// stack is sized from it: 8 MiB plus 320 bytes per byte of text, reserved, not touched
    /// unless a query needs it.
    pub max_length: usize,
    /// Depth of the expression (default 1,000), checked twice: before parsing, on a bound
    /// read from the text (the query itself, each open bracket, and each operator, binary or
    /// unary, within its bracket count one level: `-(-1)` is 4), and after parsing, on the
    /// tree itself.
    pub max_depth: usize,
    /// How long a query may take, its wait for a free slot included (default 2 minutes,
    /// Prometheus' `query.timeout`).
    pub timeout: Duration,
    /// Queries evaluated at once; more wait for a slot within their timeout (default 20,
    /// Prometheus' `query.max-concurrency`).
    pub max_concurrency: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            max_samples: 50_000_000,
            max_length: 64 * 1024,
            max_depth: 1_000,
            timeout: Duration::from_secs(120),
            max_concurrency: 20,
        }
    }
}

impl QueryLimits {
    /// The most `max_length` honours: beyond it the query thread's stack would be huge.
    pub const MAX_LENGTH_CAP: usize = 1 << 20;

    fn length_cap(&self) -> usize {
        self.max_length.min(Self::MAX_LENGTH_CAP)
    }

    /// The query thread's stack: room for the parser on the longest text allowed (about
    /// 250 bytes per byte of text for the deepest shapes in a debug build, 50 in release),
    /// and for evaluation at the depth allowed.
    fn stack_size(&self) -> usize {
        (8 << 20) + 320 * self.length_cap()
    }
}

/// Why a query gave no result. Each kind maps to the HTTP status and `errorType` Prometheus
/// answers with ([`status`](QueryError::status), [`error_type`](QueryError::error_type)).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueryError {
    /// The text is not PromQL (the parser's message).
    Parse(String),
    /// The text is longer than [`QueryLimits::max_length`].
    TooLong {
        /// Its length in bytes.
        length: usize,
        /// The limit.
        limit: usize,
    },
    /// The expression nests deeper than [`QueryLimits::max_depth`].
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// A duration (a range, an offset, a subquery step) that is not a finite number of
    /// seconds a millisecond clock can count.
    InvalidDuration(String),
    /// Valid PromQL this server does not evaluate.
    Unsupported(String),
    /// Valid PromQL applied to the wrong kind of value (a range vector where an instant
    /// vector belongs, and the like), or a range query's bounds out of order.
    Invalid(String),
    /// A range query asks for more than [`MAX_POINTS_PER_SERIES`] points per series.
    TooManyPoints,
    /// Evaluating it would hold more than [`QueryLimits::max_samples`] samples.
    TooManySamples {
        /// The limit.
        limit: usize,
    },
    /// It took longer than [`QueryLimits::timeout`].
    Timeout {
        /// The limit.
        limit: Duration,
    },
    /// The evaluation panicked; the query failed, nothing else did.
    Panicked,
    /// No thread could be started for it.
    Unavailable(String),
}

impl QueryError {
    /// The HTTP status Prometheus answers this error with.
    ///
    /// ```
    /// use prometheus_client::pull::QueryError;
    /// assert_eq!(QueryError::TooManySamples { limit: 10 }.status(), 422);
    /// assert_eq!(QueryError::Parse("bad".into()).status(), 400);
    /// ```
    pub fn status(&self) -> u16 {
        match self {
            QueryError::TooManySamples { .. } => 422,
            QueryError::Timeout { .. } | QueryError::Unavailable(_) => 503,
            QueryError::Panicked => 500,
            _ => 400,
        }
    }

    /// The `errorType` of Prometheus' JSON error answer.
    pub fn error_type(&self) -> &'static str {
        match self {
            QueryError::TooManySamples { .. } => "execution",
            QueryError::Timeout { .. } => "timeout",
            QueryError::Panicked => "internal",
            QueryError::Unavailable(_) => "unavailable",
            _ => "bad_data",
        }
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::Parse(e) => write!(f, "invalid query: {e}"),
            QueryError::TooLong { length, limit } => {
                write!(f, "query of {length} bytes is longer than the limit of {limit}")
            }
            QueryError::TooDeep { limit } => {
                write!(f, "query nests deeper than the limit of {limit} levels")
            }
            QueryError::InvalidDuration(text) => write!(
                f,
                "invalid duration {text:?}: not a finite number of seconds below 2^63 milliseconds"
            ),
            QueryError::Unsupported(what) => write!(f, "unsupported in this pull server: {what}"),
            QueryError::Invalid(what) => f.write_str(what),
            QueryError::TooManyPoints => write!(
                f,
                "exceeded maximum resolution of {MAX_POINTS_PER_SERIES} points per timeseries. Try decreasing the query resolution (?step=XX)"
            ),
            // Prometheus' own words, which clients match on.
            QueryError::TooManySamples { .. } => f.write_str(
                "query processing would load too many samples into memory in query execution",
            ),
            QueryError::Timeout { .. } => f.write_str("query timed out in expression evaluation"),
            QueryError::Panicked => f.write_str("unexpected error: the query evaluation panicked"),
            QueryError::Unavailable(why) => write!(f, "cannot evaluate queries now: {why}"),
        }
    }
}

impl std::error::Error for QueryError {}

/// Evaluates `query` at time `at` (ms) with default limits.
///
/// ```
/// use prometheus_client::pull::{instant_query, MemoryStorage, QueryValue};
/// let storage = MemoryStorage::default();
/// assert_eq!(instant_query(&storage, "1 + 2", 0)?, QueryValue::Scalar(3.0));
/// # Ok::<(), prometheus_client::pull::QueryError>(())
/// ```
pub fn instant_query(
    storage: &dyn Storage,
    query: &str,
    at: i64,
) -> Result<QueryValue, QueryError> {
    QueryEngine::new(QueryLimits::default()).instant(storage, query, at)
}

/// Evaluates `query` at every `step` from `start` to `end` (ms), as a matrix
/// ([`QueryValue::Matrix`], or [`QueryValue::MixedMatrix`] when it has native histograms),
/// with default limits.
///
/// ```
/// use prometheus_client::pull::{range_query, MemoryStorage, QueryValue};
/// let storage = MemoryStorage::default();
/// let QueryValue::Matrix(series) = range_query(&storage, "2", 0, 30_000, 15_000)? else {
///     unreachable!("no histograms here");
/// };
/// assert_eq!(series[0].1, [(0, 2.0), (15_000, 2.0), (30_000, 2.0)]);
/// # Ok::<(), prometheus_client::pull::QueryError>(())
/// ```
pub fn range_query(
    storage: &dyn Storage,
    query: &str,
    start: i64,
    end: i64,
    step: i64,
) -> Result<QueryValue, QueryError> {
    QueryEngine::new(QueryLimits::default()).range(storage, query, start, end, step)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::pull::storage::{
        series_labels, AppendError, AppendStats, Histogram, HistogramSeries, Matcher,
        MemoryStorage, SelectError, SelectLimits,
    };

    fn store(series: usize, samples: i64) -> MemoryStorage {
        let s = MemoryStorage::default();
        for i in 0..series {
            let labels = series_labels(vec![
                ("__name__".into(), "m".into()),
                ("i".into(), i.to_string()),
            ]);
            let batch: Vec<_> = (0..samples)
                .map(|t| (Arc::clone(&labels), t * 1000, 1.0))
                .collect();
            s.append(&batch).expect("within the series limit");
        }
        s
    }

    fn engine(limits: QueryLimits) -> QueryEngine {
        QueryEngine::new(limits)
    }

    #[test]
    fn hostile_texts_get_errors_not_crashes() {
        let s = store(1, 1);
        let e = engine(QueryLimits::default());
        let deep = format!("{}m", "-".repeat(30_000));
        assert_eq!(
            e.instant(&s, &deep, 0),
            Err(QueryError::TooDeep { limit: 1_000 })
        );
        let nested = format!("{}m{}", "sum(".repeat(12_000), ")".repeat(12_000));
        assert_eq!(
            e.instant(&s, &nested, 0),
            Err(QueryError::TooDeep { limit: 1_000 })
        );
        let long = "m".repeat(64 * 1024 + 1);
        assert!(matches!(
            e.instant(&s, &long, 0),
            Err(QueryError::TooLong { .. })
        ));
        for text in [
            "m offset Inf",
            "m offset NaN",
            "m[1e30]",
            "rate(m[5m])[1e300:]",
        ] {
            assert!(
                matches!(e.instant(&s, text, 0), Err(QueryError::InvalidDuration(_))),
                "{text}"
            );
        }
        assert_eq!(
            e.instant(&s, "m", 0).map(|v| v != QueryValue::Scalar(0.0)),
            Ok(true)
        );
    }

    #[test]
    fn samples_held_are_counted_against_the_limit() {
        let s = store(100, 60);
        let limited = |max_samples| {
            engine(QueryLimits {
                max_samples,
                ..Default::default()
            })
        };
        // An instant selector holds one sample per series.
        assert!(limited(100).instant(&s, "m", 59_000).is_ok());
        assert_eq!(
            limited(99).instant(&s, "m", 59_000),
            Err(QueryError::TooManySamples { limit: 99 })
        );
        // A range selector holds all of them; sum() one more per group.
        assert_eq!(
            limited(5_999).instant(&s, "sum(rate(m[1m]))", 59_000),
            Err(QueryError::TooManySamples { limit: 5_999 })
        );
        // A range query keeps every point of its result.
        // 10 steps of 100 points: 900 kept and 100 held at the last.
        assert!(limited(1_000).range(&s, "m", 50_000, 59_000, 1_000).is_ok());
        assert!(matches!(
            limited(999).range(&s, "m", 50_000, 59_000, 1_000),
            Err(QueryError::TooManySamples { limit: 999 })
        ));
        let error = QueryError::TooManySamples { limit: 1 };
        assert_eq!(
            (
                error.status(),
                error.error_type(),
                error.to_string().as_str()
            ),
            (
                422,
                "execution",
                "query processing would load too many samples into memory in query execution"
            )
        );
    }

    #[test]
    fn a_query_stops_at_its_deadline() {
        let s = store(10, 10);
        let e = engine(QueryLimits {
            timeout: Duration::from_nanos(1),
            ..Default::default()
        });
        let error = e.instant(&s, "sum(m)", 0).expect_err("timed out");
        assert_eq!(
            error,
            QueryError::Timeout {
                limit: Duration::from_nanos(1)
            }
        );
        assert_eq!((error.status(), error.error_type()), (503, "timeout"));
    }

    /// A store whose selects panic, or take a while.
    struct Awkward {
        delay: Duration,
    }

    impl Storage for Awkward {
        fn append_observed(
            &self,
            _: &[(SeriesLabels, i64, f64)],
            _: &[(SeriesLabels, i64, Histogram)],
            _: &mut dyn FnMut(usize),
        ) -> Result<AppendStats, AppendError> {
            Ok(AppendStats::default())
        }
        fn series_count(&self) -> usize {
            0
        }
        fn select(
            &self,
            _: &[Matcher],
            _: i64,
            _: i64,
            _: SelectLimits,
        ) -> Result<Vec<Series>, SelectError> {
            panic!("a storage bug");
        }
        fn select_latest(
            &self,
            _: &[Matcher],
            _: i64,
            _: i64,
            _: SelectLimits,
        ) -> Result<Vec<(SeriesLabels, i64, f64)>, SelectError> {
            std::thread::sleep(self.delay);
            Ok(Vec::new())
        }
        fn select_histograms(
            &self,
            _: &[Matcher],
            _: i64,
            _: i64,
            _: SelectLimits,
        ) -> Result<Vec<HistogramSeries>, SelectError> {
            Ok(Vec::new())
        }
        fn select_latest_histograms(
            &self,
            _: &[Matcher],
            _: i64,
            _: i64,
            _: SelectLimits,
        ) -> Result<Vec<(SeriesLabels, i64, Histogram)>, SelectError> {
            Ok(Vec::new())
        }
        fn series(&self, _: &[Matcher], _: i64, _: i64) -> Vec<SeriesLabels> {
            Vec::new()
        }
        fn label_names(&self) -> Vec<String> {
            Vec::new()
        }
        fn label_values(&self, _: &str) -> Vec<String> {
            Vec::new()
        }
        fn drop_before(&self, _: i64) {}
    }

    #[test]
    fn a_panic_fails_its_query_alone() {
        let s = Awkward {
            delay: Duration::ZERO,
        };
        let e = engine(QueryLimits::default());
        assert_eq!(e.instant(&s, "rate(m[1m])", 0), Err(QueryError::Panicked));
        assert_eq!(e.instant(&s, "m", 0), Ok(QueryValue::Vector(Vec::new())));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queries_beyond_the_concurrency_limit_wait_within_their_timeout() {
        let storage: Arc<dyn Storage> = Arc::new(Awkward {
            delay: Duration::from_millis(400),
        });
        let e = Arc::new(engine(QueryLimits {
            max_concurrency: 1,
            timeout: Duration::from_millis(250),
            ..Default::default()
        }));
        let run = |e: Arc<QueryEngine>| {
            let storage = Arc::clone(&storage);
            async move {
                let started = Instant::now();
                let result = e
                    .run(storage, "m".into(), QueryTime::Instant { at: 0 }, |r| {
                        r.is_ok()
                    })
                    .await;
                (result, started.elapsed())
            }
        };
        let (first, second) = tokio::join!(run(Arc::clone(&e)), run(Arc::clone(&e)));
        // Both time out: one in its slow select, the other waiting for the one slot; the
        // answers come at the deadline, not when the slow select ends.
        for (result, took) in [first, second] {
            assert!(
                matches!(result, Err(QueryError::Timeout { .. })),
                "{result:?}"
            );
            assert!(took < Duration::from_millis(390), "{took:?}");
        }
    }
}
