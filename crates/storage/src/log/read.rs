//! The read path: turning a start position into an LSN, and reading a shard's records
//! from its chunk index and the segment files.
//!
//! Readers never wait for the writer: they take a shard's index lock only to copy a few
//! chunk references, then read and verify the chunks without any lock held.
//!
//! Invariants:
//! - A read sees only published (acknowledged) records, and stops at the tip it saw
//!   when it started, so a batch and its `tip_lsn` agree.
//! - Records older than their stream's retention are hidden even before retention has
//!   deleted their file; the boundary is the same as retention's.
//! - Damage is named, never spread: a damaged chunk fails the read only if it is the
//!   first thing the read reaches; records before it are returned, and the next read
//!   starts at it. A sealed chunk that does not open (its key version missing, or its tag
//!   not matching although its checksum does) is treated alike, but is not registered as
//!   damage: it is not, and the right key opens it.
//! - A chunk in a segment only the archive holds is read through the archive's cache; if
//!   the archive cannot serve it, the read fails with `ArchiveUnavailable` (or returns
//!   the records before it), never registering damage: the archive may come back. A
//!   fetched chunk that fails its checksum is damage, as on the local disk.
//! - [`read_may_block`] tells callers on an async runtime whether a read may wait for
//!   the archive, so they can move off the runtime's worker first.

use std::path::PathBuf;

use super::damage::DamagedChunk;
use super::files::segment_name;
use super::recovery;
use super::state::{ChunkRef, ShardState, Shared};
use super::types::{ReadBatch, StartPosition};
use crate::archive::cache::archive_error;
use crate::error::{Result, StorageError};
use crate::format::{FormatError, StoredRecord};
use crate::fs::ReadFile;
use crate::limits::READ_WINDOW_CHUNKS;

/// Oldest arrival time a reader may still see in this shard's stream.
fn visible_from_ms(shared: &Shared, shard: &ShardState) -> u64 {
    let retention = shared.retention_ms(shard.stream_id).unwrap_or(u64::MAX);
    shared.clock.now_ms().saturating_sub(retention)
}

/// Turns a start position into the LSN a read should begin at.
pub(super) fn resolve(shared: &Shared, shard_uid: u64, start: StartPosition) -> Result<u64> {
    let shard = shared.shard(shard_uid)?;
    let visible_from_ms = visible_from_ms(shared, &shard);
    let index = shard.index.lock();
    let after_tip = index.last_lsn.map_or(shard.created_lsn + 1, |l| l + 1);
    Ok(match start {
        StartPosition::AtLsn(lsn) => lsn,
        StartPosition::AfterLsn(lsn) => lsn.saturating_add(1),
        StartPosition::TrimHorizon => {
            let position = index.chunks.partition_point(|c| c.last_arrival_ms < visible_from_ms);
            index.chunks.get(position).map_or(after_tip, |c| c.first_lsn)
        }
        StartPosition::Latest => after_tip,
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
                    let records = load_chunk(shared, shard_uid, &chunk)?;
                    records.iter().find(|r| r.arrival_ms >= ts).map_or(chunk.last_lsn + 1, |r| r.lsn)
                }
                None => after_tip,
            }
        }
    })
}

/// Loads and verifies one chunk of `shard_uid`; damage is registered (see `damage.rs`).
fn load_chunk(shared: &Shared, shard_uid: u64, chunk: &ChunkRef) -> Result<Vec<StoredRecord>> {
    if let Some(error) = shared.damage.check(chunk.at()) {
        return Err(error);
    }
    let (file, local) =
        shared.segments.read().get(&chunk.segment_id).map(|s| (s.file.clone(), s.local)).ok_or(StorageError::Closed)?;
    let decoded = match read_and_decode(shared, shard_uid, chunk, &*file)? {
        Err(FormatError::KeyUnavailable(key)) => Err(FormatError::KeyUnavailable(key)),
        Err(FormatError::Unauthentic(key)) => Err(FormatError::Unauthentic(key)),
        // Bytes fetched from the archive may have been damaged on the way and then cached:
        // drop the segment's cached blocks and fetch once more. Only a second failure is
        // damage; a single bad download must not make the records unreadable for good.
        Err(_) if !local => {
            if let Some(tier) = &shared.archive {
                tier.reader.forget_segment(chunk.segment_id);
            }
            read_and_decode(shared, shard_uid, chunk, &*file)?
        }
        other => other,
    };
    decoded.map_err(|error| match error {
        // Not damage: nothing is registered, so a key store that has (or gets back) the
        // right key opens the chunk at the next read.
        FormatError::KeyUnavailable(key) => StorageError::KeyUnavailable {
            key,
            shard_uid,
            first_lsn: chunk.first_lsn,
            last_lsn: chunk.last_lsn,
            count: chunk.count,
        },
        FormatError::Unauthentic(key) => StorageError::Unauthentic {
            key,
            shard_uid,
            first_lsn: chunk.first_lsn,
            last_lsn: chunk.last_lsn,
            count: chunk.count,
            path: PathBuf::from(segment_name(chunk.segment_id)),
            offset: chunk.offset,
        },
        damage => {
            shared.damage.report(chunk.at(), DamagedChunk { entry: chunk.entry(shard_uid), detail: damage.to_string() })
        }
    })
}

