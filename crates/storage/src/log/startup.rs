//! Opening a log: taking the folder's lock, recovering the segments (`recovery.rs`),
//! rebuilding the in-memory state from them and the metadata files, choosing where
//! appends continue, and starting the writer and the scrub.
//!
//! Invariants:
//! - Nothing is read or written before the folder's exclusive lock is held.
//! - The next LSN is above every LSN the recovered log, the metadata (shards' creation
//!   and closing LSNs) and the durable reservation hold, so LSNs are never reused,
//!   whatever start-up cut.
//! - New identities (stream ids, shard uids) are above every old one, also in folders
//!   whose identities were taken from the LSN counter (see `start_ids`).
//! - Appends continue in the newest segment only if it is below the size limit, repair
//!   did not seal it and it has the current format version (sealed chunks only ever go
//!   into segments of the version that may hold them); otherwise a new one is started.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::thread::JoinHandle;

use parking_lot::RwLock;

use super::command::Command;
use super::commit::{CommitPolicy, Committer};
use super::damage::DamageRegister;
use super::files::{lock_dir, segment_name, LOG_DIR, META_DIR};
use super::lsn::LsnCounter;
use super::poison::PoisonLatch;
use super::recovery::{self, Recovered};
use super::scrub::{self, Scrubber, UnverifiedSegment};
use super::segment::ActiveSegment;
use super::state::{ArchiveTier, ChunkRef, FastMap, Segment, ShardState, Shared};
use super::streams::Streams;
use super::types::{LogConfig, RecoveryMode};
use super::writer::{Writer, WriterParts};
use crate::archive::{ArchiveConfig, ArchiveLayout, ArchiveReader};
use crate::cipher::{KeyProvider, RandomSource};
use crate::clock::Clock;
use crate::error::{Result, StorageError};
use crate::format::SEGMENT_VERSION;
use crate::fs::{join, FileSystem, LockGuard};
use crate::limits::APPEND_QUEUE_MAX;
use crate::meta::StreamMeta;
use crate::metastore::{LocalMetaStore, MetaStore, ID_RESERVE_BLOCK};
use crate::reserve;
use crate::stats::Counters;

/// A log that is open: its shared state, the writer's queue and thread, the scrub, and
/// the folder's lock.
pub(super) struct Opened {
    pub(super) shared: Arc<Shared>,
    pub(super) queue: flume::Sender<Command>,
    pub(super) writer: JoinHandle<()>,
    pub(super) scrubber: Option<Scrubber>,
    pub(super) lock: LockGuard,
}

