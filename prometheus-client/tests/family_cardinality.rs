//! A family with a child limit keeps its memory flat under a stream of distinct label
//! values. Its own test binary, because it installs dhat's counting allocator.

use prometheus_client::encoding::Format;
use prometheus_client::{Counter, Family, Overflow, Registry};

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

const LIMIT: usize = 10_000;
const STREAM: usize = 1_000_000;

/// Heap bytes in use after feeding `family` the values `from..to`.
fn feed(family: &Family<[String; 1], Counter>, from: usize, to: usize) -> usize {
    let mut value = String::new();
    for i in from..to {
        value.clear();
        value.push_str(itoa::Buffer::new().format(i));
        family.with(&[value.as_str()], Counter::inc);
    }
    dhat::HeapStats::get().curr_bytes
}

#[test]
fn memory_stays_flat_past_the_limit() {
    let _profiler = dhat::Profiler::builder().testing().build();
    for overflow in [Overflow::Refuse, Overflow::FoldInto("other".into())] {
        let registry = Registry::new();
        let family = registry
            .register(
                "requests",
                "Requests by user.",
                Family::<[String; 1], Counter>::new(["user"])
                    .with_max_children(LIMIT, overflow.clone()),
            )
            .expect("registers");
        // Fill to the limit, then past it a little so every lazy structure exists.
        let at_limit = feed(&family, 0, 2 * LIMIT);
        let mut out = Vec::new();
        registry.encode(Format::Text, &mut out).expect("encodes");
        drop(out);
        let settled = dhat::HeapStats::get().curr_bytes;
        let after_stream = feed(&family, 2 * LIMIT, STREAM);
        assert_eq!(
            family.len(),
            LIMIT + usize::from(overflow != Overflow::Refuse)
        );
        assert!(
            after_stream <= settled + 64 * 1024,
            "{overflow:?}: {at_limit} bytes at the limit, {settled} settled, {after_stream} after \
             {STREAM} distinct values"
        );
        let text = registry.encode_to_string(Format::Text).expect("encodes");
        match overflow {
            Overflow::Refuse => {
                assert_eq!(family.refused(), (STREAM - LIMIT) as u64);
                assert!(text.contains(&format!(
                    "prometheus_client_family_children_refused_total{{family=\"requests\"}} {}\n",
                    STREAM - LIMIT
                )));
            }
            Overflow::FoldInto(_) => {
                assert_eq!(family.refused(), 0);
                assert!(text.contains(&format!(
                    "requests_total{{user=\"other\"}} {}\n",
                    STREAM - LIMIT
                )));
            }
        }
    }
}
