//! Binary operators as Prometheus 2.42 evaluates them: arithmetic, comparisons (filtering,
//! or `bool`), `atan2`, and the set operators, between scalars and vectors, with `on`,
//! `ignoring`, `group_left` and `group_right` matching and Prometheus' matching errors.

use promql_parser::parser::token::{
    TokenId, T_ADD, T_ATAN2, T_DIV, T_EQLC, T_GTE, T_GTR, T_LAND, T_LOR, T_LSS, T_LTE, T_LUNLESS,
    T_MOD, T_MUL, T_NEQ, T_POW, T_SUB,
};
use promql_parser::parser::{BinModifier, LabelModifier, VectorMatchCardinality};

use super::eval::{drop_name, Map, Sample, Set};
use super::QueryError;
use crate::pull::storage::SeriesLabels;

fn invalid(what: impl Into<String>) -> QueryError {
    QueryError::Invalid(what.into())
}

/// Whether `op` compares (and so filters, unless `bool`).
pub(super) fn is_comparison(op: TokenId) -> bool {
    matches!(op, T_EQLC | T_NEQ | T_GTR | T_LSS | T_GTE | T_LTE)
}

/// Whether the result of `op` loses the metric name.
fn drops_name(op: TokenId) -> bool {
    matches!(op, T_ADD | T_SUB | T_MUL | T_DIV | T_POW | T_MOD)
}

/// Go's `math.Mod`: the remainder with the sign of `a` (Rust's `%` on floats is the same).
fn apply(op: TokenId, a: f64, b: f64) -> Result<(f64, bool), QueryError> {
    Ok(match op {
        T_ADD => (a + b, true),
        T_SUB => (a - b, true),
        T_MUL => (a * b, true),
        T_DIV => (a / b, true),
        T_POW => (a.powf(b), true),
        T_MOD => (a % b, true),
        T_ATAN2 => (a.atan2(b), true),
        T_EQLC => (a, a == b),
        T_NEQ => (a, a != b),
        T_GTR => (a, a > b),
        T_LSS => (a, a < b),
        T_GTE => (a, a >= b),
        T_LTE => (a, a <= b),
        other => {
            return Err(invalid(format!(
                "operator {} is not allowed here",
                promql_parser::parser::token::TokenType::new(other)
            )))
        }
    })
}

/// `a op b` between two scalars (comparisons give 1 or 0: the parser demands `bool`).
pub(super) fn scalars(op: TokenId, a: f64, b: f64) -> Result<f64, QueryError> {
    let (value, keep) = apply(op, a, b)?;
    Ok(if is_comparison(op) {
        f64::from(u8::from(keep))
    } else {
        value
    })
}

/// `vector op scalar`, or `scalar op vector` when `swap`.
pub(super) fn vector_scalar(
    op: TokenId,
    vector: Vec<Sample>,
    scalar: f64,
    swap: bool,
    return_bool: bool,
) -> Result<Vec<Sample>, QueryError> {
    let mut out = Vec::with_capacity(vector.len());
    for (labels, v) in vector {
        let (l, r) = if swap { (scalar, v) } else { (v, scalar) };
        let (mut value, mut keep) = apply(op, l, r)?;
        // A comparison keeps the vector's value, whichever side it is on.
        if is_comparison(op) && swap {
            value = r;
        }
        if return_bool {
            value = f64::from(u8::from(keep));
            keep = true;
        }
        if keep {
            let labels = if drops_name(op) || return_bool {
                drop_name(&labels)
            } else {
                labels
            };
            out.push((labels, value));
        }
    }
    Ok(out)
}

/// How two vectors' series are matched.
struct Matching<'m> {
    on: bool,
    labels: Vec<&'m str>,
    card: &'m VectorMatchCardinality,
}

