//! A streaming quantile sketch with a guaranteed rank error (Greenwald–Khanna).
//!
//! The sketch keeps sorted tuples `(v, g, Δ)`: `v` is an observed value, `g` the number of
//! observations it stands for beyond the previous tuple, `Δ` the uncertainty of its rank. The
//! rank of tuple `i` lies between `rmin = Σ g` up to `i` and `rmax = rmin + Δ`. Keeping
//! `g + Δ ≤ 2εn` for every tuple guarantees that a query for quantile `φ` returns a value whose
//! true rank is within `εn` of `φn`. Inserts come in sorted batches, merged in one pass; a new
//! tuple takes `Δ = g + Δ - 1` of its successor (the exact uncertainty), and a compress pass
//! merges neighbours while the invariant allows. Memory is O((1/ε)·log(εn)) tuples.
//! (M. Greenwald, S. Khanna: Space-efficient online computation of quantile summaries, 2001.)

#[derive(Clone, Copy, Debug)]
struct Tuple {
    value: f64,
    g: u64,
    delta: u64,
}

/// A GK sketch answering any quantile within rank error `epsilon · n`.
#[derive(Clone, Debug)]
pub(crate) struct QuantileSketch {
    epsilon: f64,
    count: u64,
    tuples: Vec<Tuple>,
}

impl QuantileSketch {
    pub(crate) fn new(epsilon: f64) -> Self {
        QuantileSketch {
            epsilon,
            count: 0,
            tuples: Vec::new(),
        }
    }

    pub(crate) fn reset(&mut self) {
        self.count = 0;
        self.tuples.clear();
    }

    /// Adds a batch of observations, which must be sorted and free of NaN.
    pub(crate) fn insert_sorted(&mut self, batch: &[f64]) {
        if batch.is_empty() {
            return;
        }
        let mut merged = Vec::with_capacity(self.tuples.len() + batch.len());
        let mut old = self.tuples.iter().peekable();
        for &value in batch {
            while let Some(t) = old.next_if(|t| t.value <= value) {
                merged.push(*t);
            }
            // A value below every tuple or above every tuple has an exact rank.
            let delta = match (merged.is_empty(), old.peek()) {
                (false, Some(next)) => (next.g + next.delta).saturating_sub(1),
                _ => 0,
            };
            merged.push(Tuple { value, g: 1, delta });
        }
        merged.extend(old);
        self.tuples = merged;
        self.count += batch.len() as u64;
        self.compress();
    }

    fn compress(&mut self) {
        let threshold = (2.0 * self.epsilon * self.count as f64).floor() as u64;
        if self.tuples.len() < 3 {
            return;
        }
        // Walk from the end, folding tuple i into its successor while the invariant holds;
        // the first and last tuples (exact minimum and maximum) are never folded away.
        let mut kept: Vec<Tuple> = Vec::with_capacity(self.tuples.len());
        let last = self.tuples.len() - 1;
        kept.push(self.tuples[last]);
        for i in (1..last).rev() {
            let t = self.tuples[i];
            let successor = kept
                .last_mut()
                .unwrap_or_else(|| unreachable!("kept starts non-empty"));
            if t.g + successor.g + successor.delta <= threshold {
                successor.g += t.g;
            } else {
                kept.push(t);
            }
        }
        kept.push(self.tuples[0]);
        kept.reverse();
        self.tuples = kept;
    }

    /// The value at quantile `phi` (0 to 1), or NaN when nothing was observed.
    pub(crate) fn query(&self, phi: f64) -> f64 {
        let Some(first) = self.tuples.first() else {
            return f64::NAN;
        };
        let n = self.count as f64;
        let rank = (phi * n).ceil().max(1.0);
        let bound = rank + self.epsilon * n;
        let mut rmin = 0u64;
        let mut answer = first.value;
        for t in &self.tuples {
            rmin += t.g;
            if (rmin + t.delta) as f64 > bound {
                return answer;
            }
            answer = t.value;
        }
        answer
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.tuples.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator, so failures reproduce.
    fn xorshift(seed: &mut u64) -> f64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        (*seed >> 11) as f64 / (1u64 << 53) as f64
    }

    fn check_bound(values: &[f64], epsilon: f64, batch: usize) {
        let mut sketch = QuantileSketch::new(epsilon);
        for chunk in values.chunks(batch) {
            let mut sorted = chunk.to_vec();
            sorted.sort_by(f64::total_cmp);
            sketch.insert_sorted(&sorted);
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len() as f64;
        for phi in [0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0] {
            let got = sketch.query(phi);
            // The ranks the returned value occupies in the true data.
            let lowest = sorted.partition_point(|&v| v < got) as f64 + 1.0;
            let highest = sorted.partition_point(|&v| v <= got) as f64;
            let wanted = (phi * n).ceil().max(1.0);
            let error = if wanted < lowest {
                lowest - wanted
            } else if wanted > highest {
                wanted - highest
            } else {
                0.0
            };
            assert!(
                error <= epsilon * n + 1e-9,
                "phi {phi}: rank error {error} above {} (eps {epsilon}, n {n})",
                epsilon * n
            );
        }
    }

    #[test]
    fn rank_error_stays_within_epsilon() {
        let mut seed = 0x9e37_79b9_7f4a_7c15;
        let uniform: Vec<f64> = (0..50_000).map(|_| xorshift(&mut seed)).collect();
        let skewed: Vec<f64> = uniform.iter().map(|u| (-u.ln()).powi(3)).collect();
        let ascending: Vec<f64> = (0..20_000).map(f64::from).collect();
        let descending: Vec<f64> = ascending.iter().rev().copied().collect();
        let repeated: Vec<f64> = (0..20_000).map(|i| f64::from(i % 7)).collect();
        for values in [&uniform, &skewed, &ascending, &descending, &repeated] {
            for (epsilon, batch) in [(0.01, 500), (0.001, 500), (0.05, 1), (0.01, 7)] {
                check_bound(values, epsilon, batch);
            }
        }
    }

    #[test]
    fn memory_stays_sublinear() {
        let mut seed = 42;
        let mut sketch = QuantileSketch::new(0.01);
        for _ in 0..200 {
            let mut batch: Vec<f64> = (0..500).map(|_| xorshift(&mut seed)).collect();
            batch.sort_by(f64::total_cmp);
            sketch.insert_sorted(&batch);
        }
        assert!(
            sketch.len() < 2_000,
            "{} tuples for 100k values",
            sketch.len()
        );
    }

    #[test]
    fn empty_sketch_answers_nan_and_extremes_are_exact() {
        let mut sketch = QuantileSketch::new(0.05);
        assert!(sketch.query(0.5).is_nan());
        sketch.insert_sorted(&[3.0, 4.0, 9.0]);
        assert_eq!(sketch.query(0.0), 3.0);
        assert_eq!(sketch.query(1.0), 9.0);
        sketch.reset();
        assert!(sketch.query(0.5).is_nan());
    }
}
