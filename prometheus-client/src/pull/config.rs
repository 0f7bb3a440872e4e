//! What to scrape and how: targets, interval, timeout, limits and retention, from code or a
//! TOML file.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::query::QueryLimits;
use crate::desc::is_valid_label_name;

/// Limits on one scrape, named as in Prometheus' `scrape_config`. Zero means no limit, but
/// for the body, which is always bounded.
///
/// ```
/// let limits = prometheus_client::pull::Limits { sample_limit: 1000, ..Default::default() };
/// assert_eq!(limits.label_limit, 0);
/// assert_eq!(limits.body_size_limit, 64 << 20);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of body, counted as received and again after gzip decompression (default and
    /// zero: 64 MiB, [`Limits::DEFAULT_BODY_SIZE_LIMIT`]).
    pub body_size_limit: usize,
    /// Samples in one scrape.
    pub sample_limit: usize,
    /// Labels on one series (its name not counted, target labels counted).
    pub label_limit: usize,
    /// Bytes in one label name.
    pub label_name_length_limit: usize,
    /// Bytes in one label value.
    pub label_value_length_limit: usize,
    /// Series of this target the store may hold (those of the last scrapes within the
    /// retention); a scrape that would add more is refused whole.
    pub series_limit: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_size_limit: Self::DEFAULT_BODY_SIZE_LIMIT,
            sample_limit: 0,
            label_limit: 0,
            label_name_length_limit: 0,
            label_value_length_limit: 0,
            series_limit: 0,
        }
    }
}

impl Limits {
    /// The body size limit when none is given: 64 MiB.
    pub const DEFAULT_BODY_SIZE_LIMIT: usize = 64 << 20;

    /// The body size limit in force: zero means the default.
    pub(crate) fn body_size(&self) -> usize {
        match self.body_size_limit {
            0 => Self::DEFAULT_BODY_SIZE_LIMIT,
            n => n,
        }
    }
}

/// One target to scrape.
///
/// ```
/// use prometheus_client::pull::Target;
/// let target = Target::new("http://127.0.0.1:9100/metrics").job("node").label("env", "dev");
/// assert_eq!(target.instance(), "127.0.0.1:9100");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// The URL (`http://host:port/path`).
    pub url: String,
    /// The `job` label.
    pub job: String,
    /// More labels for every series of this target.
    pub labels: BTreeMap<String, String>,
    /// Keep the target's own `job`, `instance` and other labels where they clash with ours
    /// (else theirs become `exported_<name>`).
    pub honor_labels: bool,
    /// Use the timestamps the target sends (else the scrape's time).
    pub honor_timestamps: bool,
    /// Also store a native histogram's classic series (`_bucket`, `_sum`, `_count`) when a
    /// protobuf scrape gives it both ways (Prometheus' `scrape_classic_histograms`; off:
    /// only the native histogram is stored, as Prometheus does).
    pub scrape_classic_histograms: bool,
    /// Limits on each scrape.
    pub limits: Limits,
    /// A user name and password sent with each scrape (Prometheus' `basic_auth`).
    pub basic_auth: Option<BasicAuth>,
    /// The formats to ask for, most wanted first (Prometheus' `scrape_protocols`); `None`
    /// sends Prometheus 2.42's [`ACCEPT`](super::ACCEPT). Whatever the target answers is
    /// read by its `Content-Type`.
    pub scrape_protocols: Option<Vec<super::ScrapeProtocol>>,
    /// Whom to trust and what to show for an `https://` URL (feature `tls`; Prometheus'
    /// `tls_config`).
    #[cfg(feature = "tls")]
    pub tls_config: super::TlsConfig,
}

/// Prometheus' `basic_auth` of a scrape: the password given, or read from a file at each
/// scrape (so it can be rotated).
///
/// ```
/// use prometheus_client::pull::{BasicAuth, Target};
/// let target = Target::new("http://127.0.0.1:9100/metrics")
///     .basic_auth(BasicAuth::with_password("prometheus", "hunter2"));
/// assert!(!format!("{target:?}").contains("hunter2"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct BasicAuth {
    /// The user name.
    pub username: String,
    /// The password, if given here.
    pub password: Option<String>,
    /// A file holding the password (trailing newlines are not part of it).
    pub password_file: Option<std::path::PathBuf>,
}

impl BasicAuth {
    /// A user name and its password.
    pub fn with_password(username: impl Into<String>, password: impl Into<String>) -> Self {
        BasicAuth {
            username: username.into(),
            password: Some(password.into()),
            password_file: None,
        }
    }

