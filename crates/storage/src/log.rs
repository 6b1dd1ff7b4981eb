//! The shard log: one shared commit log for all shards, per-shard in-memory indexes,
//! a single writer thread with group commit, retention and recovery.
//!
//! # Design
//! - **One writer.** Every change (appends and metadata alike) goes through one bounded
//!   queue to one thread. It drains whatever is waiting, writes all pending appends as
//!   one frame with one `write`, makes it durable with one `fdatasync`, then publishes
//!   and acknowledges them. Concurrent appends therefore share a sync (group commit),
//!   and 10,000 shards cost one file and one sync per commit, not one per shard.
//! - **LSNs.** The writer numbers records with a global log sequence number. It only
//!   grows, so it is strictly increasing within each shard and never reused, across
//!   restarts too. Shard and stream ids are LSNs reserved at creation, and closing a
//!   shard reserves one more, so the ids can never collide with record numbers.
//! - **Visibility.** Readers see a record only after it is durable (or, in the relaxed
//!   mode, written), through per-shard chunk lists and a `watch` channel per shard that
//!   lets them wait for new records without polling.
//! - **Retention.** Segment files roll by size and age; a sealed segment is deleted once
//!   every record in it is past its own stream's retention, and reads hide records older
//!   than the retention before their file is gone.
//! - **Faults.** A failed fsync poisons the log (all later writes fail): after such a
//!   failure the kernel may have dropped the dirty pages while reporting the next fsync
//!   as successful. A full disk fails only the appends of that commit; the partial frame
//!   is cut off and later appends succeed once space is freed.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use tokio::sync::{oneshot, watch};

/// Maps keyed by shard uids (unique integers, not attacker-chosen), touched for every
/// chunk of every frame: a fast non-cryptographic hash instead of SipHash.
type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<rustc_hash::FxHasher>>;

use crate::clock::Clock;
use crate::error::{Result, StorageError};
use crate::format::{FrameBuilder, IndexEntry, SegmentHeader, StoredRecord, SEGMENT_HEADER_BYTES};
use crate::fs::{join, FileSystem, LockGuard, ReadFile, WriteFile};
use crate::limits::{
    APPEND_QUEUE_MAX, DELETE_STEP_BYTES, DELETE_STEP_PAUSE_MS, FRAME_BYTES_TARGET, LSN_MAX, PARTITION_KEY_BYTES_MAX,
    RECORD_DATA_BYTES_MAX, REPEATED_WARNING_INTERVAL_MS, RETENTION_CHECK_MS_DEFAULT, RETENTION_HOURS_MAX,
    RETENTION_HOURS_MIN, SCRUB_BYTES_PER_SEC, SEGMENT_AGE_MS_DEFAULT, SEGMENT_BYTES_DEFAULT,
};
use crate::meta::{MetaStore, ShardClose, ShardMeta, StreamMeta, StreamProps};
use crate::reserve;
use crate::stats::{Counters, LogStats};

/// When an append is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// After its bytes are on disk (fdatasync). The default.
    Sync,
    /// After its bytes are written to the operating system; the log is synced every
    /// `interval_ms`. A machine crash (not a process crash) can lose up to that much
    /// acknowledged data. For users who choose speed over safety, explicitly.
    Relaxed {
        /// Time between syncs.
        interval_ms: u64,
    },
    /// Never synced: for the in-memory filesystem, where syncing means nothing.
    Never,
}

/// What start-up does with damage in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoveryMode {
    /// Cut a torn tail (an incomplete or garbled last write, followed by nothing valid),
    /// and refuse to start if damage is followed by valid data. The default.
    TornTailOnly,
    /// Also cut the log at damage followed by valid data, discarding everything after
    /// it. Only on the operator's explicit request.
    TruncateAtCorruption,
}

/// Tuning of the log.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// When appends are acknowledged.
    pub durability: Durability,
    /// A segment rolls over past this size.
    pub segment_bytes_max: u64,
    /// A segment rolls over past this age.
    pub segment_age_ms_max: u64,
    /// How often idle time is used to apply retention.
    pub retention_check_ms: u64,
    /// What to do with damage at start-up.
    pub recovery: RecoveryMode,
    /// Pace of the background scrub of sealed segments after start (0: no scrub).
    pub scrub_bytes_per_sec: u64,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            durability: Durability::Sync,
            segment_bytes_max: SEGMENT_BYTES_DEFAULT,
            segment_age_ms_max: SEGMENT_AGE_MS_DEFAULT,
            retention_check_ms: RETENTION_CHECK_MS_DEFAULT,
            recovery: RecoveryMode::TornTailOnly,
            scrub_bytes_per_sec: SCRUB_BYTES_PER_SEC,
        }
    }
}

/// A record to append.
#[derive(Debug, Clone)]
pub struct AppendRecord {
    /// Target shard.
    pub shard_uid: u64,
    /// Partition key (UTF-8 bytes).
    pub partition_key: Bytes,
    /// Explicit hash key, if the producer gave one.
    pub explicit_hash_key: Option<u128>,
    /// Payload.
    pub data: Bytes,
}

/// Where an appended record landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// Its LSN.
    pub lsn: u64,
    /// Its arrival time, epoch milliseconds.
    pub arrival_ms: u64,
}

/// A new stream.
#[derive(Debug, Clone)]
pub struct NewStream {
    /// Its name; unique among live streams.
    pub name: String,
    /// The initial shards' hash key ranges, in index order.
    pub shards: Vec<(u128, u128)>,
    /// Its properties.
    pub props: StreamProps,
}

/// A shard created by resharding.
#[derive(Debug, Clone, Copy)]
pub struct NewShard {
    /// First hash key.
    pub hash_key_start: u128,
    /// Last hash key (inclusive).
    pub hash_key_end: u128,
    /// Parent shard index.
    pub parent: Option<u32>,
    /// Second parent of a merge.
    pub adjacent_parent: Option<u32>,
}

/// A metadata change in progress. The closure given to [`ShardLog::update_stream`]
/// edits it; if the closure fails, nothing changes.
pub struct MetaTxn<'a> {
    meta: StreamMeta,
    next_lsn: &'a mut u64,
    now_ms: u64,
}

impl MetaTxn<'_> {
    /// The stream as it stands in this transaction.
    pub fn meta(&self) -> &StreamMeta {
        &self.meta
    }

    /// The stream's changeable properties.
    pub fn props_mut(&mut self) -> &mut StreamProps {
        &mut self.meta.props
    }

    /// Current time as the log sees it.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// Closes an open shard; appends to it fail from now on. Returns the closing LSN.
    pub fn close_shard(&mut self, index: u32) -> Result<u64> {
        let lsn = *self.next_lsn;
        let now_ms = self.now_ms;
        let shard = self
            .meta
            .shards
            .iter_mut()
            .find(|s| s.index == index)
            .ok_or_else(|| StorageError::Rejected(format!("no shard {index}")))?;
        if shard.closed.is_some() {
            return Err(StorageError::Rejected(format!("shard {index} is already closed")));
        }
        shard.closed = Some(ShardClose { lsn, at_ms: now_ms });
        *self.next_lsn += 1;
        Ok(lsn)
    }

    /// Adds a shard; returns its index.
    pub fn add_shard(&mut self, spec: NewShard) -> u32 {
        let index = self.meta.shards.iter().map(|s| s.index + 1).max().unwrap_or(0);
        self.meta.shards.push(ShardMeta {
            uid: *self.next_lsn,
            index,
            created_ms: self.now_ms,
            hash_key_start: spec.hash_key_start,
            hash_key_end: spec.hash_key_end,
            parent: spec.parent,
            adjacent_parent: spec.adjacent_parent,
            closed: None,
        });
        *self.next_lsn += 1;
        index
    }
}

/// What a read returned.
#[derive(Debug, Clone)]
pub struct ReadBatch {
    /// Records in LSN order.
    pub records: Vec<StoredRecord>,
    /// Where the next read should start.
    pub next_lsn: u64,
    /// The shard is closed and the read reached its end: no record will ever follow.
    pub shard_end: bool,
    /// LSN of the newest record in the shard, if any.
    pub tip_lsn: Option<u64>,
    /// Arrival time of the newest record in the shard (0 if none).
    pub tip_arrival_ms: u64,
}

