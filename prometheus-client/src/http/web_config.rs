//! exporter-toolkit's web configuration file: TLS, client certificates, basic auth, extra
//! response headers and a rate limit, read exactly as Prometheus' exporters read it (unknown
//! keys are errors, relative paths are relative to the file).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use yaml_rust2::{Yaml, YamlLoader};

/// A web configuration in exporter-toolkit's format, as the `--web.config.file` of Prometheus'
/// exporters takes it. Give it to [`ServerBuilder::web_config`](super::ServerBuilder::web_config)
/// or to the pull server's `Config::web_config`.
///
/// ```
/// use prometheus_client::http::WebConfig;
/// let config = WebConfig::from_yaml(r#"
/// basic_auth_users:
///   prometheus: $2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi
/// http_server_config:
///   headers:
///     X-Frame-Options: deny
/// "#, ".")?;
/// assert!(!config.has_tls());
/// assert!(config.has_basic_auth());
/// # Ok::<(), prometheus_client::http::WebConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct WebConfig {
    pub(crate) tls: Option<TlsServerConfig>,
    pub(crate) headers: Vec<(String, String)>,
    /// User name to bcrypt hash.
    pub(crate) users: BTreeMap<String, String>,
    pub(crate) rate_limit: Option<RateLimit>,
    /// The file it was read from, if any: the server reloads it when it changes.
    pub(crate) file: Option<PathBuf>,
}

/// Where a certificate or key comes from: a file (re-read when it changes) or the text itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PemSource {
    File(PathBuf),
    Inline(String),
}

/// What the server asks of a client's certificate (Go's `tls.ClientAuthType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClientAuth {
    NoClientCert,
    RequestClientCert,
    RequireAnyClientCert,
    VerifyClientCertIfGiven,
    RequireAndVerifyClientCert,
}

/// A TLS protocol version, as the file names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum TlsVersion {
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

/// A key exchange group, as the file names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Curve {
    P256,
    P384,
    X25519,
}

/// The `tls_server_config` section.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TlsServerConfig {
    pub(crate) cert: PemSource,
    pub(crate) key: PemSource,
    pub(crate) client_ca: Option<PemSource>,
    pub(crate) client_auth: ClientAuth,
    /// Go's names of the TLS 1.2 suites allowed, in order; empty for all.
    pub(crate) cipher_suites: Vec<String>,
    pub(crate) curves: Vec<Curve>,
    pub(crate) min_version: TlsVersion,
    pub(crate) max_version: TlsVersion,
    pub(crate) client_allowed_sans: Option<Vec<String>>,
}

/// `rate_limit`: at most `burst` requests at once, refilled one every `interval`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RateLimit {
    pub(crate) burst: u32,
    pub(crate) interval: Duration,
}

/// Why a web configuration cannot be used, naming the key at fault
/// (`tls_server_config.client_auth_type`).
///
/// ```
/// use prometheus_client::http::{WebConfig, WebConfigError};
/// assert_eq!(
///     WebConfig::from_yaml("tls_server_config:\n  cert_file: a.crt\n", "."),
///     Err(WebConfigError::Missing { key: "tls_server_config.key_file".into() })
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebConfigError {
    /// A file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// The system's message.
        error: String,
    },
    /// The text is not YAML (the YAML parser's message).
    Yaml(String),
    /// A key the format does not have.
    UnknownKey {
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
    /// A required key is absent.
    Missing {
        /// The key, with its place.
        key: String,
    },
    /// A value the format does not have (a cipher, curve, version or client auth type).
    Invalid {
        /// The key, with its place.
        key: String,
        /// The value.
        value: String,
    },
    /// A value the format has but rustls does not implement (TLS 1.0 and 1.1, P-521).
    Unsupported {
        /// The key, with its place.
        key: String,
        /// The value.
        value: String,
    },
    /// Client CAs are given but `client_auth_type` asks for no client certificate.
    ClientCaWithoutClientAuth,
    /// `client_auth_type` verifies client certificates but no client CA is given.
    ClientAuthWithoutClientCa,
    /// A user's password hash is not a bcrypt hash.
    InvalidHash {
        /// The user.
        user: String,
    },
    /// A response header exporter-toolkit does not let the file set, or a value it does not
    /// allow for that header.
    Header {
        /// The header.
        name: String,
        /// The value.
        value: String,
    },
    /// A certificate, key or CA that does not load (bad PEM, no certificate, a key that
    /// does not match the certificate).
    Certificate {
        /// The key, with its place.
        key: String,
        /// What went wrong.
        error: String,
    },
}

