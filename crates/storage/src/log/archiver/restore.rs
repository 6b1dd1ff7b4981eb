//! Start-up of segments only the archive holds: their chunks come from the local index
//! file, checked against the record's length and CRC-32C; a missing or damaged one is
//! fetched from the archive, checked the same way and stored locally. If that fails the
//! log refuses to start, naming the segment: opening without it would hide records.

use std::path::Path;

use super::super::files::index_name;
use super::super::recovery;
use crate::archive::{ArchiveError, ObjectArchive, SegmentManifest};
use crate::error::{Result, StorageError};
use crate::format::{self, IndexEntry};
use crate::fs::{join, FileSystem};

/// An archived segment with no local file, and its chunks.
pub(in crate::log) struct RemoteSegment {
    pub(in crate::log) manifest: SegmentManifest,
    pub(in crate::log) entries: Vec<IndexEntry>,
}

/// The chunks of every archived segment in `records` whose id is not in `local_ids`.
pub(in crate::log) fn restore_remote(
    fs: &dyn FileSystem,
    log_dir: &Path,
    store: &dyn ObjectArchive,
    index_key: impl Fn(u64) -> String,
    records: &[SegmentManifest],
    local_ids: &std::collections::BTreeSet<u64>,
) -> Result<Vec<RemoteSegment>> {
    let mut remote = Vec::new();
    for manifest in records.iter().filter(|m| !local_ids.contains(&m.segment_id)) {
        let id = manifest.segment_id;
        let entries = match local_index(fs, log_dir, manifest) {
            Some(entries) => entries,
            None => {
                fetch_index(fs, log_dir, store, &index_key(id), manifest).map_err(|detail| StorageError::Archive {
                    archive: store.describe(),
                    detail: format!(
                        "segment {id} is held only by the archive and its index could not be restored: {detail}"
                    ),
                })?
            }
        };
        remote.push(RemoteSegment { manifest: manifest.clone(), entries });
    }
    Ok(remote)
}

/// The chunks in `bytes`, if they are the index the record describes.
fn checked_index(bytes: &[u8], manifest: &SegmentManifest) -> std::result::Result<Vec<IndexEntry>, String> {
    if bytes.len() as u64 != manifest.index_len || crc32c::crc32c(bytes) != manifest.index_crc32c {
        return Err(format!(
            "{} bytes with CRC-32C {:08x}, the record says {} bytes with {:08x}",
            bytes.len(),
            crc32c::crc32c(bytes),
            manifest.index_len,
            manifest.index_crc32c
        ));
    }
    match format::decode_index(bytes) {
        Ok((id, end, entries)) if id == manifest.segment_id && end == manifest.segment_len => Ok(entries),
        Ok((id, end, _)) => Err(format!("it describes segment {id} of {end} bytes")),
        Err(error) => Err(error.to_string()),
    }
}

fn local_index(fs: &dyn FileSystem, log_dir: &Path, manifest: &SegmentManifest) -> Option<Vec<IndexEntry>> {
    let path = join(log_dir, &index_name(manifest.segment_id));
    let file = fs.open_read(&path).ok()?;
    let len = file.len().ok()?;
    let mut bytes = vec![0u8; usize::try_from(len).ok()?];
    file.read_exact_at(&mut bytes, 0).ok()?;
    match checked_index(&bytes, manifest) {
        Ok(entries) => Some(entries),
        Err(detail) => {
            tracing::warn!(message = "Local index of an archived segment is damaged; fetching it.", path = %path.display(), %detail);
            None
        }
    }
}

fn fetch_index(
    fs: &dyn FileSystem,
    log_dir: &Path,
    store: &dyn ObjectArchive,
    key: &str,
    manifest: &SegmentManifest,
) -> std::result::Result<Vec<IndexEntry>, String> {
    let bytes = store.get(key).map_err(|e: ArchiveError| e.to_string())?;
    let entries = checked_index(&bytes, manifest).map_err(|detail| format!("object {key}: {detail}"))?;
    recovery::store_index(fs, log_dir, manifest.segment_id, manifest.segment_len, &entries, true)
        .map_err(|e| format!("storing it locally failed: {e}"))?;
    tracing::info!(
        message = "Index of an archived segment fetched from the archive.",
        segment_id = manifest.segment_id
    );
    Ok(entries)
}
