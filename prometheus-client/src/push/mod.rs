//! Pushing a registry to a Prometheus Pushgateway, for batch jobs that end before a scrape
//! could reach them (feature `push`).
//!
//! A [`Pusher`] names the gateway, the job and the grouping key; then
//! - [`push`](Pusher::push) (HTTP `PUT`) replaces everything in the group with the registry,
//! - [`add`](Pusher::add) (`POST`) replaces only the families of the same names,
//! - [`delete`](Pusher::delete) (`DELETE`) removes the group.
//!
//! Each is one HTTP/1.1 request in text format 0.0.4, bounded by a timeout (default 30 s);
//! every way it can fail is a [`PushError`] variant. `*_blocking` variants run the same
//! request on a runtime of their own, for jobs without one.
//!
//! ```no_run
//! use prometheus_client::push::Pusher;
//! use prometheus_client::{Gauge, Registry};
//!
//! let registry = Registry::new();
//! let finished = registry.register(
//!     "backup_last_success_timestamp_seconds",
//!     "When the last backup finished.",
//!     Gauge::<f64>::default(),
//! )?;
//! finished.set(1.7e9);
//! Pusher::new("http://127.0.0.1:9091", "nightly_backup")?
//!     .grouping("db", "users/eu-1")? // sent as `db@base64/dXNlcnMvZXUtMQ`
//!     .push_blocking(&registry)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod path;

