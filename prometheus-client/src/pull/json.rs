//! Prometheus' API answers for query results, written straight into bytes from the result
//! (no second copy of it as a JSON tree).

use std::collections::BTreeMap;
use std::io::Write;

use super::exemplars::SeriesExemplars;
use super::query::QueryValue;
use super::storage::{Histogram, HistogramSeries, Series, SeriesLabels};
use crate::parse::FloatHistogram;

/// `{"status":"success","data":{"resultType":…,"result":…}}` for `value` evaluated at `at`.
pub(crate) fn query_success(value: &QueryValue, at: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(br#"{"status":"success","data":{"resultType":"#);
    match value {
        QueryValue::Scalar(v) => {
            out.extend_from_slice(br#""scalar","result":"#);
            point(&mut out, at, *v);
        }
        QueryValue::Vector(points) => vector(&mut out, points, &[], at),
        QueryValue::MixedVector(points, histograms) => vector(&mut out, points, histograms, at),
        QueryValue::Matrix(series) => {
            out.extend_from_slice(br#""matrix","result":"#);
            matrix(&mut out, series, &[]);
        }
        QueryValue::MixedMatrix(series, histograms) => {
            out.extend_from_slice(br#""matrix","result":"#);
            matrix(&mut out, series, histograms);
        }
        QueryValue::String(text) => {
            out.extend_from_slice(br#""string","result":["#);
            let _ = serde_json::to_writer(&mut out, &(at as f64 / 1000.0));
            out.push(b',');
            string(&mut out, text);
            out.push(b']');
        }
    }
    out.extend_from_slice(b"}}");
    out
}

/// `{"status":"success","data":[{…labels…},…]}`.
pub(crate) fn series_success(series: &[SeriesLabels]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 * series.len() + 64);
    out.extend_from_slice(br#"{"status":"success","data":["#);
    for (i, labels) in series.iter().enumerate() {
        comma(&mut out, i);
        metric(&mut out, labels);
    }
    out.extend_from_slice(b"]}");
    out
}

/// `/api/v1/query_exemplars`: each series' labels and exemplars (labels, value as text, time
/// as seconds), as Prometheus writes them.
pub(crate) fn exemplars_success(found: &[SeriesExemplars]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 * found.len() + 64);
    out.extend_from_slice(br#"{"status":"success","data":["#);
    for (i, (series, exemplars)) in found.iter().enumerate() {
        comma(&mut out, i);
        out.extend_from_slice(br#"{"seriesLabels":"#);
        metric(&mut out, series);
        out.extend_from_slice(br#","exemplars":["#);
        for (j, exemplar) in exemplars.iter().enumerate() {
            comma(&mut out, j);
            let mut labels = exemplar.labels.clone();
            labels.sort();
            out.extend_from_slice(br#"{"labels":"#);
            metric(&mut out, &labels);
            out.extend_from_slice(br#","value":""#);
            value_text(&mut out, exemplar.value);
            out.extend_from_slice(br#"","timestamp":"#);
            let _ = serde_json::to_writer(&mut out, &(exemplar.timestamp as f64 / 1000.0));
            out.push(b'}');
        }
        out.extend_from_slice(b"]}");
    }
    out.extend_from_slice(b"]}");
    out
}

fn comma(out: &mut Vec<u8>, i: usize) {
    if i > 0 {
        out.push(b',');
    }
}

/// An instant vector: `"value"` for a float sample, `"histogram"` for a native histogram.
fn vector(
    out: &mut Vec<u8>,
    points: &[(SeriesLabels, f64)],
    histograms: &[(SeriesLabels, Histogram)],
    at: i64,
) {
    out.extend_from_slice(br#""vector","result":["#);
    for (i, (labels, v)) in points.iter().enumerate() {
        comma(out, i);
        out.extend_from_slice(br#"{"metric":"#);
        metric(out, labels);
        out.extend_from_slice(br#","value":"#);
        point(out, at, *v);
        out.push(b'}');
    }
    for (i, (labels, h)) in histograms.iter().enumerate() {
        comma(out, points.len() + i);
        out.extend_from_slice(br#"{"metric":"#);
        metric(out, labels);
        out.extend_from_slice(br#","histogram":"#);
        histogram_point(out, at, h);
        out.push(b'}');
    }
    out.push(b']');
}

/// Series by labels: `"values"` where a series has float samples, `"histograms"` where it has
/// native histogram samples, as Prometheus writes a series with both.
fn matrix(out: &mut Vec<u8>, series: &[Series], histograms: &[HistogramSeries]) {
    type Both<'a> = (&'a [(i64, f64)], &'a [(i64, Histogram)]);
    let mut merged: BTreeMap<&SeriesLabels, Both<'_>> = BTreeMap::new();
    for (labels, samples) in series {
        merged.entry(labels).or_insert((&[], &[])).0 = samples;
    }
    for (labels, samples) in histograms {
        merged.entry(labels).or_insert((&[], &[])).1 = samples;
    }
    out.push(b'[');
    for (i, (labels, (floats, histograms))) in merged.into_iter().enumerate() {
        comma(out, i);
        out.extend_from_slice(br#"{"metric":"#);
        metric(out, labels);
        if !floats.is_empty() {
            out.extend_from_slice(br#","values":["#);
            for (j, (t, v)) in floats.iter().enumerate() {
                comma(out, j);
                point(out, *t, *v);
            }
            out.push(b']');
        }
        if !histograms.is_empty() {
            out.extend_from_slice(br#","histograms":["#);
            for (j, (t, h)) in histograms.iter().enumerate() {
                comma(out, j);
                histogram_point(out, *t, h);
            }
            out.push(b']');
        }
        out.push(b'}');
    }
    out.push(b']');
}

/// `[seconds, {"count":…,"sum":…,"buckets":[[boundaries,"lower","upper","count"],…]}]`, as
/// Prometheus writes a native histogram: populated buckets only, `boundaries` 0 for `(l, u]`,
/// 1 for `[l, u)`, 2 for `(l, u)`, 3 for `[l, u]`.
fn histogram_point(out: &mut Vec<u8>, ms: i64, h: &FloatHistogram) {
    out.push(b'[');
    let _ = serde_json::to_writer(&mut *out, &(ms as f64 / 1000.0));
    out.extend_from_slice(br#",{"count":""#);
    value_text(out, h.count());
    out.extend_from_slice(br#"","sum":""#);
    value_text(out, h.sum());
    out.push(b'"');
    let mut any = false;
    for b in h.buckets() {
        out.extend_from_slice(if any { b"," } else { br#","buckets":["# });
        any = true;
        let boundaries = match (b.lower_inclusive, b.upper_inclusive) {
            (false, true) => b'0',
            (true, false) => b'1',
            (false, false) => b'2',
            (true, true) => b'3',
        };
        out.extend_from_slice(&[b'[', boundaries, b',', b'"']);
        value_text(out, b.lower);
        out.extend_from_slice(b"\",\"");
        value_text(out, b.upper);
        out.extend_from_slice(b"\",\"");
        value_text(out, b.count);
        out.extend_from_slice(b"\"]");
    }
    if any {
        out.push(b']');
    }
    out.extend_from_slice(b"}]");
}

fn metric(out: &mut Vec<u8>, labels: &[(String, String)]) {
    out.push(b'{');
    for (i, (name, value)) in labels.iter().enumerate() {
        comma(out, i);
        string(out, name);
        out.push(b':');
        string(out, value);
    }
    out.push(b'}');
}

fn string(out: &mut Vec<u8>, text: &str) {
    // Writing a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// `[seconds, "value"]`: the time as a number of seconds, the value as Prometheus' text.
fn point(out: &mut Vec<u8>, ms: i64, v: f64) {
    out.push(b'[');
    let _ = serde_json::to_writer(&mut *out, &(ms as f64 / 1000.0));
    out.extend_from_slice(b",\"");
    value_text(out, v);
    out.extend_from_slice(b"\"]");
}

/// A sample value as Prometheus' API writes it: Go's `'f'` format, `+Inf`, `-Inf`, `NaN`.
fn value_text(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"+Inf" } else { b"-Inf" });
    } else {
        // Rust's `Display` for f64 is the shortest round-trip digits without an exponent,
        // which is Go's `strconv.FormatFloat(v, 'f', -1, 64)`.
        let _ = write!(out, "{v}");
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::pull::exemplars::StoredExemplar;

    fn text(value: &QueryValue) -> String {
        String::from_utf8(query_success(value, 1_500)).expect("UTF-8")
    }

    #[test]
    fn exemplars_are_the_json_prometheus_writes() {
        let series: SeriesLabels = Arc::from(vec![("__name__".to_owned(), "a_total".to_owned())]);
        let exemplar = StoredExemplar {
            labels: vec![("trace_id".into(), "abc".into())],
            value: 6.0,
            timestamp: 1_600_096_945_479,
        };
        let text =
            String::from_utf8(exemplars_success(&[(series, vec![exemplar])])).expect("UTF-8");
        assert_eq!(
            text,
            r#"{"status":"success","data":[{"seriesLabels":{"__name__":"a_total"},"exemplars":[{"labels":{"trace_id":"abc"},"value":"6","timestamp":1600096945.479}]}]}"#
        );
    }

    #[test]
    fn native_histograms_are_the_json_prometheus_writes() {
        let h = FloatHistogram::new(
            0,
            0.5,
            1.0,
            7.0,
            9.25,
            vec![(1, 3.0), (3, 1.0)],
            vec![(0, 2.0)],
        )
        .expect("valid");
        let labels: SeriesLabels = Arc::from(vec![("__name__".to_owned(), "h".to_owned())]);
        let h = Arc::new(h);
        assert_eq!(
            text(&QueryValue::MixedVector(
                vec![],
                vec![(Arc::clone(&labels), Arc::clone(&h))]
            )),
            concat!(
                r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"h"},"histogram":[1.5,"#,
                r#"{"count":"7","sum":"9.25","buckets":[[1,"-1","-0.5","2"],[3,"-0.5","0.5","1"],[0,"1","2","3"],[0,"4","8","1"]]}]}]}}"#
            )
        );
        let empty =
            Arc::new(FloatHistogram::new(0, 0.0, 0.0, 0.0, 0.0, vec![], vec![]).expect("valid"));
        assert_eq!(
            text(&QueryValue::MixedMatrix(
                vec![(Arc::clone(&labels), vec![(1_000, 1.0)])],
                vec![(labels, vec![(2_000, empty)])]
            )),
            concat!(
                r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"h"},"#,
                r#""values":[[1.0,"1"]],"histograms":[[2.0,{"count":"0","sum":"0"}]]}]}}"#
            )
        );
    }

    #[test]
    fn answers_are_the_json_prometheus_writes() {
        assert_eq!(
            text(&QueryValue::Scalar(1e6)),
            r#"{"status":"success","data":{"resultType":"scalar","result":[1.5,"1000000"]}}"#
        );
        let labels: SeriesLabels = Arc::from(vec![("a\"b".to_owned(), "\n".to_owned())]);
        assert_eq!(
            text(&QueryValue::Vector(vec![
                (Arc::clone(&labels), f64::NEG_INFINITY),
                (Arc::from(Vec::new()), f64::NAN)
            ])),
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a\"b":"\n"},"value":[1.5,"-Inf"]},{"metric":{},"value":[1.5,"NaN"]}]}}"#
        );
        assert_eq!(
            text(&QueryValue::Matrix(vec![(
                labels,
                vec![(0, 0.1), (2_000, 2.0)]
            )])),
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a\"b":"\n"},"values":[[0.0,"0.1"],[2.0,"2"]]}]}}"#
        );
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&series_success(&[])).expect("JSON")
                ["data"],
            serde_json::json!([])
        );
    }
}
