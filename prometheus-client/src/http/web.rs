//! A web configuration at work on a server: the TLS acceptor, basic auth, the rate limit and
//! the extra headers, reloaded when the file (or a file it names) changes, as exporter-toolkit
//! reloads them.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Response, StatusCode};
use parking_lot::Mutex;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

use super::web_config::{PemSource, RateLimit, WebConfig, WebConfigError};

/// How often the files are looked at for changes, at most.
const RELOAD_CHECK: Duration = Duration::from_secs(1);

/// Successful and failed credential checks remembered, so that a client sending the same
/// credentials costs one bcrypt comparison, not one a request (as exporter-toolkit).
const AUTH_CACHE_SIZE: usize = 100;

/// A server's web configuration, kept current.
pub(crate) struct Web {
    state: Mutex<State>,
    /// Credentials checked, by a digest of user, hash and password.
    cache: Mutex<HashMap<[u8; 32], bool>>,
    /// bcrypt runs one comparison at a time: a flood of wrong passwords costs one core.
    bcrypt: Semaphore,
}

struct State {
    active: Arc<Active>,
    file: Option<PathBuf>,
    stamps: Vec<(PathBuf, Option<SystemTime>)>,
    checked: Instant,
}

/// What the configuration asks of connections and requests now.
pub(crate) struct Active {
    /// Present when the server speaks TLS.
    pub(crate) acceptor: Option<TlsAcceptor>,
    users: BTreeMap<String, String>,
    /// Compared against when the user is unknown, so that an unknown user takes as long as a
    /// wrong password: a hash of the same cost as the first user's.
    dummy_hash: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    limiter: Option<Mutex<TokenBucket>>,
}

impl std::fmt::Debug for Web {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Web").finish_non_exhaustive()
    }
}

impl Web {
    /// Loads what `config` names (certificates, keys, CAs) and checks it.
    pub(crate) fn new(config: &WebConfig) -> Result<Web, WebConfigError> {
        Ok(Web {
            state: Mutex::new(State {
                active: Arc::new(Active::new(config)?),
                file: config.file.clone(),
                stamps: stamps(config),
                checked: Instant::now(),
            }),
            cache: Mutex::new(HashMap::new()),
            bcrypt: Semaphore::new(1),
        })
    }

    /// The configuration now: read again when its file or a file it names has changed
    /// (looked at once a second at most). A file that no longer loads leaves the last good
    /// configuration in force.
    pub(crate) fn current(&self) -> Arc<Active> {
        let mut state = self.state.lock();
        if state.file.is_some() && state.checked.elapsed() >= RELOAD_CHECK {
            state.checked = Instant::now();
            let changed = state
                .stamps
                .iter()
                .any(|(path, stamp)| modified(path) != *stamp);
            let reloaded = changed
                .then(|| state.file.as_ref().map(WebConfig::from_file))
                .flatten();
            if let Some(Ok(config)) = reloaded {
                if let Ok(active) = Active::new(&config) {
                    state.stamps = stamps(&config);
                    state.active = Arc::new(active);
                    self.cache.lock().clear();
                }
            }
        }
        Arc::clone(&state.active)
    }

    /// Whether the request's credentials are a configured user's.
    async fn authorized(&self, active: &Active, authorization: Option<&HeaderValue>) -> bool {
        let Some((user, password)) = authorization.and_then(basic_credentials) else {
            return false;
        };
        let (hash, known) = match active.users.get(&user) {
            Some(hash) => (hash.clone(), true),
            None => (active.dummy_hash.clone(), false),
        };
        let key = cache_key(&user, &hash, &password);
        if let Some(ok) = self.cache.lock().get(&key) {
            return *ok;
        }
        let Ok(_permit) = self.bcrypt.acquire().await else {
            return false;
        };
        let matches =
            tokio::task::spawn_blocking(move || bcrypt::verify(&password, &hash).unwrap_or(false))
                .await
                .unwrap_or(false);
        let ok = matches && known;
        let mut cache = self.cache.lock();
        if cache.len() >= AUTH_CACHE_SIZE {
            if let Some(old) = cache.keys().next().copied() {
                cache.remove(&old);
            }
        }
        cache.insert(key, ok);
        ok
    }

    /// `None` when the request may go on; else the refusal to send (429 past the rate
    /// limit, 401 with `WWW-Authenticate` without valid credentials).
    pub(crate) async fn admit(
        &self,
        active: &Active,
        authorization: Option<&HeaderValue>,
    ) -> Option<Response<Full<Bytes>>> {
        if let Some(limiter) = &active.limiter {
            if !limiter.lock().take() {
                return Some(super::plain(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too Many Requests\n",
                ));
            }
        }
        if active.users.is_empty() || self.authorized(active, authorization).await {
            return None;
        }
        let mut refusal = super::plain(StatusCode::UNAUTHORIZED, "Unauthorized\n");
        refusal
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
        Some(refusal)
    }
}