/// Where to start reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartPosition {
    /// At the record with this LSN (or the first one after it).
    AtLsn(u64),
    /// Just after this LSN.
    AfterLsn(u64),
    /// The oldest record still retained.
    TrimHorizon,
    /// Just after the newest record.
    Latest,
    /// The first record that arrived at or after this time (epoch ms).
    AtTimestamp(u64),
}

#[derive(Debug, Clone, Copy)]
struct ChunkRef {
    segment_id: u64,
    offset: u64,
    len: u32,
    first_lsn: u64,
    last_lsn: u64,
    first_arrival_ms: u64,
    last_arrival_ms: u64,
    count: u32,
}

impl ChunkRef {
    fn located(segment_id: u64, entry: &IndexEntry) -> Self {
        ChunkRef {
            segment_id,
            offset: entry.offset,
            len: entry.len,
            first_lsn: entry.first_lsn,
            last_lsn: entry.last_lsn,
            first_arrival_ms: entry.first_arrival_ms,
            last_arrival_ms: entry.last_arrival_ms,
            count: entry.count,
        }
    }

    fn entry(&self, shard_uid: u64) -> IndexEntry {
        IndexEntry {
            shard_uid,
            first_lsn: self.first_lsn,
            last_lsn: self.last_lsn,
            first_arrival_ms: self.first_arrival_ms,
            last_arrival_ms: self.last_arrival_ms,
            offset: self.offset,
            len: self.len,
            count: self.count,
        }
    }
}

impl ShardIndex {
    /// Appends a chunk, which must follow every chunk already indexed.
    fn push(&mut self, chunk: ChunkRef) {
        debug_assert!(self.last_lsn.is_none_or(|l| l < chunk.first_lsn));
        self.last_lsn = Some(chunk.last_lsn);
        self.last_arrival_ms = chunk.last_arrival_ms;
        self.chunks.push_back(chunk);
    }
}

#[derive(Debug, Default)]
struct ShardIndex {
    chunks: VecDeque<ChunkRef>,
    last_lsn: Option<u64>,
    last_arrival_ms: u64,
    closed_lsn: Option<u64>,
}

struct ShardState {
    uid: u64,
    stream_id: u64,
    index: Mutex<ShardIndex>,
    /// Wakes readers waiting for records. Only sent to while someone listens (sending
    /// costs a lock per notifier, and with thousands of shards per frame that adds up),
    /// so its value is not the tip: waiters subscribe before they read and use `changed`.
    tip: watch::Sender<u64>,
}

struct Segment {
    file: Arc<dyn ReadFile>,
    /// Newest arrival time per shard, to decide when the whole file has expired.
    newest_arrival_ms: FastMap<u64, u64>,
}

struct Shared {
    fs: Arc<dyn FileSystem>,
    clock: Arc<dyn Clock>,
    shards: RwLock<HashMap<u64, Arc<ShardState>>>,
    streams: RwLock<BTreeMap<u64, Arc<StreamMeta>>>,
    segments: RwLock<BTreeMap<u64, Segment>>,
    poisoned: Mutex<Option<(&'static str, String)>>,
    next_lsn_hint: AtomicU64,
    counters: Counters,
    damage: scrub::DamageRegister,
}

impl Shared {
    fn check_poisoned(&self) -> Result<()> {
        match &*self.poisoned.lock() {
            Some((operation, reason)) => Err(StorageError::Poisoned { operation, reason: reason.clone() }),
            None => Ok(()),
        }
    }

    fn retention_ms(&self, stream_id: u64) -> Option<u64> {
        self.streams.read().get(&stream_id).map(|s| s.retention_ms())
    }

    /// Syncs segment data, timing it for the latency histogram.
    fn timed_sync(&self, file: &mut dyn WriteFile) -> std::io::Result<()> {
        let started = self.clock.monotonic_micros();
        let result = file.sync_data();
        self.counters.sync_took(self.clock.monotonic_micros().saturating_sub(started));
        result
    }
}

type Reply<T> = oneshot::Sender<Result<T>>;
type UpdateFn = Box<dyn FnOnce(&mut MetaTxn<'_>) -> Result<()> + Send>;

enum Command {
    Append { records: Vec<AppendRecord>, reply: Reply<Vec<Result<Appended>>> },
    CreateStream { spec: NewStream, reply: Reply<Arc<StreamMeta>> },
    UpdateStream { stream_id: u64, update: UpdateFn, reply: Reply<Arc<StreamMeta>> },
    DeleteStream { stream_id: u64, reply: Reply<()> },
    EnforceRetention { reply: Reply<usize> },
    Sync { reply: Reply<()> },
}

/// The durable shard log. Cheap to share behind an `Arc`; dropping the last handle
/// stops the writer after it has finished what was queued.
pub struct ShardLog {
    shared: Arc<Shared>,
    queue: Option<flume::Sender<Command>>,
    writer: Option<JoinHandle<()>>,
    scrubber: Option<scrub::Scrubber>,
    /// The exclusive lock on the folder, released after the writer has stopped.
    _lock: LockGuard,
}

impl std::fmt::Debug for ShardLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardLog").finish_non_exhaustive()
    }
}

const LOG_DIR: &str = "log";
/// The lock file that keeps a second process off the same folder.
pub const LOCK_FILE: &str = "LOCK";
const META_DIR: &str = "meta";
const SEGMENT_SUFFIX: &str = ".seg";
const INDEX_SUFFIX: &str = ".idx";

fn segment_name(id: u64) -> String {
    format!("{id:020}{SEGMENT_SUFFIX}")
}
fn index_name(id: u64) -> String {
    format!("{id:020}{INDEX_SUFFIX}")
}

