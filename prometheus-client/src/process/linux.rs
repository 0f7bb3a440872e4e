//! The process families on Linux, each read from `/proc` as it is encoded.

use std::fs;
use std::sync::Arc;

use parking_lot::Mutex;

use super::proc_files::{self, Stat, TICKS_PER_SECOND};
use crate::encoding::{ExtraLabel, MetricEncoder};
use crate::{Metric, MetricType, RegisterError, Registry};

const NETSTAT: &str = "/proc/self/net/netstat";

/// What the families share: the buffers the files are read into, kept between scrapes, and
/// what does not change while the process runs.
struct Source {
    buffers: Mutex<Buffers>,
    page_size: u64,
    boot_time: Option<u64>,
}

#[derive(Default)]
struct Buffers {
    stat: Vec<u8>,
    limits: Vec<u8>,
    netstat: Vec<u8>,
}

impl Source {
    fn new() -> Self {
        let mut buffer = Vec::new();
        let page_size = proc_files::read_into("/proc/self/auxv", &mut buffer)
            .ok()
            .and_then(|()| proc_files::parse_page_size(&buffer))
            .unwrap_or(4096);
        let boot_time = proc_files::read_into("/proc/stat", &mut buffer)
            .ok()
            .and_then(|()| proc_files::parse_boot_time(&buffer));
        Source {
            buffers: Mutex::new(Buffers::default()),
            page_size,
            boot_time,
        }
    }

    fn stat(&self) -> Option<Stat> {
        let buffers = &mut *self.buffers.lock();
        proc_files::read_into("/proc/self/stat", &mut buffers.stat).ok()?;
        proc_files::parse_stat(&buffers.stat)
    }

    fn soft_limit(&self, name: &str) -> Option<f64> {
        let buffers = &mut *self.buffers.lock();
        proc_files::read_into("/proc/self/limits", &mut buffers.limits).ok()?;
        proc_files::parse_soft_limit(&buffers.limits, name)
    }

    fn ip_octets(&self) -> Option<(u64, u64)> {
        let buffers = &mut *self.buffers.lock();
        proc_files::read_into(NETSTAT, &mut buffers.netstat).ok()?;
        proc_files::parse_ip_octets(&buffers.netstat)
    }

    fn open_fds() -> Option<f64> {
        // Since Linux 6.2 the size of `/proc/<pid>/fd` is the number of open descriptors;
        // before, it is 0 and the entries are counted (which allocates per entry).
        let size = fs::metadata("/proc/self/fd").ok()?.len();
        if size > 0 {
            return Some(size as f64);
        }
        let entries = fs::read_dir("/proc/self/fd").ok()?;
        // The directory's own descriptor is among the entries while it is being read.
        Some(entries.count().saturating_sub(1) as f64)
    }
}

/// Which value a family is.
#[derive(Clone, Copy, Debug)]
enum Value {
    CpuSeconds,
    OpenFds,
    MaxFds,
    VirtualMemory,
    VirtualMemoryMax,
    ResidentMemory,
    StartTime,
    Threads,
    NetworkReceived,
    NetworkTransmitted,
}

impl Value {
    fn read(self, source: &Source) -> Option<f64> {
        let ticks = |t: u64| t as f64 / TICKS_PER_SECOND;
        match self {
            Value::CpuSeconds => source.stat().map(|s| ticks(s.cpu_ticks)),
            Value::OpenFds => Source::open_fds(),
            Value::MaxFds => source.soft_limit("Max open files"),
            Value::VirtualMemory => source.stat().map(|s| s.virtual_bytes as f64),
            Value::VirtualMemoryMax => source.soft_limit("Max address space"),
            Value::ResidentMemory => source
                .stat()
                .map(|s| s.resident_pages.saturating_mul(source.page_size) as f64),
            Value::StartTime => {
                let boot = source.boot_time?;
                source.stat().map(|s| ticks(s.start_ticks) + boot as f64)
            }
            Value::Threads => source.stat().map(|s| s.threads as f64),
            Value::NetworkReceived => source.ip_octets().map(|(received, _)| received as f64),
            Value::NetworkTransmitted => source.ip_octets().map(|(_, sent)| sent as f64),
        }
    }

    fn metric_type(self) -> MetricType {
        match self {
            Value::CpuSeconds | Value::NetworkReceived | Value::NetworkTransmitted => {
                MetricType::Counter
            }
            _ => MetricType::Gauge,
        }
    }
}

/// One process family: a value read from `/proc` each time it is encoded.
#[derive(Clone)]
struct ProcessValue {
    source: Arc<Source>,
    value: Value,
}

impl Metric for ProcessValue {
    fn metric_type(&self) -> MetricType {
        self.value.metric_type()
    }

    fn encode(&self, encoder: &mut MetricEncoder<'_>) {
        let Some(value) = self.value.read(&self.source) else {
            return;
        };
        let suffix = match self.value.metric_type() {
            MetricType::Counter => "_total",
            _ => "",
        };
        encoder.sample_f64(suffix, ExtraLabel::None, value);
    }
}

pub(super) fn register(registry: &Registry) -> Result<(), RegisterError> {
    let source = Arc::new(Source::new());
    let mut families = vec![
        (
            "process_cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
            Value::CpuSeconds,
        ),
        (
            "process_open_fds",
            "Number of open file descriptors.",
            Value::OpenFds,
        ),
        (
            "process_max_fds",
            "Maximum number of open file descriptors.",
            Value::MaxFds,
        ),
        (
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes.",
            Value::VirtualMemory,
        ),
        (
            "process_virtual_memory_max_bytes",
            "Maximum amount of virtual memory available in bytes.",
            Value::VirtualMemoryMax,
        ),
        (
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            Value::ResidentMemory,
        ),
        (
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            Value::StartTime,
        ),
        (
            "process_threads",
            "Number of OS threads in the process.",
            Value::Threads,
        ),
    ];
    if source.ip_octets().is_some() {
        families.push((
            "process_network_receive_bytes_total",
            "Number of bytes received by the process over the network.",
            Value::NetworkReceived,
        ));
        families.push((
            "process_network_transmit_bytes_total",
            "Number of bytes sent by the process over the network.",
            Value::NetworkTransmitted,
        ));
    }
    for (registered, &(name, help, value)) in families.iter().enumerate() {
        let metric = ProcessValue {
            source: Arc::clone(&source),
            value,
        };
        if let Err(e) = registry.register(name, help, metric) {
            // All or nothing: take back the families this call registered.
            for &(earlier, _, _) in &families[..registered] {
                registry.unregister(earlier);
            }
            return Err(e);
        }
    }
    Ok(())
}
