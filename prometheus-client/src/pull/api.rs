//! A subset of Prometheus' HTTP API with its paths and JSON shapes, so real clients
//! (`promtool query`, Grafana) can read from the pull server.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use parking_lot::Mutex;

use crate::http::MetricsService;
use serde_json::{json, Value};

use super::config::parse_duration;
use super::exemplars::ExemplarStore;
use super::instruments::Instruments;
use super::json;
use super::query::{QueryEngine, QueryError, QueryTime};
use super::scrape::target_labels;
use super::storage::{SeriesLabels, Storage};
use super::target::{now_ms, TargetStatus};

/// What the API reads.
#[derive(Clone)]
pub(crate) struct Api {
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) engine: Arc<QueryEngine>,
    pub(crate) metrics: MetricsService,
    pub(crate) instruments: Instruments,
    pub(crate) targets: Vec<Arc<Mutex<TargetStatus>>>,
    /// The largest form a `POST` may send.
    pub(crate) max_form_bytes: usize,
    pub(crate) exemplars: Arc<ExemplarStore>,
}

type Params = Vec<(String, String)>;

fn param<'p>(params: &'p Params, name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn json_response(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    crate::http::response(status, "application/json", body)
}

fn success(data: Value) -> Response<Full<Bytes>> {
    json_response(
        StatusCode::OK,
        json!({"status": "success", "data": data}).to_string(),
    )
}

fn failure(status: StatusCode, error_type: &str, error: &str) -> Response<Full<Bytes>> {
    json_response(
        status,
        json!({"status": "error", "errorType": error_type, "error": error}).to_string(),
    )
}

fn bad_data(error: &str) -> Response<Full<Bytes>> {
    failure(StatusCode::BAD_REQUEST, "bad_data", error)
}

