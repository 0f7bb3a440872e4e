//! Certificates made for a test (rcgen), written to a temporary directory, and an HTTPS
//! client that shows any of them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::TcpStream;

/// A test CA, a server certificate for 127.0.0.1 and `localhost`, a client certificate from
/// the CA, one from another CA, and an expired one from the CA: PEM files in `dir`.
pub struct Pki {
    /// Where the files are; removed on drop.
    pub dir: PathBuf,
}

/// A certificate and key, in PEM.
struct Pair {
    cert: String,
    key: String,
}

fn ca(name: &str) -> (Pair, Issuer<'static, KeyPair>) {
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let cert = params.self_signed(&key).expect("CA certificate");
    let pair = Pair {
        cert: cert.pem(),
        key: key.serialize_pem(),
    };
    (pair, Issuer::new(params, key))
}

fn leaf(issuer: &Issuer<'_, KeyPair>, name: &str, expired: bool) -> Pair {
    let key = KeyPair::generate().expect("key");
    let mut params =
        CertificateParams::new(vec![name.to_owned(), "localhost".to_owned()]).expect("params");
    params
        .subject_alt_names
        .push(SanType::IpAddress([127, 0, 0, 1].into()));
    params.distinguished_name.push(DnType::CommonName, name);
    if expired {
        params.not_before = date_time_ymd(2020, 1, 1);
        params.not_after = date_time_ymd(2021, 1, 1);
    }
    let cert = params.signed_by(&key, issuer).expect("certificate");
    Pair {
        cert: cert.pem(),
        key: key.serialize_pem(),
    }
}

impl Pki {
    /// Makes everything in a new temporary directory.
    pub fn new() -> Pki {
        let dir = std::env::temp_dir().join(format!(
            "pki-test-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        std::fs::create_dir_all(&dir).expect("temporary dir");
        let (ca_pair, issuer) = ca("test CA");
        let (_, other_issuer) = ca("another CA");
        let files = [
            ("ca", ca_pair),
            ("server", leaf(&issuer, "server.test", false)),
            ("client", leaf(&issuer, "client.test", false)),
            ("stranger", leaf(&other_issuer, "stranger.test", false)),
            ("expired", leaf(&issuer, "expired.test", true)),
        ];
        for (name, pair) in files {
            std::fs::write(dir.join(format!("{name}.crt")), pair.cert).expect("written");
            std::fs::write(dir.join(format!("{name}.key")), pair.key).expect("written");
        }
        Pki { dir }
    }

    /// A file of the set: `path("ca.crt")`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Default for Pki {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A bcrypt hash of `password`, at the lowest cost (tests run unoptimised).
pub fn bcrypt_hash(password: &str) -> String {
    bcrypt::hash(password, 4).expect("hashes")
}

/// An `Authorization: Basic` value.
pub fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

fn certs(path: &Path) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(path)
        .expect("PEM file")
        .collect::<Result<_, _>>()
        .expect("certificates")
}

/// An error and the errors under it: hyper's "connection error" says why only there.
fn with_sources(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

/// The answer of an HTTPS request: status, `WWW-Authenticate`, body.
#[derive(Debug)]
pub struct TlsReply {
    /// The status.
    pub status: StatusCode,
    /// The `WWW-Authenticate` header, or "".
    pub www_authenticate: String,
    /// A header the web config adds, `X-Frame-Options`, or "".
    pub frame_options: String,
    /// The body.
    pub body: String,
}

/// `GET path` over TLS, trusting `ca`, showing `client` (a `name` of [`Pki`]: its `.crt` and
/// `.key`) if given, with `authorization` if given. `Err` carries the TLS or HTTP failure.
pub async fn https_get(
    addr: SocketAddr,
    path: &str,
    ca: &Path,
    client: Option<(&Path, &Path)>,
    authorization: Option<&str>,
) -> Result<TlsReply, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs(ca) {
        roots.add(cert).expect("CA");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots);
    let config = match client {
        Some((cert, key)) => builder
            .with_client_auth_cert(certs(cert), PrivateKeyDer::from_pem_file(key).expect("key"))
            .expect("client certificate"),
        None => builder.with_no_client_auth(),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let name = ServerName::try_from("localhost").expect("name");
    let tls = connector
        .connect(name, stream)
        .await
        .map_err(|e| format!("TLS: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .map_err(|e| format!("HTTP: {e}"))?;
    let connection = tokio::spawn(connection);
    let mut request = Request::get(path).header("host", "localhost");
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let sent = sender
        .send_request(request.body(Empty::<Bytes>::new()).expect("request"))
        .await;
    let response = match sent {
        Ok(response) => response,
        // The connection's own error says why (a TLS alert), however the request failed.
        Err(e) => {
            let why = match connection.await {
                Ok(Err(closed)) => with_sources(&closed),
                _ => with_sources(&e),
            };
            return Err(format!("HTTP: {why}"));
        }
    };
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (status, www_authenticate, frame_options) = (
        response.status(),
        header("www-authenticate"),
        header("x-frame-options"),
    );
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("body: {e}"))?
        .to_bytes();
    Ok(TlsReply {
        status,
        www_authenticate,
        frame_options,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}