impl ShardLog {
    /// Opens (recovering) or creates the log under `dir`.
    pub fn open(fs: Arc<dyn FileSystem>, clock: Arc<dyn Clock>, dir: &Path, config: LogConfig) -> Result<Self> {
        let lock = lock_dir(&*fs, dir)?;
        let log_dir = dir.join(LOG_DIR);
        let meta_dir = dir.join(META_DIR);
        for d in [&log_dir, &meta_dir] {
            fs.create_dir_all(d).map_err(|e| StorageError::io("create folder", d, e))?;
        }
        let meta_store = MetaStore::new(fs.clone(), meta_dir.clone());
        let streams = meta_store.load_all()?;
        let recovered = recovery::recover(&*fs, &log_dir, config.recovery)?;
        let reserved_lsn = match reserve::load(&*fs, &meta_dir) {
            Ok(reserved) => reserved,
            Err(error @ StorageError::MetadataCorrupt { .. }) if config.recovery == RecoveryMode::TornTailOnly => {
                return Err(error)
            }
            Err(StorageError::MetadataCorrupt { path, detail }) => {
                // Without the bound, skipping a whole block past everything recovered is
                // the best guess left; the operator asked to get going.
                let guess = recovered.next_lsn.saturating_add(reserve::LSN_RESERVE_BLOCK);
                tracing::error!(
                    message = "The LSN reservation is damaged; continuing a block past the recovered log.",
                    path = %path.display(), %detail, next_lsn = guess,
                );
                Some(guess)
            }
            Err(other) => return Err(other),
        };

        let mut next_lsn = recovered.next_lsn.max(reserved_lsn.unwrap_or(0));
        let mut shards = HashMap::new();
        let mut stream_map = BTreeMap::new();
        for stream in streams {
            next_lsn = next_lsn.max(stream.stream_id + 1);
            for shard in &stream.shards {
                next_lsn = next_lsn.max(shard.uid + 1);
                if let Some(close) = shard.closed {
                    next_lsn = next_lsn.max(close.lsn + 1);
                }
                let index = ShardIndex { closed_lsn: shard.closed.map(|c| c.lsn), ..Default::default() };
                let (tip, _) = watch::channel(0);
                shards.insert(
                    shard.uid,
                    Arc::new(ShardState { uid: shard.uid, stream_id: stream.stream_id, index: Mutex::new(index), tip }),
                );
            }
            stream_map.insert(stream.stream_id, Arc::new(stream));
        }

        let mut segments = BTreeMap::new();
        for segment in &recovered.segments {
            let mut newest_arrival_ms = FastMap::default();
            for entry in &segment.entries {
                let Some(shard) = shards.get(&entry.shard_uid) else {
                    continue;
                };
                let mut index = shard.index.lock();
                index.push(ChunkRef::located(segment.id, entry));
                newest_arrival_ms.insert(entry.shard_uid, entry.last_arrival_ms);
            }
            let path = join(&log_dir, &segment_name(segment.id));
            let file = fs.open_read(&path).map_err(|e| StorageError::io("open segment", &path, e))?;
            segments.insert(segment.id, Segment { file, newest_arrival_ms });
        }
        for shard in shards.values() {
            let last = shard.index.lock().last_lsn.unwrap_or(0);
            shard.tip.send_replace(last);
        }

        let shared = Arc::new(Shared {
            fs: fs.clone(),
            clock: clock.clone(),
            shards: RwLock::new(shards),
            streams: RwLock::new(stream_map),
            segments: RwLock::new(segments),
            poisoned: Mutex::new(None),
            next_lsn_hint: AtomicU64::new(next_lsn),
            counters: Counters::default(),
            damage: scrub::DamageRegister::default(),
        });

        // Continue in the newest segment if it is open for appends, else start one.
        let active = match recovered.segments.last() {
            Some(last) if last.end_offset < config.segment_bytes_max && !last.sealed_by_repair => {
                let path = join(&log_dir, &segment_name(last.id));
                let file = fs.open_write(&path).map_err(|e| StorageError::io("open segment", &path, e))?;
                ActiveSegment {
                    id: last.id,
                    file,
                    end: last.end_offset,
                    synced_end: last.end_offset,
                    created_ms: clock.now_ms(),
                    entries: last.entries.clone(),
                }
            }
            last => {
                let id = last.map_or(1, |s| s.id + 1);
                create_segment(&*fs, &log_dir, id, next_lsn, clock.now_ms(), &shared)?
            }
        };
        tracing::info!(
            message = "Shard log opened.",
            dir = %dir.display(),
            streams = shared.streams.read().len(),
            segments = shared.segments.read().len(),
            next_lsn,
            truncated_bytes = recovered.truncated_bytes,
        );
        if recovered.truncated_bytes > 0 {
            // Whatever the cut took, new records are numbered above anything it held.
            tracing::warn!(
                message = "Records cut at start-up; new records continue above every LSN ever handed out.",
                cut_bytes = recovered.truncated_bytes,
                cut_records = recovered.cut_records,
                first_lost_lsn = recovered.next_lsn,
                next_lsn,
            );
        }

        let scrub_bytes_per_sec = config.scrub_bytes_per_sec;
        let (queue, receiver) = flume::bounded(APPEND_QUEUE_MAX);
        let mut writer = Writer {
            shared: shared.clone(),
            meta: meta_store,
            log_dir,
            config,
            receiver,
            active,
            next_lsn,
            frame: FrameBuilder::default(),
            last_sync_ms: clock.now_ms(),
            last_retention_ms: clock.now_ms(),
            retention_due: false,
            deleter: None,
            syncer: None,
            sync_requested: (0, 0),
            reserved_lsn: reserved_lsn.unwrap_or(0),
            disk_full_warned_ms: None,
            disk_full_refusals: 0,
        };
        writer.deleter = spawn_deleter(shared.clone(), writer.log_dir.clone());
        if matches!(writer.config.durability, Durability::Relaxed { .. }) {
            writer.syncer = spawn_syncer(shared.clone());
        }
        let handle = std::thread::Builder::new()
            .name("rheo-log-writer".into())
            .spawn(move || writer.run())
            .map_err(|e| StorageError::io("start writer thread", dir, e))?;
        let unverified: Vec<(u64, Vec<IndexEntry>)> =
            recovered.segments.into_iter().filter(|s| s.unverified).map(|s| (s.id, s.entries)).collect();
        let scrubber = scrub::spawn(shared.clone(), unverified, scrub_bytes_per_sec);
        Ok(ShardLog { shared, queue: Some(queue), writer: Some(handle), scrubber, _lock: lock })
    }

    async fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T> {
        let (reply, response) = oneshot::channel();
        let queue = self.queue.as_ref().ok_or(StorageError::Closed)?;
        queue.send_async(make(reply)).await.map_err(|_| StorageError::Closed)?;
        response.await.map_err(|_| StorageError::Closed)?
    }

    fn call_blocking<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T> {
        let (reply, response) = oneshot::channel();
        let queue = self.queue.as_ref().ok_or(StorageError::Closed)?;
        queue.send(make(reply)).map_err(|_| StorageError::Closed)?;
        response.blocking_recv().map_err(|_| StorageError::Closed)?
    }

    /// Appends records, possibly to many shards; resolves once they are durable (as
    /// [`Durability`] defines it). The outer error fails the whole batch (nothing of
    /// it was acknowledged); inner errors are per record (unknown or closed shard).
    pub async fn append(&self, records: Vec<AppendRecord>) -> Result<Vec<Result<Appended>>> {
        self.shared.check_poisoned()?;
        self.call(|reply| Command::Append { records, reply }).await
    }

    /// [`ShardLog::append`] for callers outside an async runtime.
    pub fn append_blocking(&self, records: Vec<AppendRecord>) -> Result<Vec<Result<Appended>>> {
        self.shared.check_poisoned()?;
        self.call_blocking(|reply| Command::Append { records, reply })
    }

    /// Creates a stream.
    pub async fn create_stream(&self, spec: NewStream) -> Result<Arc<StreamMeta>> {
        self.call(|reply| Command::CreateStream { spec, reply }).await
    }

    /// [`ShardLog::create_stream`] outside an async runtime.
    pub fn create_stream_blocking(&self, spec: NewStream) -> Result<Arc<StreamMeta>> {
        self.call_blocking(|reply| Command::CreateStream { spec, reply })
    }

