//! Each thread's table of the children of one family it looked up recently.
//!
//! A lookup in the family's shared map takes a shard lock (two atomic read-modify-writes on a
//! cache line every thread shares) and compares the given values with the child's escaped,
//! rendered labels. A thread that looks up the same children again and again, as a service
//! handling requests does, finds them here instead: a table only this thread touches, whose
//! entries hold the metric (a handle) and the labels exactly as the lookup gave them. Label
//! sets of up to four texts (values, and names of named labels) of up to 16 bytes each are
//! kept as their [`Fingerprint`], a few words compared at once; others as their bytes. A hit
//! takes no lock and writes nothing shared.
//!
//! Entries are only added for children that already existed when looked up, so creating a
//! child allocates nothing more (its lookup only finds this thread's table without it) and a
//! child looked up once is never remembered. Removing
//! children from the family bumps its generation; a table of an older generation is emptied
//! before it is used again, so no lookup that starts after a removal finds the removed child.
//!
//! Memory: nothing until a thread looks up an existing child; then 8 slots, doubling while
//! half or more are used (or an entry finds no free slot near its own), up to [`MAX_SLOTS`]
//! (48 KiB). A slot takes 96 bytes; labels without a fingerprint also take an allocation of
//! their bytes (plus 4 a text). An entry keeps its child's metric alive, removed or not, until
//! the table is emptied or the entry replaced. Tables are freed with the family, not when
//! their thread ends (a new thread may take over an ended thread's table). Besides its table,
//! each thread costs a family about 50 bytes in `thread_local`'s per-thread slots.

use std::cell::{Cell, RefCell};
use std::hash::BuildHasher;

use foldhash::fast::RandomState;
use thread_local::ThreadLocal;

use crate::labels::{self, Fingerprint, LabelSet};
use crate::sync::{AtomicU64, Ordering};

/// The most slots one thread's table grows to.
pub(crate) const MAX_SLOTS: usize = 512;
/// The smallest table.
const MIN_SLOTS: usize = 8;
/// How many slots from its hash's home slot an entry may be put.
const PROBE: usize = 8;
/// A full table replaces an entry for one in this many new ones.
const REPLACE_EVERY: u32 = 8;

/// The per-thread tables of one family, and the family's generation.
pub(crate) struct RecentChildren<M: Send> {
    tables: ThreadLocal<RefCell<Table<M>>>,
    /// The seeds of the entries' hashes.
    seeds: [u64; 2],
    /// Bumped after every removal from the family.
    generation: AtomicU64,
}

struct Table<M> {
    /// The family's generation the entries were looked up in.
    generation: u64,
    slots: Box<[Option<Recent<M>>]>,
    used: usize,
    /// Entries a full table did not take since it last replaced one.
    skipped: u32,
}

/// In this order: a hit reads the hash, then the key, then the metric.
#[repr(C)]
struct Recent<M> {
    hash: u64,
    key: Key,
    metric: M,
}

/// The labels of an entry as the lookup gave them: short ones as their fingerprint, in the
/// slot itself, long ones as their [`labels::key`].
enum Key {
    Fingerprint(Fingerprint),
    Bytes(Box<[u8]>),
}