impl fmt::Display for WebConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebConfigError::Read { path, error } => {
                write!(f, "cannot read {}: {error}", path.display())
            }
            WebConfigError::Yaml(e) => write!(f, "not valid YAML: {e}"),
            WebConfigError::UnknownKey { key } => write!(f, "unknown key {key:?}"),
            WebConfigError::Expected { key, what } => write!(f, "{key}: expected {what}"),
            WebConfigError::Missing { key } => write!(f, "{key}: missing"),
            WebConfigError::Invalid { key, value } => write!(f, "{key}: invalid value {value:?}"),
            WebConfigError::Unsupported { key, value } => {
                write!(f, "{key}: {value:?} is not supported (rustls)")
            }
            WebConfigError::ClientCaWithoutClientAuth => f.write_str(
                "client CAs have been configured without a client auth policy (client_auth_type)",
            ),
            WebConfigError::ClientAuthWithoutClientCa => f.write_str(
                "client_auth_type verifies client certificates, but neither client_ca_file nor client_ca is set",
            ),
            WebConfigError::InvalidHash { user } => {
                write!(f, "basic_auth_users.{user}: not a bcrypt hash")
            }
            WebConfigError::Header { name, value } => {
                write!(f, "http_server_config.headers: {name}: {value:?} can not be configured")
            }
            WebConfigError::Certificate { key, error } => write!(f, "{key}: {error}"),
        }
    }
}

impl std::error::Error for WebConfigError {}

/// The response headers the file may set and, where exporter-toolkit restricts them, the
/// values it may give them.
const ALLOWED_HEADERS: &[(&str, &[&str])] = &[
    ("Strict-Transport-Security", &[]),
    ("X-Content-Type-Options", &["nosniff"]),
    ("X-Frame-Options", &["deny", "sameorigin"]),
    ("X-XSS-Protection", &[]),
    ("Content-Security-Policy", &[]),
];

impl WebConfig {
    /// Reads the file at `path`; relative paths in it are relative to its directory. A server
    /// given this configuration reads the file again when it (or a certificate, key or CA
    /// file it names) changes, as exporter-toolkit does.
    ///
    /// # Errors
    /// When the file cannot be read or is not a valid web configuration.
    pub fn from_file(path: impl AsRef<Path>) -> Result<WebConfig, WebConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| WebConfigError::Read {
            path: path.to_owned(),
            error: e.to_string(),
        })?;
        let dir = path.parent().unwrap_or_else(|| Path::new("."));
        let mut config = Self::from_yaml(&text, dir)?;
        config.file = Some(path.to_owned());
        Ok(config)
    }

    /// Reads a web configuration from its text; relative paths are relative to `dir`.
    /// An empty text is a configuration without TLS or users.
    ///
    /// ```
    /// use prometheus_client::http::WebConfig;
    /// let config = WebConfig::from_yaml("tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n", "/etc/exporter")?;
    /// assert!(config.has_tls());
    /// # Ok::<(), prometheus_client::http::WebConfigError>(())
    /// ```
    ///
    /// # Errors
    /// When the text is not a valid web configuration. Files it names are read when a
    /// server starts with it.
    pub fn from_yaml(text: &str, dir: impl AsRef<Path>) -> Result<WebConfig, WebConfigError> {
        let docs =
            YamlLoader::load_from_str(text).map_err(|e| WebConfigError::Yaml(e.to_string()))?;
        let mut config = WebConfig {
            tls: None,
            headers: Vec::new(),
            users: BTreeMap::new(),
            rate_limit: None,
            file: None,
        };
        let root = match docs.first() {
            None | Some(Yaml::Null) => return Ok(config),
            Some(root) => root,
        };
        for (key, value) in entries("", root)? {
            match key.as_str() {
                "tls_server_config" => config.tls = tls_from(value, dir.as_ref())?,
                "http_server_config" => config.headers = headers_from(value)?,
                "basic_auth_users" => config.users = users_from(value)?,
                "rate_limit" => config.rate_limit = rate_limit_from(value)?,
                _ => return Err(WebConfigError::UnknownKey { key }),
            }
        }
        Ok(config)
    }

    /// Whether the server speaks TLS.
    pub fn has_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Whether the server asks for a user name and password.
    pub fn has_basic_auth(&self) -> bool {
        !self.users.is_empty()
    }
}

