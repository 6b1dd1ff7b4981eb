//! Kinesis queues: durable, at-least-once delivery of a stream's records to many
//! consumer instances, with visibility timeouts and built-in dead-letter records.
//!
//! The component [`Queues`] owns the queue log, a [`ShardLog`] of its own under
//! `<data-dir>/queues` with one storage stream per queue (see [`stored`] for what it
//! keeps), and the live queues. Each [`Queue`] has its definition, its delivery state
//! ([`state::QueueState`]) behind an async mutex, and a [`Notify`] that wakes waiting
//! receives whenever records may have become receivable.
//!
//! Durability: every state change is journaled (one append through the log's group
//! commit) before it is applied and before the operation is answered, and a restart
//! replays the journal after the latest snapshot; see `Queues::journal`.
//!
//! Modules: `model` (requests and results), `state`
//! (the state machine), `stored` (definition, snapshot and journal formats), `receipt`
//! (receipt handles). Whole-request failures are [`crate::QueueError`] (`queue_error.rs`,
//! a leaf, so `error` does not depend on this module). The operations are in
//! `engine/queues.rs` and, those that read the stream, `queue_delivery.rs`.

pub mod model;
pub(crate) mod receipt;
pub(crate) mod state;
pub(crate) mod stored;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::RwLock;
use rheo_storage::{AppendRecord, Clock, FileSystem, LogConfig, NewStream, ShardLog, StreamProps};
use serde_json::{Map, Value};
use tokio::sync::Notify;

use crate::error::{EngineError, Result};
use crate::limits::{
    QUEUE_JOURNAL_READ_BYTES, QUEUE_JOURNAL_READ_RECORDS, QUEUE_JOURNAL_RETENTION_HOURS, QUEUE_SNAPSHOT_EVERY_BATCHES,
    QUEUE_SNAPSHOT_MAX_AGE_MS,
};
use crate::token::TokenKey;
use state::{Event, QueueState};
use stored::{JournalBatch, QueueDef, Snapshot, DEF_KEY, FORMAT_VERSION, SNAPSHOT_KEY};

/// The queue log's folder under the data folder.
pub(crate) const LOG_DIR: &str = "queues";

/// A queue's delivery state and its journal position; behind [`Queue::live`].
pub(crate) struct Live {
    pub state: QueueState,
    /// The last journal record applied.
    journal_lsn: u64,
    /// Journal records since the last snapshot.
    batches_since_snapshot: u64,
    /// When the last snapshot was written (or the queue was loaded), epoch ms.
    snapshot_ms: u64,
}

/// One live queue.
pub(crate) struct Queue {
    /// Its storage stream in the queue log; never reused, so receipt handles name it.
    pub storage_id: u64,
    /// The journal shard's uid.
    journal_shard: u64,
    def: RwLock<QueueDef>,
    /// The delivery state. Every change takes this lock, journals, then applies.
    pub live: tokio::sync::Mutex<Live>,
    /// Woken (all waiters) after every change that may make records receivable.
    pub notify: Notify,
    /// Set once the queue is removed: a receive still holding it stops.
    removed: AtomicBool,
}

impl Queue {
    fn new(storage_id: u64, journal_shard: u64, def: QueueDef, live: Live) -> Self {
        Queue {
            storage_id,
            journal_shard,
            def: RwLock::new(def),
            live: tokio::sync::Mutex::new(live),
            notify: Notify::new(),
            removed: AtomicBool::new(false),
        }
    }

    /// The definition now.
    pub fn def(&self) -> QueueDef {
        self.def.read().clone()
    }

    /// Whether the queue's deletion has finished at `now_ms`, without copying its definition.
    pub fn gone_at(&self, now_ms: u64) -> bool {
        self.def.read().gone_at(now_ms)
    }

    /// Whether the queue was removed for good.
    pub fn removed(&self) -> bool {
        self.removed.load(Ordering::Acquire)
    }
}

/// The queue component; see the module documentation.
pub(crate) struct Queues {
    log: ShardLog,
    key: TokenKey,
    /// Live queues by name.
    queues: RwLock<BTreeMap<String, Arc<Queue>>>,
}

