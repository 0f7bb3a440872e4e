//! Label sets: what identifies one child of a [`Family`](crate::Family).
//!
//! A label set is looked up by a borrowed form (`["GET", "200"]`, a `&[&str]`, a tuple of
//! `&str` and integers) and stored in an owned form ([`LabelSet::Owned`]), so a lookup of an
//! existing child neither allocates nor copies. Both forms hash and compare the same way.
//!
//! Sets come in two shapes. *Positional* sets (arrays, slices, `Vec<String>`, tuples) carry
//! only values; their names are the family's label names, in order. *Named* sets
//! (`Vec<(String, String)>`, arrays of pairs, derived structs) carry their own names.

use std::fmt;
use std::hash::{BuildHasher, Hasher};

use foldhash::fast::{FoldHasher, RandomState};

mod as_given;
pub(crate) mod rendered;

pub(crate) use as_given::{fingerprint, key, matches_key, quick_hash, Fingerprint};
use as_given::{key_part, push_key_part, QuickHashing};

use crate::desc::{check_label_name_in, LabelNameError};
use crate::encoding::{escape_label_value, match_quoted_label_value};
use crate::MetricType;

/// One label value: something with a text form, named by an owned type.
///
/// Implemented for `&str`, `String`, `bool` and the integer types, and derived for enums
/// (`#[derive(LabelValue)]`).
///
/// ```
/// use prometheus_client::{Counter, Family};
/// let by_status: Family<(String, u16), Counter> = Family::new(["method", "status"]);
/// by_status.get_or_create(&("GET", 200u16)).inc();
/// assert_eq!(by_status.get_or_create(&("GET".to_string(), 200u16)).get(), 1);
/// ```
pub trait LabelValue {
    /// The owned type a family names in its label set type (`String` for `&str`). A lookup
    /// may use any value whose `Owned` is the family's.
    type Owned: LabelValue<Owned = Self::Owned> + Send + Sync + 'static;

    /// Calls `f` with the value's text, unescaped.
    fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R;
    /// Whether this value means "no label" (an `Option` that is `None`): a named label set
    /// then leaves the label out, which Prometheus treats like an empty value.
    fn is_absent(&self) -> bool {
        false
    }
}

impl<T: LabelValue> LabelValue for Option<T> {
    type Owned = Option<T::Owned>;
    /// `None` reads as the empty value, which Prometheus treats as no label.
    fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        match self {
            Some(v) => v.with_text(f),
            None => f(""),
        }
    }
    fn is_absent(&self) -> bool {
        self.is_none()
    }
}

impl LabelValue for str {
    type Owned = String;
    #[inline]
    fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        f(self)
    }
}

impl LabelValue for String {
    type Owned = String;
    #[inline]
    fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        f(self)
    }
}

impl<T: LabelValue + ?Sized> LabelValue for &T {
    type Owned = T::Owned;
    #[inline]
    fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        (**self).with_text(f)
    }
    fn is_absent(&self) -> bool {
        (**self).is_absent()
    }
}

impl LabelValue for bool {
    type Owned = bool;
    fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        f(if *self { "true" } else { "false" })
    }
}

macro_rules! integer_label_values {
    ($($t:ty),*) => {$(
        impl LabelValue for $t {
            type Owned = $t;
            #[inline]
            fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
                f(itoa::Buffer::new().format(*self))
            }
        }
    )*};
}
integer_label_values!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize);

/// Whether a label set carries its own names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelShape {
    /// Values only, named by the family's label names; `Some(n)` when the type fixes the count.
    Positional(Option<usize>),
    /// Each label carries its name.
    Named,
}

