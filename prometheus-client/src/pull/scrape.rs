//! One scrape of one target: fetch, decompress, parse, label and check, all or nothing.

use std::fmt;
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::header;
use hyper::{Request, StatusCode};
use parking_lot::Mutex;

use super::config::{Limits, Target};
use super::connect::{connect, Client, Connection};
use super::exemplars::StoredExemplar;
use super::scrape_cache::ScrapeCache;
use super::storage::{series_labels, Histogram, SeriesLabels};
use crate::parse::{
    format_for_content_type, Entry, ParseError, ParseErrorKind, Parser, FALLBACK_FORMAT,
};

/// The `Accept` header Prometheus 2.x sends.
pub const ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// Why a scrape stored nothing.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ScrapeError {
    /// The URL is not `http://host[:port]/path` (or `https://`, with the `tls` feature).
    Url(String),
    /// No connection could be made.
    Connect(String),
    /// The request or the body failed (a truncated body, a reset connection).
    Http(String),
    /// The target answered with a status other than 200.
    Status(u16),
    /// The scrape took longer than the timeout.
    Timeout(Duration),
    /// The body was larger than `body_size_limit` (after decompression).
    BodyTooLarge(usize),
    /// The body is not valid gzip.
    Gzip(String),
    /// The body does not parse.
    Parse(ParseError),
    /// More samples than `sample_limit`.
    SampleLimit(usize),
    /// A series with more labels than `label_limit`.
    LabelLimit(usize),
    /// A label name longer than `label_name_length_limit`.
    LabelNameLength(usize),
    /// A label value longer than `label_value_length_limit`.
    LabelValueLength(usize),
    /// A sample names a label twice, such as `a{__name__="b"}` (`__name__` is its name).
    DuplicateLabel(String),
    /// The scrape would give the target more series than its `series_limit`.
    SeriesLimit(usize),
    /// The scrape would give the store more series than its `max_series`.
    StoreFull(usize),
    /// The TLS handshake failed (an untrusted or expired certificate, a wrong name).
    Tls(String),
    /// The scrape's credentials could not be read (`password_file`).
    Credentials(String),
}

impl fmt::Display for ScrapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScrapeError::Url(url) => write!(
                f,
                "cannot scrape {url:?}: only http://host[:port]/path URLs (https:// with the tls feature)"
            ),
            ScrapeError::Connect(e) => write!(f, "connecting failed: {e}"),
            ScrapeError::Http(e) => write!(f, "HTTP failed: {e}"),
            ScrapeError::Status(code) => write!(f, "server returned HTTP status {code}"),
            ScrapeError::Timeout(t) => write!(f, "scrape took longer than the timeout of {t:?}"),
            ScrapeError::BodyTooLarge(limit) => {
                write!(f, "body size limit of {limit} bytes exceeded")
            }
            ScrapeError::Gzip(e) => write!(f, "invalid gzip body: {e}"),
            ScrapeError::Parse(e) => write!(f, "parse error at {e}"),
            ScrapeError::SampleLimit(limit) => write!(f, "sample limit of {limit} exceeded"),
            ScrapeError::LabelLimit(limit) => write!(f, "label limit of {limit} exceeded"),
            ScrapeError::LabelNameLength(limit) => {
                write!(f, "label name length limit of {limit} exceeded")
            }
            ScrapeError::LabelValueLength(limit) => {
                write!(f, "label value length limit of {limit} exceeded")
            }
            ScrapeError::DuplicateLabel(name) => {
                write!(f, "label name {name:?} is not unique: invalid sample")
            }
            ScrapeError::SeriesLimit(limit) => {
                write!(f, "series limit of {limit} for this target exceeded")
            }
            ScrapeError::StoreFull(limit) => {
                write!(f, "the store's limit of {limit} series exceeded")
            }
            ScrapeError::Tls(e) => write!(f, "TLS handshake failed: {e}"),
            ScrapeError::Credentials(e) => write!(f, "no credentials: {e}"),
        }
    }
}

impl std::error::Error for ScrapeError {}

