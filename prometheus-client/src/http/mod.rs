//! `/metrics` over HTTP (feature `http`): a ready [`Server`], and a [`MetricsService`] to mount
//! in a hyper or axum application that already runs.
//!
//! Both negotiate the format from `Accept` as client_golang does (OpenMetrics 1.0 when asked,
//! else text 0.0.4), compress with gzip when `Accept-Encoding` allows, answer `HEAD`, refuse
//! other methods with `405` and `Allow`, and protect the process: a cap on concurrent encodes
//! (excess scrapes get `503` at once), and, for the server, a cap on connections and a
//! header-read timeout against clients that send one byte at a time. An encoding that fails or
//! panics gives `500` with a short reason, is counted, and the next scrape works. With the
//! `tls` feature, a [`WebConfig`] (exporter-toolkit's file) adds TLS, client certificates,
//! basic auth, a rate limit and extra headers.
//!
//! ```no_run
//! use prometheus_client::{Counter, Registry, http::Server};
//!
//! # async fn run() -> std::io::Result<()> {
//! let registry = Registry::new();
//! let jobs = registry.register("jobs", "Jobs done.", Counter::new()).expect("valid");
//! jobs.inc();
//! let server = Server::builder(registry).bind("127.0.0.1:9898").await?;
//! println!("serving on http://{}/metrics", server.local_addr()?);
//! server.serve().await // until Ctrl-C
//! # }
//! ```

mod server;
mod service;
#[cfg(feature = "tls")]
pub(crate) mod tls;
#[cfg(feature = "tls")]
mod web;
#[cfg(feature = "tls")]
pub(crate) mod web_config;

pub use server::{serve, Server, ServerBuilder};
#[cfg(feature = "pull")]
pub(crate) use server::{serve_connections, ConnectionLimits, Guard};
pub use service::{MetricsService, MetricsServiceBuilder};
#[cfg(feature = "tls")]
pub(crate) use web::Web;
#[cfg(feature = "tls")]
pub use web_config::{WebConfig, WebConfigError};

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};

/// A response with this status, content type and body: what every endpoint here answers.
pub(crate) fn response(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A `text/plain` response.
pub(crate) fn plain(status: StatusCode, text: impl Into<Bytes>) -> Response<Full<Bytes>> {
    response(status, "text/plain; charset=utf-8", text)
}