/// A set of labels identifying one child of a [`Family`](crate::Family).
///
/// A family stores no label set, only the rendered labels of each child, so a lookup may use
/// any form whose [`LabelSet::Owned`] is the family's label type: `&["GET", "200"]` for a
/// `Family<[String; 2], _>`, without allocating. Implementations exist for arrays, slices and
/// `Vec`s of [`LabelValue`]s (positional), tuples of up to six values (positional), arrays,
/// slices and `Vec`s of `(name, value)` string pairs (named), and structs deriving
/// `LabelSet` (named).
///
/// ```
/// use prometheus_client::{Counter, Family};
/// let requests: Family<[String; 2], Counter> = Family::new(["method", "status"]);
/// requests.get_or_create(&["GET", "200"]).inc();
/// let pairs: Family<Vec<(String, String)>, Counter> = Family::default();
/// pairs.get_or_create(&[("method", "GET")]).inc();
/// ```
pub trait LabelSet {
    /// The owned type a family names; lookups may use any set with the same `Owned`.
    type Owned: LabelSet<Owned = Self::Owned> + Send + Sync + 'static;
    /// Whether the set carries names, and how many values positional sets have.
    const SHAPE: LabelShape;

    /// Writes each label to `encoder`, always in the same order.
    fn encode(&self, encoder: &mut LabelSetEncoder<'_>);
}

impl<V: LabelValue, const N: usize> LabelSet for [V; N] {
    type Owned = [V::Owned; N];
    const SHAPE: LabelShape = LabelShape::Positional(Some(N));
    #[inline(always)]
    fn encode(&self, encoder: &mut LabelSetEncoder<'_>) {
        for value in self {
            encoder.positional(value);
        }
    }
}

impl<V: LabelValue> LabelSet for [V] {
    type Owned = Vec<V::Owned>;
    const SHAPE: LabelShape = LabelShape::Positional(None);
    #[inline(always)]
    fn encode(&self, encoder: &mut LabelSetEncoder<'_>) {
        for value in self {
            encoder.positional(value);
        }
    }
}

impl<V: LabelValue> LabelSet for Vec<V> {
    type Owned = Vec<V::Owned>;
    const SHAPE: LabelShape = LabelShape::Positional(None);
    #[inline(always)]
    fn encode(&self, encoder: &mut LabelSetEncoder<'_>) {
        self.as_slice().encode(encoder);
    }
}

macro_rules! tuple_label_sets {
    ($(($($v:ident . $i:tt),+) = $n:expr;)*) => {$(
        impl<$($v: LabelValue),+> LabelSet for ($($v,)+) {
            type Owned = ($($v::Owned,)+);
            const SHAPE: LabelShape = LabelShape::Positional(Some($n));
            #[inline(always)]
            fn encode(&self, encoder: &mut LabelSetEncoder<'_>) {
                $(encoder.positional(&self.$i);)+
            }
        }
    )*};
}
tuple_label_sets! {
    (A.0) = 1;
    (A.0, B.1) = 2;
    (A.0, B.1, C.2) = 3;
    (A.0, B.1, C.2, D.3) = 4;
    (A.0, B.1, C.2, D.3, E.4) = 5;
    (A.0, B.1, C.2, D.3, E.4, F.5) = 6;
}

macro_rules! pair_label_sets {
    ($($(#[$attr:meta])* [$($generics:tt)*] $t:ty;)*) => {$(
        impl<$($generics)*> LabelSet for $t {
            type Owned = Vec<(String, V::Owned)>;
            const SHAPE: LabelShape = LabelShape::Named;
            #[inline(always)]
            fn encode(&self, encoder: &mut LabelSetEncoder<'_>) {
                for (name, value) in self.iter() {
                    encoder.named(AsRef::<str>::as_ref(name), value);
                }
            }
        }
    )*};
}
pair_label_sets! {
    [V: LabelValue, const N: usize] [(&str, V); N];
    [V: LabelValue] [(&str, V)];
    [V: LabelValue] Vec<(String, V)>;
    [V: LabelValue] [(String, V)];
}

/// Why a label set could not name a child.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LabelError {
    /// A label name is invalid or reserved.
    Name(LabelNameError),
    /// The same name appears twice in one set.
    DuplicateName(String),
    /// A positional set has a different number of values than the family has label names.
    WrongCount {
        /// The family's label names.
        expected: usize,
        /// The values given.
        got: usize,
    },
    /// A named set was given to a family that declared positional label names.
    NamesNotDeclared(String),
}

impl fmt::Display for LabelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabelError::Name(e) => e.fmt(f),
            LabelError::DuplicateName(name) => write!(f, "label {name:?} appears twice"),
            LabelError::WrongCount { expected, got } => {
                write!(f, "expected {expected} label values, got {got}")
            }
            LabelError::NamesNotDeclared(name) => write!(
                f,
                "label {name:?} given by name, but the family declares positional label names"
            ),
        }
    }
}

