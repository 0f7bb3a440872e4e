//! Exemplars: a reference (such as a trace id) kept beside a counter or a histogram bucket,
//! with the value and time it was recorded, so a dashboard can jump from a latency bucket to
//! a trace that landed in it.
//!
//! Only the latest exemplar of each counter and bucket is kept. Its labels are rendered when
//! it is recorded, into a buffer the slot keeps (no allocation once it is as large as the
//! longest labels so far); the plain `inc` and `observe` paths never touch it.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::sync::OnceLock;

use parking_lot::Mutex;

use super::created::now_seconds;
use crate::labels::{render_reusing, LabelError, LabelSet};
use crate::MetricType;

/// The most characters an exemplar's label names and values may have together, as
/// OpenMetrics fixes it.
pub const MAX_EXEMPLAR_CHARS: usize = 128;

/// The latest exemplar of a counter or a histogram bucket.
///
/// ```
/// use prometheus_client::Counter;
/// let requests = Counter::new();
/// requests.inc_with_exemplar(&[("trace_id", "4bf92f3577b34da6")])?;
/// let exemplar = requests.exemplar().expect("recorded");
/// assert_eq!(exemplar.labels(), "trace_id=\"4bf92f3577b34da6\"");
/// assert_eq!(exemplar.value(), 1.0);
/// # Ok::<(), prometheus_client::ExemplarError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Exemplar {
    labels: String,
    value: f64,
    timestamp: f64,
}

impl Exemplar {
    /// The labels, rendered as they are exposed (`trace_id="abc"`, sorted by name).
    pub fn labels(&self) -> &str {
        &self.labels
    }

    /// The value recorded with it: a counter's increment, a histogram's observation.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// When it was recorded, in seconds since the Unix epoch.
    pub fn timestamp(&self) -> f64 {
        self.timestamp
    }
}

/// Why an exemplar was refused. Nothing was recorded, not even the increment or the
/// observation it came with: the caller decides what to do without it.
///
/// ```
/// use prometheus_client::{Counter, ExemplarError};
/// let c = Counter::new();
/// let long = "x".repeat(130);
/// assert_eq!(
///     c.inc_with_exemplar(&[("trace_id", long.as_str())]),
///     Err(ExemplarError::TooLong { chars: 138 })
/// );
/// assert_eq!(c.get(), 0);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ExemplarError {
    /// The label names and values have more than [`MAX_EXEMPLAR_CHARS`] characters together.
    TooLong {
        /// How many they have.
        chars: usize,
    },
    /// A label name is invalid or given twice.
    Labels(LabelError),
    /// The labels have no names (a positional set such as `&["abc"]`); use pairs or a
    /// derived `LabelSet`.
    Unnamed,
    /// A counter cannot be increased by a negative or NaN amount.
    InvalidIncrement(f64),
}

impl fmt::Display for ExemplarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExemplarError::TooLong { chars } => write!(
                f,
                "exemplar labels have {chars} characters, more than the {MAX_EXEMPLAR_CHARS} OpenMetrics allows"
            ),
            ExemplarError::Labels(e) => write!(f, "exemplar labels: {e}"),
            ExemplarError::Unnamed => f.write_str("exemplar labels need names"),
            ExemplarError::InvalidIncrement(v) => {
                write!(f, "a counter cannot be increased by {v}")
            }
        }
    }
}

impl std::error::Error for ExemplarError {}

/// Labels rendered and checked, ready to be stored.
#[derive(Clone, Copy)]
pub(crate) struct CheckedLabels<'a>(&'a str);

/// A thread's buffers for rendering exemplar labels: the output, and each named label.
type Buffers = (String, Vec<(String, String)>);

thread_local! {
    /// Each thread renders exemplar labels into buffers of its own, reused.
    static BUFFERS: RefCell<Buffers> = const { RefCell::new((String::new(), Vec::new())) };
}

