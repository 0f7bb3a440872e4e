//! Labels exactly as a lookup gives them, for each thread's table of recently used children
//! (`metrics/recent_children.rs`): a [`Fingerprint`] of short label sets, the bytes of the
//! others (a [`key`]), and cheap hashes of both. Unlike rendered labels they are not escaped,
//! and they depend on the order of named labels: they only recognise the same lookup again.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;

use super::{LabelSet, LabelSetEncoder, Mode};

/// The state of a [`quick_hash`].
pub(super) struct QuickHashing {
    hash: u64,
    seeds: [u64; 2],
}

impl QuickHashing {
    /// Mixes in one text ([`mix_in`]); texts over 16 bytes are hashed whole first.
    #[inline(always)]
    pub(super) fn mix(&mut self, text: &str) {
        let words = short_words(text.as_bytes())
            .unwrap_or_else(|| [FixedState::with_seed(self.seeds[0]).hash_one(text), 0]);
        self.hash = mix_in(self.hash, words, text.len(), self.seeds);
    }
}

/// One text of up to 16 bytes as two words, from which it can be read back given its length:
/// its first and last 8 bytes (overlapping), 4 bytes, or 1 to 3 single bytes.
#[inline(always)]
fn short_words(bytes: &[u8]) -> Option<[u64; 2]> {
    let len = bytes.len();
    Some(match len {
        0 => [0, 0],
        1..=3 => [
            u64::from(bytes[0]) << 16 | u64::from(bytes[len / 2]) << 8 | u64::from(bytes[len - 1]),
            0,
        ],
        4..=7 => [
            u64::from(u32::from_le_bytes(word(bytes, 0))),
            u64::from(u32::from_le_bytes(word(bytes, len - 4))),
        ],
        8..=16 => [
            u64::from_le_bytes(word(bytes, 0)),
            u64::from_le_bytes(word(bytes, len - 8)),
        ],
        _ => return None,
    })
}

/// `hash` with one more text's words mixed in: one multiplication, independent of the other
/// texts' (so they overlap in the CPU).
#[inline(always)]
fn mix_in(hash: u64, [lo, hi]: [u64; 2], len: usize, seeds: [u64; 2]) -> u64 {
    hash.rotate_left(23) ^ folded_multiply(lo ^ seeds[0], hi ^ seeds[1] ^ len as u64)
}

/// How many texts (values, and the names of named labels) a [`Fingerprint`] holds.
const FINGERPRINT_PARTS: usize = 4;

/// A short label set, exactly, in a few words: each text (value, and name of a named label)
/// of up to 16 bytes as [`short_words`] and its length, in the order `encode` visits them.
/// Equal fingerprints are equal labels as given (they depend on the order of named labels,
/// like a [`key`]), compared without a loop over bytes.
#[derive(Clone, Copy, Debug, Default, Eq)]
pub(crate) struct Fingerprint {
    /// Zero past `count`.
    words: [[u64; 2]; FINGERPRINT_PARTS],
    lens: [u8; FINGERPRINT_PARTS],
    count: u8,
}

impl PartialEq for Fingerprint {
    /// Compares every word at once, with no branch (a derived comparison calls `memcmp`).
    #[inline(always)]
    fn eq(&self, other: &Self) -> bool {
        let words = self
            .words
            .iter()
            .flatten()
            .zip(other.words.iter().flatten());
        // The four lengths as one word (another number of parts does not compile here).
        let lens = u32::from_ne_bytes(self.lens) ^ u32::from_ne_bytes(other.lens);
        let differ = words.fold(
            u64::from(lens) | u64::from(self.count ^ other.count),
            |d, (a, b)| d | (a ^ b),
        );
        differ == 0
    }
}

impl Fingerprint {
    #[inline(always)]
    pub(super) fn add(fingerprint: &mut Option<Fingerprint>, text: &str) {
        if let Some(f) = fingerprint {
            let at = usize::from(f.count);
            match (short_words(text.as_bytes()), f.words.get_mut(at)) {
                (Some(words), Some(slot)) => {
                    *slot = words;
                    f.lens[at] = text.len() as u8;
                    f.count += 1;
                }
                _ => *fingerprint = None,
            }
        }
    }

    /// A hash of the fingerprint, for a thread's table of recently used children.
    #[inline(always)]
    pub(crate) fn hash(&self, seeds: [u64; 2]) -> u64 {
        let parts = self
            .words
            .iter()
            .zip(self.lens)
            .take(usize::from(self.count));
        parts.fold(0, |hash, (words, len)| {
            mix_in(hash, *words, usize::from(len), seeds)
        })
    }
}

/// The [`Fingerprint`] of `labels`, unless a text is longer than 16 bytes or there are more
/// than four texts.
#[inline(always)]
pub(crate) fn fingerprint<L: LabelSet + ?Sized>(labels: &L) -> Option<Fingerprint> {
    let mut fingerprint = Some(Fingerprint::default());
    labels.encode(&mut LabelSetEncoder {
        declared: &[],
        positional: 0,
        mode: Mode::Fingerprint(&mut fingerprint),
    });
    fingerprint
}