    /// Changes a stream's metadata atomically: the closure edits a copy, which replaces
    /// the stream only if the closure succeeds and the new version is durable.
    pub async fn update_stream(
        &self,
        stream_id: u64,
        update: impl FnOnce(&mut MetaTxn<'_>) -> Result<()> + Send + 'static,
    ) -> Result<Arc<StreamMeta>> {
        self.call(|reply| Command::UpdateStream { stream_id, update: Box::new(update), reply }).await
    }

    /// [`ShardLog::update_stream`] outside an async runtime.
    pub fn update_stream_blocking(
        &self,
        stream_id: u64,
        update: impl FnOnce(&mut MetaTxn<'_>) -> Result<()> + Send + 'static,
    ) -> Result<Arc<StreamMeta>> {
        self.call_blocking(|reply| Command::UpdateStream { stream_id, update: Box::new(update), reply })
    }

    /// Deletes a stream; its records become unreadable at once and their files are
    /// deleted by retention.
    pub async fn delete_stream(&self, stream_id: u64) -> Result<()> {
        self.call(|reply| Command::DeleteStream { stream_id, reply }).await
    }

    /// [`ShardLog::delete_stream`] outside an async runtime.
    pub fn delete_stream_blocking(&self, stream_id: u64) -> Result<()> {
        self.call_blocking(|reply| Command::DeleteStream { stream_id, reply })
    }

    /// Deletes every sealed segment whose records have all expired; returns how many.
    /// The writer also does this on its own when idle.
    pub fn enforce_retention_blocking(&self) -> Result<usize> {
        self.call_blocking(|reply| Command::EnforceRetention { reply })
    }

    /// Makes everything written so far durable (useful in the relaxed mode).
    pub fn sync_blocking(&self) -> Result<()> {
        self.call_blocking(|reply| Command::Sync { reply })
    }

    /// A stream's committed metadata.
    pub fn stream(&self, stream_id: u64) -> Option<Arc<StreamMeta>> {
        self.shared.streams.read().get(&stream_id).cloned()
    }

    /// All live streams, by id.
    pub fn streams(&self) -> Vec<Arc<StreamMeta>> {
        self.shared.streams.read().values().cloned().collect()
    }

    /// Current time on the log's clock.
    pub fn now_ms(&self) -> u64 {
        self.shared.clock.now_ms()
    }

    /// The log's counters, and its segment files' number and size as of now.
    pub fn stats(&self) -> LogStats {
        let mut stats = self.shared.counters.snapshot();
        let segments = self.shared.segments.read();
        stats.segments = segments.len() as u64;
        stats.segment_bytes = segments.values().filter_map(|s| s.file.len().ok()).sum();
        stats.poisoned = self.shared.poisoned.lock().is_some();
        (stats.damaged_chunks, stats.damaged_records) = self.shared.damage.totals();
        stats
    }

    /// The writer's next LSN as last published (a lower bound of the true value).
    pub fn next_lsn_hint(&self) -> u64 {
        self.shared.next_lsn_hint.load(Ordering::Acquire)
    }

    fn shard(&self, shard_uid: u64) -> Result<Arc<ShardState>> {
        self.shared.shards.read().get(&shard_uid).cloned().ok_or(StorageError::ShardNotFound { shard_uid })
    }

    /// Oldest arrival time a reader may still see in this shard's stream.
    fn visible_from_ms(&self, shard: &ShardState) -> u64 {
        let retention = self.shared.retention_ms(shard.stream_id).unwrap_or(u64::MAX);
        self.shared.clock.now_ms().saturating_sub(retention)
    }

    /// Turns a start position into the LSN a read should begin at.
    pub fn resolve(&self, shard_uid: u64, start: StartPosition) -> Result<u64> {
        let shard = self.shard(shard_uid)?;
        let visible_from_ms = self.visible_from_ms(&shard);
        let index = shard.index.lock();
        let first_visible = || {
            let position = index.chunks.partition_point(|c| c.last_arrival_ms < visible_from_ms);
            index
                .chunks
                .get(position)
                .map(|c| c.first_lsn)
                .unwrap_or_else(|| index.last_lsn.map_or(shard.uid + 1, |l| l + 1))
        };
        Ok(match start {
            StartPosition::AtLsn(lsn) => lsn,
            StartPosition::AfterLsn(lsn) => lsn.saturating_add(1),
            StartPosition::TrimHorizon => first_visible(),
            StartPosition::Latest => index.last_lsn.map_or(shard.uid + 1, |l| l + 1),
            StartPosition::AtTimestamp(ts) => {
                let ts = ts.max(visible_from_ms);
                let position = index.chunks.partition_point(|c| c.last_arrival_ms < ts);
                match index.chunks.get(position) {
                    // The chunk holds the answer, but only its first record's time is
                    // indexed; the read skips records before `ts` (see `read`).
                    Some(chunk) if chunk.first_arrival_ms >= ts => chunk.first_lsn,
                    Some(chunk) => {
                        let chunk = *chunk;
                        drop(index);
                        let records = self.load_chunk(shard_uid, &chunk)?;
                        records.iter().find(|r| r.arrival_ms >= ts).map_or(chunk.last_lsn + 1, |r| r.lsn)
                    }
                    None => index.last_lsn.map_or(shard.uid + 1, |l| l + 1),
                }
            }
        })
    }

    /// Loads and verifies one chunk of `shard_uid`; damage is registered (see `scrub.rs`).
    fn load_chunk(&self, shard_uid: u64, chunk: &ChunkRef) -> Result<Vec<StoredRecord>> {
        if let Some(error) = self.shared.damage.check(chunk.segment_id, chunk.offset) {
            return Err(error);
        }
        let file =
            self.shared.segments.read().get(&chunk.segment_id).map(|s| s.file.clone()).ok_or(StorageError::Closed)?;
        let mut buf = vec![0u8; chunk.len as usize];
        file.read_exact_at(&mut buf, chunk.offset)
            .map_err(|e| StorageError::io("read chunk", PathBuf::from(segment_name(chunk.segment_id)), e))?;
        recovery::decode_indexed_chunk(buf, shard_uid, chunk.first_lsn, chunk.last_lsn).map_err(|detail| {
            self.shared.damage.report(
                chunk.segment_id,
                chunk.offset,
                scrub::DamagedChunk { entry: chunk.entry(shard_uid), detail },
            )
        })
    }

    /// Reads up to `max_records` records and about `max_bytes` of keys and data,
    /// starting at `from_lsn`. At least one record is returned when one is available,
    /// whatever its size.
    pub fn read(&self, shard_uid: u64, from_lsn: u64, max_records: usize, max_bytes: usize) -> Result<ReadBatch> {
        let shard = self.shard(shard_uid)?;
        let visible_from_ms = self.visible_from_ms(&shard);
        let (tip_lsn, tip_arrival_ms, closed_lsn, first_visible_lsn) = {
            let index = shard.index.lock();
            // Arrival times never decrease within a shard, so the first chunk still
            // within retention is found by bisection, skipping an expired prefix.
            let visible = index.chunks.partition_point(|c| c.last_arrival_ms < visible_from_ms);
            let first_visible_lsn = index.chunks.get(visible).map(|c| c.first_lsn);
            (index.last_lsn, index.last_arrival_ms, index.closed_lsn, first_visible_lsn)
        };
        let mut records = Vec::new();
        let mut bytes = 0usize;
        let mut next_lsn = from_lsn;
        let mut cursor = from_lsn.max(first_visible_lsn.unwrap_or(from_lsn));
        'windows: loop {
            // A few chunk references at a time: the shard lock is never held across
            // I/O, and a read near the start of a long shard does not copy its index.
            let window: Vec<ChunkRef> = {
                let index = shard.index.lock();
                let start = index.chunks.partition_point(|c| c.last_lsn < cursor);
                index.chunks.range(start..).take(READ_WINDOW_CHUNKS).copied().collect()
            };
            if window.is_empty() {
                break;
            }
            for chunk in &window {
                // Stop at the tip seen above, so the batch and its tip agree.
                if tip_lsn.is_none_or(|tip| chunk.first_lsn > tip) {
                    break 'windows;
                }
                cursor = chunk.last_lsn + 1;
                if chunk.last_arrival_ms < visible_from_ms {
                    next_lsn = next_lsn.max(chunk.last_lsn + 1);
                    continue;
                }
                let decoded = match self.load_chunk(shard_uid, chunk) {
                    Ok(decoded) => decoded,
                    // Records before damage are still served; the next read starts at it.
                    Err(StorageError::Damaged { .. }) if !records.is_empty() => break 'windows,
                    Err(error) => return Err(error),
                };
                for record in decoded {
                    if record.lsn < from_lsn {
                        continue;
                    }
                    if record.arrival_ms < visible_from_ms {
                        next_lsn = next_lsn.max(record.lsn + 1);
                        continue;
                    }
                    let size = record.data.len() + record.partition_key.len();
                    if records.len() >= max_records || (!records.is_empty() && bytes + size > max_bytes) {
                        break 'windows;
                    }
                    bytes += size;
                    next_lsn = record.lsn + 1;
                    records.push(record);
                }
            }
        }
        let drained = tip_lsn.is_none_or(|tip| next_lsn > tip);
        let shard_end = closed_lsn.is_some() && drained;
        Ok(ReadBatch { records, next_lsn, shard_end, tip_lsn, tip_arrival_ms })
    }

    /// A receiver that changes whenever the shard gains visible records (its value is
    /// the newest LSN), so readers can wait instead of polling.
    pub fn watch(&self, shard_uid: u64) -> Result<watch::Receiver<u64>> {
        Ok(self.shard(shard_uid)?.tip.subscribe())
    }

    /// Stops the writer after the queued work and waits for it.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(mut scrubber) = self.scrubber.take() {
            scrubber.stop();
        }
        self.queue.take();
        if let Some(handle) = self.writer.take() {
            if handle.join().is_err() {
                tracing::error!(message = "Log writer thread panicked.");
            }
        }
    }
}

impl Drop for ShardLog {
    fn drop(&mut self) {
        self.stop();
    }
}

struct ActiveSegment {
    id: u64,
    file: Box<dyn WriteFile>,
    end: u64,
    synced_end: u64,
    created_ms: u64,
    entries: Vec<IndexEntry>,
}