impl Active {
    fn new(config: &WebConfig) -> Result<Active, WebConfigError> {
        let acceptor = match &config.tls {
            Some(tls) => Some(TlsAcceptor::from(super::tls::server_config(tls)?)),
            None => None,
        };
        let cost = config
            .users
            .values()
            .next()
            .and_then(|hash| hash.parse::<bcrypt::HashParts>().ok())
            .map_or(bcrypt::DEFAULT_COST, |parts| parts.get_cost());
        let dummy_hash = if config.users.is_empty() {
            String::new()
        } else {
            bcrypt::hash("not a password of anyone's", cost).map_err(|_| {
                WebConfigError::InvalidHash {
                    user: config.users.keys().next().cloned().unwrap_or_default(),
                }
            })?
        };
        let headers = config
            .headers
            .iter()
            .filter_map(|(name, value)| {
                Some((
                    HeaderName::from_bytes(name.as_bytes()).ok()?,
                    HeaderValue::from_str(value).ok()?,
                ))
            })
            .collect();
        Ok(Active {
            acceptor,
            users: config.users.clone(),
            dummy_hash,
            headers,
            limiter: config
                .rate_limit
                .map(|limit| Mutex::new(TokenBucket::new(limit))),
        })
    }

    /// Adds the configured headers to a response.
    pub(crate) fn add_headers(&self, response: &mut Response<Full<Bytes>>) {
        for (name, value) in &self.headers {
            response.headers_mut().insert(name.clone(), value.clone());
        }
    }
}

/// Go's `rate.Limiter`: `burst` tokens at most, one more every `interval`.
struct TokenBucket {
    limit: RateLimit,
    tokens: f64,
    at: Instant,
}

impl TokenBucket {
    fn new(limit: RateLimit) -> TokenBucket {
        TokenBucket {
            limit,
            tokens: f64::from(limit.burst),
            at: Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        let earned = now.duration_since(self.at).as_secs_f64() / self.limit.interval.as_secs_f64();
        self.tokens = (self.tokens + earned).min(f64::from(self.limit.burst));
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The files a configuration was read from, with their modification times.
fn stamps(config: &WebConfig) -> Vec<(PathBuf, Option<SystemTime>)> {
    let mut files: Vec<PathBuf> = config.file.iter().cloned().collect();
    if let Some(tls) = &config.tls {
        for source in [Some(&tls.cert), Some(&tls.key), tls.client_ca.as_ref()]
            .into_iter()
            .flatten()
        {
            if let PemSource::File(path) = source {
                files.push(path.clone());
            }
        }
    }
    files
        .into_iter()
        .map(|path| {
            let stamp = modified(&path);
            (path, stamp)
        })
        .collect()
}

fn modified(path: &PathBuf) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The user and password of a `Basic` authorization.
fn basic_credentials(value: &HeaderValue) -> Option<(String, Vec<u8>)> {
    let value = value.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let colon = decoded.iter().position(|b| *b == b':')?;
    let user = String::from_utf8(decoded[..colon].to_vec()).ok()?;
    Some((user, decoded[colon + 1..].to_vec()))
}

/// A digest of what was checked, so the cache holds no password.
fn cache_key(user: &str, hash: &str, password: &[u8]) -> [u8; 32] {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    for part in [user.as_bytes(), hash.as_bytes(), password] {
        context.update(&(part.len() as u64).to_le_bytes());
        context.update(part);
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(context.finish().as_ref());
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_read_as_go_reads_them() {
        let header = |s: &str| HeaderValue::from_str(s).expect("valid");
        assert_eq!(
            basic_credentials(&header("Basic YWxpY2U6cGE6c3M=")),
            Some(("alice".into(), b"pa:ss".to_vec()))
        );
        assert_eq!(
            basic_credentials(&header("basic YWxpY2U6")),
            Some(("alice".into(), Vec::new()))
        );
        assert_eq!(basic_credentials(&header("Bearer abc")), None);
        assert_eq!(basic_credentials(&header("Basic !!!")), None);
        assert_eq!(basic_credentials(&header("Basic YWxpY2U=")), None);
    }

    #[test]
    fn the_token_bucket_refills() {
        let mut bucket = TokenBucket::new(RateLimit {
            burst: 2,
            interval: Duration::from_secs(3600),
        });
        assert!(bucket.take());
        assert!(bucket.take());
        assert!(!bucket.take());
        bucket.at -= Duration::from_secs(3600);
        assert!(bucket.take());
        assert!(!bucket.take());
    }

    #[tokio::test]
    async fn credentials_are_checked_once_and_remembered() {
        let hash = bcrypt::hash("secret", 4).expect("hashes");
        let config = WebConfig::from_yaml(&format!("basic_auth_users:\n  alice: {hash}\n"), ".")
            .expect("valid");
        let web = Web::new(&config).expect("loads");
        let active = web.current();
        let auth = |s: &str| {
            let encoded = base64::engine::general_purpose::STANDARD.encode(s);
            HeaderValue::from_str(&format!("Basic {encoded}")).expect("valid")
        };
        assert!(web
            .admit(&active, Some(&auth("alice:secret")))
            .await
            .is_none());
        let refused = web
            .admit(&active, Some(&auth("alice:wrong")))
            .await
            .expect("refused");
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(refused.headers()[header::WWW_AUTHENTICATE], "Basic");
        assert!(web
            .admit(&active, Some(&auth("mallory:secret")))
            .await
            .is_some());
        assert!(web.admit(&active, None).await.is_some());
        assert_eq!(web.cache.lock().len(), 3);
        assert!(web
            .admit(&active, Some(&auth("alice:secret")))
            .await
            .is_none());
        assert_eq!(web.cache.lock().len(), 3);
    }
}
