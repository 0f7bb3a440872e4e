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
use std::hash::Hasher;

use crate::desc::{check_label_name, LabelNameError};
use crate::encoding::escape_label_value;
use crate::MetricType;

/// One label value: something that renders as a string and can be stored owned.
///
/// Implemented for `&str`, `String`, `bool` and the integer types.
///
/// ```
/// use prometheus_client::{Counter, Family};
/// let by_status: Family<(String, u16), Counter> = Family::new(["method", "status"]);
/// by_status.get_or_create(&("GET", 200u16)).inc();
/// assert_eq!(by_status.get_or_create(&("GET".to_string(), 200u16)).get(), 1);
/// ```
pub trait LabelValue {
    /// The form stored in a family.
    type Owned: LabelValue<Owned = Self::Owned> + Send + Sync + 'static;

    /// Appends the value, escaped for a quoted label value.
    fn encode_value(&self, out: &mut String);
    /// Hashes the value the same way its owned form does.
    fn hash_value<H: Hasher>(&self, state: &mut H);
    /// Whether this value equals a stored one.
    fn eq_owned(&self, owned: &Self::Owned) -> bool;
    /// The stored form.
    fn to_owned_value(&self) -> Self::Owned;
    /// Whether this value means "no label" (an `Option` that is `None`): a named label set
    /// then leaves the label out, which Prometheus treats like an empty value.
    fn is_absent(&self) -> bool {
        false
    }
}

impl<T: LabelValue> LabelValue for Option<T> {
    type Owned = Option<T::Owned>;
    fn encode_value(&self, out: &mut String) {
        if let Some(v) = self {
            v.encode_value(out);
        }
    }
    fn hash_value<H: Hasher>(&self, state: &mut H) {
        match self {
            Some(v) => {
                state.write_u8(1);
                v.hash_value(state);
            }
            None => state.write_u8(0),
        }
    }
    fn eq_owned(&self, owned: &Self::Owned) -> bool {
        match (self, owned) {
            (Some(v), Some(o)) => v.eq_owned(o),
            (None, None) => true,
            _ => false,
        }
    }
    fn to_owned_value(&self) -> Self::Owned {
        self.as_ref().map(LabelValue::to_owned_value)
    }
    fn is_absent(&self) -> bool {
        self.is_none()
    }
}

impl LabelValue for str {
    type Owned = String;
    fn encode_value(&self, out: &mut String) {
        escape_label_value(out, self);
    }
    fn hash_value<H: Hasher>(&self, state: &mut H) {
        state.write(self.as_bytes());
        state.write_u8(0xff);
    }
    fn eq_owned(&self, owned: &String) -> bool {
        self == owned
    }
    fn to_owned_value(&self) -> String {
        self.to_owned()
    }
}

impl LabelValue for String {
    type Owned = String;
    fn encode_value(&self, out: &mut String) {
        self.as_str().encode_value(out);
    }
    fn hash_value<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash_value(state);
    }
    fn eq_owned(&self, owned: &String) -> bool {
        self == owned
    }
    fn to_owned_value(&self) -> String {
        self.clone()
    }
}

impl<T: LabelValue + ?Sized> LabelValue for &T {
    type Owned = T::Owned;
    fn encode_value(&self, out: &mut String) {
        (**self).encode_value(out);
    }
    fn hash_value<H: Hasher>(&self, state: &mut H) {
        (**self).hash_value(state);
    }
    fn eq_owned(&self, owned: &T::Owned) -> bool {
        (**self).eq_owned(owned)
    }
    fn to_owned_value(&self) -> T::Owned {
        (**self).to_owned_value()
    }
}

