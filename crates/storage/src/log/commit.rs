//! Group commit: every append waiting when the writer wakes becomes part of one frame,
//! written with one `write` and made durable with one `fdatasync`, then published to
//! readers and acknowledged. Also the durability policy (inline sync, the relaxed
//! mode's periodic sync) and rolling to a new segment.
//!
//! Invariants:
//! - Nothing is acknowledged before it is durable as [`Durability`] defines it, and
//!   readers see a chunk only after its frame is (published before the replies).
//! - Records of one shard get increasing LSNs and non-decreasing arrival times.
//! - A failed write is cut off the file, so the next frame starts at a clean boundary;
//!   if the cut fails too, or a sync fails, the log is poisoned (`poison.rs`).
//! - A full disk refuses only the commit it struck ([`WriteFailure::DiskFull`]).
//! - Every append of a failed commit gets the same error, the real one.
//! - A chunk of a stream with an encryption key is sealed, never written in the clear;
//!   an append with a record for a stream whose key the key store lacks is refused
//!   whole (none of its records placed), others in the same frame go ahead; a salt
//!   that cannot be drawn fails the frame before anything is written.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::command::Reply;
use super::lsn::LsnCounter;
use super::poison::{Poison, WriteFailure};
use super::segment::ActiveSegment;
use super::state::{ChunkRef, FastMap, ShardState, Shared};
use super::syncer::{Requested, SyncRequest, Syncer};
use super::types::{AppendRecord, Appended, Durability};
use crate::cipher::{RandomError, Salt, SealingKey, SALT_BYTES};
use crate::error::{Result, StorageError};
use crate::format::{FormatError, FrameBuilder, IndexEntry};
use crate::limits::{PARTITION_KEY_BYTES_MAX, RECORD_DATA_BYTES_MAX, REPEATED_WARNING_INTERVAL_MS};
use zeroize::Zeroize;

/// One append request being assembled into a frame.
pub(super) struct PendingAppend {
    records: Vec<AppendRecord>,
    results: Vec<Result<Appended>>,
    reply: Reply<Vec<Result<Appended>>>,
    /// Why it was refused as a whole (none of its records placed), if it was.
    refused: Option<u32>,
}

impl PendingAppend {
    pub(super) fn new(records: Vec<AppendRecord>, reply: Reply<Vec<Result<Appended>>>) -> Self {
        PendingAppend { results: Vec::with_capacity(records.len()), records, reply, refused: None }
    }

    /// Answers it: its per-record results, unless the commit failed or it was refused.
    fn answer(self, failure: Option<&CommitFailure>) {
        let reply = match (self.refused, failure) {
            (Some(key), _) => Err(StorageError::EncryptionKeyUnavailable { key }),
            (None, Some(failure)) => Err(failure.clone().into()),
            (None, None) => Ok(self.results),
        };
        let _ = self.reply.send(reply);
    }
}

/// How a shard's chunk of a frame is written, decided once per frame.
#[derive(Clone)]
enum Seal {
    /// In the clear: its stream has no encryption key.
    Clear,
    /// Sealed with this key version, its stream key's newest.
    With(Arc<SealingKey>),
    /// Its stream's key (this number) is not in the key store: appends are refused.
    Unavailable(u32),
}

/// A shard one frame writes to, looked up once per frame.
struct FrameShard {
    state: Arc<ShardState>,
    /// Arrival time of its newest record, this frame's included so far.
    newest_arrival_ms: u64,
    /// It is closed: its records are refused.
    closed: bool,
    seal: Seal,
}

/// Why a whole commit failed: every append in it gets this error.
#[derive(Clone)]
enum CommitFailure {
    Write(WriteFailure),
    /// No salt could be drawn for a sealed chunk; nothing was written.
    Random(RandomError),
    /// A chunk could not be sealed (a writer bug: see [`FrameBuilder::end_chunk`]).
    Seal(FormatError),
    /// A record of a stream whose key is missing got past the refusal (a writer bug).
    KeyUnavailable(u32),
}

