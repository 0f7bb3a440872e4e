//! The process's own metrics, with client_golang's names and meanings.
//!
//! [`register`] adds these families to a registry, each read from `/proc` when a scrape
//! encodes it:
//!
//! | family | type | from |
//! |---|---|---|
//! | `process_cpu_seconds_total` | counter | user and system time in `/proc/self/stat` |
//! | `process_open_fds` | gauge | entries of `/proc/self/fd` |
//! | `process_max_fds` | gauge | soft `Max open files` in `/proc/self/limits` |
//! | `process_virtual_memory_bytes` | gauge | `vsize` in `/proc/self/stat` |
//! | `process_virtual_memory_max_bytes` | gauge | soft `Max address space` in `/proc/self/limits` |
//! | `process_resident_memory_bytes` | gauge | `rss` pages in `/proc/self/stat` × page size |
//! | `process_start_time_seconds` | gauge | `starttime` in `/proc/self/stat` + `btime` of `/proc/stat` |
//! | `process_threads` | gauge | `num_threads` in `/proc/self/stat` |
//! | `process_network_receive_bytes_total` | counter | `IpExt InOctets` in `/proc/self/net/netstat` |
//! | `process_network_transmit_bytes_total` | counter | `IpExt OutOctets` in `/proc/self/net/netstat` |
//!
//! As in client_golang, an unlimited limit is written as 2⁶⁴ − 1 and the network families
//! (which count the process's network namespace) are only registered where the file exists.
//! Each file is read into a buffer kept between scrapes, so after the first scrape reading
//! allocates nothing. A value `/proc` cannot give at a scrape (the file went away) is left out
//! of that scrape; the family's other values are unaffected.
//!
//! On systems other than Linux there is no `/proc`: [`register`] registers nothing and
//! returns `Ok`.
//!
//! ```
//! use prometheus_client::{encoding::Format, Registry};
//!
//! let registry = Registry::new();
//! prometheus_client::process::register(&registry)?;
//! let text = registry.encode_to_string(Format::Text)?;
//! # #[cfg(target_os = "linux")]
//! assert!(text.contains("\nprocess_threads "));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
mod proc_files;

use crate::{RegisterError, Registry};

/// Registers the process families in `registry` (see the [module](self) for the list).
///
/// Fails only as [`Registry::register`] does, when `registry` already has a family of one
/// of these names (for instance when called twice).
///
/// ```
/// use prometheus_client::{process, Registry};
///
/// let registry = Registry::new();
/// process::register(&registry)?;
/// # #[cfg(target_os = "linux")]
/// assert!(process::register(&registry).is_err());
/// # Ok::<(), prometheus_client::RegisterError>(())
/// ```
pub fn register(registry: &Registry) -> Result<(), RegisterError> {
    #[cfg(target_os = "linux")]
    linux::register(registry)?;
    #[cfg(not(target_os = "linux"))]
    let _ = registry;
    Ok(())
}
