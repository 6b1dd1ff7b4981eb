//! Stopping writes for good after a failure that leaves the disk's state unknown.
//!
//! After a failed `fdatasync` the kernel may have dropped the dirty pages and still
//! report the next sync as successful, so a failed sync (or a write, a truncation or a
//! metadata replacement that failed halfway) is never retried: the log is *poisoned* and
//! refuses every later write until it is reopened, which recovers from what is really on
//! disk. A full disk is not such a failure: it refuses only the commit it struck.
//!
//! Invariants:
//! - The first failure is kept whole (the operation and the original error, with its
//!   I/O kind, OS code and file), and every later refusal reports that same error, not a
//!   rewritten one. A second failure does not replace it.
//! - Once set, the latch is never cleared; only a restart gets a fresh one.

use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::error::StorageError;

/// Why writes stopped: the step that failed and the error it failed with.
#[derive(Debug, Clone)]
pub(super) struct Poison {
    /// The log's step that failed ("fdatasync", "write", "write metadata", ...).
    pub(super) operation: &'static str,
    /// The failure as it was first reported, shared by every refusal that follows.
    pub(super) cause: Arc<StorageError>,
}

impl From<Poison> for StorageError {
    fn from(poison: Poison) -> Self {
        StorageError::Poisoned { operation: poison.operation, cause: poison.cause }
    }
}

/// How a write to the log failed. There are only two outcomes: a full disk refuses the
/// commit and leaves the log usable; anything else poisons it. Cheap to clone, so every
/// append of a failed group commit gets the same error.
#[derive(Debug, Clone)]
pub(super) enum WriteFailure {
    /// The disk is full; appends succeed again once space is freed.
    DiskFull {
        /// The file that could not grow.
        path: PathBuf,
    },
    /// The log is poisoned.
    Poisoned(Poison),
}

impl From<Poison> for WriteFailure {
    fn from(poison: Poison) -> Self {
        WriteFailure::Poisoned(poison)
    }
}

impl From<WriteFailure> for StorageError {
    fn from(failure: WriteFailure) -> Self {
        match failure {
            WriteFailure::DiskFull { path } => StorageError::DiskFull { path },
            WriteFailure::Poisoned(poison) => poison.into(),
        }
    }
}

/// The latch that stops writes: empty while the log is healthy, the first [`Poison`] after.
#[derive(Debug, Default)]
pub(super) struct PoisonLatch {
    first: Mutex<Option<Poison>>,
}

impl PoisonLatch {
    /// `Err` with the first failure once the log is poisoned.
    pub(super) fn check(&self) -> Result<(), Poison> {
        match &*self.first.lock() {
            Some(poison) => Err(poison.clone()),
            None => Ok(()),
        }
    }

    /// Whether writes are stopped.
    pub(super) fn is_set(&self) -> bool {
        self.first.lock().is_some()
    }

    /// Stops writes because `operation` failed with `cause`, logging the first failure.
    /// Returns this failure, for the caller whose write it failed.
    pub(super) fn trip(&self, operation: &'static str, cause: StorageError) -> Poison {
        let poison = Poison { operation, cause: Arc::new(cause) };
        let mut first = self.first.lock();
        if first.is_none() {
            tracing::error!(message = "Storage stopped accepting writes.", operation, reason = %poison.cause);
            *first = Some(poison.clone());
        }
        poison
    }
}
