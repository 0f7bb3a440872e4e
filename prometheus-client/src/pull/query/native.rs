//! PromQL on native histogram samples, as Prometheus 2.42 computes it: `rate`, `increase`
//! and `delta` of histogram series, `histogram_count`, `histogram_sum`,
//! `histogram_fraction`, and `histogram_quantile` (which also takes classic buckets, in
//! `functions.rs`). Functions of floats see no histogram samples.

use promql_parser::parser::Expr;

use super::eval::{Evaluator, HistogramSample, Set, Value};
use super::functions::extrapolation;
use super::QueryError;
use crate::parse::FloatHistogram;
use crate::pull::storage::{Histogram, SeriesLabels};

/// The increase of a histogram series over a range, as `extrapolated_rate` makes it of
/// floats: the last histogram less the first (at the coarsest schema of the range), counter
/// resets made good bucket by bucket, extrapolated towards the range's ends.
pub(super) fn histogram_rate(
    samples: &[(i64, Histogram)],
    range: (i64, i64),
    is_counter: bool,
    is_rate: bool,
) -> Option<FloatHistogram> {
    let [(_, first), .., (_, last)] = samples else {
        return None;
    };
    let mut schema = first.schema().min(last.schema());
    if is_counter {
        for (_, h) in samples {
            schema = schema.min(h.schema());
        }
    }
    let mut result = last.to_schema(schema);
    result.sub(first);
    if is_counter {
        for pair in samples.windows(2) {
            if pair[1].1.is_reset_after(&pair[0].1) {
                result.add(&pair[0].1);
            }
        }
    }
    let times = samples.iter().map(|(t, _)| *t);
    result.scale(extrapolation(times, range, None, is_rate));
    Some(result)
}