    /// The password now: given, or read from its file.
    pub(crate) fn current_password(&self) -> Result<String, String> {
        match (&self.password, &self.password_file) {
            (_, Some(file)) => std::fs::read_to_string(file)
                .map(|p| p.trim_end_matches(['\n', '\r']).to_owned())
                .map_err(|e| format!("cannot read password_file {}: {e}", file.display())),
            (Some(password), None) => Ok(password.clone()),
            (None, None) => Ok(String::new()),
        }
    }

    /// The `Authorization` header's value now (`Basic` and the encoded credentials).
    pub(crate) fn header_value(&self) -> Result<String, String> {
        use base64::Engine;
        let password = self.current_password()?;
        let credentials = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{password}", self.username));
        Ok(format!("Basic {credentials}"))
    }
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuth")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<secret>"))
            .field("password_file", &self.password_file)
            .finish()
    }
}

impl Target {
    /// A target with job `"default"` and no limits.
    pub fn new(url: impl Into<String>) -> Self {
        Target {
            url: url.into(),
            job: "default".to_owned(),
            labels: BTreeMap::new(),
            honor_labels: false,
            honor_timestamps: true,
            scrape_classic_histograms: false,
            limits: Limits::default(),
            basic_auth: None,
            scrape_protocols: None,
            #[cfg(feature = "tls")]
            tls_config: super::TlsConfig::default(),
        }
    }

    /// Asks for these formats, most wanted first (Prometheus' `scrape_protocols`).
    ///
    /// ```
    /// use prometheus_client::pull::{ScrapeProtocol, Target};
    /// let target = Target::new("http://127.0.0.1:9898/metrics")
    ///     .scrape_protocols([ScrapeProtocol::PrometheusText0_0_4]);
    /// ```
    pub fn scrape_protocols(
        mut self,
        protocols: impl IntoIterator<Item = super::ScrapeProtocol>,
    ) -> Self {
        self.scrape_protocols = Some(protocols.into_iter().collect());
        self
    }

    /// Sends a user name and password with each scrape.
    pub fn basic_auth(mut self, auth: BasicAuth) -> Self {
        self.basic_auth = Some(auth);
        self
    }

    /// Sets how an `https://` target is trusted and what is shown to it (feature `tls`).
    #[cfg(feature = "tls")]
    pub fn tls_config(mut self, tls: super::TlsConfig) -> Self {
        self.tls_config = tls;
        self
    }

    /// Sets the job.
    pub fn job(mut self, job: impl Into<String>) -> Self {
        self.job = job.into();
        self
    }

    /// Adds a label to every series of this target.
    pub fn label(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(name.into(), value.into());
        self
    }

    /// Sets the limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets `honor_labels`.
    pub fn honor_labels(mut self, honor: bool) -> Self {
        self.honor_labels = honor;
        self
    }

    /// Also stores a native histogram's classic series when the target sends both
    /// (Prometheus' `scrape_classic_histograms`).
    ///
    /// ```
    /// use prometheus_client::pull::Target;
    /// let target = Target::new("http://127.0.0.1:9898/metrics").scrape_classic_histograms(true);
    /// assert!(target.scrape_classic_histograms);
    /// ```
    pub fn scrape_classic_histograms(mut self, keep: bool) -> Self {
        self.scrape_classic_histograms = keep;
        self
    }

    /// The `instance` label: the URL's `host:port`.
    pub fn instance(&self) -> String {
        let rest = self
            .url
            .split_once("://")
            .map_or(self.url.as_str(), |(_, r)| r);
        let authority = rest.split('/').next().unwrap_or_default();
        let default_port = if self.url.starts_with("https://") {
            443
        } else {
            80
        };
        if authority
            .rsplit_once(':')
            .is_some_and(|(_, port)| !port.ends_with(']'))
        {
            authority.to_owned()
        } else {
            format!("{authority}:{default_port}")
        }
    }
}