use std::fmt;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{header, Method, Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::desc::is_valid_label_name;
use crate::encoding::Format;
use crate::parse::{Entry, Parser};
use crate::{EncodeError, Registry};

/// How much of a refusal's body a [`PushError::Status`] keeps.
const MAX_ERROR_BODY: usize = 4096;

/// Where and as what a registry is pushed: gateway URL, job and grouping key.
///
/// ```
/// use std::time::Duration;
/// use prometheus_client::push::{PushError, Pusher};
///
/// let pusher = Pusher::new("http://gateway:9091", "reindex")?
///     .grouping("instance", "worker-3")?
///     .basic_auth("pusher", "secret")
///     .timeout(Duration::from_secs(5));
/// assert_eq!(pusher.group_path(), "/metrics/job/reindex/instance/worker-3");
///
/// assert!(matches!(Pusher::new("http://gateway:9091", ""), Err(PushError::EmptyJob)));
/// assert!(matches!(
///     pusher.grouping("job", "x"),
///     Err(PushError::InvalidGroupingLabel(name)) if name == "job"
/// ));
/// # Ok::<(), PushError>(())
/// ```
#[derive(Clone)]
pub struct Pusher {
    host: String,
    port: u16,
    /// The gateway URL's own path, without a trailing `/` (usually empty).
    prefix: String,
    job: String,
    grouping: Vec<(String, String)>,
    authorization: Option<String>,
    timeout: Duration,
}

impl Pusher {
    /// A pusher to the gateway at `url` (`http://host[:port][/prefix]`) for `job`.
    pub fn new(url: &str, job: &str) -> Result<Pusher, PushError> {
        let invalid = || PushError::InvalidUrl(url.to_owned());
        let uri: Uri = url.parse().map_err(|_| invalid())?;
        if uri.scheme_str() != Some("http") || uri.query().is_some() {
            return Err(invalid());
        }
        let host = uri.host().filter(|h| !h.is_empty()).ok_or_else(invalid)?;
        if job.is_empty() {
            return Err(PushError::EmptyJob);
        }
        Ok(Pusher {
            host: host.trim_matches(['[', ']']).to_owned(),
            port: uri.port_u16().unwrap_or(80),
            prefix: uri.path().trim_end_matches('/').to_owned(),
            job: job.to_owned(),
            grouping: Vec::new(),
            authorization: None,
            timeout: Duration::from_secs(30),
        })
    }

    /// Adds `name="value"` to the grouping key. The name must be a valid label name other
    /// than `job`, and not already in the key; any value is fine (the empty one too).
    pub fn grouping(mut self, name: &str, value: &str) -> Result<Pusher, PushError> {
        if !is_valid_label_name(name)
            || name == "job"
            || self.grouping.iter().any(|(n, _)| n == name)
        {
            return Err(PushError::InvalidGroupingLabel(name.to_owned()));
        }
        self.grouping.push((name.to_owned(), value.to_owned()));
        Ok(self)
    }

    /// Sends HTTP basic auth credentials with every request.
    #[must_use]
    pub fn basic_auth(mut self, username: &str, password: &str) -> Pusher {
        let credentials =
            base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        self.authorization = Some(format!("Basic {credentials}"));
        self
    }

    /// How long a request may take, from connecting to the gateway's answer (default 30 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Pusher {
        self.timeout = timeout;
        self
    }

    /// The group's path on the gateway: `/metrics/job/<job>{/<label>/<value>}`, with values
    /// encoded as the Pushgateway reads them (base64url for values with `/` and for empty
    /// ones, percent-encoding otherwise).
    pub fn group_path(&self) -> String {
        let mut path = format!("{}/metrics", self.prefix);
        path::push_component(&mut path, "job", &self.job);
        for (name, value) in &self.grouping {
            path::push_component(&mut path, name, value);
        }
        path
    }

    /// Replaces everything in the group with `registry`'s families (HTTP `PUT`).
    pub async fn push(&self, registry: &Registry) -> Result<(), PushError> {
        let body = self.body(registry)?;
        self.send(Method::PUT, body).await
    }

    /// Replaces the group's families that `registry` has, keeping the others (HTTP `POST`).
    pub async fn add(&self, registry: &Registry) -> Result<(), PushError> {
        let body = self.body(registry)?;
        self.send(Method::POST, body).await
    }

    /// Removes the group from the gateway (HTTP `DELETE`).
    pub async fn delete(&self) -> Result<(), PushError> {
        self.send(Method::DELETE, Vec::new()).await
    }

    /// [`push`](Pusher::push) on a runtime of its own; refused inside a tokio runtime (use
    /// `push().await` there).
    pub fn push_blocking(&self, registry: &Registry) -> Result<(), PushError> {
        block_on(self.push(registry))
    }

    /// [`add`](Pusher::add) on a runtime of its own; refused inside a tokio runtime.
    pub fn add_blocking(&self, registry: &Registry) -> Result<(), PushError> {
        block_on(self.add(registry))
    }

    /// [`delete`](Pusher::delete) on a runtime of its own; refused inside a tokio runtime.
    pub fn delete_blocking(&self) -> Result<(), PushError> {
        block_on(self.delete())
    }

    /// The registry in text format, refused where a sample carries a label of the grouping
    /// key (the gateway would override it, as client_golang refuses too).
    fn body(&self, registry: &Registry) -> Result<Vec<u8>, PushError> {
        let mut body = Vec::new();
        registry
            .encode(Format::Text, &mut body)
            .map_err(PushError::Encode)?;
        for entry in Parser::new(&body, Format::Text) {
            let Ok(Entry::Sample(sample)) = entry else {
                continue;
            };
            for label in sample.labels.iter() {
                let name = label.name;
                if name == "job" || self.grouping.iter().any(|(n, _)| n == name) {
                    return Err(PushError::GroupingLabelInMetrics {
                        sample: sample.name.to_owned(),
                        label: name.to_owned(),
                    });
                }
            }
        }
        Ok(body)
    }

    async fn send(&self, method: Method, body: Vec<u8>) -> Result<(), PushError> {
        tokio::time::timeout(self.timeout, self.request(method, body))
            .await
            .unwrap_or(Err(PushError::Timeout(self.timeout)))
    }

    async fn request(&self, method: Method, body: Vec<u8>) -> Result<(), PushError> {
        let stream = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| PushError::Connect(e.to_string()))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| PushError::Http(e.to_string()))?;
        tokio::spawn(connection);
        let host = if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        };
        let mut request = Request::builder()
            .method(method)
            .uri(self.group_path())
            .header(header::HOST, host)
            .header(header::USER_AGENT, "prometheus-client-push/0.1");
        if !body.is_empty() {
            request = request.header(header::CONTENT_TYPE, Format::Text.content_type());
        }
        if let Some(authorization) = &self.authorization {
            request = request.header(header::AUTHORIZATION, authorization);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| PushError::Http(e.to_string()))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| PushError::Http(e.to_string()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let mut message = Vec::new();
        let mut body = response.into_body();
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(data) = frame.into_data() {
                let room = MAX_ERROR_BODY - message.len();
                message.extend_from_slice(&data[..data.len().min(room)]);
                if message.len() == MAX_ERROR_BODY {
                    break;
                }
            }
        }
        Err(PushError::Status {
            code: status.as_u16(),
            message: String::from_utf8_lossy(&message).trim_end().to_owned(),
        })
    }
}

