//! The log's public value types: its configuration, what callers hand in (records,
//! stream specs) and what they get back (positions, read batches).
//!
//! Plain data only: nothing here touches the disk, a lock or a thread, so every other
//! module of the log may use these without creating a dependency back on them.

use bytes::Bytes;

use crate::format::StoredRecord;
use crate::limits::{RETENTION_CHECK_MS_DEFAULT, SCRUB_BYTES_PER_SEC, SEGMENT_AGE_MS_DEFAULT, SEGMENT_BYTES_DEFAULT};
use crate::meta::StreamProps;

/// When an append is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// After its bytes are on disk (fdatasync). The default.
    Sync,
    /// After its bytes are written to the operating system; the log is synced every
    /// `interval_ms`. A machine crash (not a process crash) can lose up to that much
    /// acknowledged data. For users who choose speed over safety, explicitly.
    Relaxed {
        /// Time between syncs.
        interval_ms: u64,
    },
    /// Never synced: for the in-memory filesystem, where syncing means nothing.
    Never,
}

/// What start-up does with damage in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoveryMode {
    /// Cut a torn tail (an incomplete or garbled last write, followed by nothing valid),
    /// and refuse to start if damage is followed by valid data. The default.
    TornTailOnly,
    /// Also cut the log at damage followed by valid data, discarding everything after
    /// it. Only on the operator's explicit request.
    TruncateAtCorruption,
}

/// Tuning of the log.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// When appends are acknowledged.
    pub durability: Durability,
    /// A segment rolls over past this size.
    pub segment_bytes_max: u64,
    /// A segment rolls over past this age.
    pub segment_age_ms_max: u64,
    /// How often idle time is used to apply retention.
    pub retention_check_ms: u64,
    /// What to do with damage at start-up.
    pub recovery: RecoveryMode,
    /// Pace of the background scrub of sealed segments after start (0: no scrub).
    pub scrub_bytes_per_sec: u64,
    /// Key material for streams with an [`StreamProps::encryption_key`]; `None`: no
    /// stream may be encrypted.
    pub keys: Option<std::sync::Arc<dyn crate::cipher::KeyProvider>>,
    /// Where sealed chunks draw their salts: the operating system unless a test replaces it.
    pub random: std::sync::Arc<dyn crate::cipher::RandomSource>,
    /// Where sealed segments are tiered to (`--archive`), and the local budget; `None`:
    /// every segment stays on the local disk until retention deletes it.
    pub archive: Option<crate::archive::ArchiveConfig>,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            durability: Durability::Sync,
            segment_bytes_max: SEGMENT_BYTES_DEFAULT,
            segment_age_ms_max: SEGMENT_AGE_MS_DEFAULT,
            retention_check_ms: RETENTION_CHECK_MS_DEFAULT,
            recovery: RecoveryMode::TornTailOnly,
            scrub_bytes_per_sec: SCRUB_BYTES_PER_SEC,
            keys: None,
            random: std::sync::Arc::new(crate::cipher::OsRandom),
            archive: None,
        }
    }
}

/// A record to append.
#[derive(Debug, Clone)]
pub struct AppendRecord {
    /// Target shard.
    pub shard_uid: u64,
    /// Partition key (UTF-8 bytes).
    pub partition_key: Bytes,
    /// Explicit hash key, if the producer gave one.
    pub explicit_hash_key: Option<u128>,
    /// Payload.
    pub data: Bytes,
}

/// Where an appended record landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// Its LSN.
    pub lsn: u64,
    /// Its arrival time, epoch milliseconds.
    pub arrival_ms: u64,
}

/// A new stream.
#[derive(Debug, Clone)]
pub struct NewStream {
    /// Its name; unique among live streams.
    pub name: String,
    /// The initial shards' hash key ranges, in index order.
    pub shards: Vec<(u128, u128)>,
    /// Its properties.
    pub props: StreamProps,
}

/// A shard created by resharding.
#[derive(Debug, Clone, Copy)]
pub struct NewShard {
    /// First hash key.
    pub hash_key_start: u128,
    /// Last hash key (inclusive).
    pub hash_key_end: u128,
    /// Parent shard index.
    pub parent: Option<u32>,
    /// Second parent of a merge.
    pub adjacent_parent: Option<u32>,
}

/// What a read returned.
#[derive(Debug, Clone)]
pub struct ReadBatch {
    /// Records in LSN order.
    pub records: Vec<StoredRecord>,
    /// Where the next read should start.
    pub next_lsn: u64,
    /// The shard is closed and the read reached its end: no record will ever follow.
    pub shard_end: bool,
    /// LSN of the newest record in the shard, if any.
    pub tip_lsn: Option<u64>,
    /// Arrival time of the newest record in the shard (0 if none).
    pub tip_arrival_ms: u64,
}

/// Where to start reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartPosition {
    /// At the record with this LSN (or the first one after it).
    AtLsn(u64),
    /// Just after this LSN.
    AfterLsn(u64),
    /// The oldest record still retained.
    TrimHorizon,
    /// Just after the newest record.
    Latest,
    /// The first record that arrived at or after this time (epoch ms).
    AtTimestamp(u64),
}
