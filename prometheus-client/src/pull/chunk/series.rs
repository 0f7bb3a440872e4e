//! One series' float samples as a run of XOR chunks: sealed ones, compact and read-only, and
//! the head chunk samples are appended to.

use super::{XorChunk, XorIter};

/// Samples a chunk holds before the next one starts, as Prometheus' head chunks.
pub(crate) const SAMPLES_PER_CHUNK: usize = 120;

/// A full chunk: its bytes, without spare capacity, and its last timestamp (its first is
/// after the previous chunk's last).
#[derive(Debug)]
struct Sealed {
    last_t: i64,
    bytes: Box<[u8]>,
}

/// A series' float samples in time order, compressed. A series that holds samples always
/// has some in its head chunk. The sealed chunks' list grows one at a time (a series gains a
/// chunk every 120 scrapes; doubling would leave more slack than a chunk's samples take).
#[derive(Debug, Default)]
pub(crate) struct FloatChunks {
    sealed: Vec<Sealed>,
    head: XorChunk,
}

impl FloatChunks {
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_empty()
    }

    /// The newest sample.
    pub(crate) fn last(&self) -> Option<(i64, f64)> {
        self.head.last()
    }

    /// Appends a sample later than [`last`](Self::last); a full head chunk is sealed first.
    pub(crate) fn push(&mut self, t: i64, v: f64) {
        if self.head.len() >= SAMPLES_PER_CHUNK {
            if let Some((last_t, _)) = self.head.last() {
                let full = std::mem::take(&mut self.head);
                self.sealed.reserve_exact(1);
                self.sealed.push(Sealed {
                    last_t,
                    bytes: full.into_bytes(),
                });
            }
        }
        // A head of SAMPLES_PER_CHUNK is never full.
        let _ = self.head.append(t, v);
    }

    /// Drops the chunks whose samples are all older than `cutoff`: whole chunks, so samples a
    /// little older may stay beside newer ones in theirs.
    pub(crate) fn drop_before(&mut self, cutoff: i64) {
        let keep_from = self.sealed.partition_point(|c| c.last_t < cutoff);
        self.sealed.drain(..keep_from);
        if self.last().is_some_and(|(t, _)| t < cutoff) {
            *self = FloatChunks::default();
        }
    }

    /// The chunks that may hold samples at or after `start`, oldest first.
    fn chunks_from(&self, start: i64) -> impl Iterator<Item = XorIter<'_>> {
        let from = self.sealed.partition_point(|c| c.last_t < start);
        self.sealed[from..]
            .iter()
            .map(|c| XorIter::new(&c.bytes))
            .chain(std::iter::once(self.head.iter()))
    }

    /// The samples in `[start, end]`, decoded as they are read: chunks before `start` are
    /// skipped unread, and reading stops at the first sample after `end`.
    pub(crate) fn window(&self, start: i64, end: i64) -> impl Iterator<Item = (i64, f64)> + '_ {
        self.chunks_from(start)
            .flatten()
            .skip_while(move |(t, _)| *t < start)
            .take_while(move |(t, _)| *t <= end)
    }

    /// The newest sample in `[start, end]`: the head's last without decoding when it is in
    /// range, else found in the one chunk that holds `end`.
    pub(crate) fn latest_in(&self, start: i64, end: i64) -> Option<(i64, f64)> {
        let (last_t, last_v) = self.last()?;
        if last_t <= end {
            return (last_t >= start).then_some((last_t, last_v));
        }
        let holding_end = self.sealed.partition_point(|c| c.last_t <= end);
        let chunk = match self.sealed.get(holding_end) {
            Some(sealed) => XorIter::new(&sealed.bytes),
            None => self.head.iter(),
        };
        // The newest at or before `end` may also be the previous chunk's last.
        let before = holding_end
            .checked_sub(1)
            .and_then(|i| self.sealed.get(i))
            .and_then(|c| XorIter::new(&c.bytes).last());
        before
            .into_iter()
            .chain(chunk.take_while(|(t, _)| *t <= end))
            .last()
            .filter(|(t, _)| *t >= start)
    }

    /// Whether any sample lies in `[start, end]`.
    pub(crate) fn any_in(&self, start: i64, end: i64) -> bool {
        self.window(start, end).next().is_some()
    }

    /// Bytes the samples take (chunks and their bookkeeping, not the allocator's).
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        let sealed: usize = self
            .sealed
            .iter()
            .map(|c| c.bytes.len() + std::mem::size_of::<Sealed>())
            .sum();
        sealed + self.head.bytes().len() + std::mem::size_of::<Self>()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn filled(times: impl IntoIterator<Item = i64>) -> FloatChunks {
        let mut chunks = FloatChunks::default();
        for t in times {
            chunks.push(t, t as f64 * 0.5);
        }
        chunks
    }

    #[test]
    fn windows_cross_chunks_and_retention_drops_whole_ones() {
        let mut chunks = filled(0..300);
        assert_eq!(chunks.sealed.len(), 2);
        let window: Vec<i64> = chunks.window(100, 130).map(|(t, _)| t).collect();
        assert_eq!(window, (100..=130).collect::<Vec<_>>());
        assert_eq!(chunks.latest_in(0, 119), Some((119, 59.5)));
        assert_eq!(chunks.latest_in(0, 120), Some((120, 60.0)));
        assert_eq!(chunks.latest_in(500, 600), None);
        chunks.drop_before(250);
        assert_eq!(chunks.window(0, 1000).next(), Some((240, 120.0)));
        chunks.drop_before(300);
        assert!(chunks.is_empty());
    }

    #[test]
    fn a_steady_series_takes_under_two_bytes_a_sample() {
        // An hour of a counter scraped each second, rising by one now and then.
        let mut chunks = FloatChunks::default();
        for i in 0..3600 {
            chunks.push(1_700_000_000_000 + 1000 * i, 1000.0 + (i / 7) as f64);
        }
        let per_sample = chunks.bytes() as f64 / 3600.0;
        assert!(per_sample < 2.0, "{per_sample} bytes a sample");
    }

    proptest! {
        #[test]
        fn reads_agree_with_a_plain_list(
            gaps in prop::collection::vec(1i64..50, 0..400),
            start in 0i64..5000,
            len in 0i64..3000,
        ) {
            let times: Vec<i64> = gaps.iter().scan(0, |t, g| { *t += g; Some(*t) }).collect();
            let chunks = filled(times.iter().copied());
            let end = start + len;
            let plain: Vec<(i64, f64)> = times
                .iter()
                .filter(|t| (start..=end).contains(*t))
                .map(|t| (*t, *t as f64 * 0.5))
                .collect();
            prop_assert_eq!(chunks.window(start, end).collect::<Vec<_>>(), plain.clone());
            prop_assert_eq!(chunks.latest_in(start, end), plain.last().copied());
            prop_assert_eq!(chunks.any_in(start, end), !plain.is_empty());
        }
    }
}
