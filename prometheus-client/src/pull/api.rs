//! A subset of Prometheus' HTTP API with its paths and JSON shapes, so real clients
//! (`promtool query`, Grafana) can read from the pull server.

use std::collections::BTreeSet;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use parking_lot::Mutex;
use serde_json::{json, Value};

use super::config::parse_duration;
use super::query::{instant_query, range_query, QueryValue};
use super::scrape::target_labels;
use super::storage::{Series, SeriesLabels, Storage};
use super::target::{now_ms, TargetStatus};

/// What the API reads.
#[derive(Clone)]
pub(crate) struct Api {
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) targets: Vec<Arc<Mutex<TargetStatus>>>,
}

type Params = Vec<(String, String)>;

fn param<'p>(params: &'p Params, name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn json_response(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    crate::http::response(status, "application/json", body.to_string())
}

fn success(data: Value) -> Response<Full<Bytes>> {
    json_response(StatusCode::OK, &json!({"status": "success", "data": data}))
}

fn failure(status: StatusCode, error_type: &str, error: &str) -> Response<Full<Bytes>> {
    json_response(
        status,
        &json!({"status": "error", "errorType": error_type, "error": error}),
    )
}

fn bad_data(error: &str) -> Response<Full<Bytes>> {
    failure(StatusCode::BAD_REQUEST, "bad_data", error)
}

/// A sample value as Prometheus' API writes it: Go's `'f'` format, `+Inf`, `-Inf`, `NaN`.
fn value_text(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        // Rust's `Display` for f64 is the shortest round-trip digits without an exponent,
        // which is Go's `strconv.FormatFloat(v, 'f', -1, 64)`.
        format!("{v}")
    }
}

fn seconds(ms: i64) -> Value {
    json!(ms as f64 / 1000.0)
}

