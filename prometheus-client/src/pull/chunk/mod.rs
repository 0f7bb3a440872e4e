//! Float samples compressed as Gorilla's XOR chunks (Pelkonen et al., VLDB 2015), the encoding
//! Prometheus' `chunkenc` uses: each timestamp as the change of its delta from the last one,
//! each value as its XOR with the last one, so a regular scrape of a slowly changing series
//! costs a bit or two per timestamp and a few bits per value.
//!
//! Layout: the sample count (2 bytes, big endian), then a bit stream. The first sample is its
//! timestamp (signed varint) and its value's 64 bits; the second, its timestamp's delta
//! (signed varint) and its value; each later one, the delta's change in the first of five
//! sizes it fits (`0`; `10` + 14 bits; `110` + 17; `1110` + 20; `1111` + 64) and its value.
//! A value is `0` when its bits equal the last value's, else `1`, then `0` and the XOR's
//! meaningful bits when they fit in the last XOR's window of leading and trailing zeros, or
//! `1`, 5 bits of leading zeros, 6 of meaningful bits (64 written as 0) and those bits. Values
//! are kept bit for bit: a NaN's payload (the stale marker's among them) comes back as it went
//! in. Timestamps may come in any order (the arithmetic wraps), though a store appends them
//! rising.

mod bits;
mod series;

use std::fmt;

use bits::{BitReader, BitWriter};
pub(crate) use series::FloatChunks;

/// Float samples `(timestamp in ms, value)` compressed in one chunk, appended in place.
///
/// ```
/// use prometheus_client::pull::{XorChunk, XorIter};
/// let mut chunk = XorChunk::new();
/// for i in 0..120 {
///     chunk.append(1_000 * i, 42.0).unwrap();
/// }
/// // 120 samples of a constant series at a steady interval: two bits a sample after the
/// // first two, 43 bytes in all.
/// assert_eq!(chunk.bytes().len(), 43);
/// let back: Vec<(i64, f64)> = XorIter::new(chunk.bytes()).collect();
/// assert_eq!(back.len(), 120);
/// assert_eq!(back[119], (119_000, 42.0));
/// ```
#[derive(Clone, Debug)]
pub struct XorChunk {
    stream: BitWriter,
    count: u16,
    first_t: i64,
    last_t: i64,
    last_delta: i64,
    last_v: u64,
    /// The last XOR's window: leading and trailing zero bits (`leading` is `NO_WINDOW` before
    /// the first XOR that is not zero).
    leading: u8,
    trailing: u8,
}

const NO_WINDOW: u8 = u8::MAX;

/// The size of a chunk's header: its sample count.
const HEADER: usize = 2;

/// The sizes a timestamp's change of delta may be written in, after their prefixes.
const DOD_SIZES: [(u64, u8, u8); 3] = [(0b10, 2, 14), (0b110, 3, 17), (0b1110, 4, 20)];

/// Why a chunk took no more samples: it holds [`XorChunk::MAX_SAMPLES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkFull;

impl fmt::Display for ChunkFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the chunk holds {} samples, its most",
            XorChunk::MAX_SAMPLES
        )
    }
}

impl std::error::Error for ChunkFull {}

impl Default for XorChunk {
    fn default() -> Self {
        XorChunk::new()
    }
}

impl XorChunk {
    /// The most samples a chunk holds (its count is two bytes).
    pub const MAX_SAMPLES: usize = u16::MAX as usize;

    /// An empty chunk.
    pub fn new() -> XorChunk {
        XorChunk {
            stream: BitWriter::with_bytes(vec![0; HEADER]),
            count: 0,
            first_t: 0,
            last_t: 0,
            last_delta: 0,
            last_v: 0,
            leading: NO_WINDOW,
            trailing: 0,
        }
    }

    /// How many samples the chunk holds.
    pub fn len(&self) -> usize {
        usize::from(self.count)
    }