impl From<CommitFailure> for StorageError {
    fn from(failure: CommitFailure) -> Self {
        match failure {
            CommitFailure::Write(failure) => failure.into(),
            CommitFailure::Random(error) => StorageError::Random(error),
            CommitFailure::Seal(error) => StorageError::Rejected(format!("cannot seal a chunk: {error}")),
            CommitFailure::KeyUnavailable(key) => StorageError::EncryptionKeyUnavailable { key },
        }
    }
}

/// Where one record goes in the frame being built.
#[derive(Clone, Copy)]
struct Placement {
    shard_uid: u64,
    /// Which append of the batch, and which record of it.
    append_index: usize,
    record_index: usize,
    lsn: u64,
    arrival_ms: u64,
}

/// How far the last request to the syncer reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SyncMark {
    segment_id: u64,
    end: u64,
}

/// The writer's appending side: the active segment, the frame under construction and
/// the durability bookkeeping.
pub(super) struct Committer {
    shared: Arc<Shared>,
    log_dir: PathBuf,
    durability: Durability,
    segment_bytes_max: u64,
    segment_age_ms_max: u64,
    active: ActiveSegment,
    frame: FrameBuilder,
    last_sync_ms: u64,
    /// Relaxed durability's periodic syncs, off the write path; joined when the writer
    /// stops. `None` in the other modes (or if its thread could not start: the writer
    /// then syncs inline).
    syncer: Option<Syncer>,
    /// Segment and end offset the last request to the syncer covered.
    sync_requested: SyncMark,
    /// When a full disk was last logged, and the refusals since (see `warn_disk_full`).
    disk_full_warned_ms: Option<u64>,
    disk_full_refusals: u64,
}

/// The segment size and age limits, and when appends are acknowledged.
pub(super) struct CommitPolicy {
    pub(super) durability: Durability,
    pub(super) segment_bytes_max: u64,
    pub(super) segment_age_ms_max: u64,
}

impl Committer {
    /// Appends to `active`; in the relaxed mode, starts the syncer.
    pub(super) fn new(shared: Arc<Shared>, log_dir: PathBuf, policy: CommitPolicy, active: ActiveSegment) -> Self {
        let syncer = match policy.durability {
            Durability::Relaxed { .. } => Syncer::spawn(shared.clone()),
            Durability::Sync | Durability::Never => None,
        };
        Committer {
            last_sync_ms: shared.clock.now_ms(),
            shared,
            log_dir,
            durability: policy.durability,
            segment_bytes_max: policy.segment_bytes_max,
            segment_age_ms_max: policy.segment_age_ms_max,
            active,
            frame: FrameBuilder::default(),
            syncer,
            sync_requested: SyncMark { segment_id: 0, end: 0 },
            disk_full_warned_ms: None,
            disk_full_refusals: 0,
        }
    }

    /// The segment appends go to (never deleted by retention).
    pub(super) fn active_id(&self) -> u64 {
        self.active.id
    }

    /// Commits `appends` as one frame and answers each of them.
    pub(super) fn commit(&mut self, lsns: &mut LsnCounter, mut appends: Vec<PendingAppend>) {
        if appends.is_empty() {
            return;
        }
        if let Err(poison) = self.shared.poison.check() {
            for append in appends {
                let _ = append.reply.send(Err(poison.clone().into()));
            }
            return;
        }
        if self.refuse_over_hard_limit(lsns, &mut appends) {
            return;
        }
        let first_lsn = lsns.next();
        let (placements, frame_shards) = self.place(lsns, &mut appends);
        if placements.is_empty() {
            for append in appends {
                append.answer(None);
            }
            return;
        }
        let outcome = self.build_frame(first_lsn, &appends, &placements, &frame_shards).and_then(|mut new_entries| {
            self.write_frame(lsns, &mut new_entries).map_err(CommitFailure::Write)?;
            Ok(new_entries)
        });
        // Published before any reply, so a caller never holds an LSN above the hint.
        self.shared.next_lsn_hint.store(lsns.next(), Ordering::Release);
        match outcome {
            Ok(new_entries) => {
                let counters = &self.shared.counters;
                counters.commits.fetch_add(1, Ordering::Relaxed);
                counters.records_appended.fetch_add(placements.len() as u64, Ordering::Relaxed);
                self.publish(&new_entries, &frame_shards);
                for append in appends {
                    append.answer(None);
                }
            }
            Err(failure) => {
                for append in appends {
                    append.answer(Some(&failure));
                }
            }
        }
        self.shared.next_lsn_hint.store(lsns.next(), Ordering::Release);
    }

