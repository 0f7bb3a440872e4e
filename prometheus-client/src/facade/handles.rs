//! The handles the `metrics` macros record through, backed by this library's metrics.

use std::sync::Arc;

use metrics::{CounterFn, GaugeFn, HistogramFn};
use parking_lot::Mutex;

use crate::{Counter, Gauge, Histogram};

/// A cached handle for one `metrics` key.
#[derive(Clone)]
pub(super) enum Handle {
    Counter(Arc<AbsoluteCounter>),
    Gauge(Arc<Gauge<f64>>),
    Histogram(Arc<Histogram>),
    /// For what could not be exposed: records nothing.
    Noop,
}

impl Handle {
    pub(super) fn counter(self) -> metrics::Counter {
        match self {
            Handle::Counter(c) => metrics::Counter::from_arc(c),
            _ => metrics::Counter::noop(),
        }
    }

    pub(super) fn gauge(self) -> metrics::Gauge {
        match self {
            Handle::Gauge(g) => metrics::Gauge::from_arc(g),
            _ => metrics::Gauge::noop(),
        }
    }

    pub(super) fn histogram(self) -> metrics::Histogram {
        match self {
            Handle::Histogram(h) => metrics::Histogram::from_arc(h),
            _ => metrics::Histogram::noop(),
        }
    }
}

/// A counter that can also be set to an absolute value (`metrics`' `absolute`, for counters
/// mirrored from elsewhere): it moves up to the value, never down. Absolute updates of one
/// counter are serialized, so two racing ones never add twice.
pub(super) struct AbsoluteCounter {
    counter: Counter,
    absolute: Mutex<()>,
}

impl AbsoluteCounter {
    pub(super) fn new(counter: Counter) -> Self {
        AbsoluteCounter {
            counter,
            absolute: Mutex::new(()),
        }
    }
}

impl CounterFn for AbsoluteCounter {
    fn increment(&self, value: u64) {
        self.counter.inc_by(value);
    }

    fn absolute(&self, value: u64) {
        let _serialized = self.absolute.lock();
        let current = self.counter.get();
        if value > current {
            self.counter.inc_by(value - current);
        }
    }
}

impl GaugeFn for Gauge<f64> {
    fn increment(&self, value: f64) {
        self.add(value);
    }

    fn decrement(&self, value: f64) {
        self.sub(value);
    }

    fn set(&self, value: f64) {
        Gauge::set(self, value);
    }
}

impl HistogramFn for Histogram {
    fn record(&self, value: f64) {
        self.observe(value);
    }
}
