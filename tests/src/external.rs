//! Running tools nobody here wrote: `promtool` and Python's `prometheus_client` parsers.
//!
//! A test that needs a tool calls [`tool`]: where the tool is missing it is skipped with a
//! message, except under `CI=true`, where a missing tool fails the test (`.ci/run` installs
//! them all).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use prometheus_client::encoding::Format;

/// Debian's Python, which has `python3-prometheus-client`; the first `python3` on PATH may not.
pub const PYTHON: &str = "/usr/bin/python3";

/// Whether `CI=true`.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Whether `path` exists; if not, says so and returns false, or panics under `CI=true`.
pub fn tool(path: &str, why: &str) -> bool {
    if Path::new(path).exists() {
        return true;
    }
    assert!(!in_ci(), "{path} is missing but CI=true: {why}");
    eprintln!("skipped: {path} is missing ({why}); .ci/run installs it");
    false
}

/// Whether Debian's Python can import `prometheus_client`; see [`tool`].
pub fn python_client() -> bool {
    if !tool(PYTHON, "the Python prometheus_client parsers run on it") {
        return false;
    }
    let ok = Command::new(PYTHON)
        .args(["-c", "import prometheus_client"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok || !in_ci(),
        "python3-prometheus-client is missing but CI=true"
    );
    if !ok {
        eprintln!("skipped: python3-prometheus-client is missing; .ci/run installs it");
    }
    ok
}

/// Runs `program args` with `input` on stdin.
pub fn run_with_stdin(program: &str, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {program}: {e}"));
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input)
            .unwrap_or_else(|e| panic!("writing to {program}: {e}"));
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("waiting for {program}: {e}"))
}

/// Debian's promtool.
pub const PROMTOOL: &str = "/usr/bin/promtool";

/// Runs `promtool check metrics` on `body`: whether it succeeded, and everything it printed
/// (errors and lint findings).
pub fn promtool_check(body: &[u8]) -> (bool, String) {
    let output = run_with_stdin(PROMTOOL, &["check", "metrics"], body);
    let printed = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), printed)
}

/// A sample as Python's parser read it.
#[derive(Clone, Debug)]
pub struct ParsedSample {
    /// The family it was in.
    pub family: String,
    /// The family's type as the parser reports it.
    pub family_type: String,
    /// The family's HELP, unescaped.
    pub help: String,
    /// The sample name.
    pub name: String,
    /// Its labels, unescaped.
    pub labels: BTreeMap<String, String>,
    /// Its value, exactly (read from Python's shortest round-trip `repr`).
    pub value: f64,
    /// Its timestamp in seconds, if it has one.
    pub timestamp: Option<f64>,
    /// Its exemplar, if it has one (OpenMetrics).
    pub exemplar: Option<ParsedExemplar>,
}

/// An exemplar as Python's OpenMetrics parser read it.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedExemplar {
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its value.
    pub value: f64,
    /// Its timestamp in seconds, if it has one.
    pub timestamp: Option<f64>,
}

const PARSE_SCRIPT: &str = r#"
import json, sys
if sys.argv[1] == "openmetrics":
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
else:
    from prometheus_client.parser import text_string_to_metric_families
text = sys.stdin.buffer.read().decode("utf-8")
def seconds(t):
    return None if t is None else repr(float(t))
for family in text_string_to_metric_families(text):
    for sample in family.samples:
        e = sample.exemplar
        exemplar = None if e is None else {
            "labels": e.labels, "value": repr(float(e.value)), "timestamp": seconds(e.timestamp),
        }
        print(json.dumps({
            "family": family.name, "type": family.type, "help": family.documentation,
            "name": sample.name, "labels": sample.labels, "value": repr(float(sample.value)),
            "timestamp": seconds(sample.timestamp), "exemplar": exemplar,
        }))
"#;

/// Parses `body` with Python's `prometheus_client` parser for `format`.
pub fn python_parse(body: &[u8], format: Format) -> Result<Vec<ParsedSample>, String> {
    let which = match format {
        Format::OpenMetrics => "openmetrics",
        _ => "text",
    };
    let output = run_with_stdin(PYTHON, &["-c", PARSE_SCRIPT, which], body);
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).map_err(|e| format!("{e}: {line}"))?;
            let text = |key: &str| v[key].as_str().unwrap_or_default().to_owned();
            let labels_of = |labels: &Value| -> BTreeMap<String, String> {
                labels
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let number = |v: &Value| v.as_str().and_then(|s| s.parse::<f64>().ok());
            let labels = labels_of(&v["labels"]);
            let value = text("value")
                .parse::<f64>()
                .map_err(|e| format!("value in {line}: {e}"))?;
            let exemplar = v["exemplar"].as_object().map(|e| ParsedExemplar {
                labels: labels_of(&e["labels"]),
                value: e.get("value").and_then(number).unwrap_or(f64::NAN),
                timestamp: e.get("timestamp").and_then(number),
            });
            Ok(ParsedSample {
                family: text("family"),
                family_type: text("type"),
                help: text("help"),
                name: text("name"),
                labels,
                value,
                timestamp: number(&v["timestamp"]),
                exemplar,
            })
        })
        .collect()
}