fn query_failure(error: &QueryError) -> Response<Full<Bytes>> {
    failure(
        StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST),
        error.error_type(),
        &error.to_string(),
    )
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
        let (head, body) = request.into_parts();
        if head.uri.path() == "/metrics" {
            return self.metrics.handle(Request::from_parts(head, ())).await;
        }
        let path = head.uri.path().to_owned();
        let mut params: Params = head
            .uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        match head.method {
            Method::GET => {}
            Method::POST => {
                // Prometheus' clients POST their parameters as a form (promtool does).
                match Limited::new(body, self.max_form_bytes).collect().await {
                    Ok(body) => {
                        params.extend(form_urlencoded::parse(&body.to_bytes()).into_owned())
                    }
                    Err(e) if e.is::<LengthLimitError>() => {
                        let why = format!("request body over {} bytes", self.max_form_bytes);
                        return failure(StatusCode::PAYLOAD_TOO_LARGE, "bad_data", &why);
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
            "/api/v1/query" => self.query(&params).await,
            "/api/v1/query_range" => self.query_range(&params).await,
            "/api/v1/series" => self.series(&params).await,
            "/api/v1/query_exemplars" => self.query_exemplars(&params).await,
            "/api/v1/labels" => self.labels(&params, None).await,
            "/api/v1/targets" => self.targets(),
            "/-/ready" | "/-/healthy" => Response::new(Full::new(Bytes::from_static(b"OK\n"))),
            other => match other
                .strip_prefix("/api/v1/label/")
                .and_then(|r| r.strip_suffix("/values"))
            {
                Some(name) => self.labels(&params, Some(name)).await,
                None => failure(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    &format!("no API endpoint {other}"),
                ),
            },
        }
    }

    /// Evaluates on the engine and answers with the result written straight to JSON.
    async fn evaluate(&self, query: &str, time: QueryTime, at: i64) -> Response<Full<Bytes>> {
        let started = Instant::now();
        let answer = self
            .engine
            .run(
                Arc::clone(&self.storage),
                query.to_owned(),
                time,
                move |result| result.map(|value| json::query_success(&value, at)),
            )
            .await;
        let answer = answer.and_then(|rendered| rendered);
        self.instruments
            .queried(started.elapsed(), answer.as_ref().err());
        match answer {
            Ok(body) => json_response(StatusCode::OK, body),
            Err(e) => query_failure(&e),
        }
    }

    async fn query(&self, params: &Params) -> Response<Full<Bytes>> {
        let Some(query) = param(params, "query") else {
            return bad_data("missing parameter \"query\"");
        };
        let at = match time_param(params, "time", now_ms()) {
            Ok(t) => t,
            Err(e) => return bad_data(&e),
        };
        self.evaluate(query, QueryTime::Instant { at }, at).await
    }

    async fn query_range(&self, params: &Params) -> Response<Full<Bytes>> {
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
        self.evaluate(query, QueryTime::Range { start, end, step }, end)
            .await
    }

    /// The series `match[]` selects between `start` and `end` (all time where not given), or
    /// every series when `match[]` is absent and `optional` allows it.
    async fn matched_series(
        &self,
        params: &Params,
        optional: bool,
    ) -> Result<Vec<SeriesLabels>, Response<Full<Bytes>>> {
        let selectors: Vec<String> = params
            .iter()
            .filter(|(k, _)| k == "match[]")
            .map(|(_, v)| v.clone())
            .collect();
        if selectors.is_empty() && !optional {
            return Err(bad_data("no match[] parameter provided"));
        }
        let (start, end) = match (
            time_param(params, "start", i64::MIN),
            time_param(params, "end", i64::MAX),
        ) {
            (Ok(s), Ok(e)) => (s, e),
            (Err(e), _) | (_, Err(e)) => return Err(bad_data(&e)),
        };
        if selectors.is_empty() {
            return Ok(self.storage.series(&[], start, end));
        }
        self.engine
            .series(Arc::clone(&self.storage), selectors, start, end)
            .await
            .map_err(|e| query_failure(&e))
    }

    /// `/api/v1/query_exemplars`: the exemplars in `[start, end]` of the series any
    /// selector of `query` matches, in Prometheus' JSON shape.
    async fn query_exemplars(&self, params: &Params) -> Response<Full<Bytes>> {
        let Some(query) = param(params, "query") else {
            return bad_data("query parameter is required");
        };
        let (start, end) = match (
            time_param(params, "start", i64::MIN),
            time_param(params, "end", i64::MAX),
        ) {
            (Ok(s), Ok(e)) => (s, e),
            (Err(e), _) | (_, Err(e)) => return bad_data(&e),
        };
        if end < start {
            return bad_data("end timestamp must not be before start time");
        }
        match self.engine.selectors(query.to_owned()).await {
            Ok(selectors) => {
                let found = self.exemplars.select(&selectors, start, end);
                json_response(StatusCode::OK, json::exemplars_success(&found))
            }
            Err(e) => query_failure(&e),
        }
    }

    async fn series(&self, params: &Params) -> Response<Full<Bytes>> {
        match self.matched_series(params, false).await {
            Ok(series) => json_response(StatusCode::OK, json::series_success(&series)),
            Err(response) => response,
        }
    }

    /// `/api/v1/labels` (`name` is `None`) and `/api/v1/label/<name>/values`.
    async fn labels(&self, params: &Params, name: Option<&str>) -> Response<Full<Bytes>> {
        let narrowed = ["match[]", "start", "end"]
            .iter()
            .any(|p| param(params, p).is_some());
        if !narrowed {
            return success(match name {
                None => json!(self.storage.label_names()),
                Some(name) => json!(self.storage.label_values(name)),
            });
        }
        let series = match self.matched_series(params, true).await {
            Ok(series) => series,
            Err(response) => return response,
        };
        let found: BTreeSet<&str> = series
            .iter()
            .flat_map(|labels| labels.iter())
            .filter_map(|(n, v)| match name {
                None => Some(n.as_str()),
                Some(name) => (n == name).then_some(v.as_str()),
            })
            .collect();
        success(json!(found))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_values_as_prometheus_writes_them() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_764_265_800_123), "2025-11-27T17:50:00.123Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
