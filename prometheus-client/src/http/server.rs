//! A ready `/metrics` server: bind, serve, shut down gracefully.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::{watch, Semaphore};

use super::MetricsService;
use crate::Registry;

/// A bound `/metrics` server. Create it with [`Server::builder`].
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    service: MetricsService,
    path: Arc<str>,
    limits: ConnectionLimits,
    guard: Guard,
}

/// Options for a [`Server`].
///
/// ```no_run
/// use std::time::Duration;
/// use prometheus_client::{Registry, http::{MetricsService, Server}};
/// # async fn run() -> std::io::Result<()> {
/// let service = MetricsService::builder(Registry::new()).max_concurrent_encodes(2).build().expect("valid");
/// let server = Server::with_service(service)
///     .path("/internal/metrics")
///     .header_read_timeout(Duration::from_secs(5))
///     .max_connections(64)
///     .bind("127.0.0.1:0")
///     .await?;
/// server.serve_with_shutdown(async { /* a signal of your own */ }).await
/// # }
/// ```
#[derive(Debug)]
pub struct ServerBuilder {
    service: MetricsService,
    path: String,
    limits: ConnectionLimits,
    guard: Guard,
}

impl ServerBuilder {
    /// The path metrics are served on (default `/metrics`); other paths get `404`.
    pub fn path(mut self, path: &str) -> Self {
        self.path = path.to_owned();
        self
    }

    /// How long a client may take to send a request's headers, and how long an idle
    /// keep-alive connection stays open (default 10 s).
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.limits.header_read_timeout = timeout;
        self
    }

    /// How many connections are served at once (default 256; `usize::MAX` is clamped to
    /// what a semaphore holds); further clients wait in the listen backlog until one closes.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.limits.max_connections = n.clamp(1, Semaphore::MAX_PERMITS);
        self
    }

    /// The most bytes a request's start line and headers may take (default 64 KiB, at
    /// least 8 KiB); a larger request gets `431 Request Header Fields Too Large`.
    pub fn max_header_bytes(mut self, n: usize) -> Self {
        self.limits.max_header_bytes = n.max(MIN_HEADER_BYTES);
        self
    }

    /// How long a request may take from its headers to its answer (default 30 s); then it
    /// gets `503`.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.limits.request_timeout = timeout;
        self
    }

    /// How long a connection may stay open (default 2 min); then the request in progress
    /// may finish, within the request timeout, and the connection closes. Clients such as
    /// Prometheus simply open another.
    pub fn max_connection_age(mut self, age: Duration) -> Self {
        self.limits.max_connection_age = age;
        self
    }

    /// How long shutdown waits for requests in progress (default 5 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.limits.shutdown_grace = grace;
        self
    }

    /// Serves with TLS, client certificates, basic auth, a rate limit and extra headers as
    /// `config` says (feature `tls`), as Prometheus' exporters do with `--web.config.file`.
    /// Certificates and keys are loaded now; a configuration read with
    /// [`WebConfig::from_file`](super::WebConfig::from_file) is read again when the file or a
    /// file it names changes.
    ///
    /// ```no_run
    /// use prometheus_client::{Registry, http::{Server, WebConfig}};
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let config = WebConfig::from_file("/etc/myservice/web.yml")?;
    /// let server = Server::builder(Registry::new()).web_config(&config)?.bind("0.0.0.0:9898").await?;
    /// server.serve().await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// When a certificate, key or CA does not load, or the key does not go with the
    /// certificate.
    #[cfg(feature = "tls")]
    pub fn web_config(mut self, config: &super::WebConfig) -> Result<Self, super::WebConfigError> {
        self.guard.web = Some(Arc::new(super::Web::new(config)?));
        Ok(self)
    }

    /// Binds the listening socket.
    pub async fn bind(self, addr: impl ToSocketAddrs) -> io::Result<Server> {
        Ok(Server {
            listener: TcpListener::bind(addr).await?,
            service: self.service,
            path: self.path.into(),
            limits: self.limits,
            guard: self.guard,
        })
    }
}

impl Server {
    /// A server for `registry` with default options.
    pub fn builder(registry: Registry) -> ServerBuilder {
        Self::with_service(MetricsService::new(registry))
    }

