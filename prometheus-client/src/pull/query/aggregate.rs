//! Aggregation operators as Prometheus 2.42 evaluates them: groups in the order their first
//! series appears, the same arithmetic (incremental mean, Welford's variance), `topk` and
//! `bottomk` keeping whole series, `count_values` and `quantile`.

use promql_parser::parser::token::{
    TokenId, T_AVG, T_BOTTOMK, T_COUNT, T_COUNT_VALUES, T_GROUP, T_MAX, T_MIN, T_QUANTILE,
    T_STDDEV, T_STDVAR, T_SUM, T_TOPK,
};
use promql_parser::parser::LabelModifier;

use std::sync::Arc;

use super::eval::{Map, Sample};
use super::functions::{ascending, descending, quantile, value_label};
use super::QueryError;
use crate::pull::storage::SeriesLabels;

/// An aggregation's parameter, evaluated.
pub(super) enum Param {
    None,
    Number(f64),
    Label(String),
}

struct Group {
    labels: SeriesLabels,
    value: f64,
    mean: f64,
    count: usize,
    members: Vec<Sample>,
}

/// The labels a series is grouped by (`by`), or keeps (`without`).
pub(super) fn grouping_of(labels: &SeriesLabels, modifier: Option<&LabelModifier>) -> SeriesLabels {
    match modifier {
        Some(LabelModifier::Include(by)) => labels
            .iter()
            .filter(|(n, _)| by.labels.contains(n))
            .cloned()
            .collect::<Vec<_>>()
            .into(),
        Some(LabelModifier::Exclude(without)) => labels
            .iter()
            .filter(|(n, _)| n != "__name__" && !without.labels.contains(n))
            .cloned()
            .collect::<Vec<_>>()
            .into(),
        None => Vec::new().into(),
    }
}

/// Go's check that a float converts to an `int64` without overflow.
fn as_k(f: f64) -> Result<i64, QueryError> {
    if f.is_nan() || f >= i64::MAX as f64 || f <= i64::MIN as f64 {
        return Err(QueryError::Invalid(format!(
            "Scalar value {f} overflows int64"
        )));
    }
    Ok(f as i64)
}

/// A group, by its labels, or by their address when they are canonical.
#[derive(PartialEq, Eq, Hash)]
enum GroupKey {
    Address(usize),
    Labels(SeriesLabels),
}

