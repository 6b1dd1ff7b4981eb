//! What can stop an archiver step: the archive failing, or the local side (a read of a
//! segment, a metadata fsync) failing. They are logged apart, since only the first says
//! anything about the archive.

use crate::archive::ArchiveError;

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

    /// `"archive"` or `"local"`, for the logs.
    pub(super) fn side(&self) -> &'static str {
        match self {
            ArchiverError::Archive(_) => "archive",
            ArchiverError::Local { .. } => "local",
        }
    }
}
