//! Any samples appended to an XOR chunk come back as they went in, bit for bit (NaN payloads
//! included), and reading any bytes as a chunk never panics.

#![no_main]

use libfuzzer_sys::fuzz_target;
use prometheus_client::pull::{XorChunk, XorIter};

fuzz_target!(|data: &[u8]| {
    let claimed = XorIter::new(data).header_count();
    assert!(XorIter::new(data).count() <= claimed);

    let samples: Vec<(i64, u64)> = data
        .chunks_exact(16)
        .map(|pair| {
            let (t, v) = pair.split_at(8);
            (
                i64::from_le_bytes(t.try_into().unwrap()),
                u64::from_le_bytes(v.try_into().unwrap()),
            )
        })
        .collect();
    let mut chunk = XorChunk::new();
    for (t, v) in &samples {
        chunk.append(*t, f64::from_bits(*v)).unwrap();
    }
    let back: Vec<(i64, u64)> = chunk.iter().map(|(t, v)| (t, v.to_bits())).collect();
    assert_eq!(back, samples);
    assert_eq!(chunk.last().map(|(t, v)| (t, v.to_bits())), samples.last().copied());
});