/// The whole configuration. [`Config::check`] refuses zero durations.
///
/// ```
/// use std::time::Duration;
/// use prometheus_client::pull::{Config, Target};
/// let config = Config::new()
///     .scrape_interval(Duration::from_secs(1))
///     .target(Target::new("http://127.0.0.1:9898/metrics").job("demo"));
/// assert_eq!(config.targets.len(), 1);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Time between scrapes of a target (default 15 s).
    pub scrape_interval: Duration,
    /// Time a scrape may take (default 10 s, at most the interval).
    pub scrape_timeout: Duration,
    /// How long samples are kept (default 1 h).
    pub retention: Duration,
    /// The targets.
    pub targets: Vec<Target>,
    /// Series the store holds at most, all targets together (default 1,000,000); a scrape
    /// that would add more is refused whole. A series costs a few hundred bytes plus its
    /// labels (index entries, head chunk, scrape cache entry), and a regular scrape's sample a
    /// byte or two: in the soak test, 100,000 series with 2 to 4 minutes of samples at 1 s
    /// took under 2 KB each, the whole process included.
    pub max_series: usize,
    /// Exemplars kept, all series together (default 100,000, Prometheus'
    /// `storage.exemplars.exemplars-limit`; 0 keeps none): the oldest go first. An exemplar
    /// costs about 200 bytes plus its labels.
    pub max_exemplars: usize,
    /// Limits on each query.
    pub query: QueryLimits,
    /// Limits on the clients of the HTTP API.
    pub api: ApiLimits,
    /// Also scrape the server's own `/metrics` (job `pull`).
    pub scrape_self: bool,
    /// TLS, basic auth, a rate limit and extra headers for the API (feature `tls`), in
    /// exporter-toolkit's format; TOML: `web_config_file = "web.yml"`.
    #[cfg(feature = "tls")]
    pub web_config: Option<crate::http::WebConfig>,
    /// Receivers every stored sample is forwarded to (feature `remote-write`); TOML:
    /// `[[remote_write]]` tables.
    #[cfg(feature = "remote-write")]
    pub remote_write: Vec<super::RemoteWrite>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            scrape_interval: Duration::from_secs(15),
            scrape_timeout: Duration::from_secs(10),
            retention: Duration::from_secs(3600),
            targets: Vec::new(),
            max_series: 1_000_000,
            max_exemplars: 100_000,
            query: QueryLimits::default(),
            api: ApiLimits::default(),
            scrape_self: false,
            #[cfg(feature = "tls")]
            web_config: None,
            #[cfg(feature = "remote-write")]
            remote_write: Vec::new(),
        }
    }
}

/// What bounds the clients of the pull server's HTTP API: together with [`QueryLimits`], the
/// memory and time a client can take. Each request may take the query timeout plus 10 s.
///
/// ```
/// use std::time::Duration;
/// use prometheus_client::pull::ApiLimits;
/// let limits = ApiLimits { max_connections: 16, ..Default::default() };
/// assert_eq!(limits.max_header_bytes, 64 * 1024);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiLimits {
    /// Connections open at once (default 64); more wait in the listen backlog.
    pub max_connections: usize,
    /// Bytes of request line and headers (default 64 KiB, at least 8 KiB); more get 431.
    pub max_header_bytes: usize,
    /// Time a client has to send its headers (default 10 s).
    pub header_read_timeout: Duration,
    /// Bytes of a `POST` form (default 1 MiB); more get 413.
    pub max_form_bytes: usize,
    /// Age at which a connection is closed after its request in progress (default 5 min,
    /// and never less than a request may take).
    pub max_connection_age: Duration,
}

impl Default for ApiLimits {
    fn default() -> Self {
        ApiLimits {
            max_connections: 64,
            max_header_bytes: 64 * 1024,
            header_read_timeout: Duration::from_secs(10),
            max_form_bytes: 1 << 20,
            max_connection_age: Duration::from_secs(300),
        }
    }
}

