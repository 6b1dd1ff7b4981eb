//! Deleting expired segment files, and the background thread that does it off the
//! write path.
//!
//! Unlinking a large file takes tens of milliseconds, and freeing a gigabyte at once
//! stalls other writes' `fdatasync` (see [`DELETE_STEP_BYTES`]), so the writer hands
//! expired segments to this thread, which gives their space back in paced steps.
//!
//! Invariants:
//! - A file is unlinked, and the unlink made durable (folder sync), before it is shrunk,
//!   so a crash in the middle never leaves a half-shrunk segment for recovery to mistake
//!   for damage.
//! - The segments handed over are already out of every in-memory index, so a crash
//!   before their files are gone only means recovery finds them and retention deletes
//!   them again.
//! - At most [`DELETE_QUEUE_MAX`] batches wait; beyond that the writer deletes inline.
//! - Stopping never waits for the pacing: the rest is freed at once.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::files::{index_name, segment_name};
use super::state::Shared;
use crate::error::{Result, StorageError};
use crate::fs::{join, FileSystem, WriteFile};
use crate::limits::{DELETE_QUEUE_MAX, DELETE_STEP_BYTES, DELETE_STEP_PAUSE_MS};

/// How expired segment files give their space back.
#[derive(Clone, Copy)]
pub(super) enum Release<'a> {
    /// All at once (space is needed now, or the log is stopping).
    AtOnce,
    /// In [`DELETE_STEP_BYTES`] steps, unless `hurry` is set meanwhile.
    Paced { hurry: &'a AtomicBool },
}

/// Which files of an expired segment go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Files {
    /// Segment and index.
    SegmentAndIndex,
    /// The segment only: an archived segment keeps its index (and its record) until the
    /// archiver has deleted its objects.
    SegmentOnly,
}

/// Deletes the `files` of segments `ids`, then syncs the folder. A file already gone
/// (the archiver may remove an archived segment's first) is no failure.
pub(super) fn delete_segment_files(
    fs: &dyn FileSystem,
    log_dir: &Path,
    ids: &[u64],
    files: Files,
    release: Release<'_>,
) -> Result<()> {
    for id in ids {
        let names = match files {
            Files::SegmentAndIndex => vec![index_name(*id), segment_name(*id)],
            Files::SegmentOnly => vec![segment_name(*id)],
        };
        let mut held = Vec::new();
        for name in names {
            let path = join(log_dir, &name);
            if !fs.exists(&path) {
                continue;
            }
            // Unlinked first, so a crash in the middle leaves no half-shrunk segment for
            // recovery to mistake for damage; the open handle then frees the blocks.
            if let Release::Paced { hurry } = release {
                let len = fs.open_read(&path).and_then(|f| f.len()).ok();
                held.extend(fs.open_write(&path).ok().zip(len).map(|(file, len)| (file, len, hurry)));
            }
            match fs.remove_file(&path) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                    return Err(StorageError::io("delete expired segment", &path, error));
                }
                _ => {}
            }
        }
        if !held.is_empty() {
            // The unlinks must be durable before any shrink is: nothing orders the two
            // otherwise, and a crash could bring a file back with its end cut off.
            fs.sync_dir(log_dir).map_err(|e| StorageError::io("sync log folder", log_dir, e))?;
        }
        for (file, len, hurry) in held {
            shrink_gradually(file, len, hurry);
        }
        tracing::info!(message = "Expired segment deleted.", segment_id = id);
    }
    fs.sync_dir(log_dir).map_err(|e| StorageError::io("sync log folder", log_dir, e))
}

/// Frees an unlinked file's blocks a step at a time (see [`DELETE_STEP_BYTES`]); closing
/// the handle frees whatever is left. Failures only mean the space comes back at close.
pub(super) fn shrink_gradually(mut file: Box<dyn WriteFile>, mut len: u64, hurry: &AtomicBool) {
    while len > DELETE_STEP_BYTES && !hurry.load(Ordering::Relaxed) {
        len -= DELETE_STEP_BYTES;
        if file.set_len(len).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(DELETE_STEP_PAUSE_MS));
    }
}

/// The background deleter: its queue, its thread, and the flag that makes it finish
/// without pacing when the log stops.
pub(super) struct Deleter {
    queue: flume::Sender<(Vec<u64>, Files)>,
    thread: JoinHandle<()>,
    hurry: Arc<AtomicBool>,
}

impl Deleter {
    /// Starts the deleter thread; `None` if it cannot start (the writer then deletes
    /// inline).
    pub(super) fn spawn(shared: Arc<Shared>, log_dir: PathBuf) -> Option<Deleter> {
        let (queue, receiver) = flume::bounded::<(Vec<u64>, Files)>(DELETE_QUEUE_MAX);
        let hurry = Arc::new(AtomicBool::new(false));
        let flag = hurry.clone();
        let thread = std::thread::Builder::new()
            .name("rheo-log-deleter".into())
            .spawn(move || {
                for (ids, files) in receiver.iter() {
                    let result =
                        delete_segment_files(&*shared.fs, &log_dir, &ids, files, Release::Paced { hurry: &flag });
                    shared.counters.segments_pending_delete.fetch_sub(ids.len() as u64, Ordering::Relaxed);
                    if let Err(error) = result {
                        tracing::error!(message = "Could not delete expired segments.", %error);
                    }
                }
            })
            .ok()?;
        Some(Deleter { queue, thread, hurry })
    }

    /// Hands segments over for deletion; gives them back if the queue is full or the
    /// thread is gone.
    pub(super) fn submit(&self, ids: Vec<u64>, files: Files) -> std::result::Result<(), Vec<u64>> {
        self.queue.try_send((ids, files)).map_err(|error| match error {
            flume::TrySendError::Full((ids, _)) | flume::TrySendError::Disconnected((ids, _)) => ids,
        })
    }

    /// Finishes the queued deletions without pacing and waits for the thread.
    pub(super) fn stop(self) {
        self.hurry.store(true, Ordering::Relaxed);
        drop(self.queue);
        let _ = self.thread.join();
    }
}
