//! A runner for Prometheus' PromQL engine test files (`promql/testdata/*.test`): `load`,
//! `clear`, `eval instant at`, `eval_ordered`, `eval_fail`, run against the pull server's
//! engine exactly as Prometheus' `promql/test.go` runs them against its own: each eval as an
//! instant query, then again as a range query from a minute before to a minute after, whose
//! middle step must agree.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use prometheus_client::pull::{
    instant_query, parse_duration, range_query, series_labels, MemoryStorage, QueryValue,
    SeriesLabels, Storage, STALE_NAN,
};

/// One eval that did not give what its file expects.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The file and line of the eval.
    pub at: String,
    /// The query.
    pub query: String,
    /// What differed.
    pub why: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.at, self.query, self.why)
    }
}

/// What a file's evals gave.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Evals that gave what was expected.
    pub passed: usize,
    /// Those that did not.
    pub failures: Vec<Failure>,
}

/// Label pairs, `__name__` included.
type Labels = Vec<(String, String)>;

/// A value as a test file writes it: a number, or no sample at that step.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Value {
    Number(f64),
    Omitted,
}

/// Runs the test file `text`, named `name` in failures.
pub fn run(name: &str, text: &str) -> Outcome {
    let lines: Vec<&str> = text
        .lines()
        .map(|l| {
            let l = l.trim();
            if l.starts_with('#') {
                ""
            } else {
                l
            }
        })
        .collect();
    let mut outcome = Outcome::default();
    let mut storage = new_storage();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let at = format!("{name}:{}", i + 1);
        let fail = |outcome: &mut Outcome, why: String| {
            outcome.failures.push(Failure {
                at: at.clone(),
                query: line.to_owned(),
                why,
            })
        };
        let command = line
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_lowercase();
        if line.is_empty() {
            i += 1;
        } else if command == "clear" {
            storage = new_storage();
            i += 1;
        } else if command == "load" {
            let block = block_after(&lines, i);
            if let Err(why) = load(&storage, line, block) {
                fail(&mut outcome, why);
            }
            i += 1 + block.len();
        } else if command.starts_with("eval") {
            let block = block_after(&lines, i);
            match eval(&storage, line, block) {
                Ok(()) => outcome.passed += 1,
                Err(why) => {
                    let query = line.splitn(5, char::is_whitespace).last().unwrap_or(line);
                    outcome.failures.push(Failure {
                        at: at.clone(),
                        query: query.to_owned(),
                        why,
                    });
                }
            }
            i += 1 + block.len();
        } else {
            fail(&mut outcome, format!("unknown command {command:?}"));
            i += 1;
        }
    }
    outcome
}

fn new_storage() -> MemoryStorage {
    MemoryStorage::with_max_series(usize::MAX)
}