impl Queues {
    /// Opens (recovering) the queue log under `data_dir` and replays every queue.
    pub fn open(
        fs: Arc<dyn FileSystem>,
        clock: Arc<dyn Clock>,
        data_dir: &Path,
        log_config: LogConfig,
        key: TokenKey,
    ) -> Result<Self> {
        let dir = data_dir.join(LOG_DIR);
        fs.create_dir_all(&dir).map_err(|source| {
            EngineError::Storage(rheo_storage::StorageError::Io {
                operation: "create queue folder",
                path: dir.clone(),
                source,
            })
        })?;
        let log = ShardLog::open(fs, clock, &dir, log_config)?;
        let queues = Queues { log, key, queues: RwLock::new(BTreeMap::new()) };
        for meta in queues.log.streams() {
            let Some(def) = QueueDef::from_settings(&meta.props.settings) else {
                tracing::error!(message = "Queue without a readable definition; not serving it.", queue = %meta.name);
                continue;
            };
            let Some(shard) = meta.shards.first() else { continue };
            let snapshot = Snapshot::from_settings(&meta.props.settings).unwrap_or_default();
            let mut state = QueueState::from_stored(snapshot.state);
            let mut from = snapshot.covered_lsn.max(shard.created_lsn).saturating_add(1);
            let mut journal_lsn = snapshot.covered_lsn;
            let mut replayed = 0;
            loop {
                let batch = queues.log.read(shard.uid, from, QUEUE_JOURNAL_READ_RECORDS, QUEUE_JOURNAL_READ_BYTES)?;
                let Some(last) = batch.records.last() else { break };
                journal_lsn = last.lsn;
                replayed += batch.records.len() as u64;
                for record in &batch.records {
                    match JournalBatch::decode(&record.data) {
                        Some(events) => events.iter().for_each(|event| state.apply(event)),
                        None => {
                            tracing::error!(message = "Unreadable queue journal record skipped.", queue = %def.name, lsn = record.lsn)
                        }
                    }
                }
                from = batch.next_lsn;
            }
            // A replayed journal is snapshotted by the first reaper pass (snapshot age
            // "infinite"), so the next restart needs none of it.
            let snapshot_ms = if replayed > 0 { 0 } else { queues.log.now_ms() };
            let live = Live { state, journal_lsn, batches_since_snapshot: replayed, snapshot_ms };
            let queue = Queue::new(meta.stream_id, shard.uid, def.clone(), live);
            queues.queues.write().insert(def.name, Arc::new(queue));
        }
        Ok(queues)
    }

    /// The queue log's counters.
    pub fn log_stats(&self) -> rheo_storage::LogStats {
        self.log.stats()
    }

    /// The token key receipt handles are sealed with.
    pub fn key(&self) -> &TokenKey {
        &self.key
    }

    /// Every queue, by name.
    pub fn all(&self) -> Vec<Arc<Queue>> {
        self.queues.read().values().cloned().collect()
    }

    /// The queue with this name.
    pub fn by_name(&self, name: &str) -> Option<Arc<Queue>> {
        self.queues.read().get(name).cloned()
    }

    /// The queue whose ARN resource id is this.
    pub fn by_resource_id(&self, resource_id: &str) -> Option<Arc<Queue>> {
        self.queues.read().values().find(|q| q.def.read().resource_id == resource_id).cloned()
    }

    /// Queues on the stream with this name at `now_ms`: DELETING ones count until their
    /// deletion finishes, whether or not the reaper has removed them yet.
    pub fn count_on_stream(&self, stream_name: &str, now_ms: u64) -> usize {
        let counts = |def: &QueueDef| def.stream_name == stream_name && !def.gone_at(now_ms);
        self.queues.read().values().filter(|q| counts(&q.def.read())).count()
    }