fn metric(labels: &SeriesLabels) -> Value {
    Value::Object(labels.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

/// A time parameter in Unix seconds, possibly fractional, as Prometheus' clients send it
/// (RFC 3339 times are refused with an error naming the parameter).
fn time_param(params: &Params, name: &str, default: i64) -> Result<i64, String> {
    match param(params, name) {
        None | Some("") => Ok(default),
        Some(text) => text
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite())
            .map(|s| (s * 1000.0).round() as i64)
            .ok_or_else(|| {
                format!("invalid parameter \"{name}\": cannot parse {text:?} to a valid timestamp")
            }),
    }
}

/// Civil date and time from Unix milliseconds, as RFC 3339 in UTC.
fn rfc3339(ms: i64) -> String {
    let (days, ms_of_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s, milli) = (
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000,
    );
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

impl Api {
    /// Answers one request.
    pub(crate) async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = request.uri().path().to_owned();
        let mut params: Params = request
            .uri()
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        match *request.method() {
            Method::GET => {}
            Method::POST => {
                // Prometheus' clients POST their parameters as a form (promtool does).
                match Limited::new(request.into_body(), 1 << 20).collect().await {
                    Ok(body) => {
                        params.extend(form_urlencoded::parse(&body.to_bytes()).into_owned())
                    }
                    Err(e) => return bad_data(&format!("unreadable request body: {e}")),
                }
            }
            _ => {
                return failure(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "bad_data",
                    "only GET and POST",
                )
            }
        }
        match path.as_str() {
            "/api/v1/query" => self.query(&params),
            "/api/v1/query_range" => self.query_range(&params),
            "/api/v1/series" => self.series(&params),
            "/api/v1/labels" => success(json!(self.storage.label_names())),
            "/api/v1/targets" => self.targets(),
            "/-/ready" | "/-/healthy" => Response::new(Full::new(Bytes::from_static(b"OK\n"))),
            other => match other
                .strip_prefix("/api/v1/label/")
                .and_then(|r| r.strip_suffix("/values"))
            {
                Some(name) => success(json!(self.storage.label_values(name))),
                None => failure(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    &format!("no API endpoint {other}"),
                ),
            },
        }
    }

    fn query(&self, params: &Params) -> Response<Full<Bytes>> {
        let Some(query) = param(params, "query") else {
            return bad_data("missing parameter \"query\"");
        };
        let at = match time_param(params, "time", now_ms()) {
            Ok(t) => t,
            Err(e) => return bad_data(&e),
        };
        match instant_query(self.storage.as_ref(), query, at) {
            Ok(QueryValue::Scalar(v)) => {
                success(json!({"resultType": "scalar", "result": [seconds(at), value_text(v)]}))
            }
            Ok(QueryValue::Vector(points)) => {
                let result: Vec<Value> = points
                    .iter()
                    .map(|(labels, v)| json!({"metric": metric(labels), "value": [seconds(at), value_text(*v)]}))
                    .collect();
                success(json!({"resultType": "vector", "result": result}))
            }
            Ok(QueryValue::Matrix(series)) => {
                success(json!({"resultType": "matrix", "result": matrix(&series)}))
            }
            Err(e) => bad_data(&e.0),
        }
    }

    fn query_range(&self, params: &Params) -> Response<Full<Bytes>> {
        let Some(query) = param(params, "query") else {
            return bad_data("missing parameter \"query\"");
        };
        let now = now_ms();
        let (start, end) = match (
            time_param(params, "start", now),
            time_param(params, "end", now),
        ) {
            (Ok(s), Ok(e)) => (s, e),
            (Err(e), _) | (_, Err(e)) => return bad_data(&e),
        };
        let step = param(params, "step")
            .and_then(parse_duration)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let Some(step) = step.filter(|s| *s > 0) else {
            return bad_data("invalid parameter \"step\": a positive duration such as 15s or 1.5");
        };
        match range_query(self.storage.as_ref(), query, start, end, step) {
            Ok(series) => success(json!({"resultType": "matrix", "result": matrix(&series)})),
            Err(e) => bad_data(&e.0),
        }
    }

    fn series(&self, params: &Params) -> Response<Full<Bytes>> {
        let selectors: Vec<&str> = params
            .iter()
            .filter(|(k, _)| k == "match[]")
            .map(|(_, v)| v.as_str())
            .collect();
        if selectors.is_empty() {
            return bad_data("no match[] parameter provided");
        }
        let now = now_ms();
        let (start, end) = match (
            time_param(params, "start", 0),
            time_param(params, "end", now),
        ) {
            (Ok(s), Ok(e)) => (s, e),
            (Err(e), _) | (_, Err(e)) => return bad_data(&e),
        };
        let mut found: BTreeSet<SeriesLabels> = BTreeSet::new();
        for selector in selectors {
            // A selector over the whole range, evaluated through the query engine's matchers.
            let range_ms = end.saturating_sub(start).max(1);
            let query = format!("{selector}[{range_ms}ms]");
            match instant_query(self.storage.as_ref(), &query, end) {
                Ok(QueryValue::Matrix(series)) => found.extend(series.into_iter().map(|(l, _)| l)),
                Ok(_) => return bad_data(&format!("{selector:?} is not a series selector")),
                Err(e) => return bad_data(&e.0),
            }
        }
        success(json!(found.iter().map(metric).collect::<Vec<_>>()))
    }

    fn targets(&self) -> Response<Full<Bytes>> {
        let active: Vec<Value> = self
            .targets
            .iter()
            .map(|status| {
                let s = status.lock().clone();
                let labels: serde_json::Map<String, Value> = target_labels(&s.target)
                    .into_iter()
                    .map(|(k, v)| (k, json!(v)))
                    .collect();
                let health = match s.up {
                    None => "unknown",
                    Some(true) => "up",
                    Some(false) => "down",
                };
                json!({
                    "discoveredLabels": {"__address__": s.target.instance(), "job": s.target.job},
                    "labels": labels,
                    "scrapePool": s.target.job,
                    "scrapeUrl": s.target.url,
                    "globalUrl": s.target.url,
                    "lastError": s.last_error,
                    "lastScrape": rfc3339(s.last_scrape),
                    "lastScrapeDuration": s.last_duration.as_secs_f64(),
                    "health": health,
                })
            })
            .collect();
        success(json!({"activeTargets": active, "droppedTargets": []}))
    }
}

fn matrix(series: &[Series]) -> Vec<Value> {
    series
        .iter()
        .map(|(labels, samples)| {
            let values: Vec<Value> = samples
                .iter()
                .map(|(t, v)| json!([seconds(*t), value_text(*v)]))
                .collect();
            json!({"metric": metric(labels), "values": values})
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_values_as_prometheus_writes_them() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_764_265_800_123), "2025-11-27T17:50:00.123Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(value_text(1e6), "1000000");
        assert_eq!(value_text(0.1), "0.1");
        assert_eq!(value_text(f64::NEG_INFINITY), "-Inf");
        assert_eq!(value_text(f64::NAN), "NaN");
    }
}