    /// Whether the chunk holds no sample.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The first sample's timestamp, if any.
    pub fn first_time(&self) -> Option<i64> {
        (self.count > 0).then_some(self.first_t)
    }

    /// The last sample appended, if any.
    pub fn last(&self) -> Option<(i64, f64)> {
        (self.count > 0).then_some((self.last_t, f64::from_bits(self.last_v)))
    }

    /// The encoded chunk, header included: what [`XorIter::new`] reads.
    pub fn bytes(&self) -> &[u8] {
        self.stream.bytes()
    }

    /// The encoded chunk, without spare capacity.
    pub fn into_bytes(self) -> Box<[u8]> {
        self.stream.into_bytes().into_boxed_slice()
    }

    /// The samples, in the order appended.
    pub fn iter(&self) -> XorIter<'_> {
        XorIter::new(self.bytes())
    }

    /// Appends a sample, or refuses when the chunk is full.
    pub fn append(&mut self, t: i64, v: f64) -> Result<(), ChunkFull> {
        let bits = v.to_bits();
        match self.count {
            u16::MAX => return Err(ChunkFull),
            0 => {
                self.varint(t);
                self.stream.bits(bits, 64);
                self.first_t = t;
            }
            1 => {
                let delta = t.wrapping_sub(self.last_t);
                self.varint(delta);
                self.value(bits);
                self.last_delta = delta;
            }
            _ => {
                let delta = t.wrapping_sub(self.last_t);
                self.delta_of_delta(delta.wrapping_sub(self.last_delta));
                self.value(bits);
                self.last_delta = delta;
            }
        }
        self.last_t = t;
        self.last_v = bits;
        self.count += 1;
        self.stream.bytes_mut()[..HEADER].copy_from_slice(&self.count.to_be_bytes());
        Ok(())
    }

    /// A signed number as a zigzag LEB128 varint.
    fn varint(&mut self, n: i64) {
        let mut z = ((n << 1) ^ (n >> 63)) as u64;
        loop {
            let low = (z & 0x7f) as u8;
            z >>= 7;
            if z == 0 {
                self.stream.bits(u64::from(low), 8);
                return;
            }
            self.stream.bits(u64::from(low | 0x80), 8);
        }
    }

    fn delta_of_delta(&mut self, dod: i64) {
        if dod == 0 {
            self.stream.bit(false);
            return;
        }
        for (prefix, prefix_len, size) in DOD_SIZES {
            let half = 1i64 << (size - 1);
            if (-half..half).contains(&dod) {
                self.stream.bits(prefix, prefix_len);
                self.stream.bits(dod as u64, size);
                return;
            }
        }
        self.stream.bits(0b1111, 4);
        self.stream.bits(dod as u64, 64);
    }

    fn value(&mut self, bits: u64) {
        let xor = bits ^ self.last_v;
        if xor == 0 {
            self.stream.bit(false);
            return;
        }
        self.stream.bit(true);
        // Five bits say the leading zeros: more than 31 are written as 31.
        let leading = (xor.leading_zeros() as u8).min(31);
        let trailing = xor.trailing_zeros() as u8;
        if self.leading != NO_WINDOW && leading >= self.leading && trailing >= self.trailing {
            let meaningful = 64 - self.leading - self.trailing;
            self.stream.bit(false);
            self.stream.bits(xor >> self.trailing, meaningful);
            return;
        }
        let meaningful = 64 - leading - trailing;
        self.stream.bit(true);
        self.stream.bits(u64::from(leading), 5);
        // 64 meaningful bits do not fit in six: written as 0, read back as 64.
        self.stream.bits(u64::from(meaningful & 63), 6);
        self.stream.bits(xor >> trailing, meaningful);
        self.leading = leading;
        self.trailing = trailing;
    }
}