/// Reads one chunk's bytes from `file` and decodes them: `Err` when the bytes could not be
/// read (an archive failure is `ArchiveUnavailable`, never damage), `Ok(Err)` when they
/// do not decode.
fn read_and_decode(
    shared: &Shared,
    shard_uid: u64,
    chunk: &ChunkRef,
    file: &dyn ReadFile,
) -> Result<std::result::Result<Vec<StoredRecord>, FormatError>> {
    let mut buf = vec![0u8; chunk.len as usize];
    file.read_exact_at(&mut buf, chunk.offset).map_err(|error| match archive_error(&error) {
        // Not damage: nothing is registered, and the read succeeds once the archive answers.
        Some(source) => StorageError::ArchiveUnavailable {
            archive: shared.archive.as_ref().map_or_else(String::new, |tier| tier.reader.describe()),
            shard_uid,
            first_lsn: chunk.first_lsn,
            last_lsn: chunk.last_lsn,
            count: chunk.count,
            source: source.clone(),
        },
        None => StorageError::io("read chunk", PathBuf::from(segment_name(chunk.segment_id)), error),
    })?;
    Ok(recovery::decode_indexed_chunk(buf, shard_uid, chunk.first_lsn, chunk.last_lsn, shared.keys.as_deref()))
}

/// What a read learns from the shard's index before it reads any chunk.
struct ReadBounds {
    /// The newest record when the read started; the read stops there.
    tip_lsn: Option<u64>,
    tip_arrival_ms: u64,
    closed_lsn: Option<u64>,
    /// The first record of the first chunk still within retention, if any.
    first_visible_lsn: Option<u64>,
}

/// Reads up to `max_records` records and about `max_bytes` of keys and data, starting
/// at `from_lsn`. At least one record is returned when one is available, whatever its
/// size.
pub(super) fn read(
    shared: &Shared,
    shard_uid: u64,
    from_lsn: u64,
    max_records: usize,
    max_bytes: usize,
) -> Result<ReadBatch> {
    let shard = shared.shard(shard_uid)?;
    let visible_from_ms = visible_from_ms(shared, &shard);
    let bounds = {
        let index = shard.index.lock();
        // Arrival times never decrease within a shard, so the first chunk still
        // within retention is found by bisection, skipping an expired prefix.
        let visible = index.chunks.partition_point(|c| c.last_arrival_ms < visible_from_ms);
        ReadBounds {
            tip_lsn: index.last_lsn,
            tip_arrival_ms: index.last_arrival_ms,
            closed_lsn: index.closed_lsn,
            first_visible_lsn: index.chunks.get(visible).map(|c| c.first_lsn),
        }
    };
    let tip_lsn = bounds.tip_lsn;
    let mut records = Vec::new();
    let mut bytes = 0usize;
    let mut next_lsn = from_lsn;
    let mut cursor = from_lsn.max(bounds.first_visible_lsn.unwrap_or(from_lsn));
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
            let decoded = match load_chunk(shared, shard_uid, chunk) {
                Ok(decoded) => decoded,
                // Records before damage (or a chunk that does not open, or one the
                // archive cannot serve now) are still served; the next read starts at it.
                Err(
                    StorageError::Damaged { .. }
                    | StorageError::KeyUnavailable { .. }
                    | StorageError::Unauthentic { .. }
                    | StorageError::ArchiveUnavailable { .. },
                ) if !records.is_empty() => break 'windows,
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
    let shard_end = bounds.closed_lsn.is_some() && drained;
    Ok(ReadBatch { records, next_lsn, shard_end, tip_lsn, tip_arrival_ms: bounds.tip_arrival_ms })
}

/// Whether a read starting at `from_lsn` may wait for the archive: some chunk of the
/// shard from `from_lsn` on (a read may go on through many windows, up to its record and
/// byte limits) is in a segment only the archive holds and not all cached. Cheap: the
/// remote segments are few, and each one's chunks of the shard are found by bisection.
/// Unknown shards and positions past the tip answer `false` (the read will not fetch).
pub(super) fn read_may_block(shared: &Shared, shard_uid: u64, from_lsn: u64) -> bool {
    let Some(tier) = &shared.archive else { return false };
    let Ok(shard) = shared.shard(shard_uid) else { return false };
    let remote: Vec<u64> =
        shared.segments.read().iter().filter(|(_, segment)| !segment.local).map(|(id, _)| *id).collect();
    if remote.is_empty() {
        return false;
    }
    // A shard's chunks are in LSN order and so in segment order: the chunks of one
    // segment are a contiguous run, found by bisection on the segment id.
    let spans: Vec<(u64, u64, u64)> = {
        let index = shard.index.lock();
        let start = index.chunks.partition_point(|c| c.last_lsn < from_lsn);
        let Some(first) = index.chunks.get(start) else { return false };
        let first_segment = first.segment_id;
        remote
            .iter()
            .filter(|id| **id >= first_segment)
            .filter_map(|id| {
                let from = start.max(index.chunks.partition_point(|c| c.segment_id < *id));
                let to = index.chunks.partition_point(|c| c.segment_id <= *id);
                let (first, last) = (index.chunks.get(from)?, index.chunks.get(to.checked_sub(1)?)?);
                (from < to).then(|| (*id, first.offset, last.offset + u64::from(last.len) - first.offset))
            })
            .collect()
    };
    spans.iter().any(|(segment_id, offset, len)| tier.reader.would_fetch(*segment_id, *offset, *len))
}