/// A configuration that could not be used, naming the key at fault (`targets[0].url`).
///
/// ```
/// use prometheus_client::pull::{Config, ConfigError};
/// assert_eq!(
///     Config::from_toml("scrape_interval = \"0s\""),
///     Err(ConfigError::NotPositive { key: "scrape_interval".into() })
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The text is not TOML (the TOML parser's message).
    Toml(String),
    /// A key this configuration does not have.
    UnknownKey {
        /// The key, with its place.
        key: String,
    },
    /// A required key is absent.
    Missing {
        /// The key, with its place.
        key: String,
    },
    /// A value of the wrong kind.
    Expected {
        /// The key, with its place.
        key: String,
        /// What it must be.
        what: &'static str,
    },
    /// A duration or limit that must be more than zero is zero.
    NotPositive {
        /// The key, with its place.
        key: String,
    },
    /// A target URL this server cannot scrape.
    UnsupportedUrl {
        /// The key, with its place.
        key: String,
        /// The URL.
        url: String,
    },
    /// `scrape_timeout` is longer than `scrape_interval`.
    TimeoutExceedsInterval,
    /// A web configuration file (or a TLS file of a target) that does not load.
    #[cfg(feature = "tls")]
    WebConfig {
        /// The key, with its place.
        key: String,
        /// What is wrong with it.
        error: crate::http::WebConfigError,
    },
    /// A target label whose name is not a label name (`[a-zA-Z_][a-zA-Z0-9_]*`).
    InvalidLabelName {
        /// The key, with its place.
        key: String,
        /// The name.
        name: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Toml(e) => write!(f, "not valid TOML: {e}"),
            ConfigError::UnknownKey { key } => write!(f, "unknown key {key:?}"),
            ConfigError::Missing { key } => write!(f, "{key}: missing"),
            ConfigError::Expected { key, what } => write!(f, "{key}: expected {what}"),
            ConfigError::NotPositive { key } => write!(f, "{key}: must be more than zero"),
            ConfigError::UnsupportedUrl { key, url } => {
                write!(
                    f,
                    "{key}: only http:// (and, with the tls feature, https://) URLs are scraped, not {url:?}"
                )
            }
            ConfigError::TimeoutExceedsInterval => {
                f.write_str("scrape_timeout must not exceed scrape_interval")
            }
            #[cfg(feature = "tls")]
            ConfigError::WebConfig { key, error } => write!(f, "{key}: {error}"),
            ConfigError::InvalidLabelName { key, name } => write!(
                f,
                "{key}: {name:?} is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// The default configuration, without targets.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the scrape interval (and caps the timeout to it).
    pub fn scrape_interval(mut self, interval: Duration) -> Self {
        self.scrape_interval = interval;
        self.scrape_timeout = self.scrape_timeout.min(interval);
        self
    }

    /// Sets the scrape timeout.
    pub fn scrape_timeout(mut self, timeout: Duration) -> Self {
        self.scrape_timeout = timeout;
        self
    }

    /// Sets the retention.
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// Adds a target.
    pub fn target(mut self, target: Target) -> Self {
        self.targets.push(target);
        self
    }

    /// Adds a remote write receiver (feature `remote-write`).
    #[cfg(feature = "remote-write")]
    pub fn remote_write(mut self, remote: super::RemoteWrite) -> Self {
        self.remote_write.push(remote);
        self
    }

    /// Reads a TOML configuration: the keys of [`Config`] at the top, a `[query]` table with
    /// the keys of [`QueryLimits`], an `[api]` table with those of [`ApiLimits`], and
    /// `[[targets]]` tables with `url`, `job`, `labels`, `honor_labels`, `honor_timestamps`,
    /// `scrape_classic_histograms`, `scrape_protocols` (a list of [`ScrapeProtocol`](super::ScrapeProtocol) names),
    /// `basic_auth` (`username`, `password` or `password_file`), `tls_config` (`ca_file`,
    /// `cert_file`, `key_file`, `server_name`, `insecure_skip_verify`; feature `tls`) and the
    /// keys of [`Limits`]. With the `tls` feature, `web_config_file` names the API's
    /// exporter-toolkit web configuration.
    ///
    /// ```
    /// use prometheus_client::pull::Config;
    /// let config = Config::from_toml(r#"
    ///     scrape_interval = "2s"
    ///     retention = "30m"
    ///     max_series = 100000
    ///     [query]
    ///     timeout = "30s"
    ///     max_samples = 1000000
    ///     [api]
    ///     max_connections = 16
    ///     [[targets]]
    ///     url = "http://127.0.0.1:9100/metrics"
    ///     job = "node"
    ///     sample_limit = 5000
    ///     labels = { env = "dev" }
    /// "#)?;
    /// assert_eq!(config.targets[0].limits.sample_limit, 5000);
    /// assert_eq!(config.query.max_samples, 1_000_000);
    /// assert_eq!(config.api.max_connections, 16);
    /// assert!(Config::from_toml("scrape_interval = \"2 weeks\"").is_err());
    /// # Ok::<(), prometheus_client::pull::ConfigError>(())
    /// ```
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::Toml(e.to_string()))?;
        let mut config = Config::default();
        for (key, value) in &table {
            match key.as_str() {
                "scrape_interval" => {
                    config = config.scrape_interval(positive_duration(key, value)?)
                }
                "scrape_timeout" => config.scrape_timeout = positive_duration(key, value)?,
                "retention" => config.retention = positive_duration(key, value)?,
                "max_series" => config.max_series = positive_count(key, value)?,
                "max_exemplars" => config.max_exemplars = count(key, value)?,
                "query" => config.query = query_from(value)?,
                "api" => config.api = api_from(value)?,
                "scrape_self" => {
                    config.scrape_self = value.as_bool().ok_or_else(|| ConfigError::Expected {
                        key: key.clone(),
                        what: "true or false",
                    })?
                }
                #[cfg(feature = "tls")]
                "web_config_file" => {
                    let path = value.as_str().ok_or_else(|| ConfigError::Expected {
                        key: key.clone(),
                        what: "a file name",
                    })?;
                    config.web_config =
                        Some(crate::http::WebConfig::from_file(path).map_err(|error| {
                            ConfigError::WebConfig {
                                key: key.clone(),
                                error,
                            }
                        })?);
                }
                #[cfg(feature = "remote-write")]
                "remote_write" => {
                    let list = value.as_array().ok_or_else(|| ConfigError::Expected {
                        key: key.clone(),
                        what: "[[remote_write]] tables",
                    })?;
                    for (i, item) in list.iter().enumerate() {
                        let at = format!("remote_write[{i}]");
                        config
                            .remote_write
                            .push(super::RemoteWrite::from_toml(&at, item)?);
                    }
                }
                "targets" => {
                    let list = value.as_array().ok_or_else(|| ConfigError::Expected {
                        key: key.clone(),
                        what: "[[targets]] tables",
                    })?;
                    for (i, item) in list.iter().enumerate() {
                        config
                            .targets
                            .push(target_from(&format!("targets[{i}]"), item)?);
                    }
                }
                other => return Err(ConfigError::UnknownKey { key: other.into() }),
            }
        }
        config.check()?;
        Ok(config)
    }

    /// Refuses what the server cannot run with: a zero duration or limit, a scrape timeout
    /// longer than the interval. [`PullServer::start`](super::PullServer::start) calls it too.
    pub fn check(&self) -> Result<(), ConfigError> {
        for (key, value) in [
            ("max_series", self.max_series),
            ("query.max_samples", self.query.max_samples),
            ("query.max_length", self.query.max_length),
            ("query.max_depth", self.query.max_depth),
            ("query.max_concurrency", self.query.max_concurrency),
            ("api.max_connections", self.api.max_connections),
            ("api.max_header_bytes", self.api.max_header_bytes),
            ("api.max_form_bytes", self.api.max_form_bytes),
        ] {
            if value == 0 {
                return Err(ConfigError::NotPositive { key: key.into() });
            }
        }
        for (key, value) in [
            ("scrape_interval", self.scrape_interval),
            ("scrape_timeout", self.scrape_timeout),
            ("retention", self.retention),
            ("query.timeout", self.query.timeout),
            ("api.header_read_timeout", self.api.header_read_timeout),
            ("api.max_connection_age", self.api.max_connection_age),
        ] {
            if value.is_zero() {
                return Err(ConfigError::NotPositive { key: key.into() });
            }
        }
        if self.scrape_timeout > self.scrape_interval {
            return Err(ConfigError::TimeoutExceedsInterval);
        }
        #[cfg(feature = "remote-write")]
        for (i, remote) in self.remote_write.iter().enumerate() {
            remote.check(&format!("remote_write[{i}]"))?;
        }
        for (i, target) in self.targets.iter().enumerate() {
            if let Some(name) = target.labels.keys().find(|n| !is_valid_label_name(n)) {
                return Err(ConfigError::InvalidLabelName {
                    key: format!("targets[{i}].labels"),
                    name: name.clone(),
                });
            }
        }
        Ok(())
    }
}