/// The keys and values of a mapping at `place` (`""` for the top); `null` is an empty one.
fn entries<'y>(place: &str, value: &'y Yaml) -> Result<Vec<(String, &'y Yaml)>, WebConfigError> {
    match value {
        Yaml::Null => Ok(Vec::new()),
        Yaml::Hash(hash) => hash
            .iter()
            .map(|(k, v)| match k.as_str() {
                Some(k) => Ok((k.to_owned(), v)),
                None => Err(WebConfigError::Expected {
                    key: place.to_owned(),
                    what: "text keys",
                }),
            })
            .collect(),
        _ => Err(WebConfigError::Expected {
            key: if place.is_empty() {
                "the file".into()
            } else {
                place.into()
            },
            what: "a mapping",
        }),
    }
}

/// A scalar as text (YAML reads `TLS12` as text, `10` as a number, `true` as a bool).
fn text(key: &str, value: &Yaml) -> Result<String, WebConfigError> {
    match value {
        Yaml::String(s) | Yaml::Real(s) => Ok(s.clone()),
        Yaml::Integer(i) => Ok(i.to_string()),
        Yaml::Boolean(b) => Ok(b.to_string()),
        _ => Err(WebConfigError::Expected {
            key: key.to_owned(),
            what: "text",
        }),
    }
}

fn list(key: &str, value: &Yaml) -> Result<Vec<String>, WebConfigError> {
    match value {
        Yaml::Null => Ok(Vec::new()),
        Yaml::Array(items) => items.iter().map(|item| text(key, item)).collect(),
        _ => Err(WebConfigError::Expected {
            key: key.to_owned(),
            what: "a list",
        }),
    }
}

fn file_in(dir: &Path, name: &str) -> PathBuf {
    let path = Path::new(name);
    if path.is_absolute() {
        path.to_owned()
    } else {
        dir.join(path)
    }
}

fn version(key: &str, value: &Yaml) -> Result<TlsVersion, WebConfigError> {
    let name = text(key, value)?;
    match name.as_str() {
        "TLS10" => Ok(TlsVersion::Tls10),
        "TLS11" => Ok(TlsVersion::Tls11),
        "TLS12" => Ok(TlsVersion::Tls12),
        "TLS13" => Ok(TlsVersion::Tls13),
        _ => Err(WebConfigError::Invalid {
            key: key.to_owned(),
            value: name,
        }),
    }
}