thread_local! {
    /// Where a thread writes a key of bytes before copying it into its entry.
    static KEY_BUFFER: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// The labels of one lookup, as they meet entries' keys. Labels that have a fingerprint
/// always have one, so they only ever meet fingerprints.
enum Sought<'q, Q: ?Sized> {
    Fingerprint(Fingerprint),
    Labels(&'q Q),
}

impl<'q, Q: LabelSet + ?Sized> Sought<'q, Q> {
    #[inline(always)]
    fn new(labels: &'q Q) -> Self {
        match labels::fingerprint(labels) {
            Some(fingerprint) => Sought::Fingerprint(fingerprint),
            None => Sought::Labels(labels),
        }
    }

    /// The hash of the labels' entry (as [`RecentChildren::with`] computes it).
    fn hash(&self, seeds: [u64; 2]) -> u64 {
        match self {
            Sought::Fingerprint(fingerprint) => fingerprint.hash(seeds),
            Sought::Labels(labels) => labels::quick_hash(*labels, seeds),
        }
    }

    fn key(&self) -> Key {
        match self {
            Sought::Fingerprint(fingerprint) => Key::Fingerprint(*fingerprint),
            Sought::Labels(labels) => {
                let mut buffer = KEY_BUFFER.take();
                labels::key(*labels, &mut buffer);
                let key = Key::Bytes(buffer.as_slice().into());
                KEY_BUFFER.set(buffer);
                key
            }
        }
    }
}

impl<M: Send> RecentChildren<M> {
    pub(crate) fn new() -> Self {
        let random = RandomState::default();
        RecentChildren {
            tables: ThreadLocal::new(),
            seeds: [random.hash_one(0), random.hash_one(1)],
            generation: AtomicU64::new(0),
        }
    }

    /// The family's generation, read before a lookup in the shared map: what the lookup
    /// finds is remembered under this generation, so a removal it may have missed empties
    /// the table.
    #[inline]
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Marks every remembered child as possibly removed. Called after a removal.
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// Calls `f` with the child this thread remembers for `labels`, or gives `f` back.
    #[inline(always)]
    pub(crate) fn with<Q, R, F>(&self, generation: u64, labels: &Q, f: F) -> Result<R, F>
    where
        Q: LabelSet + ?Sized,
        F: FnOnce(&M) -> R,
    {
        let Some(table) = self.tables.get() else {
            return Err(f);
        };
        // Borrowed already when `f` of an outer lookup looks up again: shared borrows nest.
        let Ok(table) = table.try_borrow() else {
            return Err(f);
        };
        // An arm for each kind of key, each a straight path (one closure over both, matching
        // both enums, costs a hit 2 ns).
        let found = match Sought::new(labels) {
            Sought::Fingerprint(sought) => table.find(
                generation,
                sought.hash(self.seeds),
                |key| matches!(key, Key::Fingerprint(key) if *key == sought),
            ),
            Sought::Labels(labels) => table.find(
                generation,
                labels::quick_hash(labels, self.seeds),
                |key| matches!(key, Key::Bytes(key) if labels::matches_key(labels, key)),
            ),
        };
        match found {
            Some(metric) => Ok(f(metric)),
            None => Err(f),
        }
    }

    /// Remembers `metric` as the child for `labels`, found in the shared map under
    /// `generation`.
    pub(crate) fn remember<Q>(&self, generation: u64, labels: &Q, metric: &M)
    where
        Q: LabelSet + ?Sized,
        M: Clone,
    {
        let table = self.tables.get_or(|| RefCell::new(Table::new()));
        // Borrowed when this runs inside an outer lookup's `f`: skip remembering.
        if let Ok(mut table) = table.try_borrow_mut() {
            let sought = Sought::new(labels);
            let hash = sought.hash(self.seeds);
            if let Some(at) = table.place(generation, hash) {
                table.slots[at] = Some(Recent {
                    hash,
                    key: sought.key(),
                    metric: metric.clone(),
                });
            }
        }
    }
}

impl<M> Table<M> {
    fn new() -> Self {
        Table {
            generation: 0,
            slots: Box::new([]),
            used: 0,
            skipped: 0,
        }
    }

    /// The slots an entry with this hash may be in, in order.
    fn probe(&self, hash: u64) -> impl Iterator<Item = usize> {
        let mask = self.slots.len().wrapping_sub(1);
        (0..PROBE.min(self.slots.len())).map(move |i| (hash as usize).wrapping_add(i) & mask)
    }

    #[inline(always)]
    fn find(&self, generation: u64, hash: u64, is_it: impl Fn(&Key) -> bool) -> Option<&M> {
        if self.generation != generation {
            return None;
        }
        for at in self.probe(hash) {
            let recent = self.slots[at].as_ref()?;
            if recent.hash == hash && is_it(&recent.key) {
                return Some(&recent.metric);
            }
        }
        None
    }

    /// The slot for a new entry with this hash, emptying a table of an older generation and
    /// growing a crowded one first; `None` when a full table skips the entry.
    fn place(&mut self, generation: u64, hash: u64) -> Option<usize> {
        if self.generation != generation {
            self.slots.iter_mut().for_each(|slot| *slot = None);
            self.used = 0;
            self.generation = generation;
        }
        if self.used * 2 >= self.slots.len() && self.slots.len() < MAX_SLOTS {
            self.grow();
        }
        loop {
            if let Some(at) = self.probe(hash).find(|&at| self.slots[at].is_none()) {
                self.used += 1;
                return Some(at);
            }
            if self.slots.len() < MAX_SLOTS {
                self.grow();
                continue;
            }
            // Full along the probe path of a full-size table: the thread uses more children
            // than fit. Replacing an entry on every miss would cost each lookup an entry and
            // gain few hits, so only every `REPLACE_EVERY`th miss replaces one (the one in the
            // home slot), enough to follow a working set that moves.
            self.skipped += 1;
            if self.skipped < REPLACE_EVERY {
                return None;
            }
            self.skipped = 0;
            return Some(hash as usize & (self.slots.len() - 1));
        }
    }

    fn grow(&mut self) {
        let len = (self.slots.len() * 2).max(MIN_SLOTS);
        let old = std::mem::replace(&mut self.slots, (0..len).map(|_| None).collect());
        self.used = 0;
        for recent in old.into_vec().into_iter().flatten() {
            if let Some(at) = self.probe(recent.hash).find(|&at| self.slots[at].is_none()) {
                self.slots[at] = Some(recent);
                self.used += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Files `labels` where a lookup of `filed_as` looks first: a collision of their hashes.
    fn remember_as<Q, P>(recent: &RecentChildren<u32>, filed_as: &P, labels: &Q, metric: u32)
    where
        Q: LabelSet + ?Sized,
        P: LabelSet + ?Sized,
    {
        let hash = Sought::new(filed_as).hash(recent.seeds);
        let key = Sought::new(labels).key();
        let table = recent.tables.get_or(|| RefCell::new(Table::new()));
        let mut table = table.borrow_mut();
        let at = table.place(recent.generation(), hash).expect("room");
        table.slots[at] = Some(Recent { hash, key, metric });
    }

    fn lookup<Q: LabelSet + ?Sized>(recent: &RecentChildren<u32>, labels: &Q) -> Option<u32> {
        recent.with(recent.generation(), labels, |m| *m).ok()
    }

    #[test]
    fn remembers_what_it_was_given_and_nothing_else() {
        let recent = RecentChildren::<u32>::new();
        assert_eq!(lookup(&recent, &["a", "b"]), None, "empty");
        recent.remember(recent.generation(), &["a", "b"], &7);
        assert_eq!(lookup(&recent, &["a", "b"]), Some(7));
        assert_eq!(lookup(&recent, &["a".to_string(), "b".into()]), Some(7));
        for other in [
            &["a", "c"][..],
            &["ab", ""],
            &["a"],
            &["a", "b", ""],
            &["b", "a"],
        ] {
            assert_eq!(lookup(&recent, other), None, "{other:?}");
        }
    }

    #[test]
    fn a_shared_hash_is_no_match() {
        let long = "x".repeat(40);
        let others: [&[&str]; 6] = [
            &["a", "c"],
            &["ab", ""],
            &["a"],
            &["a", "b", "", "", ""],
            &[&long, "b"],
            &["a", &long],
        ];
        for given in [&["a", "b"][..], &[&long, "b"], &["a", "b", "c", "d", "e"]] {
            for other in others.into_iter().filter(|other| *other != given) {
                let recent = RecentChildren::<u32>::new();
                remember_as(&recent, other, given, 7);
                assert_eq!(lookup(&recent, other), None, "{other:?} found {given:?}");
                assert_eq!(lookup(&recent, given), None, "filed elsewhere");
                remember_as(&recent, given, given, 8);
                assert_eq!(lookup(&recent, given), Some(8));
            }
        }
    }

    #[test]
    fn named_labels_are_told_apart_by_name() {
        let recent = RecentChildren::<u32>::new();
        let given = [("a", "1"), ("b", "2")];
        for other in [
            &[("a", "1"), ("c", "2")][..],
            &[("a", "1")],
            &[("b", "2"), ("a", "1")],
        ] {
            remember_as(&recent, other, &given, 1);
            assert_eq!(lookup(&recent, other), None, "{other:?}");
        }
        remember_as(&recent, &given, &given, 2);
        assert_eq!(lookup(&recent, &given), Some(2));
    }

    #[test]
    fn long_labels_are_kept_whole() {
        let long = "x".repeat(100);
        let recent = RecentChildren::<u32>::new();
        recent.remember(recent.generation(), &[long.as_str(), "b"], &3);
        let key = Sought::new(&[long.as_str(), "b"]).key();
        assert!(matches!(key, Key::Bytes(_)));
        assert_eq!(lookup(&recent, &[long.as_str(), "b"]), Some(3));
        let other = format!("{}y", "x".repeat(99));
        assert_eq!(lookup(&recent, &[other.as_str(), "b"]), None);
    }

    #[test]
    fn a_removal_forgets_everything_remembered_before_it() {
        let recent = RecentChildren::<u32>::new();
        let before = recent.generation();
        recent.remember(before, &["a"], &1);
        recent.invalidate();
        let after = recent.generation();
        assert!(recent.with(after, &["a"], |m| *m).is_err());
        // A lookup that read the generation before the removal remembers under the old one:
        // the next lookup does not trust it.
        recent.remember(before, &["a"], &1);
        assert!(recent.with(after, &["a"], |m| *m).is_err());
        recent.remember(after, &["b"], &2);
        assert_eq!(recent.with(after, &["b"], |m| *m).ok(), Some(2));
        assert!(recent.with(after, &["a"], |m| *m).is_err());
    }

    #[test]
    fn grows_to_its_limit_then_replaces() {
        let recent = RecentChildren::<u64>::new();
        let g = recent.generation();
        let n = MAX_SLOTS as u64 * 2;
        for i in 0..n {
            recent.remember(g, &[i], &i);
        }
        let table = recent.tables.get().expect("a table").borrow();
        assert_eq!(table.slots.len(), MAX_SLOTS);
        assert_eq!(
            std::mem::size_of_val(&table.slots[0]),
            96,
            "a slot's size, documented"
        );
        assert!(table.used <= MAX_SLOTS);
        drop(table);
        let mut hits = 0;
        for i in 0..n {
            if let Ok(found) = recent.with(g, &[i], |m| *m) {
                assert_eq!(found, i);
                hits += 1;
            }
        }
        assert!(hits >= MAX_SLOTS / 2, "{hits}");
    }

    #[test]
    fn a_lookup_inside_a_lookup_neither_fails_nor_remembers() {
        let recent = RecentChildren::<u32>::new();
        let g = recent.generation();
        recent.remember(g, &["a"], &1);
        let inner = recent.with(g, &["a"], |outer| {
            recent.remember(g, &["b"], &2);
            let again = recent.with(g, &["a"], |m| *m).ok();
            (*outer, again)
        });
        assert_eq!(inner.ok(), Some((1, Some(1))));
        assert!(recent.with(g, &["b"], |m| *m).is_err());
    }

    #[test]
    fn each_thread_has_its_own_table() {
        let recent = RecentChildren::<u32>::new();
        let g = recent.generation();
        recent.remember(g, &["a"], &1);
        std::thread::scope(|s| {
            s.spawn(|| assert!(recent.with(g, &["a"], |m| *m).is_err()));
        });
    }
}
