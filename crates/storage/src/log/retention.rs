//! Retention: finding sealed segments whose every record is past its own stream's
//! retention (or whose streams are gone), taking them out of the in-memory state, and
//! deleting their files.
//!
//! Runs on the writer thread, so no append can land in a segment while it is judged.
//!
//! Invariants:
//! - The active segment is never deleted.
//! - The expiry boundary is the read path's: a record is visible while
//!   `arrival >= now - retention`, and a segment is expired only when its newest record
//!   of every shard is strictly older than that.
//! - Segments leave every index (and the damage register) before their files go.

use std::path::Path;
use std::sync::atomic::Ordering;

use super::deleter::{delete_segment_files, Deleter, Files, Release};
use super::state::Shared;
use crate::error::Result;

/// Where expired segment files are unlinked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DeleteMode {
    /// On the deleter thread, so appends do not wait.
    Background,
    /// On the writer, before answering.
    Inline,
}

/// Deletes every sealed segment (all but `active_id`) whose records have all expired;
/// returns how many.
pub(super) fn enforce(
    shared: &Shared,
    log_dir: &Path,
    active_id: u64,
    mode: DeleteMode,
    deleter: Option<&Deleter>,
) -> Result<usize> {
    let now = shared.clock.now_ms();
    // Held while segments are removed, so the archiver never records an upload of a
    // segment removed here (it checks, under this lock, that the segment is still there).
    let mut archived = shared.archive.as_ref().map(|tier| tier.archived.lock());
    let expired: Vec<u64> = {
        let segments = shared.segments.read();
        let shards = shared.shards.read();
        segments
            .iter()
            .filter(|(id, _)| **id != active_id)
            .filter(|(_, segment)| {
                segment.newest_arrival_ms.iter().all(|(uid, newest)| {
                    match shards.get(uid).and_then(|s| shared.retention_ms(s.stream_id)) {
                        // Same boundary as reads: a record is visible while arrival >= now - retention.
                        Some(retention_ms) => newest.saturating_add(retention_ms) < now,
                        None => true, // the stream was deleted
                    }
                })
            })
            .map(|(id, _)| *id)
            .collect()
    };
    // Archived segments keep their index and record until the archiver has deleted
    // their objects; only their local segment file (if any) goes now.
    let mut local_files: Vec<u64> = Vec::new();
    let mut archived_local: Vec<u64> = Vec::new();
    for id in &expired {
        let removed = shared.segments.write().remove(id);
        if let Some(segment) = removed {
            let shards = shared.shards.read();
            for uid in segment.newest_arrival_ms.keys() {
                if let Some(shard) = shards.get(uid) {
                    shard.index.lock().chunks.retain(|c| c.segment_id != *id);
                }
            }
            match archived.as_mut().and_then(|a| a.live.remove(id).map(|m| (a, m))) {
                Some((list, manifest)) => {
                    list.expired.insert(*id, manifest);
                    if segment.local {
                        archived_local.push(*id);
                    }
                }
                None => {
                    if let Some(tier) = &shared.archive {
                        tier.unarchived_gone(segment.file.len().unwrap_or(0));
                    }
                    local_files.push(*id);
                }
            }
        }
    }
    drop(archived);
    if let Some(tier) = &shared.archive {
        if expired.len() > local_files.len() {
            tier.wake();
        }
    }
    shared.damage.forget_segments(&expired);
    let count = expired.len();
    // Unlinking large files takes tens of milliseconds each; appends must not wait for
    // it. The segments are already out of every index, so a crash before the files are
    // gone only means recovery finds them and retention deletes them again. One failure
    // does not keep the other batch from going.
    let mut failure = None;
    for (ids, files) in [(local_files, Files::SegmentAndIndex), (archived_local, Files::SegmentOnly)] {
        if ids.is_empty() {
            continue;
        }
        if let Err(error) = hand_over(shared, log_dir, mode, deleter, ids, files) {
            failure.get_or_insert(error);
        }
    }
    failure.map_or(Ok(count), Err)
}

/// Deletes `files` of segments `ids` on the deleter thread, or inline if it has no room
/// or `mode` says so.
fn hand_over(
    shared: &Shared,
    log_dir: &Path,
    mode: DeleteMode,
    deleter: Option<&Deleter>,
    ids: Vec<u64>,
    files: Files,
) -> Result<()> {
    match (mode, deleter) {
        (DeleteMode::Background, Some(deleter)) => {
            let pending = &shared.counters.segments_pending_delete;
            pending.fetch_add(ids.len() as u64, Ordering::Relaxed);
            match deleter.submit(ids, files) {
                Ok(()) => Ok(()),
                Err(ids) => {
                    pending.fetch_sub(ids.len() as u64, Ordering::Relaxed);
                    delete_segment_files(&*shared.fs, log_dir, &ids, files, Release::AtOnce)
                }
            }
        }
        _ => delete_segment_files(&*shared.fs, log_dir, &ids, files, Release::AtOnce),
    }
}