fn tls_from(value: &Yaml, dir: &Path) -> Result<Option<TlsServerConfig>, WebConfigError> {
    let place = "tls_server_config";
    let at = |key: &str| format!("{place}.{key}");
    let (mut cert, mut key, mut client_ca) = (None, None, None);
    let mut client_auth = None;
    let mut config = TlsServerConfig {
        cert: PemSource::Inline(String::new()),
        key: PemSource::Inline(String::new()),
        client_ca: None,
        client_auth: ClientAuth::NoClientCert,
        cipher_suites: Vec::new(),
        curves: Vec::new(),
        min_version: TlsVersion::Tls12,
        max_version: TlsVersion::Tls13,
        client_allowed_sans: None,
    };
    for (name, v) in entries(place, value)? {
        let key_at = at(&name);
        match name.as_str() {
            "cert_file" => cert = Some(PemSource::File(file_in(dir, &text(&key_at, v)?))),
            "key_file" => key = Some(PemSource::File(file_in(dir, &text(&key_at, v)?))),
            "client_ca_file" => {
                client_ca = Some(PemSource::File(file_in(dir, &text(&key_at, v)?)));
            }
            "cert" => cert = cert.or(Some(PemSource::Inline(text(&key_at, v)?))),
            "key" => key = key.or(Some(PemSource::Inline(text(&key_at, v)?))),
            "client_ca" => client_ca = client_ca.or(Some(PemSource::Inline(text(&key_at, v)?))),
            "client_auth_type" => {
                let value = text(&key_at, v)?;
                client_auth = Some(match value.as_str() {
                    "" | "NoClientCert" => ClientAuth::NoClientCert,
                    "RequestClientCert" => ClientAuth::RequestClientCert,
                    "RequireAnyClientCert" | "RequireClientCert" => {
                        ClientAuth::RequireAnyClientCert
                    }
                    "VerifyClientCertIfGiven" => ClientAuth::VerifyClientCertIfGiven,
                    "RequireAndVerifyClientCert" => ClientAuth::RequireAndVerifyClientCert,
                    _ => return Err(WebConfigError::Invalid { key: key_at, value }),
                });
            }
            "cipher_suites" => {
                config.cipher_suites = list(&key_at, v)?;
                for suite in &config.cipher_suites {
                    let value = suite.clone();
                    match super::tls::cipher_suite_support(suite) {
                        Some(true) => {}
                        Some(false) => {
                            return Err(WebConfigError::Unsupported { key: key_at, value })
                        }
                        None => return Err(WebConfigError::Invalid { key: key_at, value }),
                    }
                }
            }
            "curve_preferences" => {
                for curve in list(&key_at, v)? {
                    config.curves.push(match curve.as_str() {
                        "CurveP256" => Curve::P256,
                        "CurveP384" => Curve::P384,
                        "X25519" => Curve::X25519,
                        "CurveP521" => {
                            return Err(WebConfigError::Unsupported {
                                key: key_at,
                                value: curve,
                            })
                        }
                        _ => {
                            return Err(WebConfigError::Invalid {
                                key: key_at,
                                value: curve,
                            })
                        }
                    });
                }
            }
            // rustls speaks TLS 1.2 and 1.3 only: a lower minimum allows what it can.
            "min_version" => config.min_version = version(&key_at, v)?.max(TlsVersion::Tls12),
            "max_version" => {
                config.max_version = version(&key_at, v)?;
                if config.max_version < TlsVersion::Tls12 {
                    return Err(WebConfigError::Unsupported {
                        key: key_at,
                        value: text(&at("max_version"), v)?,
                    });
                }
            }
            // Go ignores it since 1.17 (the server's order always wins); so does rustls.
            "prefer_server_cipher_suites" => {
                if !matches!(v, Yaml::Boolean(_)) {
                    return Err(WebConfigError::Expected {
                        key: key_at,
                        what: "true or false",
                    });
                }
            }
            "client_allowed_sans" => config.client_allowed_sans = Some(list(&key_at, v)?),
            _ => return Err(WebConfigError::UnknownKey { key: key_at }),
        }
    }
    let any = cert.is_some() || key.is_some() || client_ca.is_some() || client_auth.is_some();
    if !any {
        return Ok(None);
    }
    config.cert = cert.ok_or_else(|| WebConfigError::Missing {
        key: at("cert_file"),
    })?;
    config.key = key.ok_or_else(|| WebConfigError::Missing {
        key: at("key_file"),
    })?;
    config.client_auth = client_auth.unwrap_or(ClientAuth::NoClientCert);
    config.client_ca = client_ca;
    if config.client_ca.is_some() && config.client_auth == ClientAuth::NoClientCert {
        return Err(WebConfigError::ClientCaWithoutClientAuth);
    }
    let verifies = matches!(
        config.client_auth,
        ClientAuth::VerifyClientCertIfGiven | ClientAuth::RequireAndVerifyClientCert
    );
    if verifies && config.client_ca.is_none() {
        return Err(WebConfigError::ClientAuthWithoutClientCa);
    }
    if config.min_version > config.max_version {
        return Err(WebConfigError::Invalid {
            key: at("min_version"),
            value: "above max_version".into(),
        });
    }
    Ok(Some(config))
}

