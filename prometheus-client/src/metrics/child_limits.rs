//! Bounds on a family's children: a cap on how many there are, and expiry of idle ones.
//!
//! The cap is checked only when a child would be created, under the lock that creation takes
//! anyway, so lookups of existing children cost what they did. Expiry works by sweeps: a
//! sweep (at a scrape, or when a child is created, at most every half idle time) counts up
//! the family's sweep number and makes every thread's next lookup of each child go through
//! the shared map, which stamps the child with that number. A child whose stamp is three or
//! more sweeps old was not used since before the sweep two back, so for at least the idle
//! time; the sweep removes it. Nothing compares values or reads a clock on the lookup path.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::sync::{AtomicU64, Ordering};
use crate::Counter;

/// What a family with a child limit does with a label set that would make one child too
/// many.
///
/// ```
/// use prometheus_client::{Counter, Family, Overflow};
/// let by_user = Family::<[String; 1], Counter>::new(["user"])
///     .with_max_children(2, Overflow::FoldInto("other".into()));
/// for user in ["ann", "bob", "cy", "dee"] {
///     by_user.with(&[user], Counter::inc);
/// }
/// assert_eq!(by_user.with(&["other"], Counter::get), 2); // cy and dee
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// The label set gets no child: updates through it go nowhere and are counted in
    /// [`Family::refused`](crate::Family::refused) (and, once the family is registered, in
    /// the registry's `prometheus_client_family_children_refused_total{family}`).
    Refuse,
    /// The label set's updates go to one overflow child whose every label has this value (a
    /// family of named label sets gets the single label `overflow`). It does not count
    /// towards the limit and never expires.
    FoldInto(String),
}

/// What a lookup that would create a child gets.
pub(super) enum Admission<'a> {
    /// Room for one more child.
    Create,
    /// No room: the overflow child, whose labels all have this value.
    Fold(&'a str),
    /// No room, and no overflow child.
    Refuse,
}

/// A family's bounds and what they refused.
pub(super) struct ChildLimits<M> {
    cap: OnceLock<(usize, Overflow)>,
    expiry: OnceLock<Expiry>,
    /// The sweep number children are stamped with when used.
    sweeps: AtomicU64,
    refused: AtomicU64,
    /// The registry's count of this family's refusals, once registered.
    refused_counter: OnceLock<Counter>,
    /// What refused lookups update: one metric, exported nowhere.
    detached: OnceLock<M>,
}

/// A sweep under way.
pub(super) struct Sweep {
    /// The stamp at or below which children have been idle for the idle time (none before
    /// the third sweep).
    pub(super) idle_up_to: Option<u64>,
}

struct Expiry {
    idle: Duration,
    last_sweep: Mutex<Instant>,
}

impl<M> ChildLimits<M> {
    pub(super) fn new() -> Self {
        ChildLimits {
            cap: OnceLock::new(),
            expiry: OnceLock::new(),
            sweeps: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            refused_counter: OnceLock::new(),
            detached: OnceLock::new(),
        }
    }

    /// Sets the cap, unless it was set before.
    pub(super) fn set_cap(&self, max: usize, overflow: Overflow) {
        let _ = self.cap.set((max, overflow));
    }

    /// Sets the idle time, unless it was set before.
    pub(super) fn set_expiry(&self, idle: Duration) {
        let _ = self.expiry.set(Expiry {
            idle,
            last_sweep: Mutex::new(Instant::now()),
        });
    }

    pub(super) fn is_capped(&self) -> bool {
        self.cap.get().is_some()
    }

    /// The stamp a child used now gets.
    #[inline]
    pub(super) fn stamp(&self) -> u64 {
        self.sweeps.load(Ordering::Relaxed)
    }

    /// Whether a family with `children` children (the overflow child not counted) may make
    /// another, and if not, what instead.
    pub(super) fn admit(&self, children: usize) -> Admission<'_> {
        match self.cap.get() {
            Some((max, overflow)) if children >= *max => match overflow {
                Overflow::Refuse => Admission::Refuse,
                Overflow::FoldInto(value) => Admission::Fold(value),
            },
            _ => Admission::Create,
        }
    }

    /// Counts a refusal and gives the metric refused lookups update.
    pub(super) fn refuse(&self, construct: impl FnOnce() -> M) -> &M {
        self.refused.fetch_add(1, Ordering::Relaxed);
        if let Some(counter) = self.refused_counter.get() {
            counter.inc();
        }
        self.detached.get_or_init(construct)
    }

    pub(super) fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Counts refusals in `counter` too, from now on.
    pub(super) fn count_refusals_in(&self, counter: Counter) {
        let _ = self.refused_counter.set(counter);
    }

    /// Starts a sweep if one is due.
    pub(super) fn sweep_due(&self) -> Option<Sweep> {
        let expiry = self.expiry.get()?;
        let mut last = expiry.last_sweep.try_lock()?;
        let now = Instant::now();
        if now.duration_since(*last) < expiry.idle / 2 {
            return None;
        }
        *last = now;
        let sweep = self.sweeps.fetch_add(1, Ordering::Relaxed) + 1;
        Some(Sweep {
            idle_up_to: sweep.checked_sub(3),
        })
    }
}
