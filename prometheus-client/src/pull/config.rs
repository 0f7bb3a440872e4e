//! What to scrape and how: targets, interval, timeout, limits and retention, from code or a
//! TOML file.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// Limits on one scrape, named as in Prometheus' `scrape_config`. Zero means no limit.
///
/// ```
/// let limits = prometheus_client::pull::Limits { sample_limit: 1000, ..Default::default() };
/// assert_eq!(limits.label_limit, 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of body, counted after gzip decompression.
    pub body_size_limit: usize,
    /// Samples in one scrape.
    pub sample_limit: usize,
    /// Labels on one series (its name not counted, target labels counted).
    pub label_limit: usize,
    /// Bytes in one label name.
    pub label_name_length_limit: usize,
    /// Bytes in one label value.
    pub label_value_length_limit: usize,
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
    /// Limits on each scrape.
    pub limits: Limits,
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
            limits: Limits::default(),
        }
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

    /// The `instance` label: the URL's `host:port`.
    pub fn instance(&self) -> String {
        let rest = self
            .url
            .split_once("://")
            .map_or(self.url.as_str(), |(_, r)| r);
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.contains(':') {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        }
    }
}

/// The whole configuration.
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
}

impl Default for Config {
    fn default() -> Self {
        Config {
            scrape_interval: Duration::from_secs(15),
            scrape_timeout: Duration::from_secs(10),
            retention: Duration::from_secs(3600),
            targets: Vec::new(),
        }
    }
}

/// A configuration file that could not be used, with the key at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
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

    /// Reads a TOML configuration.
    ///
    /// ```
    /// use prometheus_client::pull::Config;
    /// let config = Config::from_toml(r#"
    ///     scrape_interval = "2s"
    ///     retention = "30m"
    ///     [[targets]]
    ///     url = "http://127.0.0.1:9100/metrics"
    ///     job = "node"
    ///     sample_limit = 5000
    ///     labels = { env = "dev" }
    /// "#)?;
    /// assert_eq!(config.targets[0].limits.sample_limit, 5000);
    /// assert!(Config::from_toml("scrape_interval = \"2 weeks\"").is_err());
    /// # Ok::<(), prometheus_client::pull::ConfigError>(())
    /// ```
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError(format!("not valid TOML: {e}")))?;
        let mut config = Config::default();
        for (key, value) in &table {
            match key.as_str() {
                "scrape_interval" => config = config.scrape_interval(duration_at(key, value)?),
                "scrape_timeout" => config.scrape_timeout = duration_at(key, value)?,
                "retention" => config.retention = duration_at(key, value)?,
                "targets" => {
                    let list = value.as_array().ok_or_else(|| {
                        ConfigError("targets: expected [[targets]] tables".into())
                    })?;
                    for (i, item) in list.iter().enumerate() {
                        config
                            .targets
                            .push(target_from(&format!("targets[{i}]"), item)?);
                    }
                }
                other => return Err(ConfigError(format!("unknown key {other:?}"))),
            }
        }
        if config.scrape_timeout > config.scrape_interval {
            return Err(ConfigError(
                "scrape_timeout must not exceed scrape_interval".into(),
            ));
        }
        Ok(config)
    }
}

fn target_from(at: &str, value: &toml::Value) -> Result<Target, ConfigError> {
    let table = value
        .as_table()
        .ok_or_else(|| ConfigError(format!("{at}: expected a table")))?;
    let text = |key: &str| -> Result<Option<String>, ConfigError> {
        table
            .get(key)
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| ConfigError(format!("{at}.{key}: expected a string")))
            })
            .transpose()
    };
    let url = text("url")?.ok_or_else(|| ConfigError(format!("{at}.url: missing")))?;
    if !url.starts_with("http://") {
        return Err(ConfigError(format!(
            "{at}.url: only http:// URLs are scraped, not {url:?}"
        )));
    }
    let mut target = Target::new(url);
    for (key, v) in table {
        let flag = || {
            v.as_bool()
                .ok_or_else(|| ConfigError(format!("{at}.{key}: expected true or false")))
        };
        let count = || {
            v.as_integer()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| {
                    ConfigError(format!("{at}.{key}: expected a whole number of 0 or more"))
                })
        };
        match key.as_str() {
            "url" => {}
            "job" => target.job = text("job")?.unwrap_or_default(),
            "honor_labels" => target.honor_labels = flag()?,
            "honor_timestamps" => target.honor_timestamps = flag()?,
            "body_size_limit" => target.limits.body_size_limit = count()?,
            "sample_limit" => target.limits.sample_limit = count()?,
            "label_limit" => target.limits.label_limit = count()?,
            "label_name_length_limit" => target.limits.label_name_length_limit = count()?,
            "label_value_length_limit" => target.limits.label_value_length_limit = count()?,
            "labels" => {
                let labels = v
                    .as_table()
                    .ok_or_else(|| ConfigError(format!("{at}.labels: expected a table")))?;
                for (name, value) in labels {
                    let value = value.as_str().ok_or_else(|| {
                        ConfigError(format!("{at}.labels.{name}: expected a string"))
                    })?;
                    target.labels.insert(name.clone(), value.to_owned());
                }
            }
            other => return Err(ConfigError(format!("{at}: unknown key {other:?}"))),
        }
    }
    Ok(target)
}

fn duration_at(key: &str, value: &toml::Value) -> Result<Duration, ConfigError> {
    value.as_str().and_then(parse_duration).ok_or_else(|| {
        ConfigError(format!(
            "{key}: expected a duration such as \"15s\", \"500ms\", \"1m\", \"2h\""
        ))
    })
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
        let err = |text: &str| Config::from_toml(text).expect_err("invalid").0;
        assert!(err("[[targets]]\njob = \"x\"").contains("targets[0].url: missing"));
        assert!(err("[[targets]]\nurl = \"https://a/metrics\"").contains("only http://"));
        assert!(err("[[targets]]\nurl = \"http://a/m\"\nsample_limit = -1")
            .contains("targets[0].sample_limit"));
        assert!(err("colour = \"red\"").contains("unknown key \"colour\""));
        assert!(
            err("scrape_interval = \"1s\"\nscrape_timeout = \"2s\"").contains("must not exceed")
        );
        assert!(err("not toml ===").contains("not valid TOML"));
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
