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

use parking_lot::{Mutex, RwLock};

use super::archiver::{restore_remote, Archiver, RemoteSegment};
use super::command::Command;
use super::commit::{CommitPolicy, Committer};
use super::damage::DamageRegister;
use super::files::{lock_dir, segment_name, INDEX_SUFFIX, LOG_DIR, META_DIR};
use super::lsn::LsnCounter;
use super::poison::PoisonLatch;
use super::recovery::{self, Recovered};
use super::scrub::{self, Scrubber, UnverifiedSegment};
use super::segment::ActiveSegment;
use super::state::{ArchiveTier, ArchivedSegments, ChunkRef, FastMap, Segment, ShardState, Shared};
use super::streams::Streams;
use super::types::{LogConfig, RecoveryMode};
use super::writer::{Writer, WriterParts};
use crate::archive::{ArchiveConfig, ArchiveLayout, ArchiveReader, SegmentManifest};
use crate::cipher::{KeyProvider, RandomSource};
use crate::clock::Clock;
use crate::error::{Result, StorageError};
use crate::format::{IndexEntry, SEGMENT_VERSION};
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
    pub(super) archiver: Option<Archiver>,
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
    // Makes the entries of `log/` and `meta/` durable (at every open, as `lock_dir` does
    // for the data folder): a segment or metadata file synced into a folder whose own
    // entry a crash loses is lost with it.
    fs.sync_dir(dir).map_err(|e| StorageError::io("sync data folder", dir, e))?;
    let local_store = Arc::new(LocalMetaStore::open(fs.clone(), meta_dir.clone())?);
    let meta_store: Arc<dyn MetaStore> = local_store.clone();
    let streams = meta_store.load_streams()?;
    let recovered = recovery::recover(&*fs, &log_dir, config.recovery)?;
    let reserved_lsn = load_reservation(&*fs, &meta_dir, config.recovery, &recovered)?;
    let next_lsn = next_lsn(&recovered, reserved_lsn, &streams);
    start_ids(&local_store, config.recovery, next_lsn, &streams, &recovered)?;
    let counters = Counters::default();
    let (archive, kicks) = match &config.archive {
        Some(archive) => {
            let (tier, kicks) = archive_tier(archive, meta_store.clone(), &counters)?;
            (Some(tier), Some(kicks))
        }
        None => (None, None),
    };
    let (remote, records) = match &archive {
        Some(tier) => archived_segments(&*fs, &log_dir, tier, &recovered)?,
        None => {
            refuse_without_archive(&*meta_store, &recovered)?;
            (Vec::new(), Vec::new())
        }
    };
    remove_orphan_indexes(&*fs, &log_dir, &recovered, &records)?;
    // New records number above every archived one too, even those no longer local.
    let next_lsn = records.iter().map(|m| m.last_lsn.saturating_add(1)).fold(next_lsn, u64::max);
    let newest_archived = records.iter().map(|m| m.segment_id).max();
    let parts = Parts { keys: config.keys.clone(), random: config.random.clone(), counters, archive, remote };
    let shared = Arc::new(restore(fs.clone(), clock.clone(), parts, &log_dir, streams, &recovered, next_lsn)?);

    // Continue in the newest segment if it is open for appends, else start one. A segment
    // of an older version is not continued: it may not hold what this version writes, and
    // an archived one never takes appends. New ids are above every local and archived id.
    let active = match recovered.segments.last() {
        Some(last)
            if last.end_offset < config.segment_bytes_max
                && !last.sealed_by_repair
                && last.version == SEGMENT_VERSION
                && newest_archived.is_none_or(|newest| newest < last.id) =>
        {
            ActiveSegment::reopen(&*fs, &log_dir, last.id, last.end_offset, clock.now_ms(), last.entries.clone())?
        }
        last => {
            let id = last.map_or(1, |s| s.id + 1).max(newest_archived.map_or(1, |n| n + 1));
            ActiveSegment::create(&shared, &log_dir, id, next_lsn, clock.now_ms())?
        }
    };
    shared.active_segment_id.store(active.id, std::sync::atomic::Ordering::Release);
    if let Some(tier) = &shared.archive {
        let archived: std::collections::BTreeSet<u64> = records.iter().map(|m| m.segment_id).collect();
        let unarchived: u64 =
            recovered.segments.iter().filter(|s| !archived.contains(&s.id)).map(|s| s.end_offset).sum();
        let fresh = if recovered.segments.last().is_some_and(|s| s.id == active.id) { 0 } else { active.end };
        tier.unarchived_bytes.store(unarchived + fresh, std::sync::atomic::Ordering::Release);
    }
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
    let archiver = match kicks {
        Some(kicks) => Some(
            Archiver::spawn(shared.clone(), dir.join(LOG_DIR), kicks)
                .map_err(|e| StorageError::io("start archiver thread", dir, e))?,
        ),
        None => None,
    };
    Ok(Opened { shared, queue, writer, scrubber, archiver, lock })
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