/// The samples of an encoded [`XorChunk`], in the order they were appended. Bytes that are
/// not a chunk end the iteration early; reading them never panics.
///
/// ```
/// use prometheus_client::pull::{XorChunk, XorIter, STALE_NAN};
/// let mut chunk = XorChunk::new();
/// chunk.append(0, 1.5).unwrap();
/// chunk.append(15_000, f64::from_bits(STALE_NAN)).unwrap();
/// let back: Vec<(i64, u64)> = XorIter::new(chunk.bytes()).map(|(t, v)| (t, v.to_bits())).collect();
/// assert_eq!(back, [(0, 1.5f64.to_bits()), (15_000, STALE_NAN)]);
/// ```
#[derive(Clone, Debug)]
pub struct XorIter<'c> {
    stream: BitReader<'c>,
    count: u16,
    read: u16,
    t: i64,
    delta: i64,
    v: u64,
    leading: u8,
    trailing: u8,
}

impl<'c> XorIter<'c> {
    /// Reads the chunk `bytes` (as [`XorChunk::bytes`] gave them).
    pub fn new(bytes: &'c [u8]) -> XorIter<'c> {
        let count = match bytes {
            [hi, lo, ..] => u16::from_be_bytes([*hi, *lo]),
            _ => 0,
        };
        XorIter {
            stream: BitReader::new(bytes, HEADER),
            count,
            read: 0,
            t: 0,
            delta: 0,
            v: 0,
            leading: NO_WINDOW,
            trailing: 0,
        }
    }

    /// How many samples the chunk's header says it holds.
    pub fn header_count(&self) -> usize {
        usize::from(self.count)
    }

    fn varint(&mut self) -> Option<i64> {
        let mut z = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.stream.bits(8)?;
            z |= (byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some((z >> 1) as i64 ^ -((z & 1) as i64));
            }
        }
        None
    }

    fn delta_of_delta(&mut self) -> Option<i64> {
        if !self.stream.bit()? {
            return Some(0);
        }
        for (_, _, size) in DOD_SIZES {
            if !self.stream.bit()? {
                let raw = self.stream.bits(size)?;
                // Sign-extends `size` bits.
                let shift = 64 - u32::from(size);
                return Some(((raw << shift) as i64) >> shift);
            }
        }
        self.stream.bits(64).map(|raw| raw as i64)
    }

    fn value(&mut self) -> Option<u64> {
        if !self.stream.bit()? {
            return Some(self.v);
        }
        if self.stream.bit()? {
            let leading = self.stream.bits(5)? as u8;
            let meaningful = match self.stream.bits(6)? as u8 {
                0 => 64,
                n => n,
            };
            self.trailing = 64u8.checked_sub(leading + meaningful)?;
            self.leading = leading;
        } else if self.leading == NO_WINDOW {
            return None;
        }
        let meaningful = 64 - self.leading - self.trailing;
        let xor = self.stream.bits(meaningful)?;
        Some(self.v ^ xor.checked_shl(u32::from(self.trailing)).unwrap_or(0))
    }

    fn read_next(&mut self) -> Option<(i64, f64)> {
        match self.read {
            0 => {
                self.t = self.varint()?;
                self.v = self.stream.bits(64)?;
            }
            1 => {
                self.delta = self.varint()?;
                self.t = self.t.wrapping_add(self.delta);
                self.v = self.value()?;
            }
            _ => {
                self.delta = self.delta.wrapping_add(self.delta_of_delta()?);
                self.t = self.t.wrapping_add(self.delta);
                self.v = self.value()?;
            }
        }
        Some((self.t, f64::from_bits(self.v)))
    }
}

