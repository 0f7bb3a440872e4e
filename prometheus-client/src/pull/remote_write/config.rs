//! Where and how the pull server forwards its samples: Prometheus' `remote_write` section,
//! with its `queue_config` keys and defaults.

use std::time::Duration;

use crate::pull::config::{positive_count, positive_duration, table_at};
use crate::pull::{BasicAuth, ConfigError};

/// A receiver of Prometheus' remote write 1.0 protocol (Prometheus with
/// `--web.enable-remote-write-receiver`, Mimir, Thanos Receive, VictoriaMetrics, …) and how
/// the samples queue for it. The defaults are Prometheus' `queue_config`, but for a fixed
/// number of shards and a capacity that bounds the whole queue.
///
/// Every sample the pull server stores is queued for each receiver; a shard sends a batch
/// when it holds `max_samples_per_send` or its oldest sample has waited
/// `batch_send_deadline`. A 5xx answer, 429 with `retry_on_http_429`, or a network error is
/// retried with exponential backoff, forever, while later samples wait in the queue; any
/// other answer drops the batch (counted as failed). Samples that find the queue full are
/// dropped (counted).
///
/// ```
/// use std::time::Duration;
/// use prometheus_client::pull::{Config, RemoteWrite};
/// let config = Config::new().remote_write(
///     RemoteWrite::new("http://127.0.0.1:9090/api/v1/write")
///         .capacity(100_000)
///         .batch_send_deadline(Duration::from_secs(1)),
/// );
/// assert_eq!(config.remote_write[0].max_samples_per_send, 500);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RemoteWrite {
    /// Where requests go (`http://` or, with the `tls` feature, `https://`).
    pub url: String,
    /// Samples waiting to be sent, all shards together, at most (default 500,000, about
    /// 16 MB: 32 bytes a sample, its labels shared with the store); more are dropped.
    pub capacity: usize,
    /// Shards sending at once (default 4, at most [`MAX_SHARDS`](Self::MAX_SHARDS)); a
    /// series always goes through the same one, so its samples arrive in order.
    pub shards: usize,
    /// Samples in one request at most (default 500).
    pub max_samples_per_send: usize,
    /// How long a sample waits for its batch to fill (default 5 s).
    pub batch_send_deadline: Duration,
    /// The first wait before a retry (default 30 ms); it doubles up to `max_backoff`.
    pub min_backoff: Duration,
    /// The longest wait between retries (default 5 s).
    pub max_backoff: Duration,
    /// Time a request may take (default 30 s, Prometheus' `remote_timeout`).
    pub timeout: Duration,
    /// Whether 429 Too Many Requests is retried (default false, as in Prometheus 2.42).
    pub retry_on_http_429: bool,
    /// Credentials sent with every request.
    pub basic_auth: Option<BasicAuth>,
    /// How an `https://` receiver is trusted (feature `tls`).
    #[cfg(feature = "tls")]
    pub tls_config: crate::pull::TlsConfig,
}

impl RemoteWrite {
    /// The most shards a receiver may have (Prometheus' default `max_shards`): each is a
    /// task and a connection.
    pub const MAX_SHARDS: usize = 200;

    /// A receiver at `url`, with the default queue.
    pub fn new(url: impl Into<String>) -> RemoteWrite {
        RemoteWrite {
            url: url.into(),
            capacity: 500_000,
            shards: 4,
            max_samples_per_send: 500,
            batch_send_deadline: Duration::from_secs(5),
            min_backoff: Duration::from_millis(30),
            max_backoff: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            retry_on_http_429: false,
            basic_auth: None,
            #[cfg(feature = "tls")]
            tls_config: crate::pull::TlsConfig::default(),
        }
    }

    /// Sets [`capacity`](Self::capacity).
    pub fn capacity(mut self, samples: usize) -> Self {
        self.capacity = samples;
        self
    }