pub(crate) fn table_at<'t>(
    key: &str,
    value: &'t toml::Value,
) -> Result<&'t toml::Table, ConfigError> {
    value.as_table().ok_or_else(|| ConfigError::Expected {
        key: key.into(),
        what: "a table",
    })
}

fn api_from(value: &toml::Value) -> Result<ApiLimits, ConfigError> {
    let mut limits = ApiLimits::default();
    for (key, v) in table_at("api", value)? {
        let at = format!("api.{key}");
        match key.as_str() {
            "max_connections" => limits.max_connections = positive_count(&at, v)?,
            "max_header_bytes" => limits.max_header_bytes = positive_count(&at, v)?,
            "max_form_bytes" => limits.max_form_bytes = positive_count(&at, v)?,
            "header_read_timeout" => limits.header_read_timeout = positive_duration(&at, v)?,
            "max_connection_age" => limits.max_connection_age = positive_duration(&at, v)?,
            _ => return Err(ConfigError::UnknownKey { key: at }),
        }
    }
    Ok(limits)
}

fn query_from(value: &toml::Value) -> Result<QueryLimits, ConfigError> {
    let mut limits = QueryLimits::default();
    for (key, v) in table_at("query", value)? {
        let at = format!("query.{key}");
        match key.as_str() {
            "max_samples" => limits.max_samples = positive_count(&at, v)?,
            "max_length" => limits.max_length = positive_count(&at, v)?,
            "max_depth" => limits.max_depth = positive_count(&at, v)?,
            "max_concurrency" => limits.max_concurrency = positive_count(&at, v)?,
            "timeout" => limits.timeout = positive_duration(&at, v)?,
            _ => return Err(ConfigError::UnknownKey { key: at }),
        }
    }
    Ok(limits)
}