fn create_segment(
    fs: &dyn FileSystem,
    log_dir: &Path,
    id: u64,
    base_lsn: u64,
    now_ms: u64,
    shared: &Shared,
) -> Result<ActiveSegment> {
    let path = join(log_dir, &segment_name(id));
    let mut file = fs.open_write(&path).map_err(|e| StorageError::io("create segment", &path, e))?;
    file.set_len(0).map_err(|e| StorageError::io("create segment", &path, e))?;
    let header = SegmentHeader { segment_id: id, base_lsn }.encode();
    file.write_all_at(&header, 0).map_err(|e| StorageError::io("write segment header", &path, e))?;
    file.sync_data().map_err(|e| StorageError::io("sync segment header", &path, e))?;
    fs.sync_dir(log_dir).map_err(|e| StorageError::io("sync log folder", log_dir, e))?;
    let read = fs.open_read(&path).map_err(|e| StorageError::io("open segment", &path, e))?;
    shared.segments.write().insert(id, Segment { file: read, newest_arrival_ms: FastMap::default() });
    Ok(ActiveSegment {
        id,
        file,
        end: SEGMENT_HEADER_BYTES as u64,
        synced_end: SEGMENT_HEADER_BYTES as u64,
        created_ms: now_ms,
        entries: Vec::new(),
    })
}

struct Writer {
    shared: Arc<Shared>,
    meta: MetaStore,
    log_dir: PathBuf,
    config: LogConfig,
    receiver: flume::Receiver<Command>,
    active: ActiveSegment,
    next_lsn: u64,
    frame: FrameBuilder,
    last_sync_ms: u64,
    last_retention_ms: u64,
    /// A retention pass is wanted at the next housekeeping, whatever the timer says.
    retention_due: bool,
    /// Unlinks expired segments off the write path; joined when the writer stops.
    deleter: Option<Deleter>,
    /// Relaxed durability's periodic syncs, off the write path; joined when the writer
    /// stops. `None` in the other modes (or if its thread could not start: the writer
    /// then syncs inline).
    syncer: Option<Syncer>,
    /// Segment and end offset the last request to the syncer covered.
    sync_requested: (u64, u64),
    /// Every LSN below this is covered by the durable reservation (`reserve.rs`).
    reserved_lsn: u64,
    /// When a full disk was last logged, and the refusals since (see `warn_disk_full`).
    disk_full_warned_ms: Option<u64>,
    disk_full_refusals: u64,
}

/// Asks the background syncer to sync a segment (everything written to it so far).
struct SyncRequest {
    segment_id: u64,
    path: PathBuf,
}

/// Sync requests waiting for the syncer. One is enough: a queued request has not started
/// yet, so the sync it leads to covers every write made before it, later ones included.
const SYNC_QUEUE_MAX: usize = 1;

/// One append request being assembled into a frame.
struct PendingAppend {
    records: Vec<AppendRecord>,
    results: Vec<Result<Appended>>,
    reply: Reply<Vec<Result<Appended>>>,
}

/// Where expired segment files are unlinked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeleteMode {
    /// On the deleter thread, so appends do not wait.
    Background,
    /// On the writer, before answering.
    Inline,
}

/// Batches of expired segments waiting for the deleter thread; beyond this the writer
/// deletes them itself.
const DELETE_QUEUE_MAX: usize = 64;

/// How expired segment files give their space back.
#[derive(Clone, Copy)]
enum Release<'a> {
    /// All at once (space is needed now, or the log is stopping).
    AtOnce,
    /// In [`DELETE_STEP_BYTES`] steps, unless `hurry` is set meanwhile.
    Paced { hurry: &'a AtomicBool },
}

fn delete_segment_files(fs: &dyn FileSystem, log_dir: &Path, ids: &[u64], release: Release<'_>) -> Result<()> {
    for id in ids {
        for name in [index_name(*id), segment_name(*id)] {
            let path = join(log_dir, &name);
            if !fs.exists(&path) {
                continue;
            }
            // Unlinked first, so a crash in the middle leaves no half-shrunk segment for
            // recovery to mistake for damage; the open handle then frees the blocks.
            let held = match release {
                Release::Paced { hurry } => {
                    let len = fs.open_read(&path).and_then(|f| f.len()).ok();
                    fs.open_write(&path).ok().zip(len).map(|(file, len)| (file, len, hurry))
                }
                Release::AtOnce => None,
            };
            fs.remove_file(&path).map_err(|e| StorageError::io("delete expired segment", &path, e))?;
            if let Some((file, len, hurry)) = held {
                shrink_gradually(file, len, hurry);
            }
        }
        tracing::info!(message = "Expired segment deleted.", segment_id = id);
    }
    fs.sync_dir(log_dir).map_err(|e| StorageError::io("sync log folder", log_dir, e))
}

/// Frees an unlinked file's blocks a step at a time (see [`DELETE_STEP_BYTES`]); closing
/// the handle frees whatever is left. Failures only mean the space comes back at close.
fn shrink_gradually(mut file: Box<dyn WriteFile>, mut len: u64, hurry: &AtomicBool) {
    while len > DELETE_STEP_BYTES && !hurry.load(Ordering::Relaxed) {
        len -= DELETE_STEP_BYTES;
        if file.set_len(len).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(DELETE_STEP_PAUSE_MS));
    }
}

/// The background deleter: its queue, its thread, and the flag that makes it finish
/// without pacing when the log stops.
struct Deleter {
    queue: flume::Sender<Vec<u64>>,
    thread: JoinHandle<()>,
    hurry: Arc<AtomicBool>,
}

fn spawn_deleter(shared: Arc<Shared>, log_dir: PathBuf) -> Option<Deleter> {
    let (queue, receiver) = flume::bounded::<Vec<u64>>(DELETE_QUEUE_MAX);
    let hurry = Arc::new(AtomicBool::new(false));
    let flag = hurry.clone();
    let thread = std::thread::Builder::new()
        .name("rheo-log-deleter".into())
        .spawn(move || {
            for ids in receiver.iter() {
                let result = delete_segment_files(&*shared.fs, &log_dir, &ids, Release::Paced { hurry: &flag });
                shared.counters.segments_pending_delete.fetch_sub(ids.len() as u64, Ordering::Relaxed);
                if let Err(error) = result {
                    tracing::error!(message = "Could not delete expired segments.", %error);
                }
            }
        })
        .ok()?;
    Some(Deleter { queue, thread, hurry })
}

/// The background syncer: its queue and its thread.
struct Syncer {
    queue: flume::Sender<SyncRequest>,
    thread: JoinHandle<()>,
}

/// Starts the thread that syncs the active segment for [`Durability::Relaxed`], so that
/// an acknowledgement never waits on the disk's flush (whose tail is often tens of
/// milliseconds) in that mode. A failed sync poisons the log exactly as an inline one does.
fn spawn_syncer(shared: Arc<Shared>) -> Option<Syncer> {
    let (queue, receiver) = flume::bounded::<SyncRequest>(SYNC_QUEUE_MAX);
    let thread = std::thread::Builder::new()
        .name("rheo-log-syncer".into())
        .spawn(move || {
            let mut open: Option<(u64, Box<dyn WriteFile>)> = None;
            for request in receiver.iter() {
                if shared.check_poisoned().is_err() {
                    // After a failed write or sync the file's state is unknown: leave it.
                    continue;
                }
                if open.as_ref().map(|(id, _)| *id) != Some(request.segment_id) {
                    match shared.fs.open_write(&request.path) {
                        Ok(file) => open = Some((request.segment_id, file)),
                        Err(error) => {
                            poison(&shared, "open segment to sync", error.to_string());
                            continue;
                        }
                    }
                }
                if let Some((_, file)) = open.as_mut() {
                    if let Err(error) = shared.timed_sync(&mut **file) {
                        poison(&shared, "fdatasync", error.to_string());
                    }
                }
            }
        })
        .ok()?;
    Some(Syncer { queue, thread })
}

/// Stops writes: records the first failure and logs it.
fn poison(shared: &Shared, operation: &'static str, reason: String) -> StorageError {
    let mut poisoned = shared.poisoned.lock();
    if poisoned.is_none() {
        tracing::error!(message = "Storage stopped accepting writes.", operation, reason = %reason);
        *poisoned = Some((operation, reason.clone()));
    }
    StorageError::Poisoned { operation, reason }
}

/// Chunk references a read copies out of a shard's index at a time.
const READ_WINDOW_CHUNKS: usize = 64;

/// Commands drained per wake-up, besides the byte target.
const DRAIN_COMMANDS_MAX: usize = 1024;

