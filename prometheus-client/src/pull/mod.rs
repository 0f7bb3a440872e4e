//! A minimal pull server (feature `pull`): it scrapes targets, parses what they expose with
//! this crate's parser, stores the samples and answers PromQL queries over a subset of
//! Prometheus' HTTP API. It closes the loop — instrument, render, scrape, parse, store,
//! query — so a test can say "after two requests, `http_requests_total{method="GET"}` is 2"
//! and mean it end to end.
//!
//! What it does, it does as Prometheus does: the same `Accept` header, limits named as in
//! `scrape_config`, `job`/`instance` labels with `honor_labels`, all-or-nothing scrapes, the
//! synthetic `up` and `scrape_*` series, stale markers for series that disappear, and
//! Prometheus' arithmetic for `rate`, `increase` and `histogram_quantile`.
//!
//! ```no_run
//! use std::time::Duration;
//! use prometheus_client::pull::{Config, PullServer, QueryValue, Target};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::new()
//!     .scrape_interval(Duration::from_secs(1))
//!     .target(Target::new("http://127.0.0.1:9898/metrics").job("demo"));
//! let server = PullServer::start(config, "127.0.0.1:9090").await?;
//! server.wait_for_scrapes(2).await;
//! if let QueryValue::Vector(up) = server.query("up")? {
//!     assert_eq!(up[0].1, 1.0);
//! }
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod api;
mod chunk;
mod config;
mod connect;
mod exemplars;
mod instruments;
mod json;
mod protocols;
mod query;
#[cfg(feature = "remote-write")]
mod remote_write;
mod scrape;
mod scrape_cache;
mod series_set;
mod storage;
mod target;
#[cfg(feature = "tls")]
mod tls;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use chunk::{ChunkFull, XorChunk, XorIter};
pub use config::{parse_duration, ApiLimits, BasicAuth, Config, ConfigError, Limits, Target};
pub use exemplars::StoredExemplar;
pub use protocols::{accept_header, ScrapeProtocol};
pub use query::{
    instant_query, range_query, QueryEngine, QueryError, QueryLimits, QueryValue, LOOKBACK_MS,
    MAX_POINTS_PER_SERIES,
};
#[cfg(feature = "remote-write")]
pub use remote_write::{RemoteWrite, RemoteWriteStats};
pub use scrape::{ScrapeError, ACCEPT, MAX_FUTURE_MS};
pub use storage::{
    is_stale, series_labels, AppendError, AppendStats, Histogram, HistogramSeries, Matcher,
    MemoryStorage, SelectError, SelectLimits, Series, SeriesLabels, Storage, STALE_NAN,
};
pub use target::TargetStatus;
#[cfg(feature = "tls")]
pub use tls::TlsConfig;

use crate::http::{serve_connections, ConnectionLimits, Guard, MetricsService};
use instruments::Instruments;

/// A running pull server: one scrape task per target, a retention task, and the HTTP API.
pub struct PullServer {
    storage: Arc<dyn Storage>,
    exemplars: Arc<exemplars::ExemplarStore>,
    engine: Arc<QueryEngine>,
    targets: Vec<Arc<Mutex<TargetStatus>>>,
    api_addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    api: JoinHandle<io::Result<()>>,
    /// The receivers, the signal that stops their senders, and the senders.
    #[cfg(feature = "remote-write")]
    remote_write: (
        remote_write::Forwarder,
        watch::Sender<bool>,
        Vec<JoinHandle<()>>,
    ),
}

impl PullServer {
    /// Starts scraping with an in-memory store, and serves the API on `listen`.
    pub async fn start(config: Config, listen: impl ToSocketAddrs) -> io::Result<PullServer> {
        let storage = Arc::new(MemoryStorage::with_max_series(config.max_series));
        Self::start_with_storage(config, listen, storage).await
    }