fn target_from(at: &str, value: &toml::Value) -> Result<Target, ConfigError> {
    let table = table_at(at, value)?;
    let text = |key: &str, v: &toml::Value| -> Result<String, ConfigError> {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| ConfigError::Expected {
                key: format!("{at}.{key}"),
                what: "a string",
            })
    };
    let url = match table.get("url") {
        Some(v) => text("url", v)?,
        None => {
            return Err(ConfigError::Missing {
                key: format!("{at}.url"),
            })
        }
    };
    if !(url.starts_with("http://") || cfg!(feature = "tls") && url.starts_with("https://")) {
        return Err(ConfigError::UnsupportedUrl {
            key: format!("{at}.url"),
            url,
        });
    }
    let mut target = Target::new(url);
    for (key, v) in table {
        let key_at = format!("{at}.{key}");
        let flag = || {
            v.as_bool().ok_or_else(|| ConfigError::Expected {
                key: key_at.clone(),
                what: "true or false",
            })
        };
        let limits = &mut target.limits;
        match key.as_str() {
            "url" => {}
            "job" => target.job = text(key, v)?,
            "honor_labels" => target.honor_labels = flag()?,
            "honor_timestamps" => target.honor_timestamps = flag()?,
            "scrape_classic_histograms" => target.scrape_classic_histograms = flag()?,
            "body_size_limit" => limits.body_size_limit = positive_count(&key_at, v)?,
            "sample_limit" => limits.sample_limit = count(&key_at, v)?,
            "label_limit" => limits.label_limit = count(&key_at, v)?,
            "label_name_length_limit" => limits.label_name_length_limit = count(&key_at, v)?,
            "label_value_length_limit" => limits.label_value_length_limit = count(&key_at, v)?,
            "series_limit" => limits.series_limit = count(&key_at, v)?,
            "basic_auth" => target.basic_auth = Some(basic_auth_from(&key_at, v)?),
            "scrape_protocols" => target.scrape_protocols = Some(protocols_from(&key_at, v)?),
            #[cfg(feature = "tls")]
            "tls_config" => target.tls_config = tls_config_from(&key_at, v)?,
            "labels" => {
                for (name, value) in table_at(&key_at, v)? {
                    let value = text(&format!("labels.{name}"), value)?;
                    target.labels.insert(name.clone(), value);
                }
            }
            _ => return Err(ConfigError::UnknownKey { key: key_at }),
        }
    }
    Ok(target)
}

/// A non-empty list of protocol names this build reads.
fn protocols_from(
    at: &str,
    value: &toml::Value,
) -> Result<Vec<super::ScrapeProtocol>, ConfigError> {
    let expected = || ConfigError::Expected {
        key: at.to_owned(),
        what: if cfg!(feature = "protobuf") {
            "a non-empty list of PrometheusProto, OpenMetricsText1.0.0, OpenMetricsText0.0.1, \
             PrometheusText0.0.4"
        } else {
            "a non-empty list of OpenMetricsText1.0.0, OpenMetricsText0.0.1, PrometheusText0.0.4 \
             (PrometheusProto needs the protobuf feature)"
        },
    };
    let list = value
        .as_array()
        .filter(|l| !l.is_empty())
        .ok_or_else(expected)?;
    let mut protocols = Vec::with_capacity(list.len());
    for item in list {
        let protocol = item
            .as_str()
            .and_then(super::ScrapeProtocol::from_name)
            .ok_or_else(expected)?;
        if protocols.contains(&protocol) {
            return Err(expected());
        }
        protocols.push(protocol);
    }
    Ok(protocols)
}

fn string_at(key: &str, value: &toml::Value) -> Result<String, ConfigError> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| ConfigError::Expected {
            key: key.to_owned(),
            what: "a string",
        })
}

pub(crate) fn basic_auth_from(at: &str, value: &toml::Value) -> Result<BasicAuth, ConfigError> {
    let mut auth = BasicAuth {
        username: String::new(),
        password: None,
        password_file: None,
    };
    for (key, v) in table_at(at, value)? {
        let key_at = format!("{at}.{key}");
        match key.as_str() {
            "username" => auth.username = string_at(&key_at, v)?,
            "password" => auth.password = Some(string_at(&key_at, v)?),
            "password_file" => auth.password_file = Some(string_at(&key_at, v)?.into()),
            _ => return Err(ConfigError::UnknownKey { key: key_at }),
        }
    }
    if auth.password.is_some() && auth.password_file.is_some() {
        return Err(ConfigError::Expected {
            key: format!("{at}.password"),
            what: "either password or password_file, not both",
        });
    }
    Ok(auth)
}