impl Writer {
    fn run(&mut self) {
        loop {
            let timeout = Duration::from_millis(self.idle_timeout_ms());
            let first = match self.receiver.recv_timeout(timeout) {
                Ok(command) => command,
                Err(flume::RecvTimeoutError::Timeout) => {
                    self.housekeeping();
                    continue;
                }
                Err(flume::RecvTimeoutError::Disconnected) => break,
            };
            let mut batch = vec![first];
            let mut bytes = 0usize;
            while batch.len() < DRAIN_COMMANDS_MAX && bytes < FRAME_BYTES_TARGET {
                match self.receiver.try_recv() {
                    Ok(command) => {
                        if let Command::Append { records, .. } = &command {
                            bytes += records.iter().map(|r| r.data.len() + r.partition_key.len()).sum::<usize>();
                        }
                        batch.push(command);
                    }
                    Err(_) => break,
                }
            }
            self.process(batch);
            self.housekeeping();
        }
        if let Some(deleter) = self.deleter.take() {
            // Stopping must not wait for paced deletions: the rest is freed at once.
            deleter.hurry.store(true, Ordering::Relaxed);
            drop(deleter.queue);
            let _ = deleter.thread.join();
        }
        if let Some(syncer) = self.syncer.take() {
            drop(syncer.queue);
            let _ = syncer.thread.join();
        }
        // After a poisoning failure the file is left alone: its state is unknown.
        let poisoned = self.shared.check_poisoned().is_err();
        if !poisoned && self.config.durability != Durability::Never && self.active.synced_end < self.active.end {
            if let Err(error) = self.active.file.sync_data() {
                tracing::error!(message = "Final log sync failed.", %error);
            }
        }
    }

    fn idle_timeout_ms(&self) -> u64 {
        match self.config.durability {
            Durability::Relaxed { interval_ms } => interval_ms.clamp(1, self.config.retention_check_ms.max(1)),
            _ => self.config.retention_check_ms.max(1),
        }
    }

    fn housekeeping(&mut self) {
        let now = self.shared.clock.now_ms();
        if let Durability::Relaxed { interval_ms } = self.config.durability {
            let unsynced =
                self.active.synced_end < self.active.end && self.sync_requested != (self.active.id, self.active.end);
            if unsynced && now.saturating_sub(self.last_sync_ms) >= interval_ms {
                if let Err(error) = self.periodic_sync() {
                    tracing::error!(message = "Periodic log sync failed; log stopped.", %error);
                }
            }
        }
        if self.retention_due || now.saturating_sub(self.last_retention_ms) >= self.config.retention_check_ms {
            self.last_retention_ms = now;
            self.retention_due = false;
            if let Err(error) = self.roll_if_old().and_then(|_| self.enforce_retention(DeleteMode::Background)) {
                tracing::error!(message = "Retention pass failed.", %error);
            }
        }
    }

    fn process(&mut self, batch: Vec<Command>) {
        let mut appends: Vec<PendingAppend> = Vec::new();
        for command in batch {
            match command {
                Command::Append { records, reply } => {
                    appends.push(PendingAppend { results: Vec::with_capacity(records.len()), records, reply });
                }
                other => {
                    // Metadata changes see every append queued before them.
                    self.commit_appends(std::mem::take(&mut appends));
                    self.control(other);
                }
            }
        }
        self.commit_appends(appends);
    }

    fn poison(&self, operation: &'static str, reason: String) -> StorageError {
        poison(&self.shared, operation, reason)
    }

    fn commit_appends(&mut self, mut appends: Vec<PendingAppend>) {
        if appends.is_empty() {
            return;
        }
        if let Err(error) = self.shared.check_poisoned() {
            for append in appends {
                let _ = append.reply.send(Err(clone_error(&error)));
            }
            return;
        }
        // Assign LSNs and arrival times, grouping placements by shard.
        let now_ms = self.shared.clock.now_ms();
        let first_lsn = self.next_lsn;
        // (state, newest arrival, closed) of each shard this frame touches.
        let mut shard_cache: FastMap<u64, (Arc<ShardState>, u64, bool)> = FastMap::default();
        // (shard uid, append index, record index, lsn, arrival)
        let mut placements: Vec<(u64, usize, usize, u64, u64)> = Vec::new();
        let shards = self.shared.shards.read();
        for (append_index, append) in appends.iter_mut().enumerate() {
            for (record_index, record) in append.records.iter().enumerate() {
                let result = (|| {
                    if record.data.len() > RECORD_DATA_BYTES_MAX || record.partition_key.len() > PARTITION_KEY_BYTES_MAX
                    {
                        return Err(StorageError::RecordTooLarge {
                            detail: format!(
                                "data {} bytes (max {RECORD_DATA_BYTES_MAX}), key {} bytes (max {PARTITION_KEY_BYTES_MAX})",
                                record.data.len(),
                                record.partition_key.len()
                            ),
                        });
                    }
                    let entry = match shard_cache.entry(record.shard_uid) {
                        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                        std::collections::hash_map::Entry::Vacant(e) => {
                            let shard = shards
                                .get(&record.shard_uid)
                                .cloned()
                                .ok_or(StorageError::ShardNotFound { shard_uid: record.shard_uid })?;
                            // Closing happens on this thread, so it cannot change mid-frame:
                            // one look at the index serves every record of the shard.
                            let index = shard.index.lock();
                            let (last_arrival, closed) = (index.last_arrival_ms, index.closed_lsn.is_some());
                            drop(index);
                            e.insert((shard, last_arrival, closed))
                        }
                    };
                    if entry.2 {
                        return Err(StorageError::ShardClosed { shard_uid: record.shard_uid });
                    }
                    let lsn = self.next_lsn;
                    assert!(lsn <= LSN_MAX, "LSN space exhausted");
                    self.next_lsn += 1;
                    let arrival_ms = now_ms.max(entry.1);
                    entry.1 = arrival_ms;
                    placements.push((record.shard_uid, append_index, record_index, lsn, arrival_ms));
                    Ok(Appended { lsn, arrival_ms })
                })();
                append.results.push(result);
            }
        }
        drop(shards);
        if placements.is_empty() {
            for append in appends {
                let _ = append.reply.send(Ok(append.results));
            }
            return;
        }
        // Stable: records of one shard keep their LSN order.
        placements.sort_by_key(|p| p.0);

        self.frame.begin(first_lsn);
        let mut new_entries: Vec<IndexEntry> = Vec::new();
        let mut run_start = 0;
        while run_start < placements.len() {
            let shard_uid = placements[run_start].0;
            let run_end = placements[run_start..]
                .iter()
                .position(|p| p.0 != shard_uid)
                .map_or(placements.len(), |n| run_start + n);
            self.frame.begin_chunk(shard_uid);
            for &(_, append_index, record_index, lsn, arrival_ms) in &placements[run_start..run_end] {
                let record = &appends[append_index].records[record_index];
                self.frame.push_record(lsn, arrival_ms, &record.partition_key, record.explicit_hash_key, &record.data);
            }
            let placement = self.frame.end_chunk();
            let first = placements[run_start];
            let last = placements[run_end - 1];
            new_entries.push(IndexEntry {
                shard_uid,
                first_lsn: first.3,
                last_lsn: last.3,
                first_arrival_ms: first.4,
                last_arrival_ms: last.4,
                offset: placement.offset_in_frame as u64, // made absolute below
                len: placement.len as u32,
                count: placement.count,
            });
            run_start = run_end;
        }

        let outcome = self.write_frame(&mut new_entries);
        // Published before any reply, so a caller never holds an LSN above the hint.
        self.shared.next_lsn_hint.store(self.next_lsn, Ordering::Release);
        match outcome {
            Ok(()) => {
                let counters = &self.shared.counters;
                counters.commits.fetch_add(1, Ordering::Relaxed);
                counters.records_appended.fetch_add(placements.len() as u64, Ordering::Relaxed);
                self.publish(&new_entries, &shard_cache);
                for append in appends {
                    let _ = append.reply.send(Ok(append.results));
                }
            }
            Err(error) => {
                for append in appends {
                    let _ = append.reply.send(Err(clone_error(&error)));
                }
            }
        }
        self.shared.next_lsn_hint.store(self.next_lsn, Ordering::Release);
    }

