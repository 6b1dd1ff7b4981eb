//! Errors of the storage engine. The server maps them to AWS error types in one place.

use std::path::PathBuf;

use crate::cipher::{KeyRef, RandomError};

/// Everything the storage engine can report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// An I/O operation failed; the write that caused it was not acknowledged.
    #[error("I/O error during {operation} on {path}: {source}")]
    Io {
        /// What the engine was doing.
        operation: &'static str,
        /// The file or folder concerned.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The disk is full. Nothing acknowledged was lost; appends succeed again once
    /// space is freed.
    #[error("disk full while writing {path}: appends are refused until space is freed")]
    DiskFull {
        /// The file that could not grow.
        path: PathBuf,
    },
    /// A write or fsync failed in a way that leaves the on-disk state unknown. The
    /// engine refuses all further writes: retrying an fsync after failure can report
    /// success for data the kernel already dropped. Every refusal carries the failure
    /// that stopped writes, unchanged, so its I/O kind, OS code and file stay visible.
    #[error("storage is stopped after a failed {operation}; restart to recover: {cause}")]
    Poisoned {
        /// The operation that failed first.
        operation: &'static str,
        /// The error it failed with, as first reported (usually [`StorageError::Io`]).
        #[source]
        cause: std::sync::Arc<StorageError>,
    },
    /// Recovery found damage before the end of the log. The operator may restart with
    /// truncation allowed, which discards everything from `offset` on.
    #[error(
        "corruption in {path} at byte {offset}: {detail}; valid data follows it, so \
         start-up stops. Restart with --recover-truncate to cut exactly the damaged range (its records are \
         lost; everything valid around it is kept)"
    )]
    Corruption {
        /// The damaged file.
        path: PathBuf,
        /// Where the first invalid frame begins.
        offset: u64,
        /// What is wrong with it.
        detail: String,
    },
    /// Another process (or another log in this process) holds the data folder. Two
    /// writers on one folder would hand out the same ids and overwrite each other's
    /// files, losing acknowledged records.
    #[error(
        "the data folder {} is in use by another Rheo process{}: stop that process first, \
         or give this one another --data-dir",
        dir.display(),
        holder_pid.map(|pid| format!(" (pid {pid})")).unwrap_or_default()
    )]
    Locked {
        /// The folder.
        dir: PathBuf,
        /// The holder's process id, as it wrote it into the lock file.
        holder_pid: Option<u32>,
    },
    /// Records on disk failed their checksum, found by a read or by the background
    /// scrub. Reads that reach the range fail with this (records before it are still
    /// returned); everything else stays readable. `--recover-truncate` cuts exactly the
    /// range at the next start.
    #[error(
        "{count} records of shard {shard_uid} (LSNs {first_lsn} to {last_lsn}) are damaged on disk \
         ({} at byte {offset}: {detail}); restart with --recover-truncate to cut exactly this range",
        path.display()
    )]
    Damaged {
        /// The shard.
        shard_uid: u64,
        /// First LSN of the damaged range.
        first_lsn: u64,
        /// Last LSN of the damaged range.
        last_lsn: u64,
        /// Arrival time of the damaged range's first record (for its sequence number).
        first_arrival_ms: u64,
        /// Arrival time of the damaged range's last record (for its sequence number).
        last_arrival_ms: u64,
        /// Records in the range.
        count: u32,
        /// The segment file.
        path: PathBuf,
        /// Where the damaged chunk starts.
        offset: u64,
        /// What is wrong with it.
        detail: String,
    },
    /// An append went to a stream whose encryption key the key store does not hold (or
    /// no key store is configured), or a stream was to start sealing with such a key.
    /// Nothing was written.
    #[error("encryption key {key} is not in the key store; nothing was written")]
    EncryptionKeyUnavailable {
        /// The key's number in the key store.
        key: u32,
    },
    /// Records were sealed with a key version the key store no longer holds. Nothing is
    /// wrong on disk: reads of the range succeed again once the key store has it.
    #[error(
        "{count} records of shard {shard_uid} (LSNs {first_lsn} to {last_lsn}) are sealed with {key}, \
         which the key store does not hold"
    )]
    KeyUnavailable {
        /// The key version that sealed them.
        key: KeyRef,
        /// The shard.
        shard_uid: u64,
        /// First LSN of the range.
        first_lsn: u64,
        /// Last LSN of the range.
        last_lsn: u64,
        /// Records in the range.
        count: u32,
    },
    /// Sealed records whose bytes pass their checksum do not open with their key
    /// version: the key store holds other material under that version than the one that
    /// sealed them, or the file was altered together with its checksum. The records are
    /// not cut by `--recover-truncate` (their bytes are intact; the right key opens them).
    #[error(
        "{count} records of shard {shard_uid} (LSNs {first_lsn} to {last_lsn}) at byte {offset} of {} do not \
         open with {key}: their bytes are intact, so the key store's material for this key version is not the \
         one that sealed them, or the file was deliberately altered",
        path.display()
    )]
    Unauthentic {
        /// The key version they claim.
        key: KeyRef,
        /// The shard.
        shard_uid: u64,
        /// First LSN of the range.
        first_lsn: u64,
        /// Last LSN of the range.
        last_lsn: u64,
        /// Records in the range.
        count: u32,
        /// The segment file.
        path: PathBuf,
        /// Where the chunk starts.
        offset: u64,
    },
    /// The operating system supplied no random bytes for sealing; the appends of that
    /// commit were refused and nothing was written.
    #[error("cannot seal records: {0}")]
    Random(#[from] RandomError),
    /// A metadata file failed its checksum or could not be decoded.
    #[error("metadata file {path} is damaged: {detail}")]
    MetadataCorrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// The stream does not exist (or was deleted).
    #[error("stream {stream_id} not found")]
    StreamNotFound {
        /// The stream's internal id.
        stream_id: u64,
    },
    /// The shard does not exist in any live stream.
    #[error("shard {shard_uid} not found")]
    ShardNotFound {
        /// The shard's internal id.
        shard_uid: u64,
    },
    /// The shard was closed by resharding and accepts no more records.
    #[error("shard {shard_uid} is closed")]
    ShardClosed {
        /// The shard's internal id.
        shard_uid: u64,
    },
    /// A record exceeds the log's limits.
    #[error("record too large: {detail}")]
    RecordTooLarge {
        /// Which limit was exceeded.
        detail: String,
    },
    /// A caller-supplied metadata change was rejected by its own validation.
    #[error("{0}")]
    Rejected(String),
    /// Archived records could not be fetched from the archive (it is down, slow past
    /// its timeout, or answered with an error). Nothing is lost: reads of the range
    /// succeed again once the archive answers.
    #[error(
        "{count} records of shard {shard_uid} (LSNs {first_lsn} to {last_lsn}) are in the archive at {archive}, \
         which could not be read: {source}"
    )]
    ArchiveUnavailable {
        /// The archive, as its URL.
        archive: String,
        /// The shard.
        shard_uid: u64,
        /// First LSN of the range the read needed.
        first_lsn: u64,
        /// Last LSN of the range.
        last_lsn: u64,
        /// Records in the range.
        count: u32,
        /// What the archive said.
        #[source]
        source: crate::archive::ArchiveError,
    },
    /// Segments not yet archived fill the local hard limit: the archive has been down or
    /// too slow for a while. Appends are refused (nothing is dropped to make room) until
    /// uploads catch up. Nothing of the refused append was written.
    #[error(
        "writes are refused: {unarchived_bytes} bytes of the log are not yet archived to {archive}, \
         the local hard limit is {limit_bytes} bytes (--local-hard-limit-bytes); writes resume once the \
         archive accepts uploads again"
    )]
    ArchiveBacklogFull {
        /// The archive, as its URL.
        archive: String,
        /// Local bytes of segments not yet archived.
        unarchived_bytes: u64,
        /// The limit.
        limit_bytes: u64,
    },
    /// Start-up or the archiver could not use the archive in a way retrying will not
    /// fix (another layout version, refused credentials, damaged objects).
    #[error("archive {archive}: {detail}")]
    Archive {
        /// The archive, as its URL.
        archive: String,
        /// What is wrong.
        detail: String,
    },
    /// The engine has shut down.
    #[error("storage engine has shut down")]
    Closed,
}

impl StorageError {
    pub(crate) fn io(operation: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StorageError::Io { operation, path: path.into(), source }
    }
}

/// Result alias for the storage engine.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;
