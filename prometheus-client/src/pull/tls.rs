//! Scraping `https://` targets (feature `tls`): Prometheus' `tls_config` made into a rustls
//! client configuration.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::ring;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_rustls::TlsConnector;

use crate::http::tls::{certificates, private_key, root_store, Signatures};
use crate::http::web_config::PemSource;
use crate::http::WebConfigError;

/// Prometheus' `tls_config` of a scrape: whom to trust, what to show, whom to expect.
///
/// ```
/// use prometheus_client::pull::{Target, TlsConfig};
/// let target = Target::new("https://node.example:9100/metrics").tls_config(TlsConfig {
///     ca_file: Some("ca.crt".into()),
///     cert_file: Some("client.crt".into()),
///     key_file: Some("client.key".into()),
///     ..TlsConfig::default()
/// });
/// assert_eq!(target.instance(), "node.example:9100");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// CA certificates (PEM) the target's certificate must chain to; the system's roots
    /// when absent.
    pub ca_file: Option<PathBuf>,
    /// A client certificate (PEM) to present, with `key_file`.
    pub cert_file: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    pub key_file: Option<PathBuf>,
    /// The name the target's certificate must be valid for (default: the URL's host).
    pub server_name: Option<String>,
    /// Accept any certificate the target shows. Its signature over the handshake is still
    /// checked; who it belongs to is not.
    pub insecure_skip_verify: bool,
}

/// Connects to a target over TLS as its `tls_config` says.
#[derive(Clone)]
pub(crate) struct Connector {
    connector: TlsConnector,
    server_name: Option<ServerName<'static>>,
}

impl Connector {
    /// Reads the files `tls` names; errors name the key at `place`
    /// (`targets[0].tls_config`).
    pub(crate) fn new(tls: &TlsConfig, place: &str) -> Result<Connector, WebConfigError> {
        let provider = Arc::new(ring::default_provider());
        let roots = match &tls.ca_file {
            Some(path) => root_store(&PemSource::File(path.clone()), &format!("{place}.ca_file"))?,
            None => system_roots(),
        };
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| WebConfigError::Invalid {
                key: place.to_owned(),
                value: e.to_string(),
            })?;
        let builder = if tls.insecure_skip_verify {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyServerCert(Signatures(
                    provider.signature_verification_algorithms,
                ))))
        } else {
            builder.with_root_certificates(roots)
        };
        let mut config = match (&tls.cert_file, &tls.key_file) {
            (Some(cert), Some(key)) => {
                let chain = certificates(
                    &PemSource::File(cert.clone()),
                    &format!("{place}.cert_file"),
                )?;
                let key_der =
                    private_key(&PemSource::File(key.clone()), &format!("{place}.key_file"))?;
                builder.with_client_auth_cert(chain, key_der).map_err(|e| {
                    WebConfigError::Certificate {
                        key: format!("{place}.key_file"),
                        error: format!("does not go with the certificate: {e}"),
                    }
                })?
            }
            (None, None) => builder.with_no_client_auth(),
            (Some(_), None) => {
                return Err(WebConfigError::Missing {
                    key: format!("{place}.key_file"),
                })
            }
            (None, Some(_)) => {
                return Err(WebConfigError::Missing {
                    key: format!("{place}.cert_file"),
                })
            }
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let server_name =
            match &tls.server_name {
                Some(name) => Some(ServerName::try_from(name.clone()).map_err(|_| {
                    WebConfigError::Invalid {
                        key: format!("{place}.server_name"),
                        value: name.clone(),
                    }
                })?),
                None => None,
            };
        Ok(Connector {
            connector: TlsConnector::from(Arc::new(config)),
            server_name,
        })
    }

    /// The handshake over `stream` with `host` (unless `server_name` says otherwise).
    pub(crate) async fn connect(
        &self,
        host: &str,
        stream: tokio::net::TcpStream,
    ) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>, String> {
        let name = match &self.server_name {
            Some(name) => name.clone(),
            None => ServerName::try_from(host.trim_matches(['[', ']']).to_owned())
                .map_err(|e| format!("{host:?} is not a server name: {e}"))?,
        };
        self.connector
            .connect(name, stream)
            .await
            .map_err(|e| e.to_string())
    }
}

/// The system's trusted roots, as Prometheus uses when a scrape names no CA.
fn system_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(found.certs);
    roots
}

/// `insecure_skip_verify`.
#[derive(Debug)]
struct AnyServerCert(Signatures);

impl ServerCertVerifier for AnyServerCert {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.schemes()
    }
}
