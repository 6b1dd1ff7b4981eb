//! The active segment: the one file appends go to, how it is started, synced and sealed.
//!
//! Invariants:
//! - A new segment's header is durable, and its folder entry too, before any frame is
//!   written to it.
//! - `synced_end <= end`: bytes up to `synced_end` are known durable.
//! - A sealed segment's index file is only an optimisation: recovery rescans a segment
//!   whose index is missing or stale.

use std::path::{Path, PathBuf};

use super::files::{index_name, segment_name};
use super::recovery;
use super::state::{FastMap, Segment, Shared};
use crate::error::{Result, StorageError};
use crate::format::{IndexEntry, SegmentHeader, SEGMENT_HEADER_BYTES, SEGMENT_VERSION};
use crate::fs::{join, FileSystem, WriteFile};

/// The segment appends go to.
pub(super) struct ActiveSegment {
    pub(super) id: u64,
    /// Its file's path, for errors.
    pub(super) path: PathBuf,
    pub(super) file: Box<dyn WriteFile>,
    /// Where the next frame goes.
    pub(super) end: u64,
    /// Everything before this is durable.
    pub(super) synced_end: u64,
    pub(super) created_ms: u64,
    /// Its chunks so far, written beside it as its index when it is sealed.
    pub(super) entries: Vec<IndexEntry>,
}

impl ActiveSegment {
    /// Continues appending to an existing segment that recovery found valid up to `end`.
    pub(super) fn reopen(
        fs: &dyn FileSystem,
        log_dir: &Path,
        id: u64,
        end: u64,
        now_ms: u64,
        entries: Vec<IndexEntry>,
    ) -> Result<Self> {
        let path = join(log_dir, &segment_name(id));
        let file = fs.open_write(&path).map_err(|e| StorageError::io("open segment", &path, e))?;
        Ok(ActiveSegment { id, path, file, end, synced_end: end, created_ms: now_ms, entries })
    }

    /// Starts segment `id`, whose first record will be `base_lsn`, and makes it readable.
    pub(super) fn create(shared: &Shared, log_dir: &Path, id: u64, base_lsn: u64, now_ms: u64) -> Result<Self> {
        let fs = &*shared.fs;
        let path = join(log_dir, &segment_name(id));
        let mut file = fs.open_write(&path).map_err(|e| StorageError::io("create segment", &path, e))?;
        file.set_len(0).map_err(|e| StorageError::io("create segment", &path, e))?;
        let header = SegmentHeader { version: SEGMENT_VERSION, segment_id: id, base_lsn }.encode();
        file.write_all_at(&header, 0).map_err(|e| StorageError::io("write segment header", &path, e))?;
        file.sync_data().map_err(|e| StorageError::io("sync segment header", &path, e))?;
        fs.sync_dir(log_dir).map_err(|e| StorageError::io("sync log folder", log_dir, e))?;
        let read = fs.open_read(&path).map_err(|e| StorageError::io("open segment", &path, e))?;
        shared.segments.write().insert(id, Segment { file: read, local: true, newest_arrival_ms: FastMap::default() });
        Ok(ActiveSegment {
            id,
            path,
            file,
            end: SEGMENT_HEADER_BYTES as u64,
            synced_end: SEGMENT_HEADER_BYTES as u64,
            created_ms: now_ms,
            entries: Vec::new(),
        })
    }

    /// Whether it holds any frame.
    pub(super) fn has_frames(&self) -> bool {
        self.end > SEGMENT_HEADER_BYTES as u64
    }

    /// Writes its index file beside it (synced unless `sync` is off). A failure is only
    /// logged: recovery rescans a segment without an index.
    pub(super) fn store_index(&self, fs: &dyn FileSystem, log_dir: &Path, sync: bool) {
        if let Err(error) = recovery::store_index(fs, log_dir, self.id, self.end, &self.entries, sync) {
            let path = join(log_dir, &index_name(self.id));
            tracing::warn!(message = "Could not write segment index.", path = %path.display(), %error);
        }
    }
}