#[cfg(feature = "tls")]
pub(crate) fn tls_config_from(
    at: &str,
    value: &toml::Value,
) -> Result<super::TlsConfig, ConfigError> {
    let mut tls = super::TlsConfig::default();
    for (key, v) in table_at(at, value)? {
        let key_at = format!("{at}.{key}");
        match key.as_str() {
            "ca_file" => tls.ca_file = Some(string_at(&key_at, v)?.into()),
            "cert_file" => tls.cert_file = Some(string_at(&key_at, v)?.into()),
            "key_file" => tls.key_file = Some(string_at(&key_at, v)?.into()),
            "server_name" => tls.server_name = Some(string_at(&key_at, v)?),
            "insecure_skip_verify" => {
                tls.insecure_skip_verify = v.as_bool().ok_or(ConfigError::Expected {
                    key: key_at,
                    what: "true or false",
                })?;
            }
            _ => return Err(ConfigError::UnknownKey { key: key_at }),
        }
    }
    Ok(tls)
}

fn count(key: &str, value: &toml::Value) -> Result<usize, ConfigError> {
    value
        .as_integer()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| ConfigError::Expected {
            key: key.into(),
            what: "a whole number of 0 or more",
        })
}

pub(crate) fn positive_count(key: &str, value: &toml::Value) -> Result<usize, ConfigError> {
    match count(key, value)? {
        0 => Err(ConfigError::NotPositive { key: key.into() }),
        n => Ok(n),
    }
}

pub(crate) fn positive_duration(key: &str, value: &toml::Value) -> Result<Duration, ConfigError> {
    let duration =
        value
            .as_str()
            .and_then(parse_duration)
            .ok_or_else(|| ConfigError::Expected {
                key: key.into(),
                what: "a duration such as \"15s\", \"500ms\", \"1m\", \"2h\"",
            })?;
    if duration.is_zero() {
        return Err(ConfigError::NotPositive { key: key.into() });
    }
    Ok(duration)
}