impl<'m> Matching<'m> {
    fn of(modifier: Option<&'m BinModifier>, set_operator: bool) -> Matching<'m> {
        static ONE_TO_ONE: VectorMatchCardinality = VectorMatchCardinality::OneToOne;
        static MANY_TO_MANY: VectorMatchCardinality = VectorMatchCardinality::ManyToMany;
        let (on, labels) = match modifier.and_then(|m| m.matching.as_ref()) {
            Some(LabelModifier::Include(l)) => {
                (true, l.labels.iter().map(String::as_str).collect())
            }
            Some(LabelModifier::Exclude(l)) => {
                (false, l.labels.iter().map(String::as_str).collect())
            }
            None => (false, Vec::new()),
        };
        let card = match modifier {
            _ if set_operator => &MANY_TO_MANY,
            Some(m) => &m.card,
            None => &ONE_TO_ONE,
        };
        Matching { on, labels, card }
    }

    /// The labels two series must share to match.
    fn signature(&self, labels: &SeriesLabels) -> Vec<(String, String)> {
        labels
            .iter()
            .filter(|(n, _)| {
                if self.on {
                    self.labels.contains(&n.as_str())
                } else {
                    n != "__name__" && !self.labels.contains(&n.as_str())
                }
            })
            .cloned()
            .collect()
    }
}

/// `lhs op rhs` between two vectors.
pub(super) fn vectors(
    op: TokenId,
    lhs: Vec<Sample>,
    rhs: Vec<Sample>,
    modifier: Option<&BinModifier>,
) -> Result<Vec<Sample>, QueryError> {
    let set_operator = matches!(op, T_LAND | T_LOR | T_LUNLESS);
    let matching = Matching::of(modifier, set_operator);
    match op {
        T_LAND => Ok(and(lhs, rhs, &matching)),
        T_LOR => Ok(or(lhs, rhs, &matching)),
        T_LUNLESS => Ok(unless(lhs, rhs, &matching)),
        _ => {
            let return_bool = modifier.is_some_and(|m| m.return_bool);
            binop(op, lhs, rhs, &matching, return_bool)
        }
    }
}

fn and(lhs: Vec<Sample>, rhs: Vec<Sample>, matching: &Matching<'_>) -> Vec<Sample> {
    if lhs.is_empty() || rhs.is_empty() {
        return Vec::new();
    }
    let right: Set<_> = rhs.iter().map(|(l, _)| matching.signature(l)).collect();
    lhs.into_iter()
        .filter(|(l, _)| right.contains(&matching.signature(l)))
        .collect()
}

fn or(lhs: Vec<Sample>, rhs: Vec<Sample>, matching: &Matching<'_>) -> Vec<Sample> {
    if lhs.is_empty() {
        return rhs;
    }
    if rhs.is_empty() {
        return lhs;
    }
    let left: Set<_> = lhs.iter().map(|(l, _)| matching.signature(l)).collect();
    let mut out = lhs;
    out.extend(
        rhs.into_iter()
            .filter(|(l, _)| !left.contains(&matching.signature(l))),
    );
    out
}

fn unless(lhs: Vec<Sample>, rhs: Vec<Sample>, matching: &Matching<'_>) -> Vec<Sample> {
    if lhs.is_empty() || rhs.is_empty() {
        return lhs;
    }
    let right: Set<_> = rhs.iter().map(|(l, _)| matching.signature(l)).collect();
    lhs.into_iter()
        .filter(|(l, _)| !right.contains(&matching.signature(l)))
        .collect()
}

fn show(labels: &[(String, String)]) -> String {
    let pairs: Vec<String> = labels.iter().map(|(n, v)| format!("{n}={v:?}")).collect();
    format!("{{{}}}", pairs.join(", "))
}

fn binop(
    op: TokenId,
    lhs: Vec<Sample>,
    rhs: Vec<Sample>,
    matching: &Matching<'_>,
    return_bool: bool,
) -> Result<Vec<Sample>, QueryError> {
    if lhs.is_empty() || rhs.is_empty() {
        return Ok(Vec::new());
    }
    // One-to-many is many-to-one with the sides swapped.
    let (swapped, include) = match matching.card {
        VectorMatchCardinality::OneToMany(include) => (true, Some(include)),
        VectorMatchCardinality::ManyToOne(include) => (false, Some(include)),
        _ => (false, None),
    };
    let (many, one) = if swapped { (rhs, lhs) } else { (lhs, rhs) };
    let mut right: Map<Vec<(String, String)>, &Sample> =
        Map::with_capacity_and_hasher(one.len(), Default::default());
    for sample in &one {
        let signature = matching.signature(&sample.0);
        if let Some(duplicate) = right.insert(signature.clone(), sample) {
            let side = if swapped { "left" } else { "right" };
            return Err(invalid(format!(
                "found duplicate series for the match group {} on the {side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                show(&signature),
                show(&sample.0),
                show(&duplicate.0)
            )));
        }
    }
    let mut matched: Map<Vec<(String, String)>, Set<SeriesLabels>> = Map::default();
    let mut out = Vec::new();
    for (labels, v) in &many {
        let signature = matching.signature(labels);
        let Some((one_labels, one_v)) = right.get(&signature).copied() else {
            continue;
        };
        let (l, r) = if swapped { (*one_v, *v) } else { (*v, *one_v) };
        let (mut value, keep) = apply(op, l, r)?;
        if return_bool {
            value = f64::from(u8::from(keep));
        } else if !keep {
            continue;
        }
        let mut metric =
            result_labels(labels, one_labels, op, matching, include.map(|l| &l.labels));
        if return_bool {
            metric = drop_name(&metric);
        }
        let seen = matched.entry(signature).or_default();
        if include.is_none() {
            if !seen.is_empty() {
                return Err(invalid(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                ));
            }
        } else if seen.contains(&metric) {
            return Err(invalid(
                "multiple matches for labels: grouping labels must ensure unique matches",
            ));
        }
        seen.insert(metric.clone());
        out.push((metric, value));
    }
    Ok(out)
}

/// The labels of a result: the "many" side's, without the metric name for arithmetic; for
/// one-to-one matching only the `on` labels (or without the `ignoring` ones); with the
/// `group_x` labels taken from the "one" side.
fn result_labels(
    many: &SeriesLabels,
    one: &SeriesLabels,
    op: TokenId,
    matching: &Matching<'_>,
    include: Option<&Vec<String>>,
) -> SeriesLabels {
    let mut labels: Vec<(String, String)> = many
        .iter()
        .filter(|(n, _)| !(drops_name(op) && n == "__name__"))
        .filter(|(n, _)| match (matching.card, matching.on) {
            (VectorMatchCardinality::OneToOne, true) => matching.labels.contains(&n.as_str()),
            (VectorMatchCardinality::OneToOne, false) => !matching.labels.contains(&n.as_str()),
            _ => true,
        })
        .cloned()
        .collect();
    for name in include.into_iter().flatten() {
        labels.retain(|(n, _)| n != name);
        if let Some((_, v)) = one.iter().find(|(n, _)| n == name) {
            if !v.is_empty() {
                labels.push((name.clone(), v.clone()));
            }
        }
    }
    labels.sort();
    labels.into()
}
