//! Iterating a parser allocates nothing per sample: doubling the samples of an exposition
//! leaves the number of allocations (almost) unchanged. Its own test binary, because it
//! installs dhat's counting allocator.

use prometheus_client::encoding::Format;
use prometheus_client::parse::{Entry, Parser};

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

fn exposition(series: usize, format: Format) -> Vec<u8> {
    let mut out = String::from("# HELP h A histogram.\n# TYPE h histogram\n");
    for i in 0..series {
        for (le, n) in [("0.5", 1), ("+Inf", 2)] {
            out.push_str(&format!("h_bucket{{path=\"/a\\\"{i}\",le=\"{le}\"}} {n}\n"));
        }
        out.push_str(&format!(
            "h_sum{{path=\"/a\\\"{i}\"}} 1.5\nh_count{{path=\"/a\\\"{i}\"}} 2\n"
        ));
    }
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out.into_bytes()
}

fn allocations_to_iterate(input: &[u8], format: Format) -> u64 {
    let before = dhat::HeapStats::get().total_blocks;
    let mut total = 0.0;
    for entry in Parser::new(input, format) {
        if let Entry::Sample(s) = entry.expect("valid") {
            total += s.value;
        }
    }
    assert!(total > 0.0);
    dhat::HeapStats::get().total_blocks - before
}

#[test]
fn iterating_allocates_nothing_per_sample() {
    let _profiler = dhat::Profiler::builder().testing().build();
    for format in [Format::Text, Format::OpenMetrics] {
        let small = exposition(5_000, format);
        let large = exposition(10_000, format);
        let a = allocations_to_iterate(&small, format);
        let b = allocations_to_iterate(&large, format);
        eprintln!("{format:?}: {a} allocations for 20,000 samples, {b} for 40,000");
        // OpenMetrics keeps one hash per label set to refuse interleaving; its table grows by
        // doubling, one allocation each time. 20,000 more samples may cost a couple of those.
        assert!(
            b <= a + 3,
            "{format:?}: {a} allocations for 20,000 samples, {b} for 40,000"
        );
        assert!(a < 64, "{format:?}: {a} allocations");
    }
}
