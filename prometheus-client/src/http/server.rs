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
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::Semaphore;

use super::MetricsService;
use crate::Registry;

/// A bound `/metrics` server. Create it with [`Server::builder`].
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    service: MetricsService,
    path: Arc<str>,
    header_read_timeout: Duration,
    max_connections: usize,
    shutdown_grace: Duration,
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
    header_read_timeout: Duration,
    max_connections: usize,
    shutdown_grace: Duration,
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
        self.header_read_timeout = timeout;
        self
    }

    /// How many connections are served at once (default 256); further clients wait in the
    /// listen backlog until one closes.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// How long shutdown waits for requests in progress (default 5 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Binds the listening socket.
    pub async fn bind(self, addr: impl ToSocketAddrs) -> io::Result<Server> {
        Ok(Server {
            listener: TcpListener::bind(addr).await?,
            service: self.service,
            path: self.path.into(),
            header_read_timeout: self.header_read_timeout,
            max_connections: self.max_connections,
            shutdown_grace: self.shutdown_grace,
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
            header_read_timeout: Duration::from_secs(10),
            max_connections: 256,
            shutdown_grace: Duration::from_secs(5),
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
        let limits = ConnectionLimits {
            header_read_timeout: self.header_read_timeout,
            max_connections: self.max_connections,
            shutdown_grace: self.shutdown_grace,
        };
        let (service, path) = (self.service, self.path);
        serve_connections(self.listener, limits, shutdown, move |request| {
            let service = service.clone();
            let path = Arc::clone(&path);
            async move { route(&service, &path, request).await }
        })
        .await
    }
}

/// How the accept loop protects the process.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnectionLimits {
    pub(crate) header_read_timeout: Duration,
    pub(crate) max_connections: usize,
    pub(crate) shutdown_grace: Duration,
}

/// Accepts HTTP/1 connections on `listener` and answers each request with `handler`, until
/// `shutdown` completes; then stops accepting and lets requests in progress finish (for at
/// most the grace period).
pub(crate) async fn serve_connections<H, F>(
    listener: TcpListener,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
    handler: H,
) -> io::Result<()>
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
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
        let handler = handler.clone();
        let service = service_fn(move |request: Request<Incoming>| {
            let answer = handler(request);
            async move { Ok::<_, std::convert::Infallible>(answer.await) }
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A client that hangs up or times out ends only its own connection.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_grace) => {}
    }
    Ok(())
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