impl ScrapeError {
    /// A short name for the kind of failure, for the `reason` label of the pull server's
    /// `pull_scrape_failures_total`.
    pub fn reason(&self) -> &'static str {
        match self {
            ScrapeError::Url(_) => "url",
            ScrapeError::Connect(_) => "connect",
            ScrapeError::Http(_) => "http",
            ScrapeError::Status(_) => "status",
            ScrapeError::Timeout(_) => "timeout",
            ScrapeError::BodyTooLarge(_) => "body_size_limit",
            ScrapeError::Gzip(_) => "gzip",
            ScrapeError::Parse(_) => "parse",
            ScrapeError::SampleLimit(_) => "sample_limit",
            ScrapeError::LabelLimit(_) => "label_limit",
            ScrapeError::LabelNameLength(_) => "label_name_length_limit",
            ScrapeError::LabelValueLength(_) => "label_value_length_limit",
            ScrapeError::DuplicateLabel(_) => "duplicate_label",
            ScrapeError::SeriesLimit(_) => "series_limit",
            ScrapeError::StoreFull(_) => "max_series",
            ScrapeError::Tls(_) => "tls",
            ScrapeError::Credentials(_) => "credentials",
        }
    }
}

/// How far ahead of the scrape's time a sample's own timestamp may be, as in Prometheus.
pub const MAX_FUTURE_MS: i64 = 10 * 60 * 1000;

/// The samples of a successful scrape, labelled and timestamped, ready to store.
#[derive(Debug, Default)]
pub(crate) struct Scraped {
    pub(crate) samples: Vec<(SeriesLabels, i64, f64)>,
    /// Native histogram samples (protobuf scrapes only).
    pub(crate) histograms: Vec<(SeriesLabels, i64, Histogram)>,
    /// Exemplars, each with its series.
    pub(crate) exemplars: Vec<(SeriesLabels, StoredExemplar)>,
    /// Samples dropped for a timestamp more than [`MAX_FUTURE_MS`] ahead.
    pub(crate) too_far_ahead: usize,
}

/// A scrape that stored nothing, and how many samples the target had sent by then (all of
/// them, when only a limit was exceeded), as `scrape_samples_scraped` reports it.
#[derive(Debug)]
pub(crate) struct Refused {
    pub(crate) error: ScrapeError,
    pub(crate) samples_seen: usize,
}

impl From<ScrapeError> for Refused {
    fn from(error: ScrapeError) -> Self {
        Refused {
            error,
            samples_seen: 0,
        }
    }
}

/// Scrapes `target` once; `now` (ms) stamps samples without their own timestamp. Fetching
/// and parsing both happen within `timeout`; parsing runs on a blocking thread, off the
/// async workers.
pub(crate) async fn scrape(
    target: &Target,
    (client, cache): (&Client, &Arc<Mutex<ScrapeCache>>),
    timeout: Duration,
    now: i64,
) -> Result<Scraped, Refused> {
    let deadline = Instant::now() + timeout;
    let work = async {
        let (body, content_type) = fetch(target, client, timeout).await?;
        let target = target.clone();
        let cache = Arc::clone(cache);
        tokio::task::spawn_blocking(move || {
            // A parse that outlived its timeout may still hold the cache: then this one
            // reads without it.
            let mut own = None;
            let mut held = cache.try_lock();
            let cache = match held.as_deref_mut() {
                Some(cache) => cache,
                None => own.insert(ScrapeCache::default()),
            };
            samples(
                &target,
                (&body, content_type.as_deref()),
                cache,
                now,
                (deadline, timeout),
            )
        })
        .await
        .unwrap_or_else(|e| Err(ScrapeError::Http(format!("parsing failed: {e}")).into()))
    };
    tokio::time::timeout_at(deadline.into(), work)
        .await
        .unwrap_or_else(|_| Err(ScrapeError::Timeout(timeout).into()))
}

