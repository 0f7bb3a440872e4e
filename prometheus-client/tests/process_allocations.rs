//! After the first scrape, reading the process families from `/proc` allocates nothing.
//! Its own test binary, because it installs dhat's counting allocator.
#![cfg(target_os = "linux")]

use prometheus_client::encoding::Format;
use prometheus_client::{process, Registry};

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

#[test]
fn scrapes_after_the_first_allocate_nothing() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let registry = Registry::new();
    process::register(&registry).expect("registers");
    let mut out = Vec::new();
    for format in [Format::Text, Format::OpenMetrics] {
        out.clear();
        registry.encode(format, &mut out).expect("encodes");
    }
    // Room for values that grow a digit between scrapes (memory, CPU time): the output
    // buffer is the caller's, not the reading's.
    out.reserve(out.capacity() * 2);
    let before = dhat::HeapStats::get().total_blocks;
    for _ in 0..10 {
        for format in [Format::Text, Format::OpenMetrics] {
            out.clear();
            registry.encode(format, &mut out).expect("encodes");
        }
    }
    let allocations = dhat::HeapStats::get().total_blocks - before;
    assert!(
        String::from_utf8_lossy(&out).contains("process_threads"),
        "the families were written"
    );
    assert_eq!(allocations, 0, "20 scrapes allocated {allocations} blocks");
}
