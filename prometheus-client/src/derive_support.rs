//! What the derive macros build on: the [`Metrics`] trait and [`Global`] instances.

use std::sync::OnceLock;

use crate::{default_registry, RegisterError, Registry};

/// A group of metrics that registers itself: what `#[derive(Metrics)]` implements.
///
/// `Default` builds every metric without registering it (for tests, or code that must not
/// touch a registry); [`register`](Metrics::register) builds and registers them.
pub trait Metrics: Sized + Default {
    /// Creates every metric and registers it in `registry`, with the group's prefix.
    fn register(registry: &Registry) -> Result<Self, RegisterError>;
}

/// A process-wide group of metrics, registered in the [default registry](default_registry)
/// on first use.
///
/// ```
/// use prometheus_client::{Counter, Global, Metrics, Registry, RegisterError};
///
/// #[derive(Default)]
/// struct Jobs {
///     done: Counter,
/// }
///
/// impl Metrics for Jobs {
///     fn register(registry: &Registry) -> Result<Self, RegisterError> {
///         Ok(Jobs { done: registry.register("global_doc_jobs_done", "Jobs done.", Counter::new())? })
///     }
/// }
///
/// static JOBS: Global<Jobs> = Global::new();
///
/// JOBS.get().done.inc();
/// assert!(JOBS.registration_error().is_none());
/// ```
pub struct Global<T> {
    cell: OnceLock<(T, Option<RegisterError>)>,
}

impl<T: Metrics> Global<T> {
    /// An instance not yet created.
    pub const fn new() -> Self {
        Global {
            cell: OnceLock::new(),
        }
    }

    fn init(&self) -> &(T, Option<RegisterError>) {
        self.cell
            .get_or_init(|| match T::register(default_registry()) {
                Ok(metrics) => (metrics, None),
                // Updates must keep working; the error says why nothing is exported.
                Err(e) => (T::default(), Some(e)),
            })
    }

    /// The metrics, created and registered on first use. If registering failed (a name
    /// already taken in the default registry), they work but are not exported; see
    /// [`registration_error`](Self::registration_error).
    pub fn get(&self) -> &T {
        &self.init().0
    }

    /// Why registering failed, if it did.
    pub fn registration_error(&self) -> Option<&RegisterError> {
        self.init().1.as_ref()
    }
}

impl<T: Metrics> Default for Global<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> std::fmt::Debug for Global<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Global")
            .field("initialised", &self.cell.get().is_some())
            .finish()
    }
}
