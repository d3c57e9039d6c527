//! The prediction log's queue: serving hands each record over without waiting (a bounded
//! channel, `try_send`), a writer task stores them in batches, and a full queue sheds
//! records and counts them. Closing the log stores everything still queued.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bascule_core::{MetadataStore, PredictionRecord};
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::task::JoinHandle;

/// The log's counters since start-up.
#[derive(Debug, Default)]
pub struct LogCounters {
    /// Records handed to the queue.
    pub accepted: AtomicU64,
    /// Records stored.
    pub written: AtomicU64,
    /// Records dropped because the queue was full (or closed).
    pub shed: AtomicU64,
    /// Records dropped because the store refused a batch.
    pub failed: AtomicU64,
}

/// A snapshot of the counters and the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogStats {
    pub accepted: u64,
    pub written: u64,
    pub shed: u64,
    pub failed: u64,
    /// Accepted and not stored yet: in the queue, or in the batch being gathered or
    /// written (so accepted = written + failed + queued once the counters settle).
    pub queued: u64,
    /// How many records the queue holds before it sheds.
    pub capacity: u64,
}

#[derive(Debug)]
pub struct PredictionLog {
    sender: mpsc::Sender<PredictionRecord>,
    capacity: usize,
    counters: Arc<LogCounters>,
    writer: Mutex<Option<(oneshot::Sender<()>, JoinHandle<()>)>>,
    /// `false` when the operator turned the log off: records are neither queued nor
    /// counted (monitoring then has no production data).
    enabled: bool,
}

impl PredictionLog {
    /// Starts the writer task: it stores up to `batch` records per transaction, letting a
    /// batch gather for `gather` after its first record (see [`DEFAULT_GATHER`]).
    pub fn start(
        store: Arc<dyn MetadataStore>,
        capacity: usize,
        batch: usize,
        gather: Duration,
    ) -> Self {
        let capacity = capacity.max(1);
        let (sender, receiver) = mpsc::channel(capacity);
        let (stop, stopped) = oneshot::channel();
        let counters = Arc::new(LogCounters::default());
        let task = tokio::spawn(write_batches(
            store,
            receiver,
            stopped,
            batch.max(1),
            gather,
            counters.clone(),
        ));
        PredictionLog {
            sender,
            capacity,
            counters,
            writer: Mutex::new(Some((stop, task))),
            enabled: true,
        }
    }

    /// A log that keeps nothing (`BASCULE_PREDICTION_LOG=off`): for benchmarks and for
    /// deployments whose inputs must not be stored.
    pub fn disabled(store: Arc<dyn MetadataStore>) -> Self {
        let mut log = PredictionLog::start(store, 1, 1, Duration::ZERO);
        log.enabled = false;
        log
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Queues a record; never waits. A full or closed queue sheds it, counted.
    pub fn record(&self, record: PredictionRecord) {
        if !self.enabled {
            return;
        }
        match self.sender.try_send(record) {
            Ok(()) => self.counters.accepted.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.counters.shed.fetch_add(1, Ordering::Relaxed),
        };
    }

    pub fn stats(&self) -> LogStats {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        // Stored first: a record counted as written was accepted before, so reading
        // `accepted` last never shows more stored than accepted.
        let (written, failed) = (load(&self.counters.written), load(&self.counters.failed));
        let accepted = load(&self.counters.accepted);
        LogStats {
            accepted,
            written,
            shed: load(&self.counters.shed),
            failed,
            queued: accepted.saturating_sub(written + failed),
            capacity: self.capacity as u64,
        }
    }

    /// Waits until every record accepted before the call is stored (or failed), at most
    /// `timeout`; returns whether it got there. Serving goes on meanwhile.
    pub async fn flush(&self, timeout: Duration) -> bool {
        let target = self.counters.accepted.load(Ordering::Relaxed);
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let done = self.counters.written.load(Ordering::Relaxed)
                + self.counters.failed.load(Ordering::Relaxed);
            if done >= target {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Stops accepting, stores everything queued and waits for the writer. Idempotent.
    pub async fn close(&self) -> LogStats {
        let writer = self.writer.lock().await.take();
        if let Some((stop, task)) = writer {
            let _ = stop.send(());
            if let Err(error) = task.await {
                tracing::error!(%error, "the prediction log writer failed");
            }
        }
        self.stats()
    }
}

async fn write_batches(
    store: Arc<dyn MetadataStore>,
    mut receiver: mpsc::Receiver<PredictionRecord>,
    mut stop: oneshot::Receiver<()>,
    batch_size: usize,
    gather_for: Duration,
    counters: Arc<LogCounters>,
) {
    let mut batch = Vec::with_capacity(batch_size);
    loop {
        tokio::select! {
            received = receiver.recv_many(&mut batch, batch_size) => {
                if received == 0 {
                    break;
                }
                if batch.len() < batch_size {
                    gather(&mut receiver, &mut batch, batch_size, gather_for).await;
                }
                write(&*store, &mut batch, &counters).await;
            }
            _ = &mut stop => {
                receiver.close();
                while receiver.recv_many(&mut batch, batch_size).await > 0 {
                    write(&*store, &mut batch, &counters).await;
                }
                break;
            }
        }
    }
}

/// How long the writer lets a batch gather after its first record, by default
/// (`BASCULE_LOG_GATHER_MS`). Each transaction costs SQLite a commit (the WAL's last pages
/// written again) and the writer a wake-up and thread hand-overs per statement, whatever
/// its size: under load, batches of a few dozen records cost several times more per
/// record than batches of hundreds. A record waits at most this long longer to be stored;
/// serving never waits for it.
pub const DEFAULT_GATHER: Duration = Duration::from_millis(20);

/// Adds what arrives within `gather_for` to a batch that is not full yet. The writer
/// sleeps rather than waits on the queue, so senders wake nobody meanwhile.
async fn gather(
    receiver: &mut mpsc::Receiver<PredictionRecord>,
    batch: &mut Vec<PredictionRecord>,
    batch_size: usize,
    gather_for: Duration,
) {
    if !gather_for.is_zero() {
        tokio::time::sleep(gather_for).await;
    }
    while batch.len() < batch_size {
        match receiver.try_recv() {
            Ok(record) => batch.push(record),
            Err(_) => break,
        }
    }
}

async fn write(
    store: &dyn MetadataStore,
    batch: &mut Vec<PredictionRecord>,
    counters: &LogCounters,
) {
    let n_records = batch.len() as u64;
    match store.insert_predictions(batch).await {
        Ok(_) => counters.written.fetch_add(n_records, Ordering::Relaxed),
        Err(error) => {
            tracing::error!(%error, n_records, "cannot store predictions; they are dropped");
            counters.failed.fetch_add(n_records, Ordering::Relaxed)
        }
    };
    batch.clear();
}
