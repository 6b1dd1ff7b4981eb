//! The layout of a data folder: where segments, their index files and the metadata
//! live, how they are named, and the folder's exclusive lock.
//!
//! Invariant: segment and index names are the segment id zero-padded to 20 digits, so
//! listing a folder in name order lists segments in id (and so LSN) order.

use std::path::Path;

use crate::error::{Result, StorageError};
use crate::fs::{join, sync_parent, FileSystem, LockGuard};
use crate::limits::LOCK_HOLDER_BYTES_MAX;

/// The folder of segment and index files, under the data folder.
pub(super) const LOG_DIR: &str = "log";
/// The folder of per-stream metadata files and the LSN reservation.
pub(super) const META_DIR: &str = "meta";
/// The lock file that keeps a second process off the same folder.
pub(super) const LOCK_FILE: &str = "LOCK";
/// Ending of a segment file's name.
pub(super) const SEGMENT_SUFFIX: &str = ".seg";
/// Ending of a sealed segment's index file's name.
pub(super) const INDEX_SUFFIX: &str = ".idx";

/// The file name of segment `id`.
pub(super) fn segment_name(id: u64) -> String {
    format!("{id:020}{SEGMENT_SUFFIX}")
}

/// The file name of segment `id`'s index.
pub(super) fn index_name(id: u64) -> String {
    format!("{id:020}{INDEX_SUFFIX}")
}

/// Takes the folder's exclusive lock, or says who holds it.
pub(super) fn lock_dir(fs: &dyn FileSystem, dir: &Path) -> Result<LockGuard> {
    fs.create_dir_all(dir).map_err(|e| StorageError::io("create folder", dir, e))?;
    // The data folder's own entry must be durable before anything in it is acknowledged,
    // or a crash loses the whole log with it. Synced at every open, not only when created
    // here: the caller may have created it (Firehose's, the queues' and Analytics' logs
    // live in sub-folders their crates create), or a run killed before the sync.
    match sync_parent(fs, dir) {
        Ok(()) => {}
        // A parent the user may not read (a folder with only `x` permission) cannot be
        // synced; refusing to start there would refuse set-ups that worked before. The
        // folder's entry is then as durable as the filesystem makes it on its own.
        Err(error) if error.kind() == std::io::ErrorKind::PermissionDenied => tracing::warn!(
            message = "Cannot sync the folder holding the data folder (no read permission); a power loss right after the folder was created could lose it.",
            dir = %dir.display(),
            %error,
        ),
        Err(error) => return Err(StorageError::io("sync the folder holding", dir, error)),
    }
    let path = join(dir, LOCK_FILE);
    match fs.try_lock(&path).map_err(|e| StorageError::io("lock data folder", &path, e))? {
        Some(guard) => Ok(guard),
        None => {
            let holder_pid = fs.open_read(&path).ok().and_then(|file| {
                let mut text = vec![0u8; file.len().ok()?.min(LOCK_HOLDER_BYTES_MAX) as usize];
                file.read_exact_at(&mut text, 0).ok()?;
                std::str::from_utf8(&text).ok()?.trim().parse().ok()
            });
            Err(StorageError::Locked { dir: dir.to_path_buf(), holder_pid })
        }
    }
}