impl std::error::Error for LabelError {}

impl From<LabelNameError> for LabelError {
    fn from(e: LabelNameError) -> Self {
        LabelError::Name(e)
    }
}

/// What a [`LabelSet`] writes its labels to.
///
/// A family visits a label set to *render* it (`name="value",…`, escaped, with every name
/// checked) when it creates a child, and to *hash* it and *match* it against a child's
/// rendered labels when it looks one up; each thread's table of recent children also takes
/// the labels as given (a fingerprint, or their bytes). Lookups read each value's text in
/// place and allocate nothing. Positional values take the family's label names in order;
/// named labels are rendered sorted by name, and hashed and matched regardless of order, so
/// the same pairs in another order name the same series.
///
/// A hand-written label set (what `#[derive(LabelSet)]` writes for a struct):
///
/// ```
/// use prometheus_client::labels::{LabelSetEncoder, LabelShape};
/// use prometheus_client::{Counter, Family, LabelSet};
///
/// struct Route {
///     method: &'static str,
///     code: u16,
/// }
///
/// impl LabelSet for Route {
///     type Owned = Route;
///     const SHAPE: LabelShape = LabelShape::Named;
///     fn encode(&self, encoder: &mut LabelSetEncoder<'_>) {
///         encoder.named("method", self.method);
///         encoder.named("code", &self.code);
///     }
/// }
///
/// let requests = Family::<Route, Counter>::default();
/// requests.get_or_create(&Route { method: "GET", code: 200 }).inc();
/// assert_eq!(requests.get_or_create(&Route { method: "GET", code: 200 }).get(), 1);
/// ```
pub struct LabelSetEncoder<'a> {
    declared: &'a [Box<str>],
    positional: usize,
    mode: Mode<'a>,
}