    /// A server for a configured service.
    pub fn with_service(service: MetricsService) -> ServerBuilder {
        ServerBuilder {
            service,
            path: "/metrics".to_owned(),
            limits: ConnectionLimits::DEFAULT,
            guard: Guard::default(),
        }
    }

    /// The address it listens on (useful after binding port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until Ctrl-C (SIGINT).
    pub async fn serve(self) -> io::Result<()> {
        self.serve_with_shutdown(async {
            // Without a signal handler there is nothing to wait for but the process's end.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
        .await
    }

    /// Serves until `shutdown` completes, then stops accepting, lets requests in progress
    /// finish (for at most the grace period) and returns.
    pub async fn serve_with_shutdown(self, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        let (service, path) = (self.service, self.path);
        serve_connections(
            self.listener,
            self.limits,
            self.guard,
            shutdown,
            move |request| {
                let service = service.clone();
                let path = Arc::clone(&path);
                async move { route(&service, &path, request).await }
            },
        )
        .await
    }
}

/// How the accept loop protects the process.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnectionLimits {
    pub(crate) header_read_timeout: Duration,
    pub(crate) max_connections: usize,
    pub(crate) max_header_bytes: usize,
    pub(crate) request_timeout: Duration,
    pub(crate) max_connection_age: Duration,
    pub(crate) shutdown_grace: Duration,
}

impl ConnectionLimits {
    /// The defaults of the `/metrics` server.
    pub(crate) const DEFAULT: ConnectionLimits = ConnectionLimits {
        header_read_timeout: Duration::from_secs(10),
        max_connections: 256,
        max_header_bytes: 64 * 1024,
        request_timeout: Duration::from_secs(30),
        max_connection_age: Duration::from_secs(120),
        shutdown_grace: Duration::from_secs(5),
    };
}

/// The smallest header cap hyper takes.
const MIN_HEADER_BYTES: usize = 8 * 1024;

/// What a web configuration asks of each connection (TLS) and request (basic auth, the rate
/// limit, extra headers); nothing without the `tls` feature.
#[derive(Clone, Debug, Default)]
pub(crate) struct Guard {
    #[cfg(feature = "tls")]
    pub(crate) web: Option<Arc<super::Web>>,
}

/// Accepts HTTP/1 connections on `listener` and answers each request with `handler`, until
/// `shutdown` completes; then stops accepting and lets requests in progress finish (for at
/// most the grace period). Every connection has a deadline: at its age limit it finishes the
/// request in progress (for at most the request timeout) and closes, so a client that stops
/// reading cannot hold a connection slot for ever; every request has the request timeout.
/// With a web configuration, each connection is TLS if it asks, and each request passes its
/// rate limit and basic auth first.
#[cfg_attr(not(feature = "tls"), allow(unused_variables))]
pub(crate) async fn serve_connections<H, F>(
    listener: TcpListener,
    limits: ConnectionLimits,
    guard: Guard,
    shutdown: impl Future<Output = ()>,
    handler: H,
) -> io::Result<()>
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let connections = Arc::new(Semaphore::new(
        limits.max_connections.clamp(1, Semaphore::MAX_PERMITS),
    ));
    let (stop, stopped) = watch::channel(false);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(MIN_HEADER_BYTES))
        .max_header_size(limits.max_header_bytes.max(MIN_HEADER_BYTES));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: pause rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let connection = Connection {
            http: http.clone(),
            limits,
            stopped: stopped.clone(),
        };
        let handler = handler.clone();
        #[cfg(feature = "tls")]
        let web = guard.web.clone();
        tokio::spawn(async move {
            #[cfg(feature = "tls")]
            if let Some(web) = web {
                let active = web.current();
                let acceptor = active.acceptor.clone();
                let service = guarded(handler, limits.request_timeout, web, active);
                match acceptor {
                    Some(acceptor) => {
                        let timeout = limits.header_read_timeout;
                        if let Some(tls) = super::tls::handshake(stream, acceptor, timeout).await {
                            connection.drive(tls, service).await;
                        }
                    }
                    None => connection.drive(stream, service).await,
                }
                drop(permit);
                return;
            }
            connection
                .drive(stream, plain_service(handler, limits.request_timeout))
                .await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    // Every connection task holds a permit until it ends: wait for them all, within the grace.
    let all =
        u32::try_from(limits.max_connections.clamp(1, Semaphore::MAX_PERMITS)).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(limits.shutdown_grace, connections.acquire_many(all)).await;
    Ok(())
}

/// One accepted connection's settings.
struct Connection {
    http: http1::Builder,
    limits: ConnectionLimits,
    stopped: watch::Receiver<bool>,
}

impl Connection {
    /// Serves HTTP/1 on `io` until the client leaves, the connection's age is reached or the
    /// server stops.
    async fn drive<I, S>(mut self, io: I, service: S)
    where
        I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
        S: hyper::service::Service<Request<Incoming>, Response = Response<Full<Bytes>>> + Send,
        S::Future: Send + 'static,
        S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let limits = self.limits;
        let connection = self.http.serve_connection(TokioIo::new(io), service);
        tokio::pin!(connection);
        // A client that hangs up or times out ends only its own connection.
        let last_call = tokio::select! {
            _ = connection.as_mut() => None,
            () = tokio::time::sleep(limits.max_connection_age) => Some(limits.request_timeout),
            _ = self.stopped.wait_for(|stop| *stop) => Some(limits.shutdown_grace),
        };
        if let Some(grace) = last_call {
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(grace, connection).await;
        }
    }
}