/// Renders and checks `labels`, then calls `f` with them.
pub(crate) fn with_checked_labels<L: LabelSet + ?Sized, R>(
    labels: &L,
    f: impl FnOnce(CheckedLabels<'_>) -> R,
) -> Result<R, ExemplarError> {
    BUFFERS.with(|buffers| {
        let (out, named) = std::mem::take(&mut *buffers.borrow_mut());
        let (rendered, named) =
            render_reusing(labels, &[], (MetricType::Unknown, false), out, named);
        let (result, out) = match rendered {
            Ok(rendered) => {
                let chars = label_chars(&rendered);
                let result = if chars > MAX_EXEMPLAR_CHARS {
                    Err(ExemplarError::TooLong { chars })
                } else {
                    Ok(f(CheckedLabels(&rendered)))
                };
                (result, rendered)
            }
            Err(LabelError::WrongCount { .. }) => (Err(ExemplarError::Unnamed), String::new()),
            Err(e) => (Err(ExemplarError::Labels(e)), String::new()),
        };
        *buffers.borrow_mut() = (out, named);
        result
    })
}

/// The characters of the names and (unescaped) values of rendered labels, which is what
/// OpenMetrics limits: `name="value",…` without the quotes, `=`, commas and escapes.
fn label_chars(rendered: &str) -> usize {
    let mut chars = 0;
    let mut in_value = false;
    let mut escaped = false;
    for c in rendered.chars() {
        if in_value {
            if escaped {
                escaped = false;
                chars += 1;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_value = false;
            } else {
                chars += 1;
            }
        } else if c == '"' {
            in_value = true;
        } else if c != '=' && c != ',' {
            chars += 1;
        }
    }
    chars
}

/// Where one exemplar is kept: allocated at the first exemplar, so metrics that never get
/// one pay a pointer.
#[derive(Default)]
pub(crate) struct ExemplarSlot(OnceLock<Box<Mutex<Option<Exemplar>>>>);

impl ExemplarSlot {
    pub(crate) fn set(&self, labels: CheckedLabels<'_>, value: f64) {
        let slot = self.0.get_or_init(Box::default);
        store(&mut slot.lock(), labels, value);
    }

    pub(crate) fn get(&self) -> Option<Exemplar> {
        self.0.get().and_then(|slot| slot.lock().clone())
    }

    /// Calls `f` with the exemplar, if there is one, without copying it.
    pub(crate) fn with<R>(&self, f: impl FnOnce(Option<&Exemplar>) -> R) -> R {
        match self.0.get() {
            Some(slot) => f(slot.lock().as_ref()),
            None => f(None),
        }
    }
}

/// One exemplar slot per histogram bucket, allocated at the first exemplar.
#[derive(Default)]
pub(crate) struct ExemplarSlots(OnceLock<Box<[Mutex<Option<Exemplar>>]>>);

impl ExemplarSlots {
    pub(crate) fn set(&self, buckets: usize, bucket: usize, labels: CheckedLabels<'_>, value: f64) {
        let slots = self
            .0
            .get_or_init(|| (0..buckets).map(|_| Mutex::new(None)).collect());
        if let Some(slot) = slots.get(bucket) {
            store(&mut slot.lock(), labels, value);
        }
    }

    /// A copy of each bucket's exemplar.
    pub(crate) fn get(&self, buckets: usize) -> Vec<Option<Exemplar>> {
        match self.0.get() {
            Some(slots) => slots.iter().map(|slot| slot.lock().clone()).collect(),
            None => vec![None; buckets],
        }
    }

    /// Calls `f` with bucket `bucket`'s exemplar, if there is one, without copying it.
    pub(crate) fn with<R>(&self, bucket: usize, f: impl FnOnce(Option<&Exemplar>) -> R) -> R {
        match self.0.get().and_then(|slots| slots.get(bucket)) {
            Some(slot) => f(slot.lock().as_ref()),
            None => f(None),
        }
    }
}

/// The latest exemplars of a native histogram, at most a given number (the oldest goes
/// first); allocated at the first exemplar.
#[derive(Default)]
pub(crate) struct ExemplarRing(OnceLock<Box<Mutex<VecDeque<Exemplar>>>>);

impl ExemplarRing {
    /// Keeps this exemplar, dropping the oldest when `capacity` are kept already.
    pub(crate) fn push(&self, capacity: usize, labels: CheckedLabels<'_>, value: f64) {
        if capacity == 0 {
            return;
        }
        let ring = self.0.get_or_init(Box::default);
        let mut ring = ring.lock();
        // The oldest one's storage is reused.
        let mut slot = if ring.len() >= capacity {
            ring.pop_front()
        } else {
            None
        };
        store(&mut slot, labels, value);
        ring.extend(slot);
    }

    /// A copy of the exemplars kept, oldest first.
    pub(crate) fn get(&self) -> Vec<Exemplar> {
        self.0
            .get()
            .map_or_else(Vec::new, |ring| ring.lock().iter().cloned().collect())
    }
}

fn store(slot: &mut Option<Exemplar>, labels: CheckedLabels<'_>, value: f64) {
    let timestamp = now_seconds();
    match slot {
        Some(exemplar) => {
            exemplar.labels.clear();
            exemplar.labels.push_str(labels.0);
            exemplar.value = value;
            exemplar.timestamp = timestamp;
        }
        None => {
            *slot = Some(Exemplar {
                labels: labels.0.to_owned(),
                value,
                timestamp,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_are_counted_as_openmetrics_counts_them() {
        assert_eq!(label_chars("trace_id=\"abc\""), 11);
        assert_eq!(label_chars("a=\"x\\\"y\",b=\"é,=\""), 8);
        assert_eq!(label_chars(""), 0);
    }

    #[test]
    fn labels_are_checked_and_limited() {
        let ok = with_checked_labels(&[("b", "2"), ("a", "1")], |l| l.0.to_owned());
        assert_eq!(ok, Ok("a=\"1\",b=\"2\"".to_owned()));
        let at_limit = "x".repeat(120);
        assert!(with_checked_labels(&[("trace_id", at_limit.as_str())], |_| ()).is_ok());
        let over = "x".repeat(121);
        assert_eq!(
            with_checked_labels(&[("trace_id", over.as_str())], |_| ()),
            Err(ExemplarError::TooLong { chars: 129 })
        );
        assert_eq!(
            with_checked_labels(&["abc"], |_| ()),
            Err(ExemplarError::Unnamed)
        );
        assert!(matches!(
            with_checked_labels(&[("bad-name", "x")], |_| ()),
            Err(ExemplarError::Labels(_))
        ));
        let emoji = "🦀".repeat(128);
        assert_eq!(
            with_checked_labels(&[("t", emoji.as_str())], |_| ()),
            Err(ExemplarError::TooLong { chars: 129 })
        );
    }
}