/// Fetches the body (decompressed) and its content type.
async fn fetch(
    target: &Target,
    client: &Client,
    timeout: Duration,
) -> Result<(Vec<u8>, Option<String>), ScrapeError> {
    let Connection {
        mut sender,
        host,
        port,
        uri,
    } = connect(&target.url, client).await?;
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = Request::get(path);
    if let Some(auth) = &target.basic_auth {
        let value = auth.header_value().map_err(ScrapeError::Credentials)?;
        request = request.header(header::AUTHORIZATION, value);
    }
    let request = request
        .header(header::HOST, format!("{host}:{port}"))
        .header(
            header::ACCEPT,
            target
                .scrape_protocols
                .as_deref()
                .map_or_else(|| ACCEPT.to_owned(), super::accept_header),
        )
        .header(header::ACCEPT_ENCODING, "gzip")
        .header(header::USER_AGENT, "prometheus-client-pull/0.1")
        .header(
            "X-Prometheus-Scrape-Timeout-Seconds",
            format!("{}", timeout.as_secs_f64()),
        )
        .body(Empty::<Bytes>::new())
        .map_err(|e| ScrapeError::Http(e.to_string()))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| ScrapeError::Http(e.to_string()))?;
    if response.status() != StatusCode::OK {
        return Err(ScrapeError::Status(response.status().as_u16()));
    }
    let header_text = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header_text(header::CONTENT_TYPE);
    let gzip =
        header_text(header::CONTENT_ENCODING).is_some_and(|e| e.eq_ignore_ascii_case("gzip"));
    let limit = target.limits.body_size();
    let mut body = response.into_body();
    let mut raw = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ScrapeError::Http(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if raw.len() + data.len() > limit {
                return Err(ScrapeError::BodyTooLarge(limit));
            }
            raw.extend_from_slice(&data);
        }
    }
    if !gzip {
        return Ok((raw, content_type));
    }
    // Decompress at most one byte past the limit: a gzip bomb stops there.
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(&raw[..])
        .take(limit as u64 + 1)
        .read_to_end(&mut plain)
        .map_err(|e| ScrapeError::Gzip(e.to_string()))?;
    if plain.len() > limit {
        return Err(ScrapeError::BodyTooLarge(limit));
    }
    Ok((plain, content_type))
}

/// Parses a body into labelled samples, applying the target's labels and limits. A limit
/// exceeded refuses the whole scrape, but the rest of the body is still counted, as
/// Prometheus counts it for `scrape_samples_scraped`.
fn samples(
    target: &Target,
    (body, content_type): (&[u8], Option<&str>),
    cache: &mut ScrapeCache,
    now: i64,
    (deadline, timeout): (Instant, Duration),
) -> Result<Scraped, Refused> {
    let format = content_type
        .and_then(format_for_content_type)
        .unwrap_or(FALLBACK_FORMAT);
    let mut collector = Collector {
        target,
        own_labels: target_labels(target),
        now,
        deadline,
        timeout,
        scraped: Scraped::default(),
        seen: 0,
        refused: None,
        cache,
    };
    collector.cache.begin();
    #[cfg(feature = "protobuf")]
    if format == crate::encoding::Format::Protobuf {
        // The family whose histograms are native: its classic samples are only kept when
        // the target asks for them.
        let mut native_family: Option<String> = None;
        for sample in crate::parse::protobuf_samples(body) {
            let sample = match sample {
                Ok(sample) => sample,
                Err(e) => {
                    let error = collector.refused.take().unwrap_or(ScrapeError::Parse(e));
                    return Err(collector.refuse(error));
                }
            };
            let value = match sample.histogram {
                Some(histogram) => {
                    native_family = Some(sample.family.clone());
                    Value::Histogram(histogram)
                }
                None if !target.scrape_classic_histograms
                    && native_family.as_deref() == Some(sample.family.as_str()) =>
                {
                    continue;
                }
                None => Value::Float(sample.value),
            };
            let labels = sample
                .labels
                .iter()
                .map(|(n, v)| (n.as_str(), std::borrow::Cow::Borrowed(v.as_str())));
            let exemplar = sample.exemplar.map(|e| (e.labels, e.value, e.timestamp_ms));
            let series = (sample.name.as_str(), None, labels);
            collector.add(series, value, sample.timestamp_ms, exemplar)?;
        }
        return collector.finish();
    }
    let limits = &target.limits;
    for entry in Parser::new(body, format).label_limit(limits.label_limit) {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) if e.kind == ParseErrorKind::TooManyLabels(limits.label_limit) => {
                return Err(collector.refuse(ScrapeError::LabelLimit(limits.label_limit)))
            }
            Err(e) => {
                let error = collector.refused.take().unwrap_or(ScrapeError::Parse(e));
                return Err(collector.refuse(error));
            }
        };
        let Entry::Sample(sample) = entry else {
            continue;
        };
        let raw = sample.labels.as_written();
        let labels = sample.labels.iter().map(|l| (l.name, l.value));
        let exemplar = sample.exemplar.as_ref().map(|e| {
            let labels = e
                .labels
                .iter()
                .map(|l| (l.name.to_owned(), l.value.into_owned()))
                .collect();
            (labels, e.value, e.timestamp.and_then(|t| t.as_millis()))
        });
        let timestamp = sample.timestamp.and_then(|t| t.as_millis());
        let series = (sample.name, Some(raw), labels);
        collector.add(series, Value::Float(sample.value), timestamp, exemplar)?;
    }
    collector.finish()
}