/// Opens (recovering) or creates the log under `dir`.
pub(super) fn open(fs: Arc<dyn FileSystem>, clock: Arc<dyn Clock>, dir: &Path, config: LogConfig) -> Result<Opened> {
    let lock = lock_dir(&*fs, dir)?;
    let log_dir = dir.join(LOG_DIR);
    let meta_dir = dir.join(META_DIR);
    for d in [&log_dir, &meta_dir] {
        fs.create_dir_all(d).map_err(|e| StorageError::io("create folder", d, e))?;
    }
    let local_store = Arc::new(LocalMetaStore::open(fs.clone(), meta_dir.clone())?);
    let meta_store: Arc<dyn MetaStore> = local_store.clone();
    let streams = meta_store.load_streams()?;
    let recovered = recovery::recover(&*fs, &log_dir, config.recovery)?;
    let reserved_lsn = load_reservation(&*fs, &meta_dir, config.recovery, &recovered)?;
    let next_lsn = next_lsn(&recovered, reserved_lsn, &streams);
    start_ids(&local_store, config.recovery, next_lsn, &streams, &recovered)?;
    let counters = Counters::default();
    let archive = match &config.archive {
        Some(archive) => Some(archive_tier(archive, &*meta_store, &counters)?),
        None => None,
    };
    let parts = Parts { keys: config.keys.clone(), random: config.random.clone(), counters, archive };
    let shared = Arc::new(restore(fs.clone(), clock.clone(), parts, &log_dir, streams, &recovered, next_lsn)?);

    // Continue in the newest segment if it is open for appends, else start one. A segment
    // of an older version is not continued: it may not hold what this version writes.
    let active = match recovered.segments.last() {
        Some(last)
            if last.end_offset < config.segment_bytes_max
                && !last.sealed_by_repair
                && last.version == SEGMENT_VERSION =>
        {
            ActiveSegment::reopen(&*fs, &log_dir, last.id, last.end_offset, clock.now_ms(), last.entries.clone())?
        }
        last => {
            let id = last.map_or(1, |s| s.id + 1);
            ActiveSegment::create(&shared, &log_dir, id, next_lsn, clock.now_ms())?
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

    let (queue, receiver) = flume::bounded(APPEND_QUEUE_MAX);
    let policy = CommitPolicy {
        durability: config.durability,
        segment_bytes_max: config.segment_bytes_max,
        segment_age_ms_max: config.segment_age_ms_max,
    };
    let mut writer = Writer::new(WriterParts {
        shared: shared.clone(),
        receiver,
        lsns: LsnCounter::new(next_lsn, reserved_lsn.unwrap_or(0), meta_dir),
        committer: Committer::new(shared.clone(), log_dir.clone(), policy, active),
        streams: Streams::new(shared.clone(), meta_store),
        log_dir,
        durability: config.durability,
        retention_check_ms: config.retention_check_ms,
    });
    let writer = std::thread::Builder::new()
        .name("rheo-log-writer".into())
        .spawn(move || writer.run())
        .map_err(|e| StorageError::io("start writer thread", dir, e))?;
    let unverified: Vec<UnverifiedSegment> = recovered
        .segments
        .into_iter()
        .filter(|s| s.unverified)
        .map(|s| UnverifiedSegment { id: s.id, entries: s.entries })
        .collect();
    let scrubber = scrub::spawn(shared.clone(), unverified, config.scrub_bytes_per_sec);
    Ok(Opened { shared, queue, writer, scrubber, lock })
}

/// The durable LSN reservation, if there is one. A damaged one stops start-up unless
/// the operator asked for repair; then a guess a block past the recovered log is used.
fn load_reservation(
    fs: &dyn FileSystem,
    meta_dir: &Path,
    mode: RecoveryMode,
    recovered: &Recovered,
) -> Result<Option<u64>> {
    match reserve::load(fs, meta_dir) {
        Ok(reserved) => Ok(reserved),
        Err(error @ StorageError::MetadataCorrupt { .. }) if mode == RecoveryMode::TornTailOnly => Err(error),
        Err(StorageError::MetadataCorrupt { path, detail }) => {
            // Without the bound, skipping a whole block past everything recovered is
            // the best guess left; the operator asked to get going.
            let guess = recovered.next_lsn.saturating_add(reserve::LSN_RESERVE_BLOCK);
            tracing::error!(
                message = "The LSN reservation is damaged; continuing a block past the recovered log.",
                path = %path.display(), %detail, next_lsn = guess,
            );
            Ok(Some(guess))
        }
        Err(other) => Err(other),
    }
}

/// Loads the identity counter. In a folder without `ids.reserve` identities start at the
/// LSN counter's next value, above every identity the old scheme took from it. A damaged
/// `ids.reserve` stops start-up unless the operator asked for repair; then identities
/// continue a block past every one still known (metadata, segments, archived segments'
/// records) and the LSN floor.
fn start_ids(
    store: &LocalMetaStore,
    mode: RecoveryMode,
    next_lsn: u64,
    streams: &[StreamMeta],
    recovered: &Recovered,
) -> Result<()> {
    match store.start_ids(next_lsn) {
        Ok(()) => Ok(()),
        Err(error @ StorageError::MetadataCorrupt { .. }) if mode == RecoveryMode::TornTailOnly => Err(error),
        Err(StorageError::MetadataCorrupt { path, detail }) => {
            let stream_ids = streams.iter().map(|s| s.stream_id);
            let shard_uids = streams.iter().flat_map(|s| s.shards.iter().map(|shard| shard.uid));
            let chunk_uids = recovered.segments.iter().flat_map(|s| s.entries.iter().map(|e| e.shard_uid));
            let archived = store.load_archived()?;
            let archived_uids = archived.iter().flat_map(|m| m.shard_uids.iter().copied());
            let known_end =
                stream_ids.chain(shard_uids).chain(chunk_uids).chain(archived_uids).map(|id| id + 1).max().unwrap_or(0);
            let guess = known_end.max(next_lsn).saturating_add(ID_RESERVE_BLOCK);
            tracing::error!(
                message = "The identity reservation is damaged; continuing a block past every identity still known.",
                path = %path.display(), %detail, next_id = guess,
            );
            store.restart_ids_at(guess);
            Ok(())
        }
        Err(other) => Err(other),
    }
}

/// The first LSN above everything the log, the reservation and the metadata hold.
fn next_lsn(recovered: &Recovered, reserved_lsn: Option<u64>, streams: &[StreamMeta]) -> u64 {
    let mut next_lsn = recovered.next_lsn.max(reserved_lsn.unwrap_or(0));
    for stream in streams {
        for shard in &stream.shards {
            next_lsn = next_lsn.max(shard.created_lsn + 1);
            if let Some(close) = shard.closed {
                next_lsn = next_lsn.max(close.lsn + 1);
            }
        }
    }
    next_lsn
}

/// The archive tier's shared parts: the object layout of this data folder's log, and the
/// reader of archived segments.
fn archive_tier(config: &ArchiveConfig, meta_store: &dyn MetaStore, counters: &Counters) -> Result<ArchiveTier> {
    let layout = ArchiveLayout::new(&meta_store.store_id()?, &config.log_name);
    let reader = ArchiveReader::new(
        config.store.clone(),
        layout.clone(),
        config.cache_bytes,
        config.read_ahead_blocks,
        counters.archive.clone(),
    );
    counters.archive.enabled.store(true, std::sync::atomic::Ordering::Relaxed);
    Ok(ArchiveTier { config: config.clone(), layout, reader })
}

/// What the shared state takes over as start-up assembled it: key material and
/// randomness for sealing, the counters, the archive tier.
struct Parts {
    keys: Option<Arc<dyn KeyProvider>>,
    random: Arc<dyn RandomSource>,
    counters: Counters,
    archive: Option<ArchiveTier>,
}

/// The in-memory state of the recovered log: every live shard with its chunks, every
/// stream, and every segment open for reading.
fn restore(
    fs: Arc<dyn FileSystem>,
    clock: Arc<dyn Clock>,
    parts: Parts,
    log_dir: &Path,
    streams: Vec<StreamMeta>,
    recovered: &Recovered,
    next_lsn: u64,
) -> Result<Shared> {
    let mut shards = HashMap::new();
    let mut stream_map = BTreeMap::new();
    for stream in streams {
        for shard in &stream.shards {
            let state = ShardState::new(stream.stream_id, shard);
            shards.insert(shard.uid, Arc::new(state));
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
            shard.index.lock().push(ChunkRef::located(segment.id, entry));
            newest_arrival_ms.insert(entry.shard_uid, entry.last_arrival_ms);
        }
        let path = join(log_dir, &segment_name(segment.id));
        let file = fs.open_read(&path).map_err(|e| StorageError::io("open segment", &path, e))?;
        segments.insert(segment.id, Segment { file, local: true, newest_arrival_ms });
    }
    for shard in shards.values() {
        let last = shard.index.lock().last_lsn.unwrap_or(0);
        shard.tip.send_replace(last);
    }

    Ok(Shared {
        fs,
        clock,
        shards: RwLock::new(shards),
        streams: RwLock::new(stream_map),
        segments: RwLock::new(segments),
        poison: PoisonLatch::default(),
        next_lsn_hint: AtomicU64::new(next_lsn),
        counters: parts.counters,
        damage: DamageRegister::default(),
        keys: parts.keys,
        random: parts.random,
        archive: parts.archive,
    })
}
