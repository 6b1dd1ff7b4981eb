//! The background scrub, and the register of damaged chunks it and readers fill.
//!
//! Start-up trusts a sealed segment's index without reading the segment (so a start with
//! gigabytes of data stays fast). A flipped bit inside such a segment would otherwise go
//! unnoticed until a reader hit it. So after start a thread reads every chunk of those
//! segments once, paced to [`crate::limits::SCRUB_BYTES_PER_SEC`] so it never competes with the write
//! path for the disk, and every read verifies the chunks it loads as well. Either way a
//! damaged chunk is registered once: logged at error level with its file, offset, shard
//! and LSN range, counted in [`crate::LogStats`], and from then on reads that reach it
//! fail at once with [`StorageError::Damaged`], while records before and after it stay
//! readable. Start-up with [`super::RecoveryMode::TruncateAtCorruption`] cuts such
//! ranges for good (see `recovery.rs`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::{recovery, segment_name, Shared};
use crate::error::StorageError;
use crate::format::IndexEntry;
use crate::limits::SCRUB_STEP_BYTES;

/// A chunk whose bytes on disk failed verification: its index entry, and what is wrong.
#[derive(Debug, Clone)]
pub(super) struct DamagedChunk {
    pub(super) entry: IndexEntry,
    pub(super) detail: String,
}

/// Damaged chunks by (segment id, offset).
#[derive(Default)]
pub(super) struct DamageRegister {
    chunks: parking_lot::Mutex<BTreeMap<(u64, u64), DamagedChunk>>,
}

impl DamageRegister {
    /// The error a reader gets for a registered chunk, if this one is.
    pub(super) fn check(&self, segment_id: u64, offset: u64) -> Option<StorageError> {
        self.chunks.lock().get(&(segment_id, offset)).map(|chunk| chunk.error(segment_id, offset))
    }

    /// Registers a damaged chunk (logging it the first time) and returns the reader's error.
    pub(super) fn report(&self, segment_id: u64, offset: u64, chunk: DamagedChunk) -> StorageError {
        let error = chunk.error(segment_id, offset);
        if let std::collections::btree_map::Entry::Vacant(slot) = self.chunks.lock().entry((segment_id, offset)) {
            tracing::error!(
                message = "Damaged records on disk; reads of this range fail until it is cut with --recover-truncate.",
                path = segment_name(segment_id),
                offset,
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
    pub(super) fn totals(&self) -> (u64, u64) {
        let chunks = self.chunks.lock();
        (chunks.len() as u64, chunks.values().map(|c| u64::from(c.entry.count)).sum())
    }

    /// Forgets the chunks of deleted segments.
    pub(super) fn forget_segments(&self, ids: &[u64]) {
        self.chunks.lock().retain(|(segment_id, _), _| !ids.contains(segment_id));
    }
}

impl DamagedChunk {
    fn error(&self, segment_id: u64, offset: u64) -> StorageError {
        let entry = &self.entry;
        StorageError::Damaged {
            shard_uid: entry.shard_uid,
            first_lsn: entry.first_lsn,
            last_lsn: entry.last_lsn,
            first_arrival_ms: entry.first_arrival_ms,
            last_arrival_ms: entry.last_arrival_ms,
            count: entry.count,
            path: PathBuf::from(segment_name(segment_id)),
            offset,
            detail: self.detail.clone(),
        }
    }
}

/// The scrub thread; dropping `stop` ends it at its next step.
pub(super) struct Scrubber {
    stop: Option<flume::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Scrubber {
    /// Stops the scrub and waits for it.
    pub(super) fn stop(&mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!(message = "Log scrub thread panicked.");
            }
        }
    }
}

/// Starts verifying the chunks of `segments` (id and index entries) in the background.
pub(super) fn spawn(
    shared: Arc<Shared>,
    segments: Vec<(u64, Vec<IndexEntry>)>,
    bytes_per_sec: u64,
) -> Option<Scrubber> {
    if segments.is_empty() || bytes_per_sec == 0 {
        return None;
    }
    let (stop, stopped) = flume::bounded::<()>(0);
    let pause = Duration::from_micros(SCRUB_STEP_BYTES.saturating_mul(1_000_000) / bytes_per_sec.max(1));
    let thread = std::thread::Builder::new()
        .name("rheo-log-scrubber".into())
        .spawn(move || {
            let mut since_pause = 0u64;
            let mut verified = 0u64;
            for (segment_id, entries) in segments {
                for entry in entries {
                    // The segment may have expired meanwhile; then there is nothing to check.
                    let Some(file) = shared.segments.read().get(&segment_id).map(|s| s.file.clone()) else {
                        break;
                    };
                    if shared.damage.check(segment_id, entry.offset).is_none() {
                        if let Err(detail) = recovery::verify_chunk(&*file, &entry) {
                            let still_there = shared.segments.read().contains_key(&segment_id);
                            if still_there {
                                shared.damage.report(segment_id, entry.offset, DamagedChunk { entry, detail });
                            }
                        }
                    }
                    verified += u64::from(entry.len);
                    shared.counters.scrubbed_bytes.fetch_add(u64::from(entry.len), Ordering::Relaxed);
                    since_pause += u64::from(entry.len);
                    if since_pause >= SCRUB_STEP_BYTES {
                        since_pause = 0;
                        if !matches!(stopped.recv_timeout(pause), Err(flume::RecvTimeoutError::Timeout)) {
                            return;
                        }
                    }
                }
                if !matches!(stopped.try_recv(), Err(flume::TryRecvError::Empty)) {
                    return;
                }
            }
            let (damaged_chunks, damaged_records) = shared.damage.totals();
            tracing::info!(
                message = "Scrub of sealed segments finished.",
                verified_bytes = verified,
                damaged_chunks,
                damaged_records
            );
        })
        .ok()?;
    Some(Scrubber { stop: Some(stop), thread: Some(thread) })
}