fn headers_from(value: &Yaml) -> Result<Vec<(String, String)>, WebConfigError> {
    let place = "http_server_config";
    let mut headers = Vec::new();
    for (name, v) in entries(place, value)? {
        let key_at = format!("{place}.{name}");
        match name.as_str() {
            // We serve HTTP/1.1 only, which every scraper speaks; the key is accepted so
            // that files written for exporters load unchanged.
            "http2" => {
                if !matches!(v, Yaml::Boolean(_)) {
                    return Err(WebConfigError::Expected {
                        key: key_at,
                        what: "true or false",
                    });
                }
            }
            "headers" => {
                for (header, value) in entries(&key_at, v)? {
                    let value = text(&format!("{key_at}.{header}"), value)?;
                    let allowed = ALLOWED_HEADERS
                        .iter()
                        .find(|(name, _)| *name == header)
                        .is_some_and(|(_, values)| {
                            values.is_empty() || values.contains(&value.as_str())
                        });
                    let valid = hyper::header::HeaderValue::from_str(&value).is_ok();
                    if !allowed || !valid {
                        return Err(WebConfigError::Header {
                            name: header,
                            value,
                        });
                    }
                    headers.push((header, value));
                }
            }
            _ => return Err(WebConfigError::UnknownKey { key: key_at }),
        }
    }
    Ok(headers)
}

fn users_from(value: &Yaml) -> Result<BTreeMap<String, String>, WebConfigError> {
    let mut users = BTreeMap::new();
    for (user, hash) in entries("basic_auth_users", value)? {
        let hash = text(&format!("basic_auth_users.{user}"), hash)?;
        if hash.parse::<bcrypt::HashParts>().is_err() {
            return Err(WebConfigError::InvalidHash { user });
        }
        users.insert(user, hash);
    }
    Ok(users)
}

fn rate_limit_from(value: &Yaml) -> Result<Option<RateLimit>, WebConfigError> {
    let (mut burst, mut interval) = (0u32, Duration::ZERO);
    for (name, v) in entries("rate_limit", value)? {
        let key_at = format!("rate_limit.{name}");
        match name.as_str() {
            "burst" => {
                burst = v.as_i64().and_then(|b| u32::try_from(b).ok()).ok_or(
                    WebConfigError::Expected {
                        key: key_at,
                        what: "a count",
                    },
                )?;
            }
            "interval" => {
                let value = text(&key_at, v)?;
                interval =
                    go_duration(&value).ok_or(WebConfigError::Invalid { key: key_at, value })?;
            }
            _ => return Err(WebConfigError::UnknownKey { key: key_at }),
        }
    }
    // exporter-toolkit: no interval, no limiter.
    Ok((!interval.is_zero()).then_some(RateLimit { burst, interval }))
}

