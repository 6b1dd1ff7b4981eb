//! A stream's committed metadata with what the engine derives from it: its decoded
//! settings and the routing table of open shards.
//!
//! A `Snapshot` is immutable and built only from one `StreamMeta` (the storage layer
//! replaces its `Arc` on every change), so the routing table always describes exactly
//! the shards of that metadata: the open shards ordered by starting hash key, together
//! covering the whole key space.

use std::sync::Arc;

use rheo_storage::{ConsumerMeta, SequenceNumber, ShardMeta, StreamMeta};

use crate::ids::ShardId;
use crate::limits::MAX_RECORD_SIZE_KIB_DEFAULT;
use crate::model::{ChildShard, HashRange, ShardInfo};
use crate::settings::{self, ConsumerSettings, StreamSettings};

/// An open shard in the routing table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Route {
    pub(crate) start: u128,
    pub(crate) end: u128,
    pub(crate) uid: u64,
    pub(crate) index: u32,
    pub(crate) created_secs: u64,
}

/// A stream's committed metadata with its decoded settings and routing table.
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub(crate) meta: Arc<StreamMeta>,
    pub(crate) settings: StreamSettings,
    /// Open shards ordered by starting hash key; together they cover the whole key space.
    routes: Vec<Route>,
}

impl Snapshot {
    pub(crate) fn build(meta: Arc<StreamMeta>) -> Self {
        let settings = settings::decode(&meta.props.settings);
        let mut routes: Vec<Route> = meta
            .shards
            .iter()
            .filter(|s| s.closed.is_none())
            .map(|s| Route {
                start: s.hash_key_start,
                end: s.hash_key_end,
                uid: s.uid,
                index: s.index,
                created_secs: s.created_ms / 1000,
            })
            .collect();
        routes.sort_by_key(|r| r.start);
        Snapshot { meta, settings, routes }
    }

    /// The open shard owning a hash key.
    pub(crate) fn route(&self, hash: u128) -> Option<Route> {
        let position = self.routes.partition_point(|r| r.start <= hash);
        let route = *self.routes.get(position.checked_sub(1)?)?;
        (hash <= route.end).then_some(route)
    }

    /// The open shards in hash-key order.
    pub(crate) fn routes(&self) -> &[Route] {
        &self.routes
    }

    pub(crate) fn id(&self) -> u64 {
        self.meta.stream_id
    }

    pub(crate) fn name(&self) -> &str {
        &self.meta.name
    }

    pub(crate) fn encrypted(&self) -> bool {
        self.settings.encryption_key_id.is_some()
    }

    pub(crate) fn max_record_bytes(&self) -> usize {
        self.settings.max_record_size_kib.unwrap_or(MAX_RECORD_SIZE_KIB_DEFAULT) as usize * 1024
    }

    pub(crate) fn open_shard_count(&self) -> u32 {
        self.routes.len() as u32
    }

    /// The shard with this index, open or closed.
    pub(crate) fn shard(&self, id: ShardId) -> Option<&ShardMeta> {
        self.meta.shard(id.index())
    }

    /// Consumers registered and not being deregistered.
    pub(crate) fn live_consumer_count(&self) -> usize {
        self.meta
            .props
            .consumers
            .iter()
            .filter(|c| settings::decode::<ConsumerSettings>(&c.settings).deleting_until_ms.is_none())
            .count()
    }

    /// The settings of the consumer named `name`, if it is registered.
    pub(crate) fn consumer_settings(&self, name: &str) -> Option<ConsumerSettings> {
        self.meta.props.consumers.iter().find(|c| c.name == name).map(|c| settings::decode(&c.settings))
    }

    /// The consumers, registered or being deregistered.
    pub(crate) fn consumers(&self) -> &[ConsumerMeta] {
        &self.meta.props.consumers
    }

    /// The children of a closed shard, in index order.
    pub(crate) fn children(&self, parent: u32) -> Vec<ChildShard> {
        let mut children: Vec<&ShardMeta> =
            self.meta.shards.iter().filter(|s| s.parent == Some(parent) || s.adjacent_parent == Some(parent)).collect();
        children.sort_by_key(|s| s.index);
        children
            .into_iter()
            .map(|child| ChildShard {
                shard_id: ShardId::new(child.index),
                parent_shards: child.parent.into_iter().chain(child.adjacent_parent).map(ShardId::new).collect(),
                hash_range: HashRange { start: child.hash_key_start, end: child.hash_key_end },
            })
            .collect()
    }
}

/// The sequence number of a record at `lsn` in a shard created at `shard_created_secs`.
pub(crate) fn record_sequence_number(
    shard_created_secs: u64,
    shard_index: u32,
    lsn: u64,
    arrival_ms: u64,
) -> SequenceNumber {
    SequenceNumber { shard_created_secs, shard_index, lsn, arrival_secs: arrival_ms / 1000 }
}

/// A shard's `StartingSequenceNumber`: its creation LSN, which precedes every record's.
pub(crate) fn starting_sequence_number(shard: &ShardMeta) -> SequenceNumber {
    let created_secs = shard.created_ms / 1000;
    SequenceNumber {
        shard_created_secs: created_secs,
        shard_index: shard.index,
        lsn: shard.created_lsn,
        arrival_secs: created_secs,
    }
}

/// A shard as DescribeStream and ListShards show it.
pub(crate) fn shard_info(shard: &ShardMeta) -> ShardInfo {
    ShardInfo {
        shard_id: ShardId::new(shard.index),
        parent_shard_id: shard.parent.map(ShardId::new),
        adjacent_parent_shard_id: shard.adjacent_parent.map(ShardId::new),
        hash_range: HashRange { start: shard.hash_key_start, end: shard.hash_key_end },
        starting_sequence_number: starting_sequence_number(shard),
        ending_sequence_number: shard.closed.map(|close| SequenceNumber {
            shard_created_secs: shard.created_ms / 1000,
            shard_index: shard.index,
            lsn: close.lsn,
            arrival_secs: close.at_ms / 1000,
        }),
    }
}