    /// Sets [`shards`](Self::shards).
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = shards;
        self
    }

    /// Sets [`max_samples_per_send`](Self::max_samples_per_send).
    pub fn max_samples_per_send(mut self, samples: usize) -> Self {
        self.max_samples_per_send = samples;
        self
    }

    /// Sets [`batch_send_deadline`](Self::batch_send_deadline).
    pub fn batch_send_deadline(mut self, deadline: Duration) -> Self {
        self.batch_send_deadline = deadline;
        self
    }

    /// Sets [`min_backoff`](Self::min_backoff) and [`max_backoff`](Self::max_backoff).
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.min_backoff = min;
        self.max_backoff = max;
        self
    }

    /// Sets [`timeout`](Self::timeout).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets [`retry_on_http_429`](Self::retry_on_http_429).
    pub fn retry_on_http_429(mut self, retry: bool) -> Self {
        self.retry_on_http_429 = retry;
        self
    }

    /// Sets [`basic_auth`](Self::basic_auth).
    pub fn basic_auth(mut self, auth: BasicAuth) -> Self {
        self.basic_auth = Some(auth);
        self
    }

    /// Refuses what cannot run: a URL of another scheme, a zero count or duration, a
    /// `min_backoff` above `max_backoff`. `at` names it in errors (`remote_write[0]`).
    pub(crate) fn check(&self, at: &str) -> Result<(), ConfigError> {
        let https = cfg!(feature = "tls") && self.url.starts_with("https://");
        if !(self.url.starts_with("http://") || https) {
            return Err(ConfigError::UnsupportedUrl {
                key: format!("{at}.url"),
                url: self.url.clone(),
            });
        }
        for (key, value) in [
            ("capacity", self.capacity),
            ("shards", self.shards),
            ("max_samples_per_send", self.max_samples_per_send),
        ] {
            if value == 0 {
                return Err(ConfigError::NotPositive {
                    key: format!("{at}.{key}"),
                });
            }
        }
        for (key, value) in [
            ("batch_send_deadline", self.batch_send_deadline),
            ("min_backoff", self.min_backoff),
            ("max_backoff", self.max_backoff),
            ("timeout", self.timeout),
        ] {
            if value.is_zero() {
                return Err(ConfigError::NotPositive {
                    key: format!("{at}.{key}"),
                });
            }
        }
        if self.shards > Self::MAX_SHARDS {
            return Err(ConfigError::Expected {
                key: format!("{at}.shards"),
                what: "at most 200 shards",
            });
        }
        if self.min_backoff > self.max_backoff {
            return Err(ConfigError::Expected {
                key: format!("{at}.min_backoff"),
                what: "at most max_backoff",
            });
        }
        Ok(())
    }

    /// Reads a `[[remote_write]]` table: `url`, the queue's keys (`capacity`, `shards`,
    /// `max_samples_per_send`, `batch_send_deadline`, `min_backoff`, `max_backoff`,
    /// `timeout`, `retry_on_http_429`), `basic_auth` and (feature `tls`) `tls_config`.
    pub(crate) fn from_toml(at: &str, value: &toml::Value) -> Result<RemoteWrite, ConfigError> {
        let table = table_at(at, value)?;
        let url = match table.get("url").map(toml::Value::as_str) {
            Some(Some(url)) => url,
            Some(None) => {
                return Err(ConfigError::Expected {
                    key: format!("{at}.url"),
                    what: "a string",
                })
            }
            None => {
                return Err(ConfigError::Missing {
                    key: format!("{at}.url"),
                })
            }
        };
        let mut remote = RemoteWrite::new(url);
        for (key, v) in table {
            let key_at = format!("{at}.{key}");
            match key.as_str() {
                "url" => {}
                "capacity" => remote.capacity = positive_count(&key_at, v)?,
                "shards" => remote.shards = positive_count(&key_at, v)?,
                "max_samples_per_send" => {
                    remote.max_samples_per_send = positive_count(&key_at, v)?;
                }
                "batch_send_deadline" => {
                    remote.batch_send_deadline = positive_duration(&key_at, v)?;
                }
                "min_backoff" => remote.min_backoff = positive_duration(&key_at, v)?,
                "max_backoff" => remote.max_backoff = positive_duration(&key_at, v)?,
                "timeout" => remote.timeout = positive_duration(&key_at, v)?,
                "retry_on_http_429" => {
                    remote.retry_on_http_429 =
                        v.as_bool().ok_or_else(|| ConfigError::Expected {
                            key: key_at.clone(),
                            what: "true or false",
                        })?;
                }
                "basic_auth" => {
                    remote.basic_auth = Some(crate::pull::config::basic_auth_from(&key_at, v)?);
                }
                #[cfg(feature = "tls")]
                "tls_config" => {
                    remote.tls_config = crate::pull::config::tls_config_from(&key_at, v)?;
                }
                _ => return Err(ConfigError::UnknownKey { key: key_at }),
            }
        }
        remote.check(at)?;
        Ok(remote)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pull::Config;

    #[test]
    fn toml_reads_every_key_and_names_the_one_at_fault() {
        let config = Config::from_toml(
            r#"
            [[remote_write]]
            url = "http://127.0.0.1:9090/api/v1/write"
            capacity = 1000
            shards = 2
            max_samples_per_send = 100
            batch_send_deadline = "1s"
            min_backoff = "10ms"
            max_backoff = "2s"
            timeout = "5s"
            retry_on_http_429 = true
            basic_auth = { username = "u", password = "p" }
            "#,
        )
        .expect("valid");
        let remote = &config.remote_write[0];
        let expected = RemoteWrite::new("http://127.0.0.1:9090/api/v1/write")
            .capacity(1000)
            .shards(2)
            .max_samples_per_send(100)
            .batch_send_deadline(Duration::from_secs(1))
            .backoff(Duration::from_millis(10), Duration::from_secs(2))
            .timeout(Duration::from_secs(5))
            .retry_on_http_429(true)
            .basic_auth(BasicAuth::with_password("u", "p"));
        assert_eq!(remote, &expected);

        let refused = |text: &str| Config::from_toml(text).expect_err("refused");
        assert_eq!(
            refused("[[remote_write]]\ncapacity = 5"),
            ConfigError::Missing {
                key: "remote_write[0].url".into()
            }
        );
        assert_eq!(
            refused("[[remote_write]]\nurl = \"ftp://x/\""),
            ConfigError::UnsupportedUrl {
                key: "remote_write[0].url".into(),
                url: "ftp://x/".into()
            }
        );
        assert_eq!(
            refused("[[remote_write]]\nurl = \"http://x/\"\nshards = 0"),
            ConfigError::NotPositive {
                key: "remote_write[0].shards".into()
            }
        );
        assert_eq!(
            refused("[[remote_write]]\nurl = \"http://x/\"\nshards = 1000000000"),
            ConfigError::Expected {
                key: "remote_write[0].shards".into(),
                what: "at most 200 shards"
            }
        );
        assert_eq!(
            refused("[[remote_write]]\nurl = \"http://x/\"\nmin_backoff = \"10s\""),
            ConfigError::Expected {
                key: "remote_write[0].min_backoff".into(),
                what: "at most max_backoff"
            }
        );
        assert_eq!(
            refused("[[remote_write]]\nurl = \"http://x/\"\nqueue = 1"),
            ConfigError::UnknownKey {
                key: "remote_write[0].queue".into()
            }
        );
    }

    #[test]
    fn the_builder_is_checked_at_start_too() {
        let config = Config::new().remote_write(RemoteWrite::new("http://x/").capacity(0));
        assert_eq!(
            config.check(),
            Err(ConfigError::NotPositive {
                key: "remote_write[0].capacity".into()
            })
        );
    }
}
