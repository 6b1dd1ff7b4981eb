//! The log's in-memory state, shared by the writer, readers and the background threads:
//! per-shard chunk indexes, open segment files, committed stream metadata, the poison
//! latch, the damage register and the counters.
//!
//! Invariants:
//! - Only the writer thread adds chunks, shards, streams and segments; retention (also
//!   on the writer) removes them. Everyone else only reads.
//! - A shard's chunks are in LSN order and, because arrival times never decrease within
//!   a shard, in arrival order too, so both can be found by bisection.
//! - No lock here is held across I/O.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use tokio::sync::watch;

use super::damage::{ChunkAt, DamageRegister};
use super::poison::PoisonLatch;
use crate::archive::{ArchiveConfig, ArchiveLayout, ArchiveReader, SegmentManifest};
use crate::cipher::{KeyProvider, RandomSource};
use crate::clock::Clock;
use crate::error::{Result, StorageError};
use crate::format::IndexEntry;
use crate::fs::{FileSystem, ReadFile, WriteFile};
use crate::meta::StreamMeta;
use crate::metastore::MetaStore;
use crate::stats::Counters;

/// Maps keyed by shard uids (unique integers, not attacker-chosen), touched for every
/// chunk of every frame: a fast non-cryptographic hash instead of SipHash.
pub(super) type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<rustc_hash::FxHasher>>;

/// Where one shard's chunk of a frame lies, and what it holds.
#[derive(Debug, Clone, Copy)]
pub(super) struct ChunkRef {
    pub(super) segment_id: u64,
    pub(super) offset: u64,
    pub(super) len: u32,
    pub(super) first_lsn: u64,
    pub(super) last_lsn: u64,
    pub(super) first_arrival_ms: u64,
    pub(super) last_arrival_ms: u64,
    pub(super) count: u32,
}

