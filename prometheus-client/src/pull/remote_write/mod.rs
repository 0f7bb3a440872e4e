//! Forwarding what the pull server stores to receivers of Prometheus' remote write 1.0
//! protocol (feature `remote-write`): per receiver, a bounded queue in shards, each shard
//! posting snappy-compressed protobuf batches and retrying what is worth retrying.

mod config;
mod proto;
mod queue;
mod send;

use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::RemoteWrite;
use queue::Queue;
pub(crate) use queue::{Pending, QueueMetrics};
use send::{send, Outcome};

use super::connect::Client;

/// What a receiver's queue has done since the server started.
///
/// ```no_run
/// # async fn run(server: prometheus_client::pull::PullServer) {
/// for stats in server.remote_write_stats() {
///     println!("{}: {} sent, {} dropped, {} pending", stats.url, stats.sent, stats.dropped, stats.pending);
/// }
/// # }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RemoteWriteStats {
    /// The receiver.
    pub url: String,
    /// Samples the receiver took.
    pub sent: u64,
    /// Samples in batches the receiver refused for good (a 4xx answer).
    pub failed: u64,
    /// Samples in batches sent again after a 5xx, a network error or a timeout (counted once
    /// per retry).
    pub retried: u64,
    /// Samples that found the queue full, or were still unsent when the server stopped.
    pub dropped: u64,
    /// Samples waiting, or being sent.
    pub pending: usize,
    /// The last error a request met, or "".
    pub last_error: String,
}

/// One receiver: its configuration, client, queue and last error.
struct Receiver {
    remote: RemoteWrite,
    client: Client,
    queue: Queue,
    last_error: Mutex<String>,
}

/// The receivers the pull server forwards to.
#[derive(Clone, Default)]
pub(crate) struct Forwarder {
    receivers: Arc<[Arc<Receiver>]>,
}

impl Forwarder {
    /// A forwarder to `remotes` (checked already, by [`Config::check`](super::Config::check)),
    /// with its metrics from `metrics_for(url)`.
    pub(crate) fn new(
        remotes: &[RemoteWrite],
        metrics_for: impl Fn(&str) -> QueueMetrics,
    ) -> Result<Forwarder, super::ConfigError> {
        let mut receivers = Vec::new();
        for (i, remote) in remotes.iter().enumerate() {
            let at = format!("remote_write[{i}]");
            #[cfg(feature = "tls")]
            let client = Client::for_url(&remote.url, &remote.tls_config, &at)?;
            #[cfg(not(feature = "tls"))]
            let client = Client::default();
            let metrics = metrics_for(&remote.url);
            receivers.push(Arc::new(Receiver {
                queue: Queue::new(remote.shards, remote.capacity, metrics),
                remote: remote.clone(),
                client,
                last_error: Mutex::new(String::new()),
            }));
        }
        Ok(Forwarder {
            receivers: receivers.into(),
        })
    }

    /// Whether there is anyone to forward to.
    pub(crate) fn is_empty(&self) -> bool {
        self.receivers.is_empty()
    }

    /// Queues stored samples for every receiver.
    pub(crate) fn forward(&self, samples: Vec<Pending>) {
        if samples.is_empty() {
            return;
        }
        if let Some((last, others)) = self.receivers.split_last() {
            for receiver in others {
                receiver.queue.push(samples.clone());
            }
            last.queue.push(samples);
        }
    }

    /// Starts every receiver's shards; they run until `stop` turns true and their queues are
    /// empty (or their receiver stops answering).
    pub(crate) fn spawn(&self, stop: &watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
        let mut tasks = Vec::new();
        for receiver in self.receivers.iter() {
            for shard in 0..receiver.queue.shards() {
                let receiver = Arc::clone(receiver);
                tasks.push(tokio::spawn(run_shard(receiver, shard, stop.clone())));
            }
        }
        tasks
    }

    pub(crate) fn stats(&self) -> Vec<RemoteWriteStats> {
        self.receivers
            .iter()
            .map(|r| {
                let m = &r.queue.metrics;
                RemoteWriteStats {
                    url: r.remote.url.clone(),
                    sent: m.sent.get(),
                    failed: m.failed.get(),
                    retried: m.retried.get(),
                    dropped: m.dropped.get(),
                    pending: r.queue.pending(),
                    last_error: r.last_error.lock().clone(),
                }
            })
            .collect()
    }
}

/// Sends shard `shard`'s batches until the queue is stopped and empty. A batch worth
/// retrying is sent again after a backoff, for as long as the server runs; once it is
/// stopping, the first batch that fails is dropped with all the shard still holds (and
/// counted), so stopping waits on a receiver that is down for one request at most.
async fn run_shard(receiver: Arc<Receiver>, shard: usize, mut stop: watch::Receiver<bool>) {
    let remote = &receiver.remote;
    let metrics = &receiver.queue.metrics;
    let mut giving_up = false;
    while let Some(batch) = receiver
        .queue
        .next_batch(
            shard,
            remote.max_samples_per_send,
            remote.batch_send_deadline,
            &mut stop,
        )
        .await
    {
        let n = batch.len() as u64;
        if giving_up {
            metrics.dropped.inc_by(n);
            receiver.queue.done(batch.len());
            continue;
        }
        let body = match proto::body(&batch) {
            Ok(body) => bytes::Bytes::from(body),
            Err(e) => {
                metrics.failed.inc_by(n);
                *receiver.last_error.lock() = format!("cannot compress a batch: {e}");
                receiver.queue.done(batch.len());
                continue;
            }
        };
        let mut backoff = remote.min_backoff;
        loop {
            match send(remote, &receiver.client, body.clone()).await {
                Outcome::Sent => {
                    metrics.sent.inc_by(n);
                    break;
                }
                Outcome::Fail(error) => {
                    metrics.failed.inc_by(n);
                    *receiver.last_error.lock() = error;
                    break;
                }
                Outcome::Retry(error) => {
                    *receiver.last_error.lock() = error;
                    if *stop.borrow() {
                        metrics.dropped.inc_by(n);
                        giving_up = true;
                        break;
                    }
                    metrics.retried.inc_by(n);
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        _ = stop.changed() => {}
                    }
                    backoff = backoff.saturating_mul(2).min(remote.max_backoff);
                }
            }
        }
        receiver.queue.done(batch.len());
    }
}