/// A request answered by `handler` within `timeout`, else 503.
async fn answer<H, F>(
    handler: H,
    timeout: Duration,
    request: Request<Incoming>,
) -> Response<Full<Bytes>>
where
    H: Fn(Request<Incoming>) -> F,
    F: Future<Output = Response<Full<Bytes>>>,
{
    tokio::time::timeout(timeout, handler(request))
        .await
        .unwrap_or_else(|_| super::plain(StatusCode::SERVICE_UNAVAILABLE, "request timed out\n"))
}

fn plain_service<H, F>(
    handler: H,
    timeout: Duration,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = Response<Full<Bytes>>,
    Error = std::convert::Infallible,
    Future = impl Future<Output = Result<Response<Full<Bytes>>, std::convert::Infallible>> + Send,
> + Send
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    service_fn(move |request: Request<Incoming>| {
        let handler = handler.clone();
        async move { Ok(answer(handler, timeout, request).await) }
    })
}

/// The service of a connection under a web configuration: rate limit and basic auth before
/// the handler (all within the request timeout), the configured headers on every answer.
#[cfg(feature = "tls")]
fn guarded<H, F>(
    handler: H,
    timeout: Duration,
    web: Arc<super::Web>,
    active: Arc<super::web::Active>,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = Response<Full<Bytes>>,
    Error = std::convert::Infallible,
    Future = impl Future<Output = Result<Response<Full<Bytes>>, std::convert::Infallible>> + Send,
> + Send
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    service_fn(move |request: Request<Incoming>| {
        let handler = handler.clone();
        let (web, active) = (Arc::clone(&web), Arc::clone(&active));
        async move {
            let authorization = request.headers().get(hyper::header::AUTHORIZATION).cloned();
            let checked = tokio::time::timeout(timeout, web.admit(&active, authorization.as_ref()));
            let mut response = match checked.await {
                Ok(None) => answer(handler, timeout, request).await,
                Ok(Some(refusal)) => refusal,
                Err(_) => super::plain(StatusCode::SERVICE_UNAVAILABLE, "request timed out\n"),
            };
            active.add_headers(&mut response);
            Ok(response)
        }
    })
}

async fn route(
    service: &MetricsService,
    path: &str,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    if request.uri().path() == path {
        return service.handle(request).await;
    }
    super::plain(StatusCode::NOT_FOUND, "not found\n")
}

/// Serves `registry` on `addr` at `/metrics` with default options until Ctrl-C.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// let registry = prometheus_client::Registry::new();
/// prometheus_client::http::serve("127.0.0.1:9898", registry).await
/// # }
/// ```
pub async fn serve(addr: impl ToSocketAddrs, registry: Registry) -> io::Result<()> {
    Server::builder(registry).bind(addr).await?.serve().await
}