impl ChunkRef {
    /// The chunk `entry` describes in segment `segment_id`.
    pub(super) fn located(segment_id: u64, entry: &IndexEntry) -> Self {
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

    /// Its index entry, as the segment's index file holds it.
    pub(super) fn entry(&self, shard_uid: u64) -> IndexEntry {
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

    /// Where it is, as the damage register knows it.
    pub(super) fn at(&self) -> ChunkAt {
        ChunkAt { segment_id: self.segment_id, offset: self.offset }
    }
}

/// One shard's chunks, newest last, and what readers need to know about its end.
#[derive(Debug, Default)]
pub(super) struct ShardIndex {
    pub(super) chunks: VecDeque<ChunkRef>,
    pub(super) last_lsn: Option<u64>,
    pub(super) last_arrival_ms: u64,
    pub(super) closed_lsn: Option<u64>,
}

impl ShardIndex {
    /// An empty index; `closed_lsn` is set if the shard is already closed.
    pub(super) fn new(closed_lsn: Option<u64>) -> Self {
        ShardIndex { closed_lsn, ..Default::default() }
    }

    /// Appends a chunk, which must follow every chunk already indexed.
    pub(super) fn push(&mut self, chunk: ChunkRef) {
        debug_assert!(self.last_lsn.is_none_or(|l| l < chunk.first_lsn));
        self.last_lsn = Some(chunk.last_lsn);
        self.last_arrival_ms = chunk.last_arrival_ms;
        self.chunks.push_back(chunk);
    }
}

/// A shard of a live stream.
pub(super) struct ShardState {
    pub(super) uid: u64,
    pub(super) stream_id: u64,
    pub(super) index: Mutex<ShardIndex>,
    /// Wakes readers waiting for records. Only sent to while someone listens (sending
    /// costs a lock per notifier, and with thousands of shards per frame that adds up),
    /// so its value is not the tip: waiters subscribe before they read and use `changed`.
    pub(super) tip: watch::Sender<u64>,
}

impl ShardState {
    /// A shard with no records yet in memory.
    pub(super) fn new(uid: u64, stream_id: u64, closed_lsn: Option<u64>) -> Self {
        let (tip, _) = watch::channel(0);
        ShardState { uid, stream_id, index: Mutex::new(ShardIndex::new(closed_lsn)), tip }
    }
}

/// A segment file open for reading.
pub(super) struct Segment {
    /// The local file, or (once the local budget removed it) the archived object read
    /// through the archive's cache (`ArchiveReader::open_segment`).
    pub(super) file: Arc<dyn ReadFile>,
    /// Whether `file` is the local file; `false` once only the archive holds it.
    pub(super) local: bool,
    /// Newest arrival time per shard, to decide when the whole file has expired.
    pub(super) newest_arrival_ms: FastMap<u64, u64>,
}

/// Everything the writer, readers and background threads share.
pub(super) struct Shared {
    pub(super) fs: Arc<dyn FileSystem>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) shards: RwLock<HashMap<u64, Arc<ShardState>>>,
    pub(super) streams: RwLock<BTreeMap<u64, Arc<StreamMeta>>>,
    pub(super) segments: RwLock<BTreeMap<u64, Segment>>,
    /// Set by the first failure that leaves the disk's state unknown (see `poison.rs`).
    pub(super) poison: PoisonLatch,
    /// The writer's next LSN as last published (a lower bound of the true value).
    pub(super) next_lsn_hint: AtomicU64,
    pub(super) counters: Counters,
    pub(super) damage: DamageRegister,
    /// Key material for sealed chunks (`None`: no stream may be encrypted).
    pub(super) keys: Option<Arc<dyn KeyProvider>>,
    /// Salts of sealed chunks.
    pub(super) random: Arc<dyn RandomSource>,
    /// The archive tier, with `--archive`.
    pub(super) archive: Option<ArchiveTier>,
    /// The segment appends go to, as the writer last published it (never archived).
    pub(super) active_segment_id: AtomicU64,
}

/// What the log's threads share of the archive tier.
pub(super) struct ArchiveTier {
    pub(super) config: ArchiveConfig,
    pub(super) layout: ArchiveLayout,
    /// Reads of segments only the archive holds, through a bounded cache.
    pub(super) reader: Arc<ArchiveReader>,
    /// Where archived records are kept durably.
    pub(super) meta_store: Arc<dyn MetaStore>,
    /// The archived segments (each has its durable record), and the expired ones whose
    /// objects the archiver still has to delete. One lock: retention holds it while it
    /// removes expired segments, and the archiver while it records a finished upload, so
    /// an upload that finishes after retention took its segment is never recorded.
    pub(super) archived: Mutex<ArchivedSegments>,
    /// Bytes of local segments not yet archived, the active one included: the writer adds
    /// what it writes, uploads and retention subtract. Appends are refused while it is at
    /// or above the hard limit.
    pub(super) unarchived_bytes: AtomicU64,
    /// Wakes the archiver (a segment was sealed); never blocks the writer.
    pub(super) kick: flume::Sender<()>,
}

/// The archive tier's view of which segments the archive holds.
#[derive(Default)]
pub(super) struct ArchivedSegments {
    /// Archived and still live, by id.
    pub(super) live: BTreeMap<u64, SegmentManifest>,
    /// Expired: their objects, then their records, are deleted by the archiver.
    pub(super) expired: BTreeMap<u64, SegmentManifest>,
}

impl ArchiveTier {
    /// Whether appends must be refused now, with the unarchived bytes and the limit.
    pub(super) fn backlog_full(&self) -> Option<(u64, u64)> {
        let limit = self.config.local_hard_limit_bytes?;
        let unarchived = self.unarchived_bytes.load(Ordering::Acquire);
        (unarchived >= limit).then_some((unarchived, limit))
    }

    /// Lowers the unarchived byte count (an upload finished, or retention removed an
    /// unarchived segment), never below zero.
    pub(super) fn unarchived_gone(&self, bytes: u64) {
        let _ =
            self.unarchived_bytes.fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| Some(v.saturating_sub(bytes)));
    }

    /// Wakes the archiver without waiting.
    pub(super) fn wake(&self) {
        let _ = self.kick.try_send(());
    }
}

impl Shared {
    /// `Err` once writes are stopped, with the failure that stopped them.
    pub(super) fn check_poisoned(&self) -> Result<()> {
        self.poison.check().map_err(StorageError::from)
    }

    /// The retention of a live stream.
    pub(super) fn retention_ms(&self, stream_id: u64) -> Option<u64> {
        self.streams.read().get(&stream_id).map(|s| s.retention_ms())
    }

    /// A live shard.
    pub(super) fn shard(&self, shard_uid: u64) -> Result<Arc<ShardState>> {
        self.shards.read().get(&shard_uid).cloned().ok_or(StorageError::ShardNotFound { shard_uid })
    }

    /// Syncs segment data, timing it for the latency histogram.
    pub(super) fn timed_sync(&self, file: &mut dyn WriteFile) -> std::io::Result<()> {
        let started = self.clock.monotonic_micros();
        let result = file.sync_data();
        self.counters.sync_took(self.clock.monotonic_micros().saturating_sub(started));
        result
    }
}