/// The archive tier's shared parts: the object layout of this data folder's log, the
/// reader of archived segments and the archiver's wake-up channel (its receiver returned).
fn archive_tier(
    config: &ArchiveConfig,
    meta_store: Arc<dyn MetaStore>,
    counters: &Counters,
) -> Result<(ArchiveTier, flume::Receiver<()>)> {
    let layout = ArchiveLayout::new(&meta_store.store_id()?, &config.log_name);
    let reader = ArchiveReader::new(
        config.store.clone(),
        layout.clone(),
        config.cache_bytes,
        config.read_ahead_blocks,
        counters.archive.clone(),
    );
    counters.archive.enabled.store(true, std::sync::atomic::Ordering::Relaxed);
    let (kick, kicks) = flume::bounded(1);
    let tier = ArchiveTier {
        config: config.clone(),
        layout,
        reader,
        meta_store,
        archived: Mutex::new(ArchivedSegments::default()),
        unarchived_bytes: AtomicU64::new(0),
        kick,
    };
    Ok((tier, kicks))
}

/// Refuses to open without an archive a log some of whose segments only the archive
/// holds: their records would silently be missing.
fn refuse_without_archive(meta_store: &dyn MetaStore, recovered: &Recovered) -> Result<()> {
    let local: std::collections::BTreeSet<u64> = recovered.segments.iter().map(|s| s.id).collect();
    let remote: Vec<u64> =
        meta_store.load_archived()?.iter().map(|m| m.segment_id).filter(|id| !local.contains(id)).collect();
    match remote.first() {
        None => Ok(()),
        Some(first) => Err(StorageError::Archive {
            archive: "(none configured)".into(),
            detail: format!(
                "{} segments of this log (the first is {first}) are held only by the archive; start with the \
                 same --archive to read them",
                remote.len()
            ),
        }),
    }
}

/// The archived segments' records (now also the tier's list of archived segments), and
/// the chunks of those only the archive holds.
fn archived_segments(
    fs: &dyn FileSystem,
    log_dir: &Path,
    tier: &ArchiveTier,
    recovered: &Recovered,
) -> Result<(Vec<RemoteSegment>, Vec<SegmentManifest>)> {
    let records = tier.meta_store.load_archived()?;
    let local_ids = recovered.segments.iter().map(|s| s.id).collect();
    let remote = restore_remote(fs, log_dir, &*tier.config.store, &tier.layout, &records, &local_ids)?;
    tier.archived.lock().live = records.iter().map(|m| (m.segment_id, m.clone())).collect();
    Ok((remote, records))
}

/// Removes index files whose segment is neither local nor recorded as archived (left by
/// a crash between the archiver deleting a record and the index, or by retention).
fn remove_orphan_indexes(
    fs: &dyn FileSystem,
    log_dir: &Path,
    recovered: &Recovered,
    records: &[SegmentManifest],
) -> Result<()> {
    let names = fs.list_dir(log_dir).map_err(|e| StorageError::io("list log folder", log_dir, e))?;
    let mut removed = 0usize;
    for name in names {
        let Some(id) = name.strip_suffix(INDEX_SUFFIX).and_then(|n| n.parse::<u64>().ok()) else {
            continue;
        };
        if recovered.segments.iter().any(|s| s.id == id) || records.iter().any(|m| m.segment_id == id) {
            continue;
        }
        let path = join(log_dir, &name);
        fs.remove_file(&path).map_err(|e| StorageError::io("remove orphan index", &path, e))?;
        tracing::info!(message = "Index without segment or archived record removed.", segment_id = id);
        removed += 1;
    }
    if removed > 0 {
        fs.sync_dir(log_dir).map_err(|e| StorageError::io("sync log folder", log_dir, e))?;
    }
    Ok(())
}

/// What the shared state takes over as start-up assembled it: key material and
/// randomness for sealing, the counters, the archive tier and the segments only it holds.
struct Parts {
    keys: Option<Arc<dyn KeyProvider>>,
    random: Arc<dyn RandomSource>,
    counters: Counters,
    archive: Option<ArchiveTier>,
    /// Segments only the archive holds.
    remote: Vec<RemoteSegment>,
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

    // Chunks go into the shard indexes in segment order, local and remote interleaved.
    let mut sources: Vec<(u64, &[IndexEntry], Option<&RemoteSegment>)> =
        recovered.segments.iter().map(|s| (s.id, s.entries.as_slice(), None)).collect();
    sources.extend(parts.remote.iter().map(|r| (r.manifest.segment_id, r.entries.as_slice(), Some(r))));
    sources.sort_by_key(|(id, _, _)| *id);
    let mut segments = BTreeMap::new();
    for (id, entries, remote) in sources {
        let mut newest_arrival_ms = FastMap::default();
        for entry in entries {
            let Some(shard) = shards.get(&entry.shard_uid) else {
                continue;
            };
            shard.index.lock().push(ChunkRef::located(id, entry));
            newest_arrival_ms.insert(entry.shard_uid, entry.last_arrival_ms);
        }
        let segment = match (remote, &parts.archive) {
            (Some(remote), Some(tier)) => Segment {
                file: tier.reader.open_segment(id, remote.manifest.segment_len),
                local: false,
                newest_arrival_ms,
            },
            _ => {
                let path = join(log_dir, &segment_name(id));
                let file = fs.open_read(&path).map_err(|e| StorageError::io("open segment", &path, e))?;
                Segment { file, local: true, newest_arrival_ms }
            }
        };
        segments.insert(id, segment);
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
        active_segment_id: AtomicU64::new(0),
    })
}