impl LabelValue for bool {
    type Owned = bool;
    fn encode_value(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
    fn hash_value<H: Hasher>(&self, state: &mut H) {
        state.write_u8(u8::from(*self));
    }
    fn eq_owned(&self, owned: &bool) -> bool {
        self == owned
    }
    fn to_owned_value(&self) -> bool {
        *self
    }
}

macro_rules! integer_label_values {
    ($($t:ty),*) => {$(
        impl LabelValue for $t {
            type Owned = $t;
            fn encode_value(&self, out: &mut String) {
                out.push_str(itoa::Buffer::new().format(*self));
            }
            fn hash_value<H: Hasher>(&self, state: &mut H) {
                state.write(&self.to_le_bytes());
            }
            fn eq_owned(&self, owned: &$t) -> bool {
                self == owned
            }
            fn to_owned_value(&self) -> $t {
                *self
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
/// The borrowed form used for lookups and the owned form stored in the family must hash and
/// compare alike; [`LabelSet::Owned`] ties them together. Implementations exist for arrays,
/// slices and `Vec`s of [`LabelValue`]s (positional), tuples of up to six values
/// (positional), and arrays, slices and `Vec`s of `(name, value)` string pairs (named).
///
/// ```
/// use prometheus_client::{Counter, Family};
/// let requests: Family<[String; 2], Counter> = Family::new(["method", "status"]);
/// requests.get_or_create(&["GET", "200"]).inc();
/// let pairs: Family<Vec<(String, String)>, Counter> = Family::default();
/// pairs.get_or_create(&[("method", "GET")]).inc();
/// ```
pub trait LabelSet {
    /// The form stored in a family.
    type Owned: LabelSet<Owned = Self::Owned> + Send + Sync + 'static;
    /// Whether the set carries names, and how many values positional sets have.
    const SHAPE: LabelShape;

    /// Writes each label to `encoder`.
    fn encode(&self, encoder: &mut LabelSetEncoder<'_>);
    /// Hashes the set the same way its owned form does.
    fn hash_labels<H: Hasher>(&self, state: &mut H);
    /// Whether this set equals a stored one.
    fn eq_owned(&self, owned: &Self::Owned) -> bool;
    /// The stored form.
    fn to_owned_set(&self) -> Self::Owned;
}

impl<V: LabelValue, const N: usize> LabelSet for [V; N] {
    type Owned = [V::Owned; N];
    const SHAPE: LabelShape = LabelShape::Positional(Some(N));
    fn encode(&self, encoder: &mut LabelSetEncoder<'_>) {
        self.iter().for_each(|v| encoder.positional(v));
    }
    fn hash_labels<H: Hasher>(&self, state: &mut H) {
        self.iter().for_each(|v| v.hash_value(state));
    }
    fn eq_owned(&self, owned: &Self::Owned) -> bool {
        self.iter().zip(owned).all(|(v, o)| v.eq_owned(o))
    }
    fn to_owned_set(&self) -> Self::Owned {
        std::array::from_fn(|i| self[i].to_owned_value())
    }
}

impl<V: LabelValue> LabelSet for [V] {
    type Owned = Vec<V::Owned>;
    const SHAPE: LabelShape = LabelShape::Positional(None);
    fn encode(&self, encoder: &mut LabelSetEncoder<'_>) {
        self.iter().for_each(|v| encoder.positional(v));
    }
    fn hash_labels<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.len());
        self.iter().for_each(|v| v.hash_value(state));
    }
    fn eq_owned(&self, owned: &Self::Owned) -> bool {
        self.len() == owned.len() && self.iter().zip(owned).all(|(v, o)| v.eq_owned(o))
    }
    fn to_owned_set(&self) -> Self::Owned {
        self.iter().map(LabelValue::to_owned_value).collect()
    }
}

impl<V: LabelValue> LabelSet for Vec<V> {
    type Owned = Vec<V::Owned>;
    const SHAPE: LabelShape = LabelShape::Positional(None);
    fn encode(&self, encoder: &mut LabelSetEncoder<'_>) {
        self.as_slice().encode(encoder);
    }
    fn hash_labels<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash_labels(state);
    }
    fn eq_owned(&self, owned: &Self::Owned) -> bool {
        self.as_slice().eq_owned(owned)
    }
    fn to_owned_set(&self) -> Self::Owned {
        self.as_slice().to_owned_set()
    }
}

macro_rules! tuple_label_sets {
    ($(($($v:ident . $i:tt),+) = $n:expr;)*) => {$(
        impl<$($v: LabelValue),+> LabelSet for ($($v,)+) {
            type Owned = ($($v::Owned,)+);
            const SHAPE: LabelShape = LabelShape::Positional(Some($n));
            fn encode(&self, encoder: &mut LabelSetEncoder<'_>) {
                $(encoder.positional(&self.$i);)+
            }
            fn hash_labels<H: Hasher>(&self, state: &mut H) {
                $(self.$i.hash_value(state);)+
            }
            fn eq_owned(&self, owned: &Self::Owned) -> bool {
                $(self.$i.eq_owned(&owned.$i))&&+
            }
            fn to_owned_set(&self) -> Self::Owned {
                ($(self.$i.to_owned_value(),)+)
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

/// Named pairs: `(name, value)` with string names.
fn hash_pairs<K: AsRef<str>, V: LabelValue, H: Hasher>(pairs: &[(K, V)], state: &mut H) {
    state.write_usize(pairs.len());
    for (name, value) in pairs {
        name.as_ref().hash_value(state);
        value.hash_value(state);
    }
}

fn eq_pairs<K: AsRef<str>, V: LabelValue>(pairs: &[(K, V)], owned: &[(String, V::Owned)]) -> bool {
    pairs.len() == owned.len()
        && pairs
            .iter()
            .zip(owned)
            .all(|((n, v), (on, ov))| n.as_ref() == on && v.eq_owned(ov))
}

macro_rules! pair_label_sets {
    ($($(#[$attr:meta])* [$($generics:tt)*] $t:ty;)*) => {$(
        impl<$($generics)*> LabelSet for $t {
            type Owned = Vec<(String, V::Owned)>;
            const SHAPE: LabelShape = LabelShape::Named;
            fn encode(&self, encoder: &mut LabelSetEncoder<'_>) {
                for (name, value) in self.iter() {
                    encoder.named(AsRef::<str>::as_ref(name), value);
                }
            }
            fn hash_labels<H: Hasher>(&self, state: &mut H) {
                hash_pairs(&self[..], state);
            }
            fn eq_owned(&self, owned: &Self::Owned) -> bool {
                eq_pairs(&self[..], owned)
            }
            fn to_owned_set(&self) -> Self::Owned {
                self.iter()
                    .map(|(n, v)| (str::to_owned(n.as_ref()), v.to_owned_value()))
                    .collect()
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

/// Renders a label set once, when its child is created: `name="value",…`, escaped.
///
/// Positional values take the family's label names in order; named labels are checked
/// (charset, `__` prefix, the metric type's reserved label, duplicates) and written sorted by
/// name, so the same pairs in another order name the same series.
#[derive(Debug)]
pub struct LabelSetEncoder<'a> {
    declared: &'a [Box<str>],
    metric_type: MetricType,
    positional: usize,
    out: String,
    named: Vec<(String, String)>,
    error: Option<LabelError>,
}

impl<'a> LabelSetEncoder<'a> {
    pub(crate) fn new(declared: &'a [Box<str>], metric_type: MetricType) -> Self {
        LabelSetEncoder {
            declared,
            metric_type,
            positional: 0,
            out: String::new(),
            named: Vec::new(),
            error: None,
        }
    }

    /// Adds the next value of a positional set.
    pub fn positional(&mut self, value: &(impl LabelValue + ?Sized)) {
        // Positional labels come in the declared order: render them straight into the output,
        // one allocation for the whole set.
        if let Some(name) = self.declared.get(self.positional) {
            if !self.out.is_empty() {
                self.out.push(',');
            }
            self.out.push_str(name);
            self.out.push_str("=\"");
            value.encode_value(&mut self.out);
            self.out.push('"');
        }
        self.positional += 1;
    }

    /// Adds a label with its name.
    pub fn named(&mut self, name: &str, value: &(impl LabelValue + ?Sized)) {
        if self.error.is_some() || value.is_absent() {
            return;
        }
        if !self.declared.is_empty() {
            self.error = Some(LabelError::NamesNotDeclared(name.to_owned()));
            return;
        }
        if let Err(e) = check_label_name(name, self.metric_type) {
            self.error = Some(e.into());
            return;
        }
        if self.named.iter().any(|(n, _)| n == name) {
            self.error = Some(LabelError::DuplicateName(name.to_owned()));
            return;
        }
        let mut rendered = String::new();
        value.encode_value(&mut rendered);
        self.named.push((name.to_owned(), rendered));
    }

    /// The rendered labels, or the first problem found.
    pub(crate) fn finish(mut self) -> Result<String, LabelError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if self.positional > 0 || !self.declared.is_empty() {
            if self.positional != self.declared.len() {
                return Err(LabelError::WrongCount {
                    expected: self.declared.len(),
                    got: self.positional,
                });
            }
            return Ok(self.out);
        }
        self.named.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = self.out;
        for (i, (name, value)) in self.named.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(name);
            out.push_str("=\"");
            out.push_str(value);
            out.push('"');
        }
        Ok(out)
    }
}

/// Renders `labels` with the given declared names, as a family does when creating a child.
pub(crate) fn render<L: LabelSet + ?Sized>(
    labels: &L,
    declared: &[Box<str>],
    metric_type: MetricType,
) -> Result<String, LabelError> {
    let mut encoder = LabelSetEncoder::new(declared, metric_type);
    labels.encode(&mut encoder);
    encoder.finish()
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
        let rendered = render(&("GET", 200u16), &declared, MetricType::Counter);
        assert_eq!(rendered.as_deref(), Ok("method=\"GET\",code=\"200\""));
    }

    #[test]
    fn positional_count_must_match() {
        let declared = names(&["method", "code"]);
        let err = render(&["GET"][..], &declared, MetricType::Counter).unwrap_err();
        assert_eq!(
            err,
            LabelError::WrongCount {
                expected: 2,
                got: 1
            }
        );
        let err = render(&["a", "b", "c"][..], &declared, MetricType::Counter).unwrap_err();
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
        let ok = render(&[("b", "2"), ("a", "x\"y")], &[], MetricType::Gauge);
        assert_eq!(ok.as_deref(), Ok("a=\"x\\\"y\",b=\"2\""));
        let dup = render(&[("a", "1"), ("a", "2")], &[], MetricType::Gauge);
        assert_eq!(dup, Err(LabelError::DuplicateName("a".into())));
        let reserved = render(&[("le", "1")], &[], MetricType::Histogram).unwrap_err();
        assert!(reserved.to_string().contains("reserved for histogram"));
        let bad = render(&[("a-b", "1")], &[], MetricType::Gauge).unwrap_err();
        assert!(bad.to_string().contains("invalid label name \"a-b\""));
    }

    #[test]
    fn borrowed_and_owned_forms_hash_alike() {
        fn hash<L: LabelSet + ?Sized>(l: &L) -> u64 {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            l.hash_labels(&mut h);
            h.finish()
        }
        let owned: [String; 2] = ["a".into(), "b".into()];
        assert_eq!(hash(&["a", "b"]), hash(&owned));
        assert!(["a", "b"].eq_owned(&owned));
        // The terminator keeps ("ab", "") apart from ("a", "b").
        assert_ne!(hash(&["ab", ""]), hash(&["a", "b"]));
        let pairs = vec![("k".to_string(), "v".to_string())];
        assert_eq!(hash(&[("k", "v")]), hash(&pairs));
        assert_eq!(hash(&("x", 7u8)), hash(&("x".to_string(), 7u8)));
    }
}
