//! TLS for both servers (and the pull server's scrapes): rustls configured from a web
//! configuration, and the handshake of an accepted connection.

use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{ring, CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::sign::CertifiedKey;
use rustls::{
    DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme,
    SupportedCipherSuite, SupportedProtocolVersion,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use super::web_config::{
    ClientAuth, Curve, PemSource, TlsServerConfig, TlsVersion, WebConfigError,
};

/// Go's names of the TLS 1.2 suites rustls implements (TLS 1.3 suites are not configurable,
/// in Go as here).
const TLS12_SUITES: &[(&str, SupportedCipherSuite)] = &[
    (
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        ring::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        ring::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        ring::cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        ring::cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        ring::cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        ring::cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
];

/// Go's names of suites Go knows and rustls does not implement (RSA key exchange, CBC, 3DES,
/// RC4), and of the TLS 1.3 suites, which Go does not let a configuration choose either.
const OTHER_GO_SUITES: &[&str] = &[
    "TLS_RSA_WITH_RC4_128_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
];

/// Whether Go knows the suite `name` (`Some`), and whether rustls implements it as a TLS 1.2
/// suite a configuration can choose (`Some(true)`).
pub(crate) fn cipher_suite_support(name: &str) -> Option<bool> {
    if TLS12_SUITES.iter().any(|(n, _)| *n == name) {
        Some(true)
    } else if OTHER_GO_SUITES.contains(&name) {
        Some(false)
    } else {
        None
    }
}

/// The crypto provider a configuration asks for: its TLS 1.2 suites (all, or those listed in
/// the listed order, TLS 1.3's always) and its key exchange groups.
fn provider(suites: &[String], curves: &[Curve]) -> CryptoProvider {
    let mut provider = ring::default_provider();
    if !suites.is_empty() {
        let tls13 = ring::ALL_CIPHER_SUITES
            .iter()
            .filter(|s| matches!(s, SupportedCipherSuite::Tls13(_)));
        let tls12 = suites
            .iter()
            .filter_map(|name| TLS12_SUITES.iter().find(|(n, _)| n == name).map(|(_, s)| s));
        provider.cipher_suites = tls13.chain(tls12).copied().collect();
    }
    if !curves.is_empty() {
        provider.kx_groups = curves
            .iter()
            .map(|curve| match curve {
                Curve::P256 => ring::kx_group::SECP256R1,
                Curve::P384 => ring::kx_group::SECP384R1,
                Curve::X25519 => ring::kx_group::X25519,
            })
            .collect();
    }
    provider
}

fn versions(min: TlsVersion, max: TlsVersion) -> Vec<&'static SupportedProtocolVersion> {
    let mut versions = Vec::new();
    if min <= TlsVersion::Tls12 && max >= TlsVersion::Tls12 {
        versions.push(&rustls::version::TLS12);
    }
    if max >= TlsVersion::Tls13 {
        versions.push(&rustls::version::TLS13);
    }
    versions
}

/// Reads a PEM source's bytes.
pub(crate) fn pem_bytes(source: &PemSource, key: &str) -> Result<Vec<u8>, WebConfigError> {
    match source {
        PemSource::Inline(text) => Ok(text.as_bytes().to_vec()),
        PemSource::File(path) => std::fs::read(path).map_err(|e| WebConfigError::Certificate {
            key: key.to_owned(),
            error: format!("cannot read {}: {e}", path.display()),
        }),
    }
}

/// Every certificate in a PEM source; at least one.
pub(crate) fn certificates(
    source: &PemSource,
    key: &str,
) -> Result<Vec<CertificateDer<'static>>, WebConfigError> {
    let bytes = pem_bytes(source, key)?;
    let invalid = |error: String| WebConfigError::Certificate {
        key: key.to_owned(),
        error,
    };
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(format!("not PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(invalid("no certificate in it".into()));
    }
    Ok(certs)
}

/// The private key in a PEM source.
pub(crate) fn private_key(
    source: &PemSource,
    key: &str,
) -> Result<PrivateKeyDer<'static>, WebConfigError> {
    let bytes = pem_bytes(source, key)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| WebConfigError::Certificate {
        key: key.to_owned(),
        error: format!("no private key in it: {e}"),
    })
}

