//! Where a [`crate::StreamReader`] stands in a stream: plain, stored data, in a leaf
//! module so that what keeps positions (Firehose's sources, the queues' state) needs
//! nothing else of the reader.

use std::collections::BTreeMap;

use rheo_storage::ShardMeta;
use serde::{Deserialize, Serialize};

/// How far one shard has been read.
///
/// The field names are a stored format (Firehose keeps these in its delivery streams'
/// metadata): renaming one breaks existing data folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardCheckpoint {
    /// The shard's storage uid. Shard indexes are reused by a stream created again under
    /// the same name; uids never are, so a position cannot be applied to the wrong shard.
    pub shard_uid: u64,
    /// The log sequence number reading goes on at (0 or anything up to the shard's
    /// first record means its start).
    pub next_lsn: u64,
    /// The shard is closed and was read to its end.
    pub done: bool,
}

impl ShardCheckpoint {
    /// Before the first record of `shard`: every record of a shard has an LSN above its
    /// creation LSN.
    pub(crate) fn start_of(shard: &ShardMeta) -> Self {
        ShardCheckpoint { shard_uid: shard.uid, next_lsn: shard.created_lsn.saturating_add(1), done: false }
    }
}

/// Where a reader stands in every shard it knows, by shard index.
///
/// Serialised as the bare map (`{"0": {"shard_uid": …, "next_lsn": …, "done": …}}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReaderCheckpoint {
    /// Positions by shard index.
    pub shards: BTreeMap<u32, ShardCheckpoint>,
}