impl Evaluator<'_> {
    /// `histogram_count`, `histogram_sum` and `histogram_fraction`: a number from each
    /// histogram sample, float samples skipped.
    pub(super) fn histogram_function(
        &mut self,
        name: &str,
        args: &[&Expr],
        t: i64,
    ) -> Result<Value, QueryError> {
        let (lower, upper) = match name {
            "histogram_fraction" => (self.scalar_arg(args[0], t)?, self.scalar_arg(args[1], t)?),
            _ => (0.0, 0.0),
        };
        // The vector is the last argument (the parser checked the count).
        let vector = args[args.len() - 1];
        let (_, histograms) = self.vector_and_histograms(vector, t)?;
        let out = histograms
            .into_iter()
            .map(|(labels, h)| {
                let v = match name {
                    "histogram_count" => h.count(),
                    "histogram_sum" => h.sum(),
                    _ => h.fraction(lower, upper),
                };
                (self.without_name(&labels), v)
            })
            .collect();
        Ok(Value::Vector(out))
    }

    /// `rate`, `increase` or `delta` of each histogram series of a range, labels without the
    /// name; a series with float samples in the range too has none, as in Prometheus.
    pub(super) fn histogram_rates(
        &mut self,
        name: &str,
        histograms: Vec<(SeriesLabels, Vec<(i64, Histogram)>)>,
        floats: &Set<SeriesLabels>,
        range: (i64, i64),
    ) -> Vec<HistogramSample> {
        let (is_counter, is_rate) = match name {
            "rate" => (true, true),
            "increase" => (true, false),
            "delta" => (false, false),
            _ => return Vec::new(),
        };
        histograms
            .into_iter()
            .filter(|(labels, _)| !floats.contains(labels))
            .filter_map(|(labels, samples)| {
                let h = histogram_rate(&samples, range, is_counter, is_rate)?;
                Some((self.without_name(&labels), std::sync::Arc::new(h)))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::parse::FloatHistogram;
    use crate::pull::query::{instant_query, range_query, QueryValue};
    use crate::pull::storage::{series_labels, MemoryStorage, SeriesLabels, Storage};

    /// Schema 0: two observations in (1, 2], one in (2, 4], summing to 4.5; times `n`.
    fn base(n: f64) -> Arc<FloatHistogram> {
        let h = FloatHistogram::new(
            0,
            0.0,
            0.0,
            3.0 * n,
            4.5 * n,
            vec![(1, 2.0 * n), (2, n)],
            vec![],
        )
        .expect("valid");
        Arc::new(h)
    }

    fn labels(path: &str) -> SeriesLabels {
        series_labels(vec![
            ("__name__".into(), "latency".into()),
            ("path".into(), path.into()),
        ])
    }

    /// Two series scraped every 15 s for 2 minutes, `/b` reset (restarted) at 90 s.
    fn store() -> MemoryStorage {
        let s = MemoryStorage::default();
        let mut histograms = Vec::new();
        for i in 0..=8 {
            let t = i * 15_000;
            histograms.push((labels("/a"), t, base(i as f64)));
            let restarted = if i >= 6 { i - 6 } else { i } as f64;
            histograms.push((labels("/b"), t, base(restarted)));
        }
        s.append_all(&[(labels("/a"), 5_000, 1.0)], &[])
            .expect("stored");
        s.append_all(&[], &histograms).expect("stored");
        s
    }

    fn floats(value: QueryValue) -> Vec<(String, f64)> {
        let QueryValue::Vector(points) = value else {
            panic!("not a float vector: {value:?}");
        };
        points
            .into_iter()
            .map(|(l, v)| (l.iter().map(|(n, v)| format!("{n}={v}")).collect(), v))
            .collect()
    }

    #[test]
    fn rates_of_histograms_extrapolate_and_correct_resets() {
        let s = store();
        let at = 120_000;
        let q = |text: &str| floats(instant_query(&s, text, at).expect(text));
        // /a: 4 scrape intervals of 3 observations each, over 60 s. /b restarted empty at
        // 90 s: 1 interval's before, 2 after; the drop itself loses nothing.
        let count = q("histogram_count(rate(latency[1m]))");
        assert_eq!(
            count,
            vec![("path=/a".into(), 0.2), ("path=/b".into(), 0.15)]
        );
        let sum = q("histogram_sum(increase(latency[1m]))");
        assert_eq!(
            sum,
            vec![("path=/a".into(), 18.0), ("path=/b".into(), 13.5)]
        );
        let median = q("histogram_quantile(0.5, rate(latency[1m]))");
        assert_eq!(median[0].1, 1.75);
        let fraction = q("histogram_fraction(0, 2, latency)");
        assert!((fraction[0].1 - 2.0 / 3.0).abs() < 1e-12, "{fraction:?}");
        let summed = q("histogram_count(sum(rate(latency[1m])))");
        assert_eq!(summed, vec![(String::new(), 0.35)]);
        let by_path = q("histogram_count(sum by (path) (latency))");
        assert_eq!(
            by_path,
            vec![("path=/a".into(), 24.0), ("path=/b".into(), 6.0)]
        );
        // Floats only: operators and other functions see no histograms.
        assert_eq!(q("latency * 2"), vec![]);
        assert_eq!(q("count(latency)"), vec![(String::new(), 2.0)]);
    }

    #[test]
    fn selectors_return_histograms_and_a_newer_float_wins() {
        let s = store();
        let QueryValue::MixedVector(points, histograms) =
            instant_query(&s, "latency", 120_000).expect("valid")
        else {
            panic!("histograms expected");
        };
        assert!(points.is_empty());
        assert_eq!(histograms.len(), 2);
        assert_eq!(histograms[0].1.count(), 24.0);
        // A float sample newer than a series' histograms is what the series reads.
        let Ok(QueryValue::MixedVector(points, histograms)) = instant_query(&s, "latency", 10_000)
        else {
            panic!("mixed expected");
        };
        assert_eq!((points.len(), histograms.len()), (1, 1));
        s.append(&[(labels("/b"), 130_000, 7.0)]).expect("stored");
        let Ok(QueryValue::MixedVector(points, histograms)) = instant_query(&s, "latency", 130_000)
        else {
            panic!("mixed expected");
        };
        assert_eq!(points.len(), 1);
        assert_eq!(histograms.len(), 1);
        let range = range_query(&s, "histogram_count(latency)", 0, 30_000, 15_000);
        let Ok(QueryValue::Matrix(series)) = range else {
            panic!("{range:?}");
        };
        assert_eq!(series[0].1, vec![(0, 0.0), (15_000, 3.0), (30_000, 6.0)]);
        let range = range_query(&s, "latency", 0, 30_000, 15_000);
        let Ok(QueryValue::MixedMatrix(_, histograms)) = range else {
            panic!("{range:?}");
        };
        assert_eq!(histograms.len(), 2);
        assert_eq!(histograms[0].1.len(), 3);
    }
}
