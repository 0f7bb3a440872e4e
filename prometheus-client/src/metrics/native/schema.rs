//! Native histogram schemas: which bucket a value falls in, and where a bucket ends.
//!
//! Schema `s` (−4 to 8) divides each power of two into `2^s` buckets (for `s > 0`), or makes
//! each bucket span `2^-s` powers of two (for `s ≤ 0`). Bucket `k` holds the values in
//! `(2^((k−1)/2^s), 2^(k/2^s)]`; bucket 0 ends at 1. The bounds inside a power of two,
//! `2^(j/2^s − 1)`, are each computed directly with `exp2` of an exact exponent.
//! client_golang's table was built by repeated multiplication and differs from these in the
//! last place for some bounds: a value within one unit in the last place of such a boundary
//! may fall in the neighbouring bucket compared with client_golang. Powers of two, the
//! boundaries every schema shares, are exact in both.

use std::sync::OnceLock;

/// The finest schema.
pub(crate) const MAX_SCHEMA: i32 = 8;
/// The coarsest schema.
pub(crate) const MIN_SCHEMA: i32 = -4;

/// For each schema from 0 to 8, the bounds of its buckets within `[0.5, 1)`.
fn bounds(schema: i32) -> &'static [f64] {
    static TABLE: OnceLock<Vec<Vec<f64>>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        (0..=MAX_SCHEMA)
            .map(|s| {
                let n = 1u32 << s;
                (0..n)
                    .map(|j| (f64::from(j) / f64::from(n) - 1.0).exp2())
                    .collect()
            })
            .collect()
    });
    &table[schema as usize]
}

/// The key of the bucket `v` (positive, finite or infinite) falls in at `schema`. Infinity
/// gets the key after the one of `f64::MAX`.
pub(crate) fn key(v: f64, schema: i32) -> i32 {
    let infinite = v.is_infinite();
    let v = if infinite { f64::MAX } else { v.abs() };
    let (frac, exp) = frexp(v);
    let mut key = if schema > 0 {
        let bounds = bounds(schema);
        let within = bounds.partition_point(|&b| b < frac) as i32;
        within + (exp - 1) * bounds.len() as i32
    } else {
        let mut key = exp;
        if frac == 0.5 {
            key -= 1;
        }
        let offset = (1 << -schema) - 1;
        (key + offset) >> -schema
    };
    if infinite {
        key += 1;
    }
    key
}

/// The upper bound of bucket `key` at `schema`.
pub(crate) fn upper_bound(key: i32, schema: i32) -> f64 {
    if schema < 0 {
        let exp = key << -schema;
        if exp == 1024 {
            return f64::MAX;
        }
        return ldexp(1.0, exp);
    }
    let frac = bounds(schema)[(key & ((1 << schema) - 1)) as usize];
    let exp = (key >> schema) + 1;
    if frac == 0.5 && exp == 1025 {
        return f64::MAX;
    }
    ldexp(frac, exp)
}

/// The finest schema whose buckets grow by at most `factor` (client_golang's `pickSchema`);
/// `None` for a factor of 1 or less, or not a number.
pub(crate) fn for_factor(factor: f64) -> Option<i32> {
    if factor.is_nan() || factor <= 1.0 {
        return None;
    }
    let floor = factor.log2().log2().floor();
    Some(if floor <= -8.0 {
        MAX_SCHEMA
    } else if floor >= 4.0 {
        MIN_SCHEMA
    } else {
        -(floor as i32)
    })
}

/// The bucket of schema `schema − 1` that bucket `key` of `schema` merges into.
pub(crate) fn coarser_key(key: i32) -> i32 {
    (key + 1).div_euclid(2)
}

