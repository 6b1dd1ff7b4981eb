//! The register of damaged chunks, filled by readers and by the background scrub.
//!
//! A chunk whose bytes on disk fail verification is registered once: logged at error
//! level with its file, offset, shard and LSN range, counted in [`crate::LogStats`], and
//! from then on reads that reach it fail at once with [`StorageError::Damaged`], while
//! records before and after it stay readable. Start-up with
//! [`super::RecoveryMode::TruncateAtCorruption`] cuts such ranges for good (see
//! `recovery.rs`); retention forgets the chunks of segments it deletes.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::files::segment_name;
use crate::error::StorageError;
use crate::format::IndexEntry;

/// A chunk whose bytes on disk failed verification: its index entry, and what is wrong.
#[derive(Debug, Clone)]
pub(super) struct DamagedChunk {
    pub(super) entry: IndexEntry,
    pub(super) detail: String,
}

/// Where a chunk lives: its segment and its offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct ChunkAt {
    pub(super) segment_id: u64,
    pub(super) offset: u64,
}

/// How much of the log is known to be damaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct DamageTotals {
    pub(super) chunks: u64,
    pub(super) records: u64,
}

/// Damaged chunks by where they are.
#[derive(Default)]
pub(super) struct DamageRegister {
    chunks: parking_lot::Mutex<BTreeMap<ChunkAt, DamagedChunk>>,
}

impl DamageRegister {
    /// The error a reader gets for a registered chunk, if this one is.
    pub(super) fn check(&self, at: ChunkAt) -> Option<StorageError> {
        self.chunks.lock().get(&at).map(|chunk| chunk.error(at))
    }

    /// Registers a damaged chunk (logging it the first time) and returns the reader's error.
    pub(super) fn report(&self, at: ChunkAt, chunk: DamagedChunk) -> StorageError {
        let error = chunk.error(at);
        if let std::collections::btree_map::Entry::Vacant(slot) = self.chunks.lock().entry(at) {
            tracing::error!(
                message = "Damaged records on disk; reads of this range fail until it is cut with --recover-truncate.",
                path = segment_name(at.segment_id),
                offset = at.offset,
                shard_uid = chunk.entry.shard_uid,
                first_lsn = chunk.entry.first_lsn,
                last_lsn = chunk.entry.last_lsn,
                records = chunk.entry.count,
                reason = %chunk.detail,
            );
            slot.insert(chunk);
        }
        error
    }

    /// Damaged chunks and the records in them.
    pub(super) fn totals(&self) -> DamageTotals {
        let chunks = self.chunks.lock();
        DamageTotals { chunks: chunks.len() as u64, records: chunks.values().map(|c| u64::from(c.entry.count)).sum() }
    }

    /// Forgets the chunks of deleted segments.
    pub(super) fn forget_segments(&self, ids: &[u64]) {
        self.chunks.lock().retain(|at, _| !ids.contains(&at.segment_id));
    }
}

impl DamagedChunk {
    fn error(&self, at: ChunkAt) -> StorageError {
        let entry = &self.entry;
        StorageError::Damaged {
            shard_uid: entry.shard_uid,
            first_lsn: entry.first_lsn,
            last_lsn: entry.last_lsn,
            first_arrival_ms: entry.first_arrival_ms,
            last_arrival_ms: entry.last_arrival_ms,
            count: entry.count,
            path: PathBuf::from(segment_name(at.segment_id)),
            offset: at.offset,
            detail: self.detail.clone(),
        }
    }
}