enum Mode<'a> {
    Render(&'a mut Rendering),
    Hash(&'a mut Hashing),
    Match {
        rendered: &'a [u8],
        progress: &'a mut Matching,
    },
    /// Mixes the labels as they are given into a cheap hash (see [`quick_hash`]).
    QuickHash(&'a mut QuickHashing),
    /// Takes the labels' [`Fingerprint`]; `None` once they do not fit one.
    Fingerprint(&'a mut Option<Fingerprint>),
    /// Writes the labels as they are given (see [`key`]).
    Key(&'a mut Vec<u8>),
    /// Compares the labels with a [`key`]: how much of it matched so far, `None` once
    /// something did not.
    MatchKey {
        key: &'a [u8],
        matched: &'a mut Option<usize>,
    },
}

impl fmt::Debug for LabelSetEncoder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match self.mode {
            Mode::Render(_) => "render",
            Mode::Hash(_) => "hash",
            Mode::Match { .. } => "match",
            Mode::QuickHash(_) => "quick hash",
            Mode::Fingerprint(_) => "fingerprint",
            Mode::Key(_) => "key",
            Mode::MatchKey { .. } => "match key",
        };
        f.debug_struct("LabelSetEncoder")
            .field("declared", &self.declared)
            .field("mode", &mode)
            .finish_non_exhaustive()
    }
}

struct Rendering {
    metric_type: MetricType,
    /// Whether named labels may have names outside the classic character set.
    utf8_names: bool,
    out: String,
    /// Named labels as `(name, escaped value)`; the first `used` are this set's (the rest
    /// are buffers a caller lends for reuse).
    named: Vec<(String, String)>,
    used: usize,
    error: Option<LabelError>,
}

struct Hashing {
    positional: FoldHasher,
    /// The sum of each named pair's own hash, which does not depend on their order.
    named: u64,
    build: RandomState,
}

struct Matching {
    /// How much of the rendered labels is matched so far (positional labels match from the
    /// start, named ones anywhere); `None` once something did not match.
    rest: Option<usize>,
    /// Which named labels (by position in the rendered labels) were matched.
    named: u64,
    named_seen: bool,
}

impl<'a> LabelSetEncoder<'a> {
    /// Adds the next value of a positional set.
    // Inlined into `hash` and `matches`, which fix the mode, so only one arm is compiled in.
    #[inline(always)]
    pub fn positional(&mut self, value: &(impl LabelValue + ?Sized)) {
        let index = self.positional;
        self.positional += 1;
        let name = self.declared.get(index);
        match &mut self.mode {
            Mode::Render(rendering) => {
                // Positional labels come in the declared order: render them straight into
                // the output, one allocation for the whole set.
                if let Some(name) = name {
                    let out = &mut rendering.out;
                    if index > 0 {
                        out.push(',');
                    }
                    out.push_str(name);
                    out.push_str("=\"");
                    value.with_text(|text| escape_label_value(out, text));
                    out.push('"');
                }
            }
            Mode::Hash(hashing) => value.with_text(|text| {
                hashing.positional.write(text.as_bytes());
                // No UTF-8 text contains 0xff: ("ab", "") and ("a", "b") hash apart.
                hashing.positional.write_u8(0xff);
            }),
            Mode::Match { rendered, progress } => {
                progress.rest = progress.rest.and_then(|at| {
                    // Every child of the family was rendered with the same declared names:
                    // skip `,name="` rather than compare it.
                    let start = at + usize::from(index > 0) + name?.len() + 2;
                    let len =
                        value.with_text(|text| match_quoted_label_value(rendered, start, text))?;
                    Some(start + len)
                });
            }
            Mode::QuickHash(hashing) => value.with_text(|text| hashing.mix(text)),
            Mode::Fingerprint(fingerprint) => {
                value.with_text(|text| Fingerprint::add(fingerprint, text))
            }
            Mode::Key(key) => value.with_text(|text| push_key_part(key, text)),
            Mode::MatchKey { key, matched } => {
                **matched = matched.and_then(|at| value.with_text(|text| key_part(key, at, text)));
            }
        }
    }

    /// Adds a label with its name.
    #[inline(always)]
    pub fn named(&mut self, name: &str, value: &(impl LabelValue + ?Sized)) {
        if value.is_absent() {
            return;
        }
        match &mut self.mode {
            Mode::Render(rendering) => rendering.named(self.declared, name, value),
            Mode::Hash(hashing) => {
                let mut pair = hashing.build.build_hasher();
                pair.write(name.as_bytes());
                pair.write_u8(0xff);
                value.with_text(|text| pair.write(text.as_bytes()));
                hashing.named = hashing.named.wrapping_add(pair.finish());
            }
            Mode::Match { rendered, progress } => {
                progress.named_seen = true;
                let found = find_named(rendered, name).and_then(|(position, value_at)| {
                    let len = value
                        .with_text(|text| match_quoted_label_value(rendered, value_at, text))?;
                    Some((position, name.len() + 2 + len))
                });
                match found {
                    // A name given twice matches one label twice: not the same set.
                    Some((position, len))
                        if position < 64 && progress.named & (1 << position) == 0 =>
                    {
                        progress.named |= 1 << position;
                        // Labels and the commas between them: once all of the rendered
                        // labels are covered, none is left over.
                        progress.rest = progress
                            .rest
                            .map(|covered| covered + usize::from(covered > 0) + len);
                    }
                    // Over 64 labels, lookups fall back to comparing rendered labels.
                    _ => progress.rest = None,
                }
            }
            Mode::QuickHash(hashing) => {
                hashing.mix(name);
                value.with_text(|text| hashing.mix(text));
            }
            Mode::Fingerprint(fingerprint) => {
                Fingerprint::add(fingerprint, name);
                value.with_text(|text| Fingerprint::add(fingerprint, text));
            }
            Mode::Key(key) => {
                push_key_part(key, name);
                value.with_text(|text| push_key_part(key, text));
            }
            Mode::MatchKey { key, matched } => {
                **matched = matched
                    .and_then(|at| key_part(key, at, name))
                    .and_then(|at| value.with_text(|text| key_part(key, at, text)));
            }
        }
    }
}

impl Rendering {
    fn named(&mut self, declared: &[Box<str>], name: &str, value: &(impl LabelValue + ?Sized)) {
        if self.error.is_some() {
            return;
        }
        if !declared.is_empty() {
            self.error = Some(LabelError::NamesNotDeclared(name.to_owned()));
            return;
        }
        if let Err(e) = check_label_name_in(name, self.metric_type, self.utf8_names) {
            self.error = Some(e.into());
            return;
        }
        if self.named[..self.used].iter().any(|(n, _)| n == name) {
            self.error = Some(LabelError::DuplicateName(name.to_owned()));
            return;
        }
        if self.used == self.named.len() {
            self.named.push((String::new(), String::new()));
        }
        let (slot_name, slot_value) = &mut self.named[self.used];
        slot_name.clear();
        slot_name.push_str(name);
        slot_value.clear();
        value.with_text(|text| escape_label_value(slot_value, text));
        self.used += 1;
    }

    /// The rendered labels, or the first problem found.
    /// The rendered labels, or the first problem found; and the named-label buffers, for a
    /// caller to lend again.
    fn finish(
        mut self,
        declared: &[Box<str>],
        positional: usize,
    ) -> (Result<String, LabelError>, Vec<(String, String)>) {
        if let Some(e) = self.error {
            return (Err(e), self.named);
        }
        if positional > 0 || !declared.is_empty() {
            if positional != declared.len() {
                let error = LabelError::WrongCount {
                    expected: declared.len(),
                    got: positional,
                };
                return (Err(error), self.named);
            }
            return (Ok(self.out), self.named);
        }
        let used = &mut self.named[..self.used];
        used.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = self.out;
        for (i, (name, value)) in used.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            rendered::push_name(&mut out, name);
            out.push_str("=\"");
            out.push_str(value);
            out.push('"');
        }
        (Ok(out), self.named)
    }
}

/// The position of the label `name` in rendered labels, and where its value starts.
fn find_named(rendered: &[u8], name: &str) -> Option<(usize, usize)> {
    let mut at = 0;
    let mut position = 0;
    loop {
        let equals = at + find_name_end(&rendered[at..])?;
        let value_at = equals + 2;
        let written = &rendered[at..equals];
        // A name outside the classic set is rendered quoted (see `rendered.rs`).
        if written == name.as_bytes()
            || (written.first() == Some(&b'"') && *written == *rendered::name(name).as_bytes())
        {
            return Some((position, value_at));
        }
        at = value_at + escaped_value_len(&rendered[value_at..])?;
        if rendered.get(at) != Some(&b',') {
            return None;
        }
        at += 1;
        position += 1;
    }
}

/// Where a rendered name ends (its `="`): a classic name holds no `=`; a quoted one ends at
/// its closing quote (escaped values and names hold no bare `"`).
fn find_name_end(rendered: &[u8]) -> Option<usize> {
    let end = match rendered.first() {
        Some(b'"') => 1 + escaped_value_len(&rendered[1..])?,
        _ => rendered.iter().position(|&b| b == b'=')?,
    };
    (rendered.get(end..end + 2) == Some(b"=\"")).then_some(end)
}

/// The length of an escaped label value with its closing quote.
fn escaped_value_len(value: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < value.len() {
        match value[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Renders `labels` with the given declared names, as a family does when creating a child,
/// into `out` (cleared first, so a caller can reuse its buffer).
pub(crate) fn render<L: LabelSet + ?Sized>(
    labels: &L,
    declared: &[Box<str>],
    metric_type: MetricType,
    out: String,
) -> Result<String, LabelError> {
    render_reusing(labels, declared, (metric_type, false), out, Vec::new()).0
}

/// [`render`] for a family: `declared` are its names as rendered labels hold them
/// ([`rendered::name`]), and `utf8_names` allows named labels outside the classic character
/// set (the family is registered where UTF-8 names are allowed).
pub(crate) fn render_in_family<L: LabelSet + ?Sized>(
    labels: &L,
    declared: &[Box<str>],
    (metric_type, utf8_names): (MetricType, bool),
    out: String,
) -> Result<String, LabelError> {
    render_reusing(labels, declared, (metric_type, utf8_names), out, Vec::new()).0
}

/// [`render`], with buffers for named labels lent by the caller and given back (exemplars
/// render a label set at every record, and allocate nothing once the buffers are warm).
pub(crate) fn render_reusing<L: LabelSet + ?Sized>(
    labels: &L,
    declared: &[Box<str>],
    (metric_type, utf8_names): (MetricType, bool),
    mut out: String,
    named: Vec<(String, String)>,
) -> (Result<String, LabelError>, Vec<(String, String)>) {
    out.clear();
    let mut rendering = Rendering {
        metric_type,
        utf8_names,
        out,
        named,
        used: 0,
        error: None,
    };
    let mut encoder = LabelSetEncoder {
        declared,
        positional: 0,
        mode: Mode::Render(&mut rendering),
    };
    labels.encode(&mut encoder);
    let positional = encoder.positional;
    rendering.finish(declared, positional)
}

/// The hash a family files `labels` under: equal sets hash alike, whatever form (`&str` or
/// `String`) and, for named sets, whatever order their labels come in.
#[inline(always)]
pub(crate) fn hash<L: LabelSet + ?Sized>(labels: &L, build: &RandomState) -> u64 {
    let mut hashing = Hashing {
        positional: build.build_hasher(),
        named: 0,
        build: *build,
    };
    labels.encode(&mut LabelSetEncoder {
        declared: &[],
        positional: 0,
        mode: Mode::Hash(&mut hashing),
    });
    hashing.positional.finish().wrapping_add(hashing.named)
}

/// Whether `labels` render to `rendered` (as [`render`] would with these declared names).
#[inline]
pub(crate) fn matches<L: LabelSet + ?Sized>(
    labels: &L,
    declared: &[Box<str>],
    rendered: &[u8],
) -> bool {
    let mut progress = Matching {
        rest: Some(0),
        named: 0,
        named_seen: false,
    };
    let mut encoder = LabelSetEncoder {
        declared,
        positional: 0,
        mode: Mode::Match {
            rendered,
            progress: &mut progress,
        },
    };
    labels.encode(&mut encoder);
    let positional = encoder.positional;
    let expected_positional = if progress.named_seen {
        0
    } else {
        declared.len()
    };
    progress.rest == Some(rendered.len()) && positional == expected_positional
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<Box<str>> {
        n.iter().map(|s| Box::from(*s)).collect()
    }

    #[test]
    fn positional_values_take_declared_names() {
        let declared = names(&["method", "code"]);
        let rendered = render(
            &("GET", 200u16),
            &declared,
            MetricType::Counter,
            String::new(),
        );
        assert_eq!(rendered.as_deref(), Ok("method=\"GET\",code=\"200\""));
    }

    #[test]
    fn positional_count_must_match() {
        let declared = names(&["method", "code"]);
        let err = render(&["GET"][..], &declared, MetricType::Counter, String::new()).unwrap_err();
        assert_eq!(
            err,
            LabelError::WrongCount {
                expected: 2,
                got: 1
            }
        );
        let err = render(
            &["a", "b", "c"][..],
            &declared,
            MetricType::Counter,
            String::new(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            LabelError::WrongCount {
                expected: 2,
                got: 3
            }
        );
    }

    #[test]
    fn named_pairs_are_checked_and_sorted() {
        let ok = render(
            &[("b", "2"), ("a", "x\"y")],
            &[],
            MetricType::Gauge,
            String::new(),
        );
        assert_eq!(ok.as_deref(), Ok("a=\"x\\\"y\",b=\"2\""));
        let dup = render(
            &[("a", "1"), ("a", "2")],
            &[],
            MetricType::Gauge,
            String::new(),
        );
        assert_eq!(dup, Err(LabelError::DuplicateName("a".into())));
        let reserved =
            render(&[("le", "1")], &[], MetricType::Histogram, String::new()).unwrap_err();
        assert!(reserved.to_string().contains("reserved for histogram"));
        let bad = render(&[("a-b", "1")], &[], MetricType::Gauge, String::new()).unwrap_err();
        assert!(bad.to_string().contains("invalid label name \"a-b\""));
    }

    #[test]
    fn borrowed_and_owned_forms_hash_alike() {
        let build = RandomState::default();
        let owned: [String; 2] = ["a".into(), "b".into()];
        assert_eq!(hash(&["a", "b"], &build), hash(&owned, &build));
        // The terminator keeps ("ab", "") apart from ("a", "b").
        assert_ne!(hash(&["ab", ""], &build), hash(&["a", "b"], &build));
        let pairs = vec![("k".to_string(), "v".to_string())];
        assert_eq!(hash(&[("k", "v")], &build), hash(&pairs, &build));
        assert_eq!(
            hash(&("x", 7u8), &build),
            hash(&("x".to_string(), 7u8), &build)
        );
        assert_eq!(
            hash(&[("a", "1"), ("b", "2")], &build),
            hash(&[("b", "2"), ("a", "1")], &build),
            "named pairs hash alike in any order"
        );
    }

    #[test]
    fn sets_match_their_own_rendering_only() {
        let declared = names(&["method", "code"]);
        let rendered = render(
            &("G\"E\\T", 200u16),
            &declared,
            MetricType::Counter,
            String::new(),
        )
        .unwrap();
        let rendered = rendered.as_bytes();
        assert!(matches(&("G\"E\\T", 200u16), &declared, rendered));
        assert!(matches(&["G\"E\\T", "200"], &declared, rendered));
        for other in [
            &["G\"E\\T", "20"][..],
            &["G\"E\\T"],
            &["G\"E\\T", "200", ""],
            &["GET", "200"],
        ] {
            assert!(!matches(other, &declared, rendered), "{other:?}");
        }
        let rendered = render(
            &[("b", "2"), ("a", "x\"y")],
            &[],
            MetricType::Gauge,
            String::new(),
        )
        .unwrap();
        let rendered = rendered.as_bytes();
        assert!(matches(&[("a", "x\"y"), ("b", "2")], &[], rendered));
        assert!(matches(&[("b", "2"), ("a", "x\"y")], &[], rendered));
        let mismatches: [&[(&str, &str)]; 4] = [
            &[("a", "x\"y")],
            &[("a", "x\"y"), ("b", "2"), ("c", "")],
            &[("a", "x\"y"), ("a", "x\"y")],
            &[("a", "x"), ("b", "2")],
        ];
        for other in mismatches {
            assert!(!matches(other, &[], rendered), "{other:?}");
        }
        assert!(matches(&[("a", None), ("b", Some("2"))], &[], b"b=\"2\""));
        assert!(matches(&Vec::<(String, String)>::new(), &[], b""));
    }
}