/// `v = frac × 2^exp` with `frac` in `[0.5, 1)` (for positive, finite, non-zero `v`), as C's
/// `frexp`.
fn frexp(v: f64) -> (f64, i32) {
    if v == 0.0 || !v.is_finite() {
        return (v, 0);
    }
    let bits = v.to_bits();
    let raw_exp = ((bits >> 52) & 0x7ff) as i32;
    if raw_exp == 0 {
        // Subnormal: scale into the normal range first.
        let (frac, exp) = frexp(v * f64::from_bits(0x4350_0000_0000_0000)); // 2^54
        return (frac, exp - 54);
    }
    let frac = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (frac, raw_exp - 1022)
}

/// `frac × 2^exp`, as C's `ldexp`, exact where the result is representable.
fn ldexp(frac: f64, exp: i32) -> f64 {
    // Two steps keep each power of two representable.
    let half = exp / 2;
    frac * 2f64.powi(half) * 2f64.powi(exp - half)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Within one unit in the last place of client_golang's table.
    #[test]
    fn bounds_match_client_golangs_table() {
        let golang: [(i32, usize, f64); 8] = [
            (1, 1, 0.7071067811865475),
            (2, 1, 0.5946035575013605),
            (2, 3, 0.8408964152537144),
            (3, 1, 0.5452538663326288),
            (3, 3, 0.6484197773255048),
            (3, 7, 0.9170040432046711),
            (4, 1, 0.5221368912137069),
            (4, 3, 0.5693943173783458),
        ];
        for (schema, j, want) in golang {
            let got = bounds(schema)[j];
            let ulps = got.to_bits().abs_diff(want.to_bits());
            assert!(ulps <= 1, "schema {schema} bound {j}: {got} against {want}");
        }
        for schema in 0..=MAX_SCHEMA {
            let row = bounds(schema);
            assert_eq!(row.len(), 1 << schema);
            assert!(row.windows(2).all(|w| w[0] < w[1]));
            assert_eq!(row[0], 0.5);
        }
    }

    #[test]
    fn keys_and_bounds_agree() {
        for schema in MIN_SCHEMA..=MAX_SCHEMA {
            for v in [1e-300, 0.001, 0.3, 1.0, 1.5, 2.0, 3.0, 1024.0, 1e6, 1e300] {
                let k = key(v, schema);
                assert!(v <= upper_bound(k, schema), "{v} at {schema}: key {k}");
                assert!(v > upper_bound(k - 1, schema), "{v} at {schema}: key {k}");
            }
            assert_eq!(key(1.0, schema), 0, "1 ends bucket 0");
            assert_eq!(upper_bound(0, schema), 1.0);
        }
        assert_eq!(key(1.5, 1), 2);
        assert_eq!(key(2.0, 0), 1);
        assert_eq!(key(f64::INFINITY, 0), key(f64::MAX, 0) + 1);
    }

    #[test]
    fn factors_pick_schemas_as_client_golang() {
        assert_eq!(for_factor(1.1), Some(3));
        assert_eq!(for_factor(2.0), Some(0));
        assert_eq!(for_factor(1.0001), Some(8));
        assert_eq!(for_factor(1e10), Some(-4));
        assert_eq!(for_factor(1.0), None);
        assert_eq!(for_factor(f64::NAN), None);
    }

    #[test]
    fn merging_halves_the_resolution() {
        for schema in (MIN_SCHEMA + 1)..=MAX_SCHEMA {
            for v in [0.01, 0.7, 1.0, 1.3, 5.5, 1e9] {
                assert_eq!(
                    coarser_key(key(v, schema)),
                    key(v, schema - 1),
                    "{v} at {schema}"
                );
            }
        }
    }

    #[test]
    fn frexp_and_ldexp_are_inverse() {
        for v in [1.0, 0.75, 3.0, 1e-310, 1e300, f64::MAX, f64::MIN_POSITIVE] {
            let (frac, exp) = frexp(v);
            assert!((0.5..1.0).contains(&frac), "{v}: {frac}");
            assert_eq!(ldexp(frac, exp), v);
        }
    }
}
