//! Connections the pull server opens: to a target it scrapes, to a receiver it writes to.
//! Plain TCP for `http://`, TLS for `https://` (feature `tls`) as the peer's `tls_config`
//! says; HTTP/1.1, one connection per exchange.

use hyper::body::Body;
use hyper::client::conn::http1::SendRequest;
use hyper::Uri;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::scrape::ScrapeError;

/// How a peer is connected to: plain TCP, or TLS as its `tls_config` says.
#[derive(Clone, Default)]
pub(crate) struct Client {
    #[cfg(feature = "tls")]
    tls: Option<super::tls::Connector>,
}

impl Client {
    /// The client of a target (`place` names it in errors: `targets[0]`).
    #[cfg_attr(not(feature = "tls"), allow(clippy::unnecessary_wraps))]
    pub(crate) fn for_target(
        target: &super::Target,
        place: &str,
    ) -> Result<Client, super::ConfigError> {
        #[cfg(feature = "tls")]
        return Client::for_url(&target.url, &target.tls_config, place);
        #[cfg(not(feature = "tls"))]
        {
            let _ = (target, place);
            Ok(Client::default())
        }
    }

    /// The client of `url` (`place` names it in errors: `targets[0]`); reads the TLS files
    /// of an `https://` URL.
    #[cfg(feature = "tls")]
    pub(crate) fn for_url(
        url: &str,
        tls_config: &super::TlsConfig,
        place: &str,
    ) -> Result<Client, super::ConfigError> {
        if !url.starts_with("https://") {
            return Ok(Client::default());
        }
        let key = format!("{place}.tls_config");
        let connector = super::tls::Connector::new(tls_config, &key)
            .map_err(|error| super::ConfigError::WebConfig { key, error })?;
        Ok(Client {
            tls: Some(connector),
        })
    }
}

/// An open connection, and where it goes.
pub(crate) struct Connection<B> {
    pub(crate) sender: SendRequest<B>,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) uri: Uri,
}

/// Connects to `url`'s host, over TLS for `https://`.
pub(crate) async fn connect<B>(url: &str, client: &Client) -> Result<Connection<B>, ScrapeError>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let uri: Uri = url.parse().map_err(|_| ScrapeError::Url(url.to_owned()))?;
    let default_port = match uri.scheme_str() {
        Some("http") => 80,
        Some("https") if cfg!(feature = "tls") => 443,
        _ => return Err(ScrapeError::Url(url.to_owned())),
    };
    let host = uri
        .host()
        .ok_or_else(|| ScrapeError::Url(url.to_owned()))?
        .to_owned();
    let port = uri.port_u16().unwrap_or(default_port);
    let stream = TcpStream::connect((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|e| ScrapeError::Connect(e.to_string()))?;
    let sender = match default_port {
        #[cfg(feature = "tls")]
        443 => {
            let connector = client
                .tls
                .as_ref()
                .ok_or_else(|| ScrapeError::Url(url.to_owned()))?;
            let stream = connector
                .connect(&host, stream)
                .await
                .map_err(ScrapeError::Tls)?;
            handshake(stream).await?
        }
        _ => {
            let _ = client;
            handshake(stream).await?
        }
    };
    Ok(Connection {
        sender,
        host,
        port,
        uri,
    })
}

async fn handshake<S, B>(stream: S) -> Result<SendRequest<B>, ScrapeError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| ScrapeError::Http(e.to_string()))?;
    tokio::spawn(connection);
    Ok(sender)
}
