//! Rheo's archives outside the storage crate: where `--archive URL` points, and the S3
//! archive behind `s3://` URLs.
//!
//! The storage engine sees only [`ObjectArchive`]; this crate holds the code that speaks
//! S3 (through `object_store`), so the engine stays free of HTTP and AWS.

mod s3;
mod url;

use std::sync::Arc;

use rheo_storage::archive::FsArchive;
use rheo_storage::{ArchiveError, ObjectArchive, StdFs};

pub use s3::{S3Archive, S3_CONNECT_TIMEOUT, S3_MAX_RETRIES, S3_REQUEST_TIMEOUT, S3_RETRY_TIMEOUT};
pub use url::{ArchiveUrl, ArchiveUrlError};

/// Why an archive could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveOpenError {
    /// The folder of a `file://` archive could not be created or cleaned.
    #[error("cannot open the archive folder {path}: {source}")]
    Folder {
        /// The folder.
        path: String,
        /// What failed.
        source: ArchiveError,
    },
    /// The S3 client could not be configured (a bad endpoint, region or credentials setting).
    #[error("cannot configure the S3 archive {url}: {source}")]
    S3 {
        /// The archive's URL.
        url: String,
        /// What object_store said.
        source: object_store::Error,
    },
    /// The archive's own runtime could not be started.
    #[error("cannot start the archive's runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// Opens the archive `url` names: a folder (created if missing) or an S3 bucket reached
/// at `s3_endpoint` (path-style; AWS's own endpoint when `None`) in `region`, with
/// credentials from the AWS environment variables.
pub fn open_archive(
    url: &ArchiveUrl,
    s3_endpoint: Option<&str>,
    region: &str,
) -> Result<Arc<dyn ObjectArchive>, ArchiveOpenError> {
    match url {
        ArchiveUrl::File { path } => {
            let archive = FsArchive::open(Arc::new(StdFs), path.clone())
                .map_err(|source| ArchiveOpenError::Folder { path: path.display().to_string(), source })?;
            Ok(Arc::new(archive))
        }
        ArchiveUrl::S3 { bucket, prefix } => Ok(Arc::new(S3Archive::open(bucket, prefix, s3_endpoint, region)?)),
    }
}
