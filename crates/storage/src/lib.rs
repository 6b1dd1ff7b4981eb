//! Rheo's storage engine: a durable log of records for many shards.
//!
//! It knows streams, shards, hash-key ranges and records; it knows nothing of HTTP,
//! JSON or AWS. The layers above map API calls onto [`ShardLog`]. Streams may be
//! encrypted at rest with keys a [`KeyProvider`] supplies by number ([`cipher`]).
//!
//! ```no_run
//! use std::sync::Arc;
//! use rheo_storage::{AppendRecord, LogConfig, NewStream, ShardLog, StdFs, StreamProps, SystemClock};
//!
//! let log = ShardLog::open(Arc::new(StdFs), Arc::new(SystemClock), "data".as_ref(), LogConfig::default())?;
//! let stream = log.create_stream_blocking(NewStream {
//!     name: "orders".into(),
//!     shards: vec![(0, u128::MAX)],
//!     props: StreamProps { retention_hours: 24, ..Default::default() },
//! })?;
//! let shard = stream.shards[0].uid;
//! let appended = log.append_blocking(vec![AppendRecord {
//!     shard_uid: shard,
//!     partition_key: "customer-1".into(),
//!     explicit_hash_key: None,
//!     data: "hello".into(),
//! }])?;
//! let batch = log.read(shard, 0, 100, 1 << 20)?;
//! assert_eq!(batch.records[0].data, "hello");
//! # Ok::<(), rheo_storage::StorageError>(())
//! ```

pub mod archive;
pub mod cipher;
pub mod clock;
pub mod error;
pub mod format;
pub mod fs;
pub mod limits;
mod log;
pub mod memfs;
pub mod meta;
pub mod metastore;
pub mod reserve;
pub mod seqno;
pub mod stats;

pub use archive::{ArchiveConfig, ArchiveError, ArchiveLayout, FsArchive, MemArchive, ObjectArchive, SegmentManifest};
pub use cipher::{KeyBytes, KeyProvider, KeyRef, MemKeys, OsRandom, RandomSource};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Result, StorageError};
pub use format::StoredRecord;
pub use fs::{FileSystem, LockGuard, StdFs};
pub use log::{
    AppendRecord, Appended, Durability, LogConfig, MetaTxn, NewShard, NewStream, ReadBatch, RecoveryMode, ShardLog,
    StartPosition,
};
pub use memfs::{MemFs, Tear};
pub use meta::{ConsumerMeta, ShardClose, ShardMeta, StreamMeta, StreamProps};
pub use metastore::{LocalMetaStore, MetaStore};
pub use seqno::{decimal_from_hex, hex_digits, SequenceNumber, SequenceNumberError};
pub use stats::{ArchiveStats, LogStats};