    /// Starts scraping into `storage`, and serves the API (and the server's own metrics, on
    /// `/metrics`) on `listen`. A configuration that [`Config::check`] refuses is an
    /// `InvalidInput` error. `storage` keeps its own series limit; `config.max_series`
    /// applies to the store [`start`](PullServer::start) makes.
    pub async fn start_with_storage(
        config: Config,
        listen: impl ToSocketAddrs,
        storage: Arc<dyn Storage>,
    ) -> io::Result<PullServer> {
        config
            .check()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        #[cfg(feature = "tls")]
        let guard = Guard {
            web: match &config.web_config {
                Some(web) => {
                    Some(Arc::new(crate::http::Web::new(web).map_err(|e| {
                        io::Error::new(io::ErrorKind::InvalidInput, e)
                    })?))
                }
                None => None,
            },
        };
        #[cfg(not(feature = "tls"))]
        let guard = Guard::default();
        #[cfg(feature = "tls")]
        if config.scrape_self
            && config
                .web_config
                .as_ref()
                .is_some_and(|w| w.has_tls() || w.has_basic_auth())
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "scrape_self cannot scrape an API behind TLS or basic auth: add it as a target with its tls_config and basic_auth",
            ));
        }
        let instruments = Instruments::new().map_err(io::Error::other)?;
        #[cfg(feature = "remote-write")]
        let forwarder =
            remote_write::Forwarder::new(&config.remote_write, |url| instruments.remote_write(url))
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let listener = TcpListener::bind(listen).await?;
        let api_addr = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let mut tasks = Vec::new();
        let mut targets = Vec::new();
        let exemplars = Arc::new(exemplars::ExemplarStore::new(config.max_exemplars));
        let mut scraped = config.targets.clone();
        if config.scrape_self {
            scraped.push(Target::new(format!("http://{api_addr}/metrics")).job("pull"));
        }
        for (i, target) in scraped.into_iter().enumerate() {
            let client = connect::Client::for_target(&target, &format!("targets[{i}]"))
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            let status = Arc::new(Mutex::new(TargetStatus {
                target: target.clone(),
                up: None,
                last_error: String::new(),
                last_scrape: 0,
                last_duration: Duration::ZERO,
                scrapes: 0,
                out_of_order: 0,
                duplicates: 0,
            }));
            targets.push(Arc::clone(&status));
            let context = target::LoopContext {
                interval: config.scrape_interval,
                timeout: config.scrape_timeout.min(config.scrape_interval),
                retention: config.retention,
                storage: Arc::clone(&storage),
                instruments: instruments.clone(),
                client,
                exemplars: Arc::clone(&exemplars),
                #[cfg(feature = "remote-write")]
                forwarder: forwarder.clone(),
            };
            tasks.push(tokio::spawn(target::run(
                target,
                context,
                status,
                stopped.clone(),
            )));
        }
        tasks.push(tokio::spawn(retention(
            Arc::clone(&storage),
            config.retention,
            instruments.clone(),
            stopped.clone(),
        )));
        // The senders stop after the scrapes, so what the last scrape stored is sent too.
        #[cfg(feature = "remote-write")]
        let (senders_stop, senders) = {
            let (stop, stopped) = watch::channel(false);
            (stop, forwarder.spawn(&stopped))
        };
        let engine = Arc::new(QueryEngine::new(config.query));
        let api = api::Api {
            storage: Arc::clone(&storage),
            engine: Arc::clone(&engine),
            metrics: MetricsService::new(instruments.registry.clone()),
            instruments,
            targets: targets.clone(),
            max_form_bytes: config.api.max_form_bytes,
            exemplars: Arc::clone(&exemplars),
        };
        // A query may take its whole timeout, its form a while to arrive.
        let request_timeout = config.query.timeout.saturating_add(Duration::from_secs(10));
        let limits = ConnectionLimits {
            header_read_timeout: config.api.header_read_timeout,
            max_connections: config.api.max_connections,
            max_header_bytes: config.api.max_header_bytes,
            request_timeout,
            max_connection_age: config.api.max_connection_age.max(request_timeout),
            shutdown_grace: Duration::from_secs(2),
        };
        let mut api_stopped = stopped;
        let api = tokio::spawn(serve_connections(
            listener,
            limits,
            guard,
            async move {
                let _ = api_stopped.wait_for(|stop| *stop).await;
            },
            move |request| {
                let api = api.clone();
                async move { api.handle(request).await }
            },
        ));
        Ok(PullServer {
            storage,
            exemplars,
            engine,
            targets,
            api_addr,
            stop,
            tasks,
            api,
            #[cfg(feature = "remote-write")]
            remote_write: (forwarder, senders_stop, senders),
        })
    }

    /// What each remote write receiver's queue has done (feature `remote-write`).
    #[cfg(feature = "remote-write")]
    pub fn remote_write_stats(&self) -> Vec<RemoteWriteStats> {
        self.remote_write.0.stats()
    }

    /// Where the HTTP API listens.
    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    /// The store.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// Each target's state.
    pub fn targets(&self) -> Vec<TargetStatus> {
        self.targets.iter().map(|t| t.lock().clone()).collect()
    }

    /// Evaluates `promql` now, within the configured [`QueryLimits`] (the calling thread
    /// waits; the query runs on a thread of its own).
    pub fn query(&self, promql: &str) -> Result<QueryValue, QueryError> {
        self.engine
            .instant(self.storage.as_ref(), promql, target::now_ms())
    }

    /// The exemplars stored in `[start, end]` (ms since the epoch) for the series any selector
    /// of `promql` matches, grouped by series, as `/api/v1/query_exemplars` answers.
    ///
    /// ```no_run
    /// # use prometheus_client::pull::{Config, PullServer};
    /// # async fn run(server: PullServer) -> Result<(), Box<dyn std::error::Error>> {
    /// for (series, exemplars) in server.query_exemplars("http_requests_total", 0, i64::MAX)? {
    ///     for exemplar in exemplars {
    ///         println!("{series:?}: {:?} {} at {}", exemplar.labels, exemplar.value, exemplar.timestamp);
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn query_exemplars(
        &self,
        promql: &str,
        start: i64,
        end: i64,
    ) -> Result<Vec<(SeriesLabels, Vec<StoredExemplar>)>, QueryError> {
        let selectors = self.engine.selectors_now(promql)?;
        Ok(self.exemplars.select(&selectors, start, end))
    }

    /// Waits until every target has finished at least `n` more scrapes than now.
    pub async fn wait_for_scrapes(&self, n: u64) {
        let goal: Vec<u64> = self.targets.iter().map(|t| t.lock().scrapes + n).collect();
        while self
            .targets
            .iter()
            .zip(&goal)
            .any(|(t, g)| t.lock().scrapes < *g)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops scraping and serving, and waits until everything has. Samples queued for remote
    /// write are sent first while their receivers answer; a batch that fails then is dropped
    /// (and counted).
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        #[cfg(feature = "remote-write")]
        {
            let (_, stop, senders) = self.remote_write;
            let _ = stop.send(true);
            for sender in senders {
                let _ = sender.await;
            }
        }
        let _ = self.api.await;
    }
}

impl std::fmt::Debug for PullServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PullServer")
            .field("api_addr", &self.api_addr)
            .field("targets", &self.targets.len())
            .finish_non_exhaustive()
    }
}

/// Drops samples older than the retention, once a minute (or retention/10, if shorter).
async fn retention(
    storage: Arc<dyn Storage>,
    keep: Duration,
    instruments: Instruments,
    mut stop: watch::Receiver<bool>,
) {
    let every = (keep / 10).clamp(Duration::from_millis(100), Duration::from_secs(60));
    let keep_ms = i64::try_from(keep.as_millis()).unwrap_or(i64::MAX);
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
        storage.drop_before(target::now_ms().saturating_sub(keep_ms));
        instruments.series(storage.series_count());
    }
}