/// An exemplar as the collector takes it: labels, value, timestamp in milliseconds.
type ExemplarParts = (Vec<(String, String)>, f64, Option<i64>);

/// A scraped sample's value.
enum Value {
    Float(f64),
    #[cfg_attr(not(feature = "protobuf"), allow(dead_code))] // only protobuf carries them
    Histogram(Histogram),
}

/// Labels, checks and keeps one scrape's samples, whatever format they were read from.
struct Collector<'t> {
    target: &'t Target,
    own_labels: Vec<(String, String)>,
    now: i64,
    deadline: Instant,
    timeout: Duration,
    scraped: Scraped,
    /// Samples read so far.
    seen: usize,
    /// A limit exceeded: the scrape is refused, the rest only counted.
    refused: Option<ScrapeError>,
    /// The target's series by their text.
    cache: &'t mut ScrapeCache,
}

impl Collector<'_> {
    fn refuse(&self, error: ScrapeError) -> Refused {
        Refused {
            error,
            samples_seen: self.seen,
        }
    }

    /// Adds a sample of the series `(name, labels as written if the format has that text,
    /// labels)`: found in the cache by its text, or labelled, checked and cached.
    fn add<'l>(
        &mut self,
        (name, raw, sample_labels): (
            &str,
            Option<&str>,
            impl Iterator<Item = (&'l str, std::borrow::Cow<'l, str>)>,
        ),
        value: Value,
        timestamp: Option<i64>,
        exemplar: Option<ExemplarParts>,
    ) -> Result<(), Refused> {
        let target = self.target;
        let limits = &target.limits;
        self.seen += 1;
        if self.seen % 4096 == 0 && Instant::now() >= self.deadline {
            return Err(self.refuse(ScrapeError::Timeout(self.timeout)));
        }
        if self.refused.is_some() {
            return Ok(());
        }
        if limits.sample_limit > 0 && self.seen > limits.sample_limit {
            // Keep reading, to count what the target sent.
            self.refused = Some(ScrapeError::SampleLimit(limits.sample_limit));
            self.scraped.samples = Vec::new();
            self.scraped.histograms = Vec::new();
            self.scraped.exemplars = Vec::new();
            return Ok(());
        }
        let cached = raw.and_then(|raw| self.cache.get(name, raw));
        let labels = match cached {
            Some(labels) => labels,
            None => {
                let labels = self.label(name, sample_labels)?;
                if let Some(raw) = raw {
                    self.cache.insert(name, raw, &labels);
                }
                labels
            }
        };
        let timestamp = match timestamp {
            Some(t) if target.honor_timestamps => t,
            _ => self.now,
        };
        if timestamp > self.now.saturating_add(MAX_FUTURE_MS) {
            self.scraped.too_far_ahead += 1;
            return Ok(());
        }
        if let Some((exemplar_labels, value, at)) = exemplar {
            // An exemplar without a time gets the scrape's, as in Prometheus.
            self.scraped.exemplars.push((
                Arc::clone(&labels),
                StoredExemplar {
                    labels: exemplar_labels,
                    value,
                    timestamp: at.unwrap_or(self.now),
                },
            ));
        }
        match value {
            Value::Float(value) => self.scraped.samples.push((labels, timestamp, value)),
            Value::Histogram(histogram) => {
                self.scraped.histograms.push((labels, timestamp, histogram));
            }
        }
        Ok(())
    }

    /// The series labels of a sample: its own (empty values left out, a second `__name__`
    /// refused), the target's merged in, within the limits.
    fn label<'l>(
        &self,
        name: &str,
        sample_labels: impl Iterator<Item = (&'l str, std::borrow::Cow<'l, str>)>,
    ) -> Result<SeriesLabels, Refused> {
        let mut labels: Vec<(String, String)> = Vec::new();
        labels.push(("__name__".to_owned(), name.to_owned()));
        for (label, value) in sample_labels {
            if label == "__name__" {
                return Err(self.refuse(ScrapeError::DuplicateLabel(label.to_owned())));
            }
            // An empty value is the same as no label, in Prometheus.
            if !value.is_empty() {
                labels.push((label.to_owned(), value.into_owned()));
            }
        }
        merge_target_labels(&mut labels, &self.own_labels, self.target.honor_labels);
        check_limits(&labels, &self.target.limits).map_err(|e| self.refuse(e))?;
        Ok(series_labels(labels))
    }

    fn finish(self) -> Result<Scraped, Refused> {
        self.cache.end();
        match self.refused {
            Some(error) => Err(Refused {
                error,
                samples_seen: self.seen,
            }),
            None => Ok(self.scraped),
        }
    }
}

