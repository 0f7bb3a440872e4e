//! A stream of bits, most significant first: what the XOR chunk is written in.

/// Appends bits to a byte buffer that grows in small exact steps (a chunk's bytes are kept for
/// the whole retention, so the usual doubling's slack would cost more than the samples).
#[derive(Clone, Debug, Default)]
pub(super) struct BitWriter {
    bytes: Vec<u8>,
    /// Bits still free in the last byte (0 when there is none or it is full).
    free: u8,
}

/// How many bytes a writer's buffer grows by when full.
const GROWTH: usize = 16;

impl BitWriter {
    pub(super) fn with_bytes(bytes: Vec<u8>) -> BitWriter {
        BitWriter { bytes, free: 0 }
    }

    pub(super) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub(super) fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }

    pub(super) fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    fn push_byte(&mut self, byte: u8) {
        if self.bytes.len() == self.bytes.capacity() {
            self.bytes.reserve_exact(GROWTH);
        }
        self.bytes.push(byte);
    }

    pub(super) fn bit(&mut self, bit: bool) {
        self.bits(u64::from(bit), 1);
    }

    /// Writes the low `n` bits of `value` (`n` ≤ 64).
    pub(super) fn bits(&mut self, value: u64, mut n: u8) {
        while n > 0 {
            if self.free == 0 {
                self.push_byte(0);
                self.free = 8;
            }
            let take = self.free.min(n);
            let chunk = (value >> (n - take)) & ((1u64 << take) - 1);
            if let Some(last) = self.bytes.last_mut() {
                *last |= (chunk as u8) << (self.free - take);
            }
            self.free -= take;
            n -= take;
        }
    }
}

/// Reads a [`BitWriter`]'s bits back; `None` past the end.
#[derive(Clone, Debug)]
pub(super) struct BitReader<'b> {
    bytes: &'b [u8],
    /// The next bit's position.
    at: usize,
}

impl<'b> BitReader<'b> {
    pub(super) fn new(bytes: &'b [u8], at_byte: usize) -> BitReader<'b> {
        BitReader {
            bytes,
            at: at_byte * 8,
        }
    }

    pub(super) fn bit(&mut self) -> Option<bool> {
        self.bits(1).map(|b| b == 1)
    }

    /// Reads `n` bits (`n` ≤ 64) as the low bits of a number.
    pub(super) fn bits(&mut self, mut n: u8) -> Option<u64> {
        let mut value = 0u64;
        while n > 0 {
            let byte = *self.bytes.get(self.at / 8)?;
            let left = 8 - (self.at % 8) as u8;
            let take = left.min(n);
            let chunk = (byte >> (left - take)) & (((1u16 << take) - 1) as u8);
            value = (value << take) | u64::from(chunk);
            self.at += usize::from(take);
            n -= take;
        }
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_read_back_as_written_across_byte_boundaries() {
        let mut w = BitWriter::default();
        let written: [(u64, u8); 7] = [
            (1, 1),
            (0b101, 3),
            (0x3fff, 14),
            (u64::MAX, 64),
            (0, 5),
            (0x1234_5678, 32),
            (0, 64),
        ];
        for (v, n) in written {
            w.bits(v, n);
        }
        let mut r = BitReader::new(w.bytes(), 0);
        for (v, n) in written {
            assert_eq!(r.bits(n), Some(v), "{n} bits");
        }
        assert_eq!(r.bits(8), None, "past the end");
    }
}