    /// Writes the built frame at the end of the active segment and makes it durable.
    fn write_frame(&mut self, entries: &mut [IndexEntry]) -> Result<()> {
        let frame_len = self.frame.len() as u64;
        if self.active.end > SEGMENT_HEADER_BYTES as u64 && self.active.end + frame_len > self.config.segment_bytes_max
        {
            self.roll()?;
        }
        self.reserve_lsns()?;
        let offset = self.active.end;
        let path = join(&self.log_dir, &segment_name(self.active.id));
        let bytes = self.frame.finish();
        if let Err(error) = self.active.file.write_all_at(bytes, offset) {
            // Cut whatever part of the frame reached the file, so the next frame starts
            // at a clean boundary. If even that fails the file's state is unknown.
            if let Err(truncate_error) = self.active.file.set_len(offset) {
                return Err(self.poison("truncate after failed write", format!("{error}; then {truncate_error}")));
            }
            if error.raw_os_error() == Some(libc::ENOSPC) {
                self.warn_disk_full(&path);
                return Err(StorageError::DiskFull { path });
            }
            return Err(self.poison("write", error.to_string()));
        }
        self.active.end = offset + frame_len;
        self.shared.counters.bytes_written.fetch_add(frame_len, Ordering::Relaxed);
        for entry in entries.iter_mut() {
            entry.offset += offset;
        }
        match self.config.durability {
            Durability::Sync => self.sync_active()?,
            Durability::Relaxed { interval_ms } => {
                if self.shared.clock.now_ms().saturating_sub(self.last_sync_ms) >= interval_ms {
                    self.periodic_sync()?;
                }
            }
            Durability::Never => {}
        }
        self.active.entries.extend_from_slice(entries);
        Ok(())
    }

    /// Logs a refused append on a full disk: the first at once, then at most one line
    /// per [`REPEATED_WARNING_INTERVAL_MS`] with the number of refusals in between, so a
    /// producer retrying against a full disk does not fill the log's own disk with lines.
    fn warn_disk_full(&mut self, path: &Path) {
        let now = self.shared.clock.now_ms();
        let due = self.disk_full_warned_ms.is_none_or(|at| now.saturating_sub(at) >= REPEATED_WARNING_INTERVAL_MS);
        if due {
            tracing::warn!(
                message = "Disk full; appends refused until space is freed.",
                path = %path.display(),
                refused_since_last_line = self.disk_full_refusals,
            );
            self.disk_full_warned_ms = Some(now);
            self.disk_full_refusals = 0;
        }
        self.disk_full_refusals += 1;
    }

    /// Makes the durable reservation cover every LSN handed out so far, before any of
    /// them reaches the disk in a frame or in metadata.
    fn reserve_lsns(&mut self) -> Result<()> {
        if self.next_lsn <= self.reserved_lsn {
            return Ok(());
        }
        let until = self.next_lsn.saturating_add(reserve::LSN_RESERVE_BLOCK).min(LSN_MAX + 1);
        match reserve::store(&*self.shared.fs, self.meta.dir(), until) {
            Ok(()) => {
                self.reserved_lsn = until;
                Ok(())
            }
            Err(error) if error.raw_os_error() == Some(libc::ENOSPC) => {
                Err(StorageError::DiskFull { path: reserve::path(self.meta.dir()) })
            }
            Err(error) => Err(self.poison("reserve LSNs", error.to_string())),
        }
    }

    /// Relaxed durability's sync: handed to the syncer thread when there is one. The
    /// writer does not learn when it finishes, so `synced_end` stays behind and rolling
    /// and stopping still sync for themselves (rare, and cheap when already synced).
    fn periodic_sync(&mut self) -> Result<()> {
        let Some(syncer) = &self.syncer else {
            return self.sync_active();
        };
        let request =
            SyncRequest { segment_id: self.active.id, path: join(&self.log_dir, &segment_name(self.active.id)) };
        match syncer.queue.try_send(request) {
            // A full queue holds a request that has not started: its sync covers these writes.
            Ok(()) | Err(flume::TrySendError::Full(_)) => {}
            Err(flume::TrySendError::Disconnected(_)) => return self.sync_active(),
        }
        self.sync_requested = (self.active.id, self.active.end);
        self.last_sync_ms = self.shared.clock.now_ms();
        Ok(())
    }

    fn sync_active(&mut self) -> Result<()> {
        if let Err(error) = self.shared.timed_sync(&mut *self.active.file) {
            return Err(self.poison("fdatasync", error.to_string()));
        }
        self.active.synced_end = self.active.end;
        self.last_sync_ms = self.shared.clock.now_ms();
        Ok(())
    }

    fn publish(&self, entries: &[IndexEntry], shard_cache: &FastMap<u64, (Arc<ShardState>, u64, bool)>) {
        {
            let mut segments = self.shared.segments.write();
            if let Some(segment) = segments.get_mut(&self.active.id) {
                for entry in entries {
                    segment.newest_arrival_ms.insert(entry.shard_uid, entry.last_arrival_ms);
                }
            }
        }
        for entry in entries {
            let Some((shard, _, _)) = shard_cache.get(&entry.shard_uid) else {
                continue;
            };
            let mut index = shard.index.lock();
            index.push(ChunkRef::located(self.active.id, entry));
            drop(index);
            if shard.tip.receiver_count() > 0 {
                shard.tip.send_replace(entry.last_lsn);
            }
        }
    }

    /// Seals the active segment (its index written beside it) and starts the next.
    fn roll(&mut self) -> Result<()> {
        if self.config.durability != Durability::Never && self.active.synced_end < self.active.end {
            self.sync_active()?;
        }
        let sync = self.config.durability != Durability::Never;
        if let Err(error) = recovery::store_index(
            &*self.shared.fs,
            &self.log_dir,
            self.active.id,
            self.active.end,
            &self.active.entries,
            sync,
        ) {
            // The index is an optimisation; recovery rescans a segment without one.
            let path = join(&self.log_dir, &index_name(self.active.id));
            tracing::warn!(message = "Could not write segment index.", path = %path.display(), %error);
        }
        let next = create_segment(
            &*self.shared.fs,
            &self.log_dir,
            self.active.id + 1,
            self.next_lsn,
            self.shared.clock.now_ms(),
            &self.shared,
        )
        .map_err(|error| match error {
            // A full disk while starting the next segment refuses this append only: the
            // active segment stays as it was (its index file, now stale, is rewritten at
            // the next roll and ignored by recovery meanwhile).
            StorageError::Io { source, path, .. } if source.raw_os_error() == Some(libc::ENOSPC) => {
                let _ = self.shared.fs.remove_file(&path);
                StorageError::DiskFull { path }
            }
            other => self.poison("roll segment", other.to_string()),
        })?;
        tracing::debug!(message = "Segment sealed.", segment_id = self.active.id, bytes = self.active.end);
        self.active = next;
        Ok(())
    }

    fn roll_if_old(&mut self) -> Result<()> {
        let now = self.shared.clock.now_ms();
        if self.active.end > SEGMENT_HEADER_BYTES as u64
            && now.saturating_sub(self.active.created_ms) >= self.config.segment_age_ms_max
        {
            self.shared.check_poisoned()?;
            self.roll()?;
        }
        Ok(())
    }