/// The product of two words, its halves folded together (foldhash's mixing step).
#[inline(always)]
fn folded_multiply(a: u64, b: u64) -> u64 {
    let full = u128::from(a) * u128::from(b);
    (full as u64) ^ ((full >> 64) as u64)
}

/// The `N` bytes of `s` from `at` (which the caller keeps in bounds).
#[inline(always)]
fn word<const N: usize>(s: &[u8], at: usize) -> [u8; N] {
    s.get(at..at + N)
        .and_then(|w| w.try_into().ok())
        .unwrap_or([0; N])
}

/// A hash of the labels exactly as given, cheaper than [`hash`](super::hash): for a thread's table of
/// recently used children, whose collisions only cost a lookup in the family's map. It
/// depends on the order of named labels, like [`key`].
#[inline(always)]
pub(crate) fn quick_hash<L: LabelSet + ?Sized>(labels: &L, seeds: [u64; 2]) -> u64 {
    let mut hashing = QuickHashing { hash: 0, seeds };
    labels.encode(&mut LabelSetEncoder {
        declared: &[],
        positional: 0,
        mode: Mode::QuickHash(&mut hashing),
    });
    hashing.hash
}

/// Appends one part of a [`key`]: its length, then its bytes.
pub(super) fn push_key_part(key: &mut Vec<u8>, text: &str) {
    // Longer texts than `u32::MAX` bytes are not label values anyone sends; cut the length
    // rather than fail, the comparison then only ever says "no".
    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    key.extend_from_slice(&len.to_le_bytes());
    key.extend_from_slice(text.as_bytes());
}

/// Where the key part at `at` ends, if it is `text`.
#[inline(always)]
pub(super) fn key_part(key: &[u8], at: usize, text: &str) -> Option<usize> {
    let len_bytes = key.get(at..at + 4)?;
    let text = text.as_bytes();
    if u32::from_le_bytes(len_bytes.try_into().ok()?) as usize != text.len() {
        return None;
    }
    let end = at + 4 + text.len();
    bytes_equal(key.get(at + 4..end)?, text).then_some(end)
}

/// Whether two slices are equal. Label values are short: up to 16 bytes are compared as
/// their [`short_words`], with no call into `memcmp`.
#[inline(always)]
fn bytes_equal(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    match (short_words(a), short_words(b)) {
        (Some(a), Some(b)) => a == b,
        _ => a == b,
    }
}

/// The labels exactly as given, in a form [`matches_key`] compares them with cheaply: each
/// name (of named labels) and value as its length and bytes, in the order `encode` visits
/// them. Unlike the rendered labels, it is not escaped and depends on the order of named
/// labels, so it only recognises the same lookup again. Written into `key`, cleared first.
pub(crate) fn key<L: LabelSet + ?Sized>(labels: &L, key: &mut Vec<u8>) {
    key.clear();
    labels.encode(&mut LabelSetEncoder {
        declared: &[],
        positional: 0,
        mode: Mode::Key(key),
    });
}

/// Whether `labels` have this [`key`].
#[inline(always)]
pub(crate) fn matches_key<L: LabelSet + ?Sized>(labels: &L, key: &[u8]) -> bool {
    let mut matched = Some(0);
    labels.encode(&mut LabelSetEncoder {
        declared: &[],
        positional: 0,
        mode: Mode::MatchKey {
            key,
            matched: &mut matched,
        },
    });
    matched == Some(key.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn a_key_matches_its_own_labels_only(
            given in proptest::collection::vec("[ab\\x00é]{0,20}", 0..4),
            other in proptest::collection::vec("[ab\\x00é]{0,20}", 0..4),
        ) {
            let mut key_of_given = Vec::new();
            key(&given, &mut key_of_given);
            proptest::prop_assert!(matches_key(&given, &key_of_given));
            proptest::prop_assert_eq!(matches_key(&other, &key_of_given), other == given);
            let seeds = [1, 2];
            if other == given {
                proptest::prop_assert_eq!(quick_hash(&other, seeds), quick_hash(&given, seeds));
            }
            let fits = |set: &[String]| set.len() <= 4 && set.iter().all(|v| v.len() <= 16);
            proptest::prop_assert_eq!(fingerprint(&given).is_some(), fits(&given));
            if let (Some(a), Some(b)) = (fingerprint(&given), fingerprint(&other)) {
                proptest::prop_assert_eq!(a == b, other == given);
                if a == b {
                    proptest::prop_assert_eq!(a.hash(seeds), b.hash(seeds));
                }
            }
            let named: Vec<(&str, &str)> = given.iter().map(|v| ("k", v.as_str())).collect();
            let named_other: Vec<(&str, &str)> = other.iter().map(|v| ("k", v.as_str())).collect();
            let mut key_of_named = Vec::new();
            key(named.as_slice(), &mut key_of_named);
            proptest::prop_assert_eq!(matches_key(named_other.as_slice(), &key_of_named), other == given);
        }

        #[test]
        fn short_comparisons_agree_with_slices(a in "[ab]{0,40}", b in "[ab]{0,40}") {
            proptest::prop_assert_eq!(bytes_equal(a.as_bytes(), b.as_bytes()), a == b);
        }
    }
}