impl fmt::Debug for Pusher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pusher")
            .field("group_path", &self.group_path())
            .field("host", &self.host)
            .field("port", &self.port)
            .field(
                "basic_auth",
                &self.authorization.as_ref().map(|_| "<redacted>"),
            )
            .field("timeout", &self.timeout)
            .finish()
    }
}

fn block_on<F: std::future::Future<Output = Result<(), PushError>>>(
    work: F,
) -> Result<(), PushError> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(PushError::InsideRuntime);
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| PushError::Runtime(e.to_string()))?
        .block_on(work)
}

/// Why a push, add or delete did not happen.
///
/// ```
/// use prometheus_client::push::PushError;
/// let e = PushError::Status { code: 400, message: "pushed metrics are invalid".into() };
/// assert_eq!(e.to_string(), "the Pushgateway answered 400: pushed metrics are invalid");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushError {
    /// The gateway URL is not `http://host[:port][/path]`.
    InvalidUrl(String),
    /// The job name is empty.
    EmptyJob,
    /// A grouping label name is invalid, `job`, or given twice.
    InvalidGroupingLabel(String),
    /// A sample of the registry carries a label of the grouping key (or `job`).
    GroupingLabelInMetrics {
        /// The sample's name.
        sample: String,
        /// The label.
        label: String,
    },
    /// The registry could not be encoded (a collector failed).
    Encode(EncodeError),
    /// No connection to the gateway could be made.
    Connect(String),
    /// The HTTP exchange failed after connecting.
    Http(String),
    /// The request took longer than the timeout.
    Timeout(Duration),
    /// The gateway answered with a status other than 2xx; `message` is the start of its body.
    Status {
        /// The HTTP status code.
        code: u16,
        /// What the gateway said (at most 4 KiB).
        message: String,
    },
    /// A `*_blocking` call could not start its runtime.
    Runtime(String),
    /// A `*_blocking` call was made inside a tokio runtime, where it would block the runtime.
    InsideRuntime,
}

impl fmt::Display for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushError::InvalidUrl(url) => {
                write!(
                    f,
                    "invalid Pushgateway URL {url:?}: want http://host[:port][/path]"
                )
            }
            PushError::EmptyJob => f.write_str("the job name must not be empty"),
            PushError::InvalidGroupingLabel(name) => write!(
                f,
                "invalid grouping label {name:?}: not a label name, `job`, or given twice"
            ),
            PushError::GroupingLabelInMetrics { sample, label } => write!(
                f,
                "pushed sample {sample} already has grouping label {label:?}"
            ),
            PushError::Encode(e) => write!(f, "encoding the registry failed: {e}"),
            PushError::Connect(e) => write!(f, "connecting to the Pushgateway failed: {e}"),
            PushError::Http(e) => write!(f, "HTTP exchange with the Pushgateway failed: {e}"),
            PushError::Timeout(t) => write!(f, "the Pushgateway did not answer within {t:?}"),
            PushError::Status { code, message } => {
                write!(f, "the Pushgateway answered {code}: {message}")
            }
            PushError::Runtime(e) => write!(f, "starting a runtime for the push failed: {e}"),
            PushError::InsideRuntime => f.write_str(
                "a blocking push was called inside a tokio runtime; await the async one",
            ),
        }
    }
}

impl std::error::Error for PushError {}
