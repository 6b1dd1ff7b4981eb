//! The background syncer of [`super::Durability::Relaxed`]: `fdatasync` of the active
//! segment off the write path, so an acknowledgement in that mode never waits on the
//! disk's flush (whose tail is often tens of milliseconds).
//!
//! Invariants:
//! - A failed sync (or a segment that cannot be opened to sync) poisons the log exactly
//!   as an inline one does, with the original error as the cause.
//! - Once the log is poisoned the syncer touches no file: its state is unknown.
//! - At most [`SYNC_QUEUE_MAX`] requests wait; a waiting request has not started, so
//!   the sync it leads to covers every write made before it, later ones included.

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

use super::state::Shared;
use crate::error::StorageError;
use crate::fs::WriteFile;
use crate::limits::SYNC_QUEUE_MAX;

/// Asks the syncer to sync a segment (everything written to it so far).
pub(super) struct SyncRequest {
    pub(super) segment_id: u64,
    pub(super) path: PathBuf,
}

/// What became of a request handed to the syncer.
pub(super) enum Requested {
    /// Queued, or covered by a request already waiting.
    Covered,
    /// The syncer is gone; the caller must sync itself.
    SyncerGone,
}

/// The background syncer: its queue and its thread.
pub(super) struct Syncer {
    queue: flume::Sender<SyncRequest>,
    thread: JoinHandle<()>,
}

/// The segment the syncer holds open.
struct OpenSegment {
    id: u64,
    file: Box<dyn WriteFile>,
}

impl Syncer {
    /// Starts the syncer thread; `None` if it cannot start (the writer then syncs inline).
    pub(super) fn spawn(shared: Arc<Shared>) -> Option<Syncer> {
        let (queue, receiver) = flume::bounded::<SyncRequest>(SYNC_QUEUE_MAX);
        let thread = std::thread::Builder::new()
            .name("rheo-log-syncer".into())
            .spawn(move || {
                let mut open: Option<OpenSegment> = None;
                for request in receiver.iter() {
                    if shared.poison.is_set() {
                        // After a failed write or sync the file's state is unknown: leave it.
                        continue;
                    }
                    if open.as_ref().map(|segment| segment.id) != Some(request.segment_id) {
                        match shared.fs.open_write(&request.path) {
                            Ok(file) => open = Some(OpenSegment { id: request.segment_id, file }),
                            Err(error) => {
                                let cause = StorageError::io("open segment to sync", &request.path, error);
                                shared.poison.trip("open segment to sync", cause);
                                continue;
                            }
                        }
                    }
                    if let Some(segment) = open.as_mut() {
                        if let Err(error) = shared.timed_sync(&mut *segment.file) {
                            shared.poison.trip("fdatasync", StorageError::io("fdatasync", &request.path, error));
                        }
                    }
                }
            })
            .ok()?;
        Some(Syncer { queue, thread })
    }

    /// Asks for a sync of everything written to the request's segment so far.
    pub(super) fn request(&self, request: SyncRequest) -> Requested {
        match self.queue.try_send(request) {
            // A full queue holds a request that has not started: its sync covers these writes.
            Ok(()) | Err(flume::TrySendError::Full(_)) => Requested::Covered,
            Err(flume::TrySendError::Disconnected(_)) => Requested::SyncerGone,
        }
    }

    /// Lets the syncer finish what is queued and waits for it.
    pub(super) fn stop(self) {
        drop(self.queue);
        let _ = self.thread.join();
    }
}