/// Aggregates `vector` with `op`; `group_of` gives a series' grouping labels (a caller may
/// remember them across the steps of a range query), `canonical` says it gives one `Arc`
/// for equal labels.
pub(super) fn aggregate(
    op: TokenId,
    vector: Vec<Sample>,
    modifier: Option<&LabelModifier>,
    param: Param,
    group_of: &mut dyn FnMut(&SeriesLabels) -> SeriesLabels,
    canonical: bool,
) -> Result<Vec<Sample>, QueryError> {
    let k = match (op, &param) {
        (T_TOPK | T_BOTTOMK, Param::Number(f)) => {
            let k = as_k(*f)?;
            if k < 1 {
                return Ok(Vec::new());
            }
            k as usize
        }
        _ => 0,
    };
    let value_name = match (op, &param) {
        (T_COUNT_VALUES, Param::Label(name)) => {
            if !crate::desc::is_valid_label_name(name) {
                return Err(QueryError::Invalid(format!("invalid label name {name:?}")));
            }
            Some(name.as_str())
        }
        _ => None,
    };
    let mut groups: Vec<Group> = Vec::new();
    let mut index: Map<GroupKey, usize> = Map::default();
    let keeps_members = matches!(op, T_TOPK | T_BOTTOMK | T_QUANTILE);
    for (labels, v) in vector {
        let labels = match value_name {
            Some(name) => {
                let mut pairs: Vec<(String, String)> =
                    labels.iter().filter(|(n, _)| n != name).cloned().collect();
                pairs.push((name.to_owned(), value_label(v)));
                pairs.sort();
                SeriesLabels::from(pairs)
            }
            None => labels,
        };
        let key = match (value_name, modifier) {
            // count_values groups by the new label too.
            (Some(name), Some(LabelModifier::Include(by))) => {
                let mut by = by.clone();
                by.labels.push(name.to_owned());
                grouping_of(&labels, Some(&LabelModifier::Include(by)))
            }
            (Some(name), None) => labels
                .iter()
                .filter(|(n, _)| n == name)
                .cloned()
                .collect::<Vec<_>>()
                .into(),
            _ => group_of(&labels),
        };
        // Canonical grouping labels (one `Arc` per content) are told apart by address.
        let group_key = if canonical && value_name.is_none() {
            GroupKey::Address(Arc::as_ptr(&key).cast::<()>() as usize)
        } else {
            GroupKey::Labels(Arc::clone(&key))
        };
        match index.get(&group_key) {
            None => {
                index.insert(group_key, groups.len());
                groups.push(Group {
                    labels: key,
                    value: match op {
                        T_STDDEV | T_STDVAR => 0.0,
                        T_GROUP => 1.0,
                        _ => v,
                    },
                    mean: v,
                    count: 1,
                    members: if keeps_members {
                        vec![(labels, v)]
                    } else {
                        Vec::new()
                    },
                });
            }
            Some(&i) => add(op, &mut groups[i], labels, v, k),
        }
    }
    let mut out = Vec::new();
    for mut group in groups {
        let value = match op {
            T_SUM | T_MIN | T_MAX | T_GROUP => group.value,
            T_AVG => group.mean,
            T_COUNT | T_COUNT_VALUES => group.count as f64,
            T_STDVAR => group.value / group.count as f64,
            T_STDDEV => (group.value / group.count as f64).sqrt(),
            T_QUANTILE => {
                let q = match param {
                    Param::Number(q) => q,
                    _ => f64::NAN,
                };
                let mut values: Vec<f64> = group.members.iter().map(|(_, v)| *v).collect();
                quantile(q, &mut values)
            }
            T_TOPK => {
                // Highest first; NaN counts as lowest.
                group.members.sort_by(|a, b| descending(a.1, b.1));
                group.members.truncate(k);
                out.extend(group.members);
                continue;
            }
            T_BOTTOMK => {
                group.members.sort_by(|a, b| ascending(a.1, b.1));
                group.members.truncate(k);
                out.extend(group.members);
                continue;
            }
            other => {
                return Err(QueryError::Unsupported(format!(
                    "aggregation {}",
                    promql_parser::parser::token::TokenType::new(other)
                )))
            }
        };
        out.push((group.labels, value));
    }
    Ok(out)
}

fn add(op: TokenId, group: &mut Group, labels: SeriesLabels, v: f64, k: usize) {
    match op {
        T_SUM => group.value += v,
        T_AVG => {
            group.count += 1;
            let n = group.count as f64;
            if group.mean.is_infinite() {
                if v.is_infinite() && (group.mean > 0.0) == (v > 0.0) {
                    return;
                }
                if !v.is_infinite() && !v.is_nan() {
                    return;
                }
            }
            group.mean += v / n - group.mean / n;
        }
        T_MAX if group.value < v || group.value.is_nan() => group.value = v,
        T_MIN if group.value > v || group.value.is_nan() => group.value = v,
        T_COUNT | T_COUNT_VALUES => group.count += 1,
        T_STDDEV | T_STDVAR => {
            group.count += 1;
            let delta = v - group.mean;
            group.mean += delta / group.count as f64;
            group.value += delta * (v - group.mean);
        }
        T_TOPK | T_BOTTOMK | T_QUANTILE => {
            group.members.push((labels, v));
            // Keep memory bounded by k for topk/bottomk: drop the worst beyond it.
            if op != T_QUANTILE && group.members.len() > 2 * k.max(1) {
                if op == T_TOPK {
                    group.members.sort_by(|a, b| descending(a.1, b.1));
                } else {
                    group.members.sort_by(|a, b| ascending(a.1, b.1));
                }
                group.members.truncate(k);
            }
        }
        _ => {}
    }
}
