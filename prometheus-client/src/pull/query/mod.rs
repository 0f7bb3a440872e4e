//! Evaluating PromQL over a [`Storage`]: the subset a round-trip test needs, the way
//! Prometheus computes it, within limits that keep one query from taking the process down.
//! Expressions are parsed with `promql-parser`; anything outside the subset gets an error that
//! names what is not supported.
//!
//! Supported: selectors with `=`, `!=`, `=~`, `!~` (5-minute lookback; a stale marker ends a
//! series), range selectors, `rate`, `increase`, `histogram_quantile`, `sum`, `avg`, `min`,
//! `max`, `count` with `by`/`without`, number literals, unary minus, and `+ - * /` where one
//! side is a scalar.
//!
//! Every query runs on a thread of its own whose stack is sized for the longest query text
//! allowed ([`QueryLimits::max_length`]), so no text can overflow it: a query is checked for
//! its length and its durations before it is parsed, and for its depth before it is
//! evaluated. Evaluation counts the samples it holds ([`QueryLimits::max_samples`]) and
//! stops at its deadline ([`QueryLimits::timeout`]); a panic fails that query alone.

mod engine;
mod eval;
mod functions;
mod guard;

use std::fmt;
use std::time::Duration;

pub use engine::QueryEngine;
pub(crate) use engine::QueryTime;

use super::storage::{Series, SeriesLabels, Storage};

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
    /// Samples per series, from a range selector or a range query.
    Matrix(Vec<Series>),
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
    /// Depth of the expression tree: each function call, aggregation, operator, parenthesis
    /// and unary minus is one level (default 1,000).
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

    fn max_length(&self) -> usize {
        self.max_length.min(Self::MAX_LENGTH_CAP)
    }

    /// The query thread's stack: room for the parser on the longest text allowed (about
    /// 250 bytes per byte of text for the deepest shapes in a debug build, 50 in release),
    /// and for evaluation at the depth allowed.
    fn stack_size(&self) -> usize {
        (8 << 20) + 320 * self.max_length()
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

/// Evaluates `query` at every `step` from `start` to `end` (ms), as a matrix, with default
/// limits.
///
/// ```
/// use prometheus_client::pull::{range_query, MemoryStorage};
/// let storage = MemoryStorage::default();
/// let series = range_query(&storage, "2", 0, 30_000, 15_000)?;
/// assert_eq!(series[0].1, [(0, 2.0), (15_000, 2.0), (30_000, 2.0)]);
/// # Ok::<(), prometheus_client::pull::QueryError>(())
/// ```
pub fn range_query(
    storage: &dyn Storage,
    query: &str,
    start: i64,
    end: i64,
    step: i64,
) -> Result<Vec<Series>, QueryError> {
    QueryEngine::new(QueryLimits::default()).range(storage, query, start, end, step)
}