/// The lines after line `i` up to the next empty one.
fn block_after<'a>(lines: &'a [&'a str], i: usize) -> &'a [&'a str] {
    let rest = &lines[i + 1..];
    let end = rest.iter().position(|l| l.is_empty()).unwrap_or(rest.len());
    &rest[..end]
}

fn millis(text: &str) -> Result<i64, String> {
    let duration = parse_duration(text).ok_or_else(|| format!("not a duration: {text:?}"))?;
    i64::try_from(duration.as_millis()).map_err(|_| format!("too long: {text:?}"))
}

fn load(storage: &MemoryStorage, line: &str, block: &[&str]) -> Result<(), String> {
    let step = millis(line.split_whitespace().nth(1).unwrap_or_default())?;
    // A series defined twice in one load takes its last definition, as in Prometheus.
    let mut definitions: BTreeMap<SeriesLabels, Vec<Value>> = BTreeMap::new();
    for definition in block {
        let (labels, values) = series_description(definition)?;
        definitions.insert(series_labels(labels), values);
    }
    let mut samples = Vec::new();
    for (labels, values) in definitions {
        for (k, value) in values.into_iter().enumerate() {
            if let Value::Number(v) = value {
                samples.push((Arc::clone(&labels), k as i64 * step, v));
            }
        }
    }
    samples.sort_by_key(|(_, t, _)| *t);
    storage
        .append(&samples)
        .map(|_| ())
        .map_err(|e| format!("loading failed: {e}"))
}

/// The query's expected result: series (in order) with their value, or a scalar.
enum Expected {
    Vector(Vec<(Vec<(String, String)>, f64)>),
    Scalar(f64),
}

fn eval(storage: &MemoryStorage, line: &str, block: &[&str]) -> Result<(), String> {
    // `eval[_fail|_ordered] instant at <time> <query>`
    let mut words = line.splitn(5, char::is_whitespace);
    let command = words.next().unwrap_or_default();
    let (instant, at_word, time, query) = (words.next(), words.next(), words.next(), words.next());
    if instant != Some("instant") || at_word != Some("at") {
        return Err("expected `eval instant at <time> <query>`".into());
    }
    let t = millis(time.unwrap_or_default())?;
    let query = query.unwrap_or_default().trim();
    let expected = expected(block)?;
    let result = instant_query(storage, query, t);
    if command == "eval_fail" {
        return match result {
            Err(_) => Ok(()),
            Ok(value) => Err(format!("expected an error, got {}", show(&value))),
        };
    }
    let value = result.map_err(|e| format!("error: {e}"))?;
    compare(&expected, &value, command == "eval_ordered")?;
    if command == "eval_ordered" {
        return Ok(());
    }
    // The same query as a range query; its middle step must say the same.
    let minute = 60_000;
    let series = match range_query(storage, query, t - minute, t + minute, minute)
        .map_err(|e| format!("error in range mode: {e}"))?
    {
        QueryValue::Matrix(series) => series,
        other => return Err(format!("range mode gave {}", show(&other))),
    };
    let middle: Vec<(SeriesLabels, f64)> = series
        .into_iter()
        .filter_map(|(labels, points)| {
            let v = points.iter().find(|(at, _)| *at == t)?.1;
            Some((labels, v))
        })
        .collect();
    let value = match (&expected, &value) {
        (_, QueryValue::Scalar(_)) => QueryValue::Scalar(middle.first().map_or(f64::NAN, |p| p.1)),
        _ => QueryValue::Vector(middle),
    };
    compare(&expected, &value, false).map_err(|why| format!("in range mode: {why}"))
}

fn expected(block: &[&str]) -> Result<Expected, String> {
    let mut series = Vec::new();
    for line in block {
        if let Ok(v) = number(line) {
            return Ok(Expected::Scalar(v));
        }
        let (labels, values) = series_description(line)?;
        match values.as_slice() {
            [Value::Number(v)] => series.push((sorted(labels), *v)),
            _ => return Err(format!("one value expected in {line:?}")),
        }
    }
    Ok(Expected::Vector(series))
}

fn sorted(mut labels: Vec<(String, String)>) -> Vec<(String, String)> {
    labels.sort();
    labels
}

fn compare(expected: &Expected, got: &QueryValue, ordered: bool) -> Result<(), String> {
    match (expected, got) {
        (Expected::Scalar(want), QueryValue::Scalar(v)) => {
            if almost_equal(*want, *v) {
                Ok(())
            } else {
                Err(format!("expected scalar {want}, got {v}"))
            }
        }
        (Expected::Vector(want), QueryValue::Vector(points)) => {
            let wanted: BTreeMap<&Vec<(String, String)>, (usize, f64)> = want
                .iter()
                .enumerate()
                .map(|(i, (labels, v))| (labels, (i, *v)))
                .collect();
            let mut seen = 0;
            for (position, (labels, v)) in points.iter().enumerate() {
                let labels = labels.to_vec();
                let Some((at, want_v)) = wanted.get(&labels) else {
                    return Err(format!(
                        "unexpected series {} {v} in {}",
                        show_labels(&labels),
                        show(got)
                    ));
                };
                if ordered && *at != position {
                    return Err(format!(
                        "{} at position {}, expected at {}",
                        show_labels(&labels),
                        position + 1,
                        at + 1
                    ));
                }
                if !almost_equal(*want_v, *v) {
                    return Err(format!(
                        "expected {want_v} for {}, got {v}",
                        show_labels(&labels)
                    ));
                }
                seen += 1;
            }
            if seen != want.len() {
                let missing: Vec<String> = want
                    .iter()
                    .filter(|(labels, _)| !points.iter().any(|(l, _)| l.to_vec() == *labels))
                    .map(|(labels, v)| format!("{} {v}", show_labels(labels)))
                    .collect();
                return Err(format!("missing {} in {}", missing.join(", "), show(got)));
            }
            Ok(())
        }
        (Expected::Vector(want), QueryValue::Scalar(v)) if want.is_empty() => {
            Err(format!("expected no series, got scalar {v}"))
        }
        (_, other) => Err(format!("unexpected result {}", show(other))),
    }
}

fn show_labels(labels: &[(String, String)]) -> String {
    let pairs: Vec<String> = labels.iter().map(|(n, v)| format!("{n}={v:?}")).collect();
    format!("{{{}}}", pairs.join(", "))
}

fn show(value: &QueryValue) -> String {
    match value {
        QueryValue::Scalar(v) => format!("scalar {v}"),
        QueryValue::Vector(points) => {
            let shown: Vec<String> = points
                .iter()
                .map(|(l, v)| format!("{} {v}", show_labels(l)))
                .collect();
            format!("[{}]", shown.join("; "))
        }
        QueryValue::MixedVector(points, histograms) => format!(
            "{} floats and {} native histograms",
            points.len(),
            histograms.len()
        ),
        QueryValue::Matrix(series) => format!("a matrix of {} series", series.len()),
        QueryValue::MixedMatrix(series, histograms) => format!(
            "a matrix of {} float and {} histogram series",
            series.len(),
            histograms.len()
        ),
        QueryValue::String(text) => format!("string {text:?}"),
    }
}

/// Prometheus' `almostEqual`: equal, both NaN, or within a relative 1e-6.
fn almost_equal(a: f64, b: f64) -> bool {
    const EPSILON: f64 = 1e-6;
    let min_normal = f64::MIN_POSITIVE;
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || diff < min_normal {
        return diff < EPSILON * min_normal;
    }
    diff / (a.abs() + b.abs()) < EPSILON
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseFloat`: decimal, hex, `Inf`, `NaN`.
fn number(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let (sign, digits) = match t.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, t.strip_prefix('+').unwrap_or(t)),
    };
    if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        return i64::from_str_radix(hex, 16)
            .map(|v| sign * v as f64)
            .map_err(|e| e.to_string());
    }
    let lower = digits.to_ascii_lowercase();
    match lower.as_str() {
        "inf" | "infinity" => return Ok(sign * f64::INFINITY),
        "nan" => return Ok(f64::NAN),
        _ => {}
    }
    if digits.is_empty()
        || !digits
            .bytes()
            .all(|b| b.is_ascii_digit() || b".eE+-".contains(&b))
    {
        return Err(format!("not a number: {text:?}"));
    }
    t.parse::<f64>().map_err(|e| format!("{text:?}: {e}"))
}

/// `metric{labels} values…` into the labels (`__name__` included) and the values.
fn series_description(line: &str) -> Result<(Labels, Vec<Value>), String> {
    let (descriptor, values) = split_descriptor(line)?;
    let labels = labels_of(descriptor)?;
    let mut out = Vec::new();
    for token in values.split_whitespace() {
        out.extend(sequence(token)?);
    }
    Ok((labels, out))
}

/// Splits after the metric name and its braces.
fn split_descriptor(line: &str) -> Result<(&str, &str), String> {
    let Some(open) = line.find('{') else {
        let end = line.find(char::is_whitespace).unwrap_or(line.len());
        return Ok(line.split_at(end));
    };
    if line[..open].contains(char::is_whitespace) {
        let end = line.find(char::is_whitespace).unwrap_or(line.len());
        return Ok(line.split_at(end));
    }
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in line[open..].char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '}' if !in_string => return Ok(line.split_at(open + i + 1)),
            _ => {}
        }
    }
    Err(format!("unclosed labels in {line:?}"))
}

/// `name{a="b",…}` as label pairs.
fn labels_of(descriptor: &str) -> Result<Vec<(String, String)>, String> {
    let (name, rest) = match descriptor.find('{') {
        Some(open) => (
            &descriptor[..open],
            &descriptor[open + 1..descriptor.len() - 1],
        ),
        None => (descriptor, ""),
    };
    let mut labels = Vec::new();
    if !name.is_empty() {
        labels.push(("__name__".to_owned(), name.to_owned()));
    }
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let label: String = chars.by_ref().take_while(|c| *c != '=').collect();
        let label = label.trim().to_owned();
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('"') {
            return Err(format!(
                "a quoted value expected after {label:?} in {descriptor:?}"
            ));
        }
        let mut value = String::new();
        loop {
            match chars.next() {
                Some('\\') => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some('t') => value.push('\t'),
                    Some(c) => value.push(c),
                    None => return Err(format!("unfinished escape in {descriptor:?}")),
                },
                Some('"') => break,
                Some(c) => value.push(c),
                None => return Err(format!("unclosed value in {descriptor:?}")),
            }
        }
        labels.push((label, value));
    }
    Ok(labels)
}

/// One token of a series' values: `1`, `_`, `stale`, `_x3`, `1x3`, `1+2x3`, `5-1x4`.
fn sequence(token: &str) -> Result<Vec<Value>, String> {
    let single = |t: &str| -> Result<Value, String> {
        match t {
            "_" => Ok(Value::Omitted),
            "stale" => Ok(Value::Number(f64::from_bits(STALE_NAN))),
            other => number(other).map(Value::Number),
        }
    };
    let Some((head, count)) = token
        .rsplit_once('x')
        .filter(|(h, c)| !h.is_empty() && !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()))
    else {
        return Ok(vec![single(token)?]);
    };
    let count: u64 = count
        .parse()
        .map_err(|_| format!("bad count in {token:?}"))?;
    if head == "_" {
        return Ok(vec![Value::Omitted; count as usize]);
    }
    // The step's sign: the first `+` or `-` after the start that is not an exponent's.
    let bytes = head.as_bytes();
    let op = (1..bytes.len())
        .find(|&i| (bytes[i] == b'+' || bytes[i] == b'-') && !matches!(bytes[i - 1], b'e' | b'E'));
    let (start, step) = match op {
        Some(i) => (single(&head[..i])?, number(&head[i..])?),
        None => (single(head)?, 0.0),
    };
    let Value::Number(mut v) = start else {
        return Err(format!("no start value in {token:?}"));
    };
    let mut out = vec![Value::Number(v)];
    for _ in 0..count {
        v += step;
        out.push(Value::Number(v));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_expand_as_prometheus_expands_them() {
        let numbers = |t: &str| -> Vec<f64> {
            sequence(t)
                .expect("valid")
                .into_iter()
                .map(|v| match v {
                    Value::Number(n) => n,
                    Value::Omitted => -999.0,
                })
                .collect()
        };
        assert_eq!(numbers("1+1x3"), [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(numbers("10-2x2"), [10.0, 8.0, 6.0]);
        assert_eq!(numbers("5x2"), [5.0, 5.0, 5.0]);
        assert_eq!(numbers("_x2"), [-999.0, -999.0]);
        assert_eq!(numbers("-1+1e1x1"), [-1.0, 9.0]);
        assert_eq!(numbers("1e3"), [1000.0]);
        assert!(numbers("stale")[0].is_nan());
    }

    #[test]
    fn descriptors_are_read_with_their_labels() {
        let (labels, values) =
            series_description(r#"http_requests{path="/a b", x="\"q\""} 1 2"#).expect("valid");
        assert_eq!(
            labels,
            vec![
                ("__name__".to_owned(), "http_requests".to_owned()),
                ("path".to_owned(), "/a b".to_owned()),
                ("x".to_owned(), "\"q\"".to_owned())
            ]
        );
        assert_eq!(values.len(), 2);
        let (labels, _) = series_description("{job=\"a\"} 3").expect("valid");
        assert_eq!(labels, vec![("job".to_owned(), "a".to_owned())]);
    }

    #[test]
    fn a_small_file_runs() {
        let text = "load 5m\n  m{a=\"1\"} 0+1x10\n\neval instant at 10m m\n  m{a=\"1\"} 2\n\neval instant at 10m m * 2\n  {a=\"1\"} 5\n\neval_fail instant at 0m nosuch(m)\n";
        let outcome = run("t.test", text);
        assert_eq!(outcome.passed, 2, "{:?}", outcome.failures);
        assert_eq!(outcome.failures.len(), 1);
        assert_eq!(outcome.failures[0].at, "t.test:7");
    }
}