/// `job`, `instance` and the target's extra labels.
pub(crate) fn target_labels(target: &Target) -> Vec<(String, String)> {
    let mut labels = vec![
        ("job".to_owned(), target.job.clone()),
        ("instance".to_owned(), target.instance()),
    ];
    labels.extend(target.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    labels
}

/// Adds the target's labels. Where the sample has one already: with `honor_labels` the
/// sample's wins; otherwise the sample's is kept as `exported_<name>` (repeatedly prefixed
/// until free), as Prometheus does.
fn merge_target_labels(labels: &mut Vec<(String, String)>, own: &[(String, String)], honor: bool) {
    for (name, value) in own {
        match labels.iter().position(|(n, _)| n == name) {
            None => labels.push((name.clone(), value.clone())),
            Some(_) if honor => {}
            Some(i) => {
                let mut exported = format!("exported_{name}");
                while labels.iter().any(|(n, _)| *n == exported) {
                    exported = format!("exported_{exported}");
                }
                labels[i].0 = exported;
                labels.push((name.clone(), value.clone()));
            }
        }
    }
}

fn check_limits(labels: &[(String, String)], limits: &Limits) -> Result<(), ScrapeError> {
    let counted = labels.len() - 1;
    if limits.label_limit > 0 && counted > limits.label_limit {
        return Err(ScrapeError::LabelLimit(limits.label_limit));
    }
    for (name, value) in labels.iter().filter(|(n, _)| n != "__name__") {
        if limits.label_name_length_limit > 0 && name.len() > limits.label_name_length_limit {
            return Err(ScrapeError::LabelNameLength(limits.label_name_length_limit));
        }
        if limits.label_value_length_limit > 0 && value.len() > limits.label_value_length_limit {
            return Err(ScrapeError::LabelValueLength(
                limits.label_value_length_limit,
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn far() -> (Instant, Duration) {
        (
            Instant::now() + Duration::from_secs(60),
            Duration::from_secs(60),
        )
    }

    /// Reads a text body as a scrape of `target` would, with a cache of its own.
    fn read(target: &Target, body: &[u8]) -> Result<Scraped, Refused> {
        read_with(target, body, &mut ScrapeCache::default())
    }

    fn read_with(
        target: &Target,
        body: &[u8],
        cache: &mut ScrapeCache,
    ) -> Result<Scraped, Refused> {
        samples(target, (body, Some("text/plain")), cache, 1000, far())
    }

    fn labels_of(body: &str, target: &Target) -> Result<Vec<Vec<(String, String)>>, ScrapeError> {
        let scraped = read(target, body.as_bytes()).map_err(|r| r.error)?;
        Ok(scraped
            .samples
            .into_iter()
            .map(|(l, _, _)| l.to_vec())
            .collect())
    }

    #[test]
    fn a_steady_scrape_finds_its_series_in_the_cache() {
        let target = Target::new("http://127.0.0.1:9/metrics").job("j");
        let body = b"# TYPE a counter\na_total{x=\"1\",y=\"\\\"\"} 1\nb 2 5000\n";
        let mut cache = ScrapeCache::default();
        let first = read_with(&target, body, &mut cache).expect("valid");
        let second = read_with(&target, body, &mut cache).expect("valid");
        assert_eq!(first.samples, second.samples);
        for (a, b) in first.samples.iter().zip(&second.samples) {
            assert!(Arc::ptr_eq(&a.0, &b.0), "the cached labels, not new ones");
        }
        assert_eq!(
            first.samples[0].0.to_vec(),
            [
                ("__name__".to_owned(), "a_total".to_owned()),
                ("instance".to_owned(), "127.0.0.1:9".to_owned()),
                ("job".to_owned(), "j".to_owned()),
                ("x".to_owned(), "1".to_owned()),
                ("y".to_owned(), "\"".to_owned()),
            ]
        );
        // A new series is still checked against the limits.
        let mut limited = target.clone();
        limited.limits.label_limit = 3;
        let refused = read_with(&limited, b"c{p=\"1\",q=\"2\"} 1\n", &mut cache);
        assert!(matches!(
            refused,
            Err(Refused {
                error: ScrapeError::LabelLimit(3),
                ..
            })
        ));
    }

    #[test]
    fn clashing_labels_are_exported_unless_honoured() {
        let target = Target::new("http://h:1/metrics").job("mine");
        let got = labels_of("a{job=\"theirs\",exported_job=\"x\"} 1\n", &target).expect("valid");
        let names: Vec<(&str, &str)> = got[0]
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert!(
            names.contains(&("exported_exported_job", "theirs")),
            "{names:?}"
        );
        assert!(names.contains(&("job", "mine")));
        let honoured =
            labels_of("a{job=\"theirs\"} 1\n", &target.clone().honor_labels(true)).expect("valid");
        assert!(honoured[0].contains(&("job".to_owned(), "theirs".to_owned())));
        assert!(honoured[0].contains(&("instance".to_owned(), "h:1".to_owned())));
    }

    #[test]
    fn empty_label_values_are_dropped_and_timestamps_honoured() {
        let target = Target::new("http://h:1/metrics");
        let scraped = read(&target, b"a{b=\"\"} 1 5000\n").expect("valid");
        let (labels, t, _) = &scraped.samples[0];
        assert!(!labels.iter().any(|(n, _)| n == "b"));
        assert_eq!(*t, 5000);
        let mut ignoring = target;
        ignoring.honor_timestamps = false;
        assert_eq!(
            read(&ignoring, b"a 1 5000\n").expect("valid").samples[0].1,
            1000
        );
    }

    #[test]
    fn limits_fail_the_whole_scrape() {
        let limited = |limits| Target::new("http://h:1/metrics").limits(limits);
        let body = "a{x=\"1\"} 1\na{x=\"2\"} 2\n";
        let two = Limits {
            sample_limit: 2,
            ..Limits::default()
        };
        assert!(
            labels_of(body, &limited(two)).is_ok(),
            "exactly at the limit"
        );
        let one = Limits {
            sample_limit: 1,
            ..Limits::default()
        };
        assert_eq!(
            labels_of(body, &limited(one)),
            Err(ScrapeError::SampleLimit(1))
        );
        let labels = Limits {
            label_limit: 2,
            ..Limits::default()
        };
        assert_eq!(
            labels_of(body, &limited(labels)),
            Err(ScrapeError::LabelLimit(2))
        );
        let value = Limits {
            label_value_length_limit: 3,
            ..Limits::default()
        };
        assert_eq!(
            labels_of(body, &limited(value)),
            Err(ScrapeError::LabelValueLength(3))
        );
        let name = Limits {
            label_name_length_limit: 3,
            ..Limits::default()
        };
        assert_eq!(
            labels_of(body, &limited(name)),
            Err(ScrapeError::LabelNameLength(3))
        );
    }
}