/// Parses a Prometheus-style duration: a whole number and a unit (`ms`, `s`, `m`, `h`, `d`),
/// or several (`1m30s`); or a bare number of seconds (`1.5`).
///
/// ```
/// use std::time::Duration;
/// use prometheus_client::pull::parse_duration;
/// assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
/// assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
/// assert_eq!(parse_duration("1.5"), Some(Duration::from_millis(1500)));
/// assert_eq!(parse_duration("soon"), None);
/// ```
pub fn parse_duration(text: &str) -> Option<Duration> {
    if let Ok(seconds) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).ok();
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let number: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let millis = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return None,
        };
        total = total.checked_add(Duration::from_millis(number.checked_mul(millis)?))?;
        rest = &rest[unit_len..];
    }
    (!text.is_empty()).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_errors_name_the_key() {
        let err = |text: &str| Config::from_toml(text).expect_err("invalid").to_string();
        assert!(err("[[targets]]\njob = \"x\"").contains("targets[0].url: missing"));
        assert!(err("[[targets]]\nurl = \"ftp://a/metrics\"").contains("only http://"));
        assert!(err("[[targets]]\nurl = \"http://a/m\"\nsample_limit = -1")
            .contains("targets[0].sample_limit"));
        assert!(err("colour = \"red\"").contains("unknown key \"colour\""));
        assert!(
            err("scrape_interval = \"1s\"\nscrape_timeout = \"2s\"").contains("must not exceed")
        );
        assert!(err("not toml ===").contains("not valid TOML"));
        assert_eq!(
            Config::from_toml("[[targets]]\nurl = \"http://a/m\"\nbody_size_limit = 0"),
            Err(ConfigError::NotPositive {
                key: "targets[0].body_size_limit".into()
            })
        );
        assert_eq!(
            Config::from_toml("[query]\ntimeout = \"0s\""),
            Err(ConfigError::NotPositive {
                key: "query.timeout".into()
            })
        );
        assert_eq!(
            Config::from_toml("[query]\nmax_sample = 3"),
            Err(ConfigError::UnknownKey {
                key: "query.max_sample".into()
            })
        );
        assert!(Config::new()
            .scrape_timeout(Duration::ZERO)
            .check()
            .is_err());
        assert_eq!(
            Config::from_toml("[api]\nmax_connections = 0"),
            Err(ConfigError::NotPositive {
                key: "api.max_connections".into()
            })
        );
        assert_eq!(
            Config::from_toml("[api]\nheader_read_timeout = \"0s\""),
            Err(ConfigError::NotPositive {
                key: "api.header_read_timeout".into()
            })
        );
        assert_eq!(
            Config::from_toml("[api]\nmax_form = 3"),
            Err(ConfigError::UnknownKey {
                key: "api.max_form".into()
            })
        );
        assert_eq!(
            Config::from_toml(
                "[[targets]]\nurl = \"http://a/m\"\nlabels = { \"data-centre\" = \"x\" }"
            ),
            Err(ConfigError::InvalidLabelName {
                key: "targets[0].labels".into(),
                name: "data-centre".into()
            })
        );
        let mut config = Config::new();
        config.query.max_concurrency = 0;
        assert_eq!(
            config.check(),
            Err(ConfigError::NotPositive {
                key: "query.max_concurrency".into()
            })
        );
        let api = Config::from_toml(
            "[api]\nmax_connections = 2\nmax_header_bytes = 9000\nmax_form_bytes = 100\nheader_read_timeout = \"1s\"\nmax_connection_age = \"1m\"",
        )
        .unwrap()
        .api;
        assert_eq!(
            api,
            ApiLimits {
                max_connections: 2,
                max_header_bytes: 9000,
                max_form_bytes: 100,
                header_read_timeout: Duration::from_secs(1),
                max_connection_age: Duration::from_secs(60),
            }
        );
    }

    #[test]
    fn targets_take_scrape_protocols() {
        let config = Config::from_toml(
            "[[targets]]\nurl = \"http://a/m\"\nscrape_protocols = [\"PrometheusText0.0.4\", \"OpenMetricsText1.0.0\"]",
        )
        .expect("valid");
        assert_eq!(
            config.targets[0].scrape_protocols,
            Some(vec![
                super::super::ScrapeProtocol::PrometheusText0_0_4,
                super::super::ScrapeProtocol::OpenMetricsText1_0_0
            ])
        );
        for bad in [
            "[]",
            "[\"Prometheus\"]",
            "\"PrometheusText0.0.4\"",
            "[\"PrometheusText0.0.4\", \"PrometheusText0.0.4\"]",
        ] {
            let text = format!("[[targets]]\nurl = \"http://a/m\"\nscrape_protocols = {bad}");
            assert!(
                matches!(
                    Config::from_toml(&text),
                    Err(ConfigError::Expected { ref key, .. }) if key == "targets[0].scrape_protocols"
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn targets_take_basic_auth_and_tls_config() {
        let config = Config::from_toml(
            "[[targets]]\nurl = \"http://a:1/m\"\nbasic_auth = { username = \"u\", password_file = \"/run/p\" }\n",
        )
        .expect("valid");
        let auth = config.targets[0].basic_auth.as_ref().expect("auth");
        assert_eq!(auth.username, "u");
        assert_eq!(
            auth.password_file.as_deref(),
            Some(std::path::Path::new("/run/p"))
        );
        assert!(Config::from_toml(
            "[[targets]]\nurl = \"http://a:1/m\"\nbasic_auth = { username = \"u\", password = \"p\", password_file = \"f\" }\n"
        )
        .is_err());
        assert_eq!(
            Config::from_toml(
                "[[targets]]\nurl = \"http://a:1/m\"\nbasic_auth = { user = \"u\" }\n"
            ),
            Err(ConfigError::UnknownKey {
                key: "targets[0].basic_auth.user".into()
            })
        );
        assert_eq!(Target::new("https://a/m").instance(), "a:443");
        assert_eq!(Target::new("http://[::1]/m").instance(), "[::1]:80");
        assert_eq!(Target::new("http://[::1]:9/m").instance(), "[::1]:9");
    }

    #[cfg(feature = "tls")]
    #[test]
    fn https_targets_take_tls_config() {
        let config = Config::from_toml(
            "[[targets]]\nurl = \"https://a:1/m\"\ntls_config = { ca_file = \"ca.crt\", server_name = \"a.example\", insecure_skip_verify = false }\n",
        )
        .expect("valid");
        let tls = &config.targets[0].tls_config;
        assert_eq!(tls.ca_file.as_deref(), Some(std::path::Path::new("ca.crt")));
        assert_eq!(tls.server_name.as_deref(), Some("a.example"));
        assert_eq!(
            Config::from_toml(
                "[[targets]]\nurl = \"https://a:1/m\"\ntls_config = { ca = \"x\" }\n"
            ),
            Err(ConfigError::UnknownKey {
                key: "targets[0].tls_config.ca".into()
            })
        );
    }

    #[test]
    fn durations_too_large_are_refused_not_overflowed() {
        assert_eq!(parse_duration("99999999999999999d"), None);
        assert_eq!(parse_duration("5124095576030431d5124095576030431d"), None);
        assert_eq!(parse_duration("1e300"), None);
        assert_eq!(parse_duration("-1"), None);
        assert_eq!(parse_duration("NaN"), None);
    }

    #[test]
    fn instance_defaults_the_port() {
        assert_eq!(
            Target::new("http://example/metrics").instance(),
            "example:80"
        );
    }
}
