//! What can stop an archiver step: the archive failing, or the local side (a read of a
//! segment, a metadata fsync) failing. They are logged apart, since only the first says
//! anything about the archive.

use std::sync::atomic::Ordering;

use crate::archive::ArchiveError;
use crate::stats::ArchiveCounters;

#[derive(Debug, thiserror::Error)]
pub(super) enum ArchiverError {
    /// The archive refused or could not be reached.
    #[error("archive: {0}")]
    Archive(#[from] ArchiveError),
    /// A local read or write failed.
    #[error("local: {what}: {detail}")]
    Local { what: &'static str, detail: String },
}

impl ArchiverError {
    pub(super) fn local(what: &'static str, error: impl std::fmt::Display) -> Self {
        ArchiverError::Local { what, detail: error.to_string() }
    }

    /// Counts a failed upload step: the archive's in `upload_failures_total`, the local
    /// side's in `local_failures_total` (a failing disk must not read as a failing archive).
    pub(super) fn count(&self, counters: &ArchiveCounters) {
        match self {
            ArchiverError::Archive(_) => &counters.upload_failures_total,
            ArchiverError::Local { .. } => &counters.local_failures_total,
        }
        .fetch_add(1, Ordering::Relaxed);
    }

    /// `"archive"` or `"local"`, for the logs.
    pub(super) fn side(&self) -> &'static str {
        match self {
            ArchiverError::Archive(_) => "archive",
            ArchiverError::Local { .. } => "local",
        }
    }
}