/// A certificate chain and its key, checked to match.
pub(crate) fn certified_key(
    cert: &PemSource,
    key: &PemSource,
    place: &str,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, WebConfigError> {
    let chain = certificates(cert, &format!("{place}.cert_file"))?;
    let key_der = private_key(key, &format!("{place}.key_file"))?;
    CertifiedKey::from_der(chain, key_der, provider).map_err(|e| WebConfigError::Certificate {
        key: format!("{place}.key_file"),
        error: format!("does not go with the certificate: {e}"),
    })
}

/// A trust store of the CA certificates in a PEM source.
pub(crate) fn root_store(source: &PemSource, key: &str) -> Result<RootCertStore, WebConfigError> {
    let mut roots = RootCertStore::empty();
    for cert in certificates(source, key)? {
        roots.add(cert).map_err(|e| WebConfigError::Certificate {
            key: key.to_owned(),
            error: format!("not a CA certificate: {e}"),
        })?;
    }
    Ok(roots)
}

/// The rustls server configuration of a `tls_server_config`.
pub(crate) fn server_config(tls: &TlsServerConfig) -> Result<Arc<ServerConfig>, WebConfigError> {
    let place = "tls_server_config";
    let provider = Arc::new(provider(&tls.cipher_suites, &tls.curves));
    let certified = certified_key(&tls.cert, &tls.key, place, &provider)?;
    let ca_key = format!("{place}.client_ca_file");
    let webpki = |roots: RootCertStore| {
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
    };
    let verifier: Arc<dyn ClientCertVerifier> = match (tls.client_auth, &tls.client_ca) {
        (ClientAuth::NoClientCert, _) => WebPkiClientVerifier::no_client_auth(),
        (ClientAuth::RequestClientCert, _) => Arc::new(AnyClientCert::new(false, &provider)),
        (ClientAuth::RequireAnyClientCert, _) => Arc::new(AnyClientCert::new(true, &provider)),
        (ClientAuth::VerifyClientCertIfGiven, Some(ca)) => webpki(root_store(ca, &ca_key)?)
            .allow_unauthenticated()
            .build()
            .map_err(|e| certificate_error(&ca_key, e))?,
        (ClientAuth::RequireAndVerifyClientCert, Some(ca)) => webpki(root_store(ca, &ca_key)?)
            .build()
            .map_err(|e| certificate_error(&ca_key, e))?,
        (_, None) => return Err(WebConfigError::ClientAuthWithoutClientCa),
    };
    let verifier = match &tls.client_allowed_sans {
        Some(sans) => Arc::new(AllowedSans::new(verifier, sans)?) as Arc<dyn ClientCertVerifier>,
        None => verifier,
    };
    let mut config = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&versions(tls.min_version, tls.max_version))
        .map_err(|e| WebConfigError::Invalid {
            key: format!("{place}.min_version"),
            value: e.to_string(),
        })?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn certificate_error(key: &str, e: impl std::fmt::Display) -> WebConfigError {
    WebConfigError::Certificate {
        key: key.to_owned(),
        error: e.to_string(),
    }
}

/// The handshake signature checks of a verifier that accepts any certificate: the peer must
/// still hold the key of the certificate it shows.
#[derive(Debug)]
pub(crate) struct Signatures(pub(crate) WebPkiSupportedAlgorithms);

impl Signatures {
    pub(crate) fn tls12(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    pub(crate) fn tls13(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    pub(crate) fn schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// `RequestClientCert` and `RequireAnyClientCert`: a client certificate is asked for (and
/// required, for the second) but not verified against a CA, as Go does; its signature over
/// the handshake is still checked, so the client holds its key.
#[derive(Debug)]
struct AnyClientCert {
    mandatory: bool,
    signatures: Signatures,
}

impl AnyClientCert {
    fn new(mandatory: bool, provider: &CryptoProvider) -> AnyClientCert {
        AnyClientCert {
            mandatory,
            signatures: Signatures(provider.signature_verification_algorithms),
        }
    }
}

impl ClientCertVerifier for AnyClientCert {
    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signatures.tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signatures.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.signatures.schemes()
    }
}

/// `client_allowed_sans`: after the inner verifier, the client certificate must name one of
/// the allowed DNS names or IP addresses among its subject alternative names.
#[derive(Debug)]
struct AllowedSans {
    inner: Arc<dyn ClientCertVerifier>,
    allowed: Vec<rustls::pki_types::ServerName<'static>>,
}

impl AllowedSans {
    fn new(
        inner: Arc<dyn ClientCertVerifier>,
        sans: &[String],
    ) -> Result<AllowedSans, WebConfigError> {
        let allowed = sans
            .iter()
            .map(|san| {
                rustls::pki_types::ServerName::try_from(san.clone()).map_err(|_| {
                    WebConfigError::Unsupported {
                        key: "tls_server_config.client_allowed_sans".into(),
                        value: san.clone(),
                    }
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(AllowedSans { inner, allowed })
    }
}

impl ClientCertVerifier for AllowedSans {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)?;
        let cert = webpki::EndEntityCert::try_from(end_entity).map_err(|_| {
            rustls::Error::InvalidCertificate(rustls::CertificateError::BadEncoding)
        })?;
        if self
            .allowed
            .iter()
            .any(|name| cert.verify_is_valid_for_subject_name(name).is_ok())
        {
            Ok(verified)
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// What Go's server answers a plain HTTP request on a TLS port.
const PLAIN_HTTP_ANSWER: &[u8] =
    b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

/// The first byte of every TLS connection: a handshake record.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// How long a refused client's last bytes are read and dropped before the connection closes.
const DRAIN: Duration = Duration::from_secs(1);

/// Completes the TLS handshake of an accepted connection within `timeout`. A client that
/// speaks plain HTTP gets Go's 400 answer; a failed handshake (an unknown or expired client
/// certificate, say) gets the alert that says why. `None` in both cases. A refused connection
/// is closed gently: the server stops writing, then reads what the client still sends for a
/// moment, so that closing does not reset the connection and lose the answer or the alert.
pub(crate) async fn handshake(
    mut stream: TcpStream,
    acceptor: TlsAcceptor,
    timeout: Duration,
) -> Option<TlsStream<TcpStream>> {
    let work = async {
        let mut first = [0u8; 1];
        match stream.peek(&mut first).await {
            Ok(1) if first[0] == TLS_HANDSHAKE_RECORD => {
                match acceptor.accept(stream).into_fallible().await {
                    Ok(tls) => Some(tls),
                    Err((_, stream)) => {
                        close_gently(stream).await;
                        None
                    }
                }
            }
            Ok(1) => {
                let _ = stream.write_all(PLAIN_HTTP_ANSWER).await;
                close_gently(stream).await;
                None
            }
            _ => None,
        }
    };
    tokio::time::timeout(timeout, work).await.ok().flatten()
}

async fn close_gently(mut stream: TcpStream) {
    let _ = stream.shutdown().await;
    let mut sink = [0u8; 4096];
    let _ = tokio::time::timeout(DRAIN, async {
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}
