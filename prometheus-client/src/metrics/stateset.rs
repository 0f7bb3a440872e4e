//! StateSet: a set of named states, each on or off.

use std::fmt;
use std::sync::Arc;

use super::{Metric, TypedMetric};
use crate::encoding::{escape_label_value, ExtraLabel, MetricEncoder};
use crate::sync::{AtomicU64, Ordering};
use crate::MetricType;

/// The most states a [`StateSet`] holds: one bit each in one atomic word.
pub const MAX_STATES: usize = 64;

/// A fixed set of named states, each enabled or not, such as a service's lifecycle phase.
///
/// Exposed as OpenMetrics `stateset` (a gauge in text 0.0.4): one sample per state, labelled
/// with the family's own name, value 1 when enabled. Updates are one atomic operation.
///
/// ```
/// use prometheus_client::{StateSet, Registry, encoding::Format};
///
/// let registry = Registry::new();
/// let phase = registry.register("phase", "Lifecycle phase.", StateSet::new(["starting", "ready"])?)?;
/// phase.set("ready")?;
/// assert_eq!(registry.encode_to_string(Format::OpenMetrics)?, "\
/// ## TYPE phase stateset
/// ## HELP phase Lifecycle phase.
/// phase{phase=\"starting\"} 0
/// phase{phase=\"ready\"} 1
/// ## EOF
/// ");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct StateSet {
    inner: Arc<Inner>,
}

struct Inner {
    names: Box<[Box<str>]>,
    escaped: Box<[Box<str>]>,
    enabled: AtomicU64,
}

/// A problem with a state set's states.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateSetError {
    /// No states, or more than [`MAX_STATES`].
    Count(usize),
    /// The same state twice.
    Duplicate(String),
    /// A state this set does not have.
    Unknown(String),
}

impl fmt::Display for StateSetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateSetError::Count(n) => {
                write!(f, "a state set needs 1 to {MAX_STATES} states, got {n}")
            }
            StateSetError::Duplicate(s) => write!(f, "state {s:?} is given twice"),
            StateSetError::Unknown(s) => write!(f, "no state named {s:?}"),
        }
    }
}

impl std::error::Error for StateSetError {}

impl StateSet {
    /// A set of these states, all disabled.
    pub fn new<S: AsRef<str>>(states: impl IntoIterator<Item = S>) -> Result<Self, StateSetError> {
        let names: Vec<Box<str>> = states.into_iter().map(|s| s.as_ref().into()).collect();
        if names.is_empty() || names.len() > MAX_STATES {
            return Err(StateSetError::Count(names.len()));
        }
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                return Err(StateSetError::Duplicate(name.to_string()));
            }
        }
        let escaped = names
            .iter()
            .map(|n| {
                let mut out = String::new();
                escape_label_value(&mut out, n);
                out.into_boxed_str()
            })
            .collect();
        Ok(StateSet {
            inner: Arc::new(Inner {
                names: names.into(),
                escaped,
                enabled: AtomicU64::new(0),
            }),
        })
    }

    fn bit(&self, state: &str) -> Result<u64, StateSetError> {
        self.inner
            .names
            .iter()
            .position(|n| &**n == state)
            .map(|i| 1 << i)
            .ok_or_else(|| StateSetError::Unknown(state.to_owned()))
    }

    /// Enables `state` and disables every other one.
    pub fn set(&self, state: &str) -> Result<(), StateSetError> {
        let bit = self.bit(state)?;
        self.inner.enabled.store(bit, Ordering::Relaxed);
        Ok(())
    }

    /// Enables or disables one state, leaving the others as they are.
    pub fn set_enabled(&self, state: &str, enabled: bool) -> Result<(), StateSetError> {
        let bit = self.bit(state)?;
        if enabled {
            self.inner.enabled.fetch_or(bit, Ordering::Relaxed);
        } else {
            self.inner.enabled.fetch_and(!bit, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Whether `state` is enabled.
    pub fn is_enabled(&self, state: &str) -> Result<bool, StateSetError> {
        Ok(self.inner.enabled.load(Ordering::Relaxed) & self.bit(state)? != 0)
    }

    /// The states, in the order given.
    pub fn states(&self) -> impl Iterator<Item = &str> {
        self.inner.names.iter().map(|n| &**n)
    }
}

impl fmt::Debug for StateSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bits = self.inner.enabled.load(Ordering::Relaxed);
        f.debug_map()
            .entries(
                self.states()
                    .enumerate()
                    .map(|(i, s)| (s, bits & (1 << i) != 0)),
            )
            .finish()
    }
}

impl Metric for StateSet {
    fn metric_type(&self) -> MetricType {
        MetricType::StateSet
    }
    fn encode(&self, encoder: &mut MetricEncoder<'_>) {
        let bits = self.inner.enabled.load(Ordering::Relaxed);
        for (i, state) in self.inner.escaped.iter().enumerate() {
            let value = (bits >> i) & 1;
            encoder.sample_u64("", ExtraLabel::FamilyName(state), value);
        }
    }
}

impl TypedMetric for StateSet {
    const TYPE: MetricType = MetricType::StateSet;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_checked() {
        assert_eq!(
            StateSet::new(Vec::<&str>::new()).unwrap_err(),
            StateSetError::Count(0)
        );
        assert_eq!(
            StateSet::new(["a", "a"]).unwrap_err(),
            StateSetError::Duplicate("a".into())
        );
        let many: Vec<String> = (0..65).map(|i| i.to_string()).collect();
        assert_eq!(StateSet::new(many).unwrap_err(), StateSetError::Count(65));
        let s = StateSet::new(["a", "b"]).expect("valid");
        assert_eq!(s.set("c"), Err(StateSetError::Unknown("c".into())));
    }

    #[test]
    fn several_states_may_be_enabled() {
        let s = StateSet::new(["read", "write", "exec"]).expect("valid");
        s.set_enabled("read", true).expect("known");
        s.set_enabled("exec", true).expect("known");
        assert_eq!(s.is_enabled("write"), Ok(false));
        assert_eq!(s.is_enabled("exec"), Ok(true));
        s.set("write").expect("known");
        assert_eq!(s.is_enabled("read"), Ok(false));
    }
}