    /// Creates a queue whose state starts as `initial`.
    pub async fn create(&self, def: QueueDef, initial: QueueState) -> Result<Arc<Queue>> {
        let now = self.log.now_ms();
        let mut settings = Map::new();
        settings.insert(DEF_KEY.into(), def.to_value());
        settings.insert(SNAPSHOT_KEY.into(), snapshot_value(&initial, 0));
        let spec = NewStream {
            name: def.name.clone(),
            shards: vec![(0, u128::MAX)],
            props: StreamProps { retention_hours: QUEUE_JOURNAL_RETENTION_HOURS, settings, ..Default::default() },
        };
        let meta = self.log.create_stream(spec).await?;
        let shard = meta.shards.first().ok_or_else(|| EngineError::Internal("queue journal has no shard".into()))?;
        let live = Live { state: initial, journal_lsn: 0, batches_since_snapshot: 0, snapshot_ms: now };
        let queue = Arc::new(Queue::new(meta.stream_id, shard.uid, def.clone(), live));
        self.queues.write().insert(def.name, queue.clone());
        Ok(queue)
    }

    /// Changes a queue's definition durably.
    pub async fn update_def(&self, queue: &Queue, edit: impl FnOnce(&mut QueueDef)) -> Result<QueueDef> {
        let mut def = queue.def();
        edit(&mut def);
        let value = def.to_value();
        self.log
            .update_stream(queue.storage_id, move |txn| {
                txn.props_mut().settings.insert(DEF_KEY.into(), value);
                Ok(())
            })
            .await?;
        *queue.def.write() = def.clone();
        Ok(def)
    }

    /// Removes a queue for good: its journal and state go.
    pub async fn remove(&self, queue: &Queue) -> Result<()> {
        self.log.delete_stream(queue.storage_id).await?;
        let name = queue.def().name;
        self.queues.write().remove(&name);
        queue.removed.store(true, Ordering::Release);
        // Receives waiting on it see it gone.
        queue.notify.notify_waiters();
        Ok(())
    }

    /// Journals `events` as one record, then applies them; answers only once they are
    /// durable. Wakes waiting receives. Takes a snapshot now and then.
    pub async fn journal(&self, queue: &Queue, live: &mut Live, events: Vec<Event>) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let data = Bytes::from(JournalBatch::encode(&events));
        let record =
            AppendRecord { shard_uid: queue.journal_shard, partition_key: Bytes::new(), explicit_hash_key: None, data };
        let appended = self.log.append(vec![record]).await?;
        let lsn = match appended.into_iter().next() {
            Some(Ok(appended)) => appended.lsn,
            Some(Err(error)) => return Err(error.into()),
            None => return Err(EngineError::Internal("queue journal append answered nothing".into())),
        };
        for event in &events {
            live.state.apply(event);
        }
        live.journal_lsn = lsn;
        live.batches_since_snapshot += 1;
        queue.notify.notify_waiters();
        if live.batches_since_snapshot >= QUEUE_SNAPSHOT_EVERY_BATCHES {
            self.snapshot(queue, live).await?;
        }
        Ok(())
    }

    /// Writes a snapshot of the state and the journal LSN it covers.
    async fn snapshot(&self, queue: &Queue, live: &mut Live) -> Result<()> {
        let value = snapshot_value(&live.state, live.journal_lsn);
        self.log
            .update_stream(queue.storage_id, move |txn| {
                txn.props_mut().settings.insert(SNAPSHOT_KEY.into(), value);
                Ok(())
            })
            .await?;
        live.batches_since_snapshot = 0;
        live.snapshot_ms = self.log.now_ms();
        Ok(())
    }

    /// Snapshots every queue with journal records older than
    /// [`QUEUE_SNAPSHOT_MAX_AGE_MS`], so the journal a restart needs stays well inside the
    /// journal's retention.
    pub async fn maintain(&self) -> Result<()> {
        let now = self.log.now_ms();
        for queue in self.all() {
            let mut live = queue.live.lock().await;
            if live.batches_since_snapshot > 0 && now.saturating_sub(live.snapshot_ms) >= QUEUE_SNAPSHOT_MAX_AGE_MS {
                self.snapshot(&queue, &mut live).await?;
            }
        }
        Ok(())
    }

    /// Stops the queue log's writer after queued work.
    pub fn shutdown(self) {
        self.log.shutdown();
    }
}

fn snapshot_value(state: &QueueState, covered_lsn: u64) -> Value {
    Snapshot { version: FORMAT_VERSION, covered_lsn, state: state.to_stored() }.to_value()
}