    /// Refuses `appends` whole (nothing written) while the segments not yet archived fill
    /// the local hard limit; returns whether it did. If only the active segment is left
    /// to archive (a limit below the segment size), it is sealed so the archiver can
    /// upload it: otherwise appends would wait for the segment age limit.
    fn refuse_over_hard_limit(&mut self, lsns: &LsnCounter, appends: &mut Vec<PendingAppend>) -> bool {
        let shared = self.shared.clone();
        let Some(tier) = &shared.archive else {
            return false;
        };
        let counters = &shared.counters.archive;
        let Some((unarchived_bytes, limit_bytes)) = tier.backlog_full() else {
            counters.writes_refused.store(false, Ordering::Relaxed);
            return false;
        };
        if !counters.writes_refused.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                message = "Local hard limit reached; appends refused until uploads catch up.",
                unarchived_bytes,
                limit_bytes,
            );
        }
        counters.refused_appends_total.fetch_add(appends.len() as u64, Ordering::Relaxed);
        if self.active.has_frames() && !self.sealed_backlog_exists() {
            if let Err(error) = self.roll(lsns) {
                tracing::warn!(message = "Could not seal the active segment for upload at the hard limit.", error = ?error);
            }
        }
        let archive = tier.reader.describe();
        for append in appends.drain(..) {
            let error = StorageError::ArchiveBacklogFull { archive: archive.clone(), unarchived_bytes, limit_bytes };
            let _ = append.reply.send(Err(error));
        }
        true
    }

    /// Whether a sealed local segment is not yet archived (the archiver has work that
    /// will lower the unarchived bytes).
    fn sealed_backlog_exists(&self) -> bool {
        let Some(tier) = &self.shared.archive else {
            return false;
        };
        let archived = tier.archived.lock();
        let segments = self.shared.segments.read();
        segments.iter().any(|(id, s)| s.local && *id < self.active.id && !archived.live.contains_key(id))
    }

    /// Checks every record and gives each accepted one its LSN and arrival time; a
    /// refused record gets its error in its append's results, and an append with a
    /// record for a stream whose encryption key is missing is refused whole. Returns the
    /// placements sorted by shard (records of one shard in LSN order) and the shards they
    /// touch.
    fn place(
        &self,
        lsns: &mut LsnCounter,
        appends: &mut [PendingAppend],
    ) -> (Vec<Placement>, FastMap<u64, FrameShard>) {
        let now_ms = self.shared.clock.now_ms();
        let mut frame_shards: FastMap<u64, FrameShard> = FastMap::default();
        let mut seals: FastMap<u32, Seal> = FastMap::default();
        let mut placements: Vec<Placement> = Vec::new();
        let shards = self.shared.shards.read();
        for (append_index, append) in appends.iter_mut().enumerate() {
            append.refused = append.records.iter().find_map(|record| {
                match self.frame_shard(&mut frame_shards, &mut seals, &shards, record.shard_uid).ok()?.seal {
                    Seal::Unavailable(key) => Some(key),
                    Seal::Clear | Seal::With(_) => None,
                }
            });
            if append.refused.is_some() {
                continue;
            }
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
                    let shard = self.frame_shard(&mut frame_shards, &mut seals, &shards, record.shard_uid)?;
                    if shard.closed {
                        return Err(StorageError::ShardClosed { shard_uid: record.shard_uid });
                    }
                    let lsn = lsns.take();
                    let arrival_ms = now_ms.max(shard.newest_arrival_ms);
                    shard.newest_arrival_ms = arrival_ms;
                    placements.push(Placement {
                        shard_uid: record.shard_uid,
                        append_index,
                        record_index,
                        lsn,
                        arrival_ms,
                    });
                    Ok(Appended { lsn, arrival_ms })
                })();
                append.results.push(result);
            }
        }
        drop(shards);
        // Stable: records of one shard keep their LSN order.
        placements.sort_by_key(|p| p.shard_uid);
        (placements, frame_shards)
    }

    /// The shard `shard_uid` as this frame writes to it, looked up on first use.
    fn frame_shard<'a>(
        &self,
        frame_shards: &'a mut FastMap<u64, FrameShard>,
        seals: &mut FastMap<u32, Seal>,
        shards: &HashMap<u64, Arc<ShardState>>,
        shard_uid: u64,
    ) -> Result<&'a mut FrameShard> {
        Ok(match frame_shards.entry(shard_uid) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let state = shards.get(&shard_uid).cloned().ok_or(StorageError::ShardNotFound { shard_uid })?;
                // Closing happens on this thread, so it cannot change mid-frame:
                // one look at the index serves every record of the shard.
                let index = state.index.lock();
                let (newest_arrival_ms, closed) = (index.last_arrival_ms, index.closed_lsn.is_some());
                drop(index);
                let seal = self.seal_of(state.stream_id, seals);
                e.insert(FrameShard { state, newest_arrival_ms, closed, seal })
            }
        })
    }

    /// How a stream's new chunks are written: its encryption key's newest version,
    /// asked of the key store once per key and frame (so a rotation takes effect at the
    /// next frame, with no stream update).
    fn seal_of(&self, stream_id: u64, seals: &mut FastMap<u32, Seal>) -> Seal {
        // Stream metadata changes on this thread too, so this cannot change mid-frame.
        let key = self.shared.streams.read().get(&stream_id).and_then(|s| s.props.encryption_key);
        let Some(key) = key else {
            return Seal::Clear;
        };
        seals
            .entry(key)
            .or_insert_with(|| match self.shared.keys.as_deref().and_then(|keys| keys.current(key)) {
                Some((key_ref, mut material)) => {
                    let sealing = SealingKey::new(key_ref, material);
                    material.zeroize();
                    Seal::With(Arc::new(sealing))
                }
                None => Seal::Unavailable(key),
            })
            .clone()
    }

    /// Builds the frame of `placements` (sorted by shard), one chunk per shard, sealing
    /// those of encrypted streams, and returns the chunks' index entries with offsets
    /// relative to the frame. On an error nothing is written.
    fn build_frame(
        &mut self,
        first_lsn: u64,
        appends: &[PendingAppend],
        placements: &[Placement],
        frame_shards: &FastMap<u64, FrameShard>,
    ) -> Result<Vec<IndexEntry>, CommitFailure> {
        self.frame.begin(first_lsn);
        let mut entries = Vec::new();
        for run in placements.chunk_by(|a, b| a.shard_uid == b.shard_uid) {
            let (Some(first), Some(last)) = (run.first(), run.last()) else {
                continue;
            };
            let seal = match frame_shards.get(&first.shard_uid).map(|s| &s.seal) {
                Some(Seal::With(key)) => {
                    let mut salt: Salt = [0; SALT_BYTES];
                    self.shared.random.fill(&mut salt).map_err(CommitFailure::Random)?;
                    Some((key.clone(), salt))
                }
                Some(Seal::Unavailable(key)) => return Err(CommitFailure::KeyUnavailable(*key)),
                Some(Seal::Clear) | None => None,
            };
            self.frame.begin_chunk(first.shard_uid, seal.is_some());
            for placement in run {
                let record = &appends[placement.append_index].records[placement.record_index];
                self.frame.push_record(
                    placement.lsn,
                    placement.arrival_ms,
                    &record.partition_key,
                    record.explicit_hash_key,
                    &record.data,
                );
            }
            let chunk =
                self.frame.end_chunk(seal.as_ref().map(|(key, salt)| (&**key, salt))).map_err(CommitFailure::Seal)?;
            entries.push(IndexEntry {
                shard_uid: first.shard_uid,
                first_lsn: first.lsn,
                last_lsn: last.lsn,
                first_arrival_ms: first.arrival_ms,
                last_arrival_ms: last.arrival_ms,
                offset: chunk.offset_in_frame as u64, // made absolute by write_frame
                len: chunk.len as u32,
                count: chunk.count,
            });
        }
        Ok(entries)
    }

    /// Writes the built frame at the end of the active segment and makes it durable.
    fn write_frame(&mut self, lsns: &mut LsnCounter, entries: &mut [IndexEntry]) -> Result<(), WriteFailure> {
        let frame_len = self.frame.len() as u64;
        if self.active.has_frames() && self.active.end + frame_len > self.segment_bytes_max {
            self.roll(lsns)?;
        }
        lsns.reserve(&self.shared)?;
        let offset = self.active.end;
        let bytes = self.frame.finish();
        if let Err(error) = self.active.file.write_all_at(bytes, offset) {
            // Cut whatever part of the frame reached the file, so the next frame starts
            // at a clean boundary. If even that fails the file's state is unknown.
            if let Err(truncate_error) = self.active.file.set_len(offset) {
                tracing::error!(
                    message = "Could not cut a failed write off the segment.",
                    path = %self.active.path.display(),
                    %truncate_error,
                );
                let cause = StorageError::io("write", &self.active.path, error);
                return Err(self.shared.poison.trip("truncate after failed write", cause).into());
            }
            if error.raw_os_error() == Some(libc::ENOSPC) {
                let path = self.active.path.clone();
                self.warn_disk_full(&path);
                return Err(WriteFailure::DiskFull { path });
            }
            let cause = StorageError::io("write", &self.active.path, error);
            return Err(self.shared.poison.trip("write", cause).into());
        }
        self.active.end = offset + frame_len;
        self.shared.counters.bytes_written.fetch_add(frame_len, Ordering::Relaxed);
        if let Some(tier) = &self.shared.archive {
            tier.unarchived_bytes.fetch_add(frame_len, Ordering::AcqRel);
        }
        for entry in entries.iter_mut() {
            entry.offset += offset;
        }
        match self.durability {
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

    /// Relaxed durability's sync: handed to the syncer thread when there is one. The
    /// writer does not learn when it finishes, so `synced_end` stays behind and rolling
    /// and stopping still sync for themselves (rare, and cheap when already synced).
    fn periodic_sync(&mut self) -> Result<(), Poison> {
        let Some(syncer) = &self.syncer else {
            return self.sync_active();
        };
        let request = SyncRequest { segment_id: self.active.id, path: self.active.path.clone() };
        match syncer.request(request) {
            Requested::Covered => {}
            Requested::SyncerGone => return self.sync_active(),
        }
        self.sync_requested = SyncMark { segment_id: self.active.id, end: self.active.end };
        self.last_sync_ms = self.shared.clock.now_ms();
        Ok(())
    }

    /// Syncs the active segment on this thread; a failure poisons the log. On a poisoned
    /// log it refuses: a sync after a failed one may report success for pages the kernel
    /// already dropped.
    fn sync_active(&mut self) -> Result<(), Poison> {
        self.shared.poison.check()?;
        if let Err(error) = self.shared.timed_sync(&mut *self.active.file) {
            return Err(self.shared.poison.trip("fdatasync", StorageError::io("fdatasync", &self.active.path, error)));
        }
        self.active.synced_end = self.active.end;
        self.last_sync_ms = self.shared.clock.now_ms();
        Ok(())
    }

    /// Makes everything written so far durable (an explicit request).
    pub(super) fn sync_now(&mut self) -> Result<()> {
        if self.durability == Durability::Never || self.active.synced_end == self.active.end {
            self.shared.check_poisoned()
        } else {
            Ok(self.sync_active()?)
        }
    }

    /// In the relaxed mode, asks for a sync once the interval has passed since the last
    /// one and something is unsynced (housekeeping when idle).
    pub(super) fn sync_if_due(&mut self, now_ms: u64) {
        if let Durability::Relaxed { interval_ms } = self.durability {
            let requested = SyncMark { segment_id: self.active.id, end: self.active.end };
            let unsynced = self.active.synced_end < self.active.end && self.sync_requested != requested;
            if unsynced && now_ms.saturating_sub(self.last_sync_ms) >= interval_ms {
                if let Err(error) = self.periodic_sync() {
                    let error = StorageError::from(error);
                    tracing::error!(message = "Periodic log sync failed; log stopped.", %error);
                }
            }
        }
    }

    /// Makes a committed frame's chunks visible to readers and wakes those waiting.
    fn publish(&self, entries: &[IndexEntry], frame_shards: &FastMap<u64, FrameShard>) {
        {
            let mut segments = self.shared.segments.write();
            if let Some(segment) = segments.get_mut(&self.active.id) {
                for entry in entries {
                    segment.newest_arrival_ms.insert(entry.shard_uid, entry.last_arrival_ms);
                }
            }
        }
        for entry in entries {
            let Some(shard) = frame_shards.get(&entry.shard_uid) else {
                continue;
            };
            let mut index = shard.state.index.lock();
            index.push(ChunkRef::located(self.active.id, entry));
            drop(index);
            if shard.state.tip.receiver_count() > 0 {
                shard.state.tip.send_replace(entry.last_lsn);
            }
        }
    }

    /// Seals the active segment (its index written beside it) and starts the next.
    fn roll(&mut self, lsns: &LsnCounter) -> Result<(), WriteFailure> {
        let sync = self.durability != Durability::Never;
        if sync && self.active.synced_end < self.active.end {
            self.sync_active()?;
        }
        self.active.store_index(&*self.shared.fs, &self.log_dir, sync);
        let now_ms = self.shared.clock.now_ms();
        let next = ActiveSegment::create(&self.shared, &self.log_dir, self.active.id + 1, lsns.next(), now_ms)
            .map_err(|error| match error {
                // A full disk while starting the next segment refuses this append only: the
                // active segment stays as it was (its index file, now stale, is rewritten at
                // the next roll and ignored by recovery meanwhile).
                StorageError::Io { source, path, .. } if source.raw_os_error() == Some(libc::ENOSPC) => {
                    let _ = self.shared.fs.remove_file(&path);
                    WriteFailure::DiskFull { path }
                }
                other => self.shared.poison.trip("roll segment", other).into(),
            })?;
        tracing::debug!(message = "Segment sealed.", segment_id = self.active.id, bytes = self.active.end);
        self.active = next;
        self.shared.active_segment_id.store(self.active.id, Ordering::Release);
        if let Some(tier) = &self.shared.archive {
            tier.unarchived_bytes.fetch_add(self.active.end, Ordering::AcqRel);
            tier.wake();
        }
        Ok(())
    }

    /// Seals the active segment if it holds frames and is older than the age limit, so
    /// retention can delete quiet streams' data in whole files.
    pub(super) fn roll_if_old(&mut self, lsns: &LsnCounter) -> Result<(), WriteFailure> {
        let now = self.shared.clock.now_ms();
        if self.active.has_frames() && now.saturating_sub(self.active.created_ms) >= self.segment_age_ms_max {
            self.shared.poison.check()?;
            self.roll(lsns)?;
        }
        Ok(())
    }

    /// Stops the syncer and makes what was written durable, unless the log is poisoned
    /// (then the file's state is unknown and it is left alone).
    pub(super) fn finish(&mut self) {
        if let Some(syncer) = self.syncer.take() {
            syncer.stop();
        }
        let poisoned = self.shared.poison.is_set();
        if !poisoned && self.durability != Durability::Never && self.active.synced_end < self.active.end {
            if let Err(error) = self.active.file.sync_data() {
                tracing::error!(message = "Final log sync failed.", %error);
            }
        }
    }
}