impl Iterator for XorIter<'_> {
    type Item = (i64, f64);

    fn next(&mut self) -> Option<(i64, f64)> {
        if self.read >= self.count {
            return None;
        }
        match self.read_next() {
            Some(sample) => {
                self.read += 1;
                Some(sample)
            }
            None => {
                self.read = self.count;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(usize::from(self.count - self.read)))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::pull::storage::STALE_NAN;

    fn round_trip(samples: &[(i64, u64)]) -> Vec<(i64, u64)> {
        let mut chunk = XorChunk::new();
        for (t, v) in samples {
            chunk.append(*t, f64::from_bits(*v)).unwrap();
        }
        let back: Vec<(i64, u64)> = chunk.iter().map(|(t, v)| (t, v.to_bits())).collect();
        assert_eq!(chunk.len(), back.len());
        back
    }

    #[test]
    fn edge_values_and_timestamps_come_back_bit_for_bit() {
        let samples = [
            (i64::MIN, 0),
            (i64::MAX, u64::MAX),
            (0, STALE_NAN),
            (-1, f64::NAN.to_bits()),
            (1, (-0.0f64).to_bits()),
            (1 << 40, f64::INFINITY.to_bits()),
            (1 << 40, 1),
            (5, 1 << 63),
            (6, 1),
        ];
        assert_eq!(round_trip(&samples), samples);
    }

    #[test]
    fn a_regular_scrape_costs_under_two_bytes_a_sample() {
        // A counter rising by one each 15 s scrape, timestamps aligned to the interval (as
        // scrapes are within their tolerance) but every tenth a few ms late.
        let mut chunk = XorChunk::new();
        let at = |i: i64| 1_700_000_000_000 + 15_000 * i + if i % 10 == 9 { 3 } else { 0 };
        for i in 0..120i64 {
            chunk.append(at(i), 1000.0 + i as f64).unwrap();
        }
        let bytes = chunk.bytes().len();
        assert!(bytes < 2 * 120, "{bytes} bytes for 120 samples");
        assert_eq!(chunk.iter().count(), 120);
        assert_eq!(chunk.last(), Some((at(119), 1119.0)));
        assert_eq!(chunk.first_time(), Some(at(0)));
    }

    #[test]
    fn a_full_chunk_refuses_more() {
        let mut chunk = XorChunk::new();
        for i in 0..XorChunk::MAX_SAMPLES as i64 {
            chunk.append(i, 0.0).unwrap();
        }
        assert_eq!(chunk.append(1 << 20, 0.0), Err(ChunkFull));
        assert_eq!(chunk.iter().count(), XorChunk::MAX_SAMPLES);
    }

    #[test]
    fn bytes_that_are_not_a_chunk_end_the_iteration() {
        let mut chunk = XorChunk::new();
        chunk.append(10, 1.0).unwrap();
        chunk.append(20, 2.0).unwrap();
        let mut bytes = chunk.bytes().to_vec();
        bytes[1] = 200; // claims 200 samples
        assert_eq!(XorIter::new(&bytes).count(), 2);
        assert_eq!(XorIter::new(&[]).count(), 0);
        assert_eq!(XorIter::new(&[0xff, 0xff, 0xff]).count(), 0);
    }

    proptest! {
        #[test]
        fn any_samples_come_back_as_they_went_in(
            samples in prop::collection::vec((any::<i64>(), any::<u64>()), 0..300),
        ) {
            prop_assert_eq!(round_trip(&samples), samples);
        }

        #[test]
        fn regular_series_come_back_as_they_went_in(
            start in any::<i64>(),
            steps in prop::collection::vec((-70_000i64..70_000, any::<bool>(), -3i32..3), 0..300),
        ) {
            let mut t = start;
            let mut v = 0.0f64;
            let samples: Vec<(i64, u64)> = steps.iter().map(|(dt, same, dv)| {
                t = t.wrapping_add(*dt);
                if !same {
                    v += f64::from(*dv) * 0.25;
                }
                (t, v.to_bits())
            }).collect();
            prop_assert_eq!(round_trip(&samples), samples);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let iter = XorIter::new(&bytes);
            let claimed = iter.header_count();
            prop_assert!(iter.count() <= claimed);
        }
    }
}