    fn enforce_retention(&mut self, mode: DeleteMode) -> Result<usize> {
        let now = self.shared.clock.now_ms();
        let expired: Vec<u64> = {
            let segments = self.shared.segments.read();
            let shards = self.shared.shards.read();
            segments
                .iter()
                .filter(|(id, _)| **id != self.active.id)
                .filter(|(_, segment)| {
                    segment.newest_arrival_ms.iter().all(|(uid, newest)| {
                        match shards.get(uid).and_then(|s| self.shared.retention_ms(s.stream_id)) {
                            // Same boundary as reads: a record is visible while arrival >= now - retention.
                            Some(retention_ms) => newest.saturating_add(retention_ms) < now,
                            None => true, // the stream was deleted
                        }
                    })
                })
                .map(|(id, _)| *id)
                .collect()
        };
        for id in &expired {
            let removed = self.shared.segments.write().remove(id);
            if let Some(segment) = removed {
                let shards = self.shared.shards.read();
                for uid in segment.newest_arrival_ms.keys() {
                    if let Some(shard) = shards.get(uid) {
                        shard.index.lock().chunks.retain(|c| c.segment_id != *id);
                    }
                }
            }
        }
        self.shared.damage.forget_segments(&expired);
        if !expired.is_empty() {
            // Unlinking large files takes tens of milliseconds each; appends must not wait
            // for it. The segments are already out of every index, so a crash before the
            // files are gone only means recovery finds them and retention deletes them again.
            match (mode, &self.deleter) {
                (DeleteMode::Background, Some(deleter)) => {
                    let pending = &self.shared.counters.segments_pending_delete;
                    pending.fetch_add(expired.len() as u64, Ordering::Relaxed);
                    if let Err(flume::TrySendError::Full(ids) | flume::TrySendError::Disconnected(ids)) =
                        deleter.queue.try_send(expired.clone())
                    {
                        pending.fetch_sub(ids.len() as u64, Ordering::Relaxed);
                        delete_segment_files(&*self.shared.fs, &self.log_dir, &ids, Release::AtOnce)?;
                    }
                }
                _ => delete_segment_files(&*self.shared.fs, &self.log_dir, &expired, Release::AtOnce)?,
            }
        }
        Ok(expired.len())
    }

    fn control(&mut self, command: Command) {
        match command {
            Command::Append { .. } => unreachable!("appends are batched by process()"),
            Command::CreateStream { spec, reply } => {
                let result = self.create_stream(spec);
                let _ = reply.send(result);
            }
            Command::UpdateStream { stream_id, update, reply } => {
                let result = self.update_stream(stream_id, update);
                let _ = reply.send(result);
            }
            Command::DeleteStream { stream_id, reply } => {
                let result = self.delete_stream(stream_id);
                if result.is_ok() {
                    // The stream's sealed segments may now be wholly dead: give their space
                    // back at the next housekeeping rather than up to a retention check later.
                    self.retention_due = true;
                }
                let _ = reply.send(result);
            }
            Command::EnforceRetention { reply } => {
                // An explicit request returns once the files are gone.
                let result = self.roll_if_old().and_then(|_| self.enforce_retention(DeleteMode::Inline));
                let _ = reply.send(result);
            }
            Command::Sync { reply } => {
                let result = if self.config.durability == Durability::Never || self.active.synced_end == self.active.end
                {
                    self.shared.check_poisoned()
                } else {
                    self.sync_active()
                };
                let _ = reply.send(result);
            }
        }
        self.shared.next_lsn_hint.store(self.next_lsn, Ordering::Release);
    }

    fn check_props(props: &StreamProps) -> Result<()> {
        if !(RETENTION_HOURS_MIN..=RETENTION_HOURS_MAX).contains(&props.retention_hours) {
            return Err(StorageError::Rejected(format!(
                "retention of {} hours is outside {RETENTION_HOURS_MIN}..={RETENTION_HOURS_MAX}",
                props.retention_hours
            )));
        }
        Ok(())
    }

    fn create_stream(&mut self, spec: NewStream) -> Result<Arc<StreamMeta>> {
        self.shared.check_poisoned()?;
        Self::check_props(&spec.props)?;
        if self.shared.streams.read().values().any(|s| s.name == spec.name) {
            return Err(StorageError::Rejected(format!("stream {} already exists", spec.name)));
        }
        let now_ms = self.shared.clock.now_ms();
        let stream_id = self.next_lsn;
        self.next_lsn += 1;
        let mut meta =
            StreamMeta { stream_id, name: spec.name, created_ms: now_ms, shards: Vec::new(), props: spec.props };
        for (start, end) in spec.shards {
            let mut txn = MetaTxn { meta, next_lsn: &mut self.next_lsn, now_ms };
            txn.add_shard(NewShard { hash_key_start: start, hash_key_end: end, parent: None, adjacent_parent: None });
            meta = txn.meta;
        }
        self.commit_meta(None, meta)
    }

    fn update_stream(&mut self, stream_id: u64, update: UpdateFn) -> Result<Arc<StreamMeta>> {
        self.shared.check_poisoned()?;
        let current =
            self.shared.streams.read().get(&stream_id).cloned().ok_or(StorageError::StreamNotFound { stream_id })?;
        let now_ms = self.shared.clock.now_ms();
        let mut txn = MetaTxn { meta: (*current).clone(), next_lsn: &mut self.next_lsn, now_ms };
        update(&mut txn)?;
        let meta = txn.meta;
        Self::check_props(&meta.props)?;
        self.commit_meta(Some(&current), meta)
    }

    /// Makes a stream's new metadata durable, then applies it in memory.
    fn commit_meta(&mut self, previous: Option<&StreamMeta>, meta: StreamMeta) -> Result<Arc<StreamMeta>> {
        // Stream ids, shard uids and closing LSNs come from the LSN counter too.
        self.reserve_lsns()?;
        if let Err(error) = self.meta.write(&meta) {
            // The file may or may not have been replaced; memory and disk could now
            // disagree, which only a restart resolves.
            return Err(self.poison("write metadata", error.to_string()));
        }
        let meta = Arc::new(meta);
        let mut shards = self.shared.shards.write();
        for shard in &meta.shards {
            let was = previous.and_then(|p| p.shards.iter().find(|s| s.uid == shard.uid));
            match (was, shards.get(&shard.uid)) {
                (Some(_), Some(state)) => {
                    let mut index = state.index.lock();
                    index.closed_lsn = shard.closed.map(|c| c.lsn);
                    drop(index);
                    // Wake readers waiting at the end of a shard that just closed.
                    state.tip.send_modify(|_| {});
                }
                _ => {
                    let (tip, _) = watch::channel(0);
                    let index = ShardIndex { closed_lsn: shard.closed.map(|c| c.lsn), ..Default::default() };
                    shards.insert(
                        shard.uid,
                        Arc::new(ShardState {
                            uid: shard.uid,
                            stream_id: meta.stream_id,
                            index: Mutex::new(index),
                            tip,
                        }),
                    );
                }
            }
        }
        drop(shards);
        self.shared.streams.write().insert(meta.stream_id, meta.clone());
        Ok(meta)
    }

    fn delete_stream(&mut self, stream_id: u64) -> Result<()> {
        self.shared.check_poisoned()?;
        let meta =
            self.shared.streams.read().get(&stream_id).cloned().ok_or(StorageError::StreamNotFound { stream_id })?;
        if let Err(error) = self.meta.remove(stream_id) {
            return Err(self.poison("remove metadata", error.to_string()));
        }
        self.shared.streams.write().remove(&stream_id);
        let mut shards = self.shared.shards.write();
        for shard in &meta.shards {
            if let Some(state) = shards.remove(&shard.uid) {
                // Readers waiting on this shard see the channel close.
                drop(state);
            }
        }
        let _ = self.meta.dir();
        Ok(())
    }
}

/// Takes the folder's exclusive lock, or says who holds it.
fn lock_dir(fs: &dyn FileSystem, dir: &Path) -> Result<LockGuard> {
    fs.create_dir_all(dir).map_err(|e| StorageError::io("create folder", dir, e))?;
    let path = join(dir, LOCK_FILE);
    match fs.try_lock(&path).map_err(|e| StorageError::io("lock data folder", &path, e))? {
        Some(guard) => Ok(guard),
        None => {
            let holder_pid = fs.open_read(&path).ok().and_then(|file| {
                let mut text = vec![0u8; file.len().ok()?.min(32) as usize];
                file.read_exact_at(&mut text, 0).ok()?;
                std::str::from_utf8(&text).ok()?.trim().parse().ok()
            });
            Err(StorageError::Locked { dir: dir.to_path_buf(), holder_pid })
        }
    }
}

fn clone_error(error: &StorageError) -> StorageError {
    match error {
        StorageError::DiskFull { path } => StorageError::DiskFull { path: path.clone() },
        StorageError::Poisoned { operation, reason } => StorageError::Poisoned { operation, reason: reason.clone() },
        other => StorageError::Poisoned { operation: "write", reason: other.to_string() },
    }
}

mod recovery;
mod scrub;

#[cfg(test)]
mod tests;