/// A duration as Go's `time.ParseDuration` reads it (`1s`, `1.5s`, `1m30s`, `250ms`), which
/// is how exporter-toolkit reads `rate_limit.interval`.
fn go_duration(text: &str) -> Option<Duration> {
    let mut rest = text;
    let mut total = 0f64;
    if rest.is_empty() {
        return None;
    }
    if rest == "0" {
        return Some(Duration::ZERO);
    }
    while !rest.is_empty() {
        let number_len = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() || *c == '.')
            .map_or(rest.len(), |(i, _)| i);
        let seconds = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += number * seconds;
        rest = &rest[unit_len..];
    }
    Duration::try_from_secs_f64(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

    #[test]
    fn reads_every_section() {
        let text = format!(
            "tls_server_config:\n  cert_file: tls.crt\n  key_file: /abs/tls.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n  min_version: TLS10\n  max_version: TLS13\n  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n  curve_preferences: [X25519, CurveP256]\n  prefer_server_cipher_suites: true\n  client_allowed_sans: [client.example]\nhttp_server_config:\n  http2: false\n  headers:\n    X-Content-Type-Options: nosniff\nbasic_auth_users:\n  alice: {HASH}\nrate_limit:\n  burst: 10\n  interval: 1s\n"
        );
        let config = WebConfig::from_yaml(&text, "/etc/x").expect("valid");
        let tls = config.tls.as_ref().expect("tls");
        assert_eq!(tls.cert, PemSource::File("/etc/x/tls.crt".into()));
        assert_eq!(tls.key, PemSource::File("/abs/tls.key".into()));
        assert_eq!(tls.client_ca, Some(PemSource::File("/etc/x/ca.crt".into())));
        assert_eq!(tls.client_auth, ClientAuth::RequireAndVerifyClientCert);
        assert_eq!(tls.min_version, TlsVersion::Tls12);
        assert_eq!(tls.curves, [Curve::X25519, Curve::P256]);
        assert_eq!(
            tls.client_allowed_sans.as_deref(),
            Some(&["client.example".to_owned()][..])
        );
        assert_eq!(
            config.headers,
            [("X-Content-Type-Options".to_owned(), "nosniff".to_owned())]
        );
        assert_eq!(config.users.get("alice").map(String::as_str), Some(HASH));
        assert_eq!(
            config.rate_limit,
            Some(RateLimit {
                burst: 10,
                interval: Duration::from_secs(1)
            })
        );
        assert_eq!(WebConfig::from_yaml("", ".").expect("empty").tls, None);
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration("1s"), Some(Duration::from_secs(1)));
        assert_eq!(go_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(go_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(go_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(go_duration("0"), Some(Duration::ZERO));
        for bad in ["", "1", "s", "1d", "1 s", "-1s", "1e400h"] {
            assert_eq!(go_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn errors_name_the_key() {
        let err = |text: &str| WebConfig::from_yaml(text, ".").expect_err("invalid");
        assert_eq!(
            err("tls_server_config:\n  key_file: k\n"),
            WebConfigError::Missing {
                key: "tls_server_config.cert_file".into()
            }
        );
        assert_eq!(
            err("tls_server_config:\n  cert_file: c\n  key_file: k\n  client_auth_type: Sometimes\n"),
            WebConfigError::Invalid {
                key: "tls_server_config.client_auth_type".into(),
                value: "Sometimes".into()
            }
        );
        assert_eq!(
            err("tls_server_config:\n  cert_file: c\n  key_file: k\n  client_ca_file: ca\n"),
            WebConfigError::ClientCaWithoutClientAuth
        );
        assert_eq!(
            err("tls_server_config:\n  cert_file: c\n  key_file: k\n  client_auth_type: RequireAndVerifyClientCert\n"),
            WebConfigError::ClientAuthWithoutClientCa
        );
        assert_eq!(
            err("tls_server_config:\n  cert_file: c\n  key_file: k\n  max_version: TLS11\n"),
            WebConfigError::Unsupported {
                key: "tls_server_config.max_version".into(),
                value: "TLS11".into()
            }
        );
        assert_eq!(
            err("tls_server_config:\n  cert_file: c\n  key_file: k\n  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n"),
            WebConfigError::Unsupported {
                key: "tls_server_config.cipher_suites".into(),
                value: "TLS_RSA_WITH_RC4_128_SHA".into()
            }
        );
        assert_eq!(
            err("tls_server_config:\n  cert_file: c\n  key_file: k\n  cipher_suites: [TLS_NULL]\n"),
            WebConfigError::Invalid {
                key: "tls_server_config.cipher_suites".into(),
                value: "TLS_NULL".into()
            }
        );
        assert_eq!(
            err("tls_server_config:\n  cert_file: c\n  key_file: k\n  curve_preferences: [CurveP521]\n"),
            WebConfigError::Unsupported {
                key: "tls_server_config.curve_preferences".into(),
                value: "CurveP521".into()
            }
        );
        assert_eq!(
            err("basic_auth_users:\n  bob: plaintext\n"),
            WebConfigError::InvalidHash { user: "bob".into() }
        );
        assert_eq!(
            err("http_server_config:\n  headers:\n    Server: mine\n"),
            WebConfigError::Header {
                name: "Server".into(),
                value: "mine".into()
            }
        );
        assert_eq!(
            err("http_server_config:\n  headers:\n    X-Frame-Options: allow\n"),
            WebConfigError::Header {
                name: "X-Frame-Options".into(),
                value: "allow".into()
            }
        );
        assert_eq!(
            err("tls_config:\n  cert_file: c\n"),
            WebConfigError::UnknownKey {
                key: "tls_config".into()
            }
        );
        assert_eq!(
            err("tls_server_config:\n  certfile: c\n"),
            WebConfigError::UnknownKey {
                key: "tls_server_config.certfile".into()
            }
        );
        assert!(matches!(err("a: [b"), WebConfigError::Yaml(_)));
        assert_eq!(
            err("rate_limit:\n  interval: 1 sec\n"),
            WebConfigError::Invalid {
                key: "rate_limit.interval".into(),
                value: "1 sec".into()
            }
        );
        assert!(matches!(
            WebConfig::from_file("/nonexistent/web.yml"),
            Err(WebConfigError::Read { .. })
        ));
    }
}
