//! Lifecycle states of streams and consumers, capacity modes, record distribution
//! strategies and ListShards' filter types,
//! as AWS spells them. A leaf module, so both the domain model and the errors can name them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Lifecycle state of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamStatus {
    /// Just created; not yet usable.
    Creating,
    /// Usable.
    Active,
    /// Usable; a change (resharding, mode, encryption) is being applied.
    Updating,
    /// Being deleted.
    Deleting,
}

impl StreamStatus {
    /// The AWS spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamStatus::Creating => "CREATING",
            StreamStatus::Active => "ACTIVE",
            StreamStatus::Updating => "UPDATING",
            StreamStatus::Deleting => "DELETING",
        }
    }

    /// Whether records may be written and read.
    pub fn serves_data(self) -> bool {
        matches!(self, StreamStatus::Active | StreamStatus::Updating)
    }
}

impl fmt::Display for StreamStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lifecycle state of an enhanced fan-out consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumerStatus {
    /// Registering.
    Creating,
    /// Registered.
    Active,
    /// Deregistering.
    Deleting,
}

impl ConsumerStatus {
    /// The AWS spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsumerStatus::Creating => "CREATING",
            ConsumerStatus::Active => "ACTIVE",
            ConsumerStatus::Deleting => "DELETING",
        }
    }
}

/// Capacity mode of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum StreamMode {
    /// Shards managed by the user.
    #[default]
    #[serde(rename = "PROVISIONED")]
    Provisioned,
    /// Shards managed by the service.
    #[serde(rename = "ON_DEMAND")]
    OnDemand,
}

impl StreamMode {
    /// The AWS spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamMode::Provisioned => "PROVISIONED",
            StreamMode::OnDemand => "ON_DEMAND",
        }
    }
}

/// How a stream places records on its shards (`RecordDistributionStrategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum RecordDistribution {
    /// By the MD5 of each record's partition key (or its explicit hash key): the default.
    #[default]
    #[serde(rename = "USER_PARTITION_KEY")]
    UserPartitionKey,
    /// Evenly over the open shards, whatever the keys (on-demand streams only).
    #[serde(rename = "AUTO")]
    Auto,
}

impl RecordDistribution {
    /// The AWS spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordDistribution::UserPartitionKey => "USER_PARTITION_KEY",
            RecordDistribution::Auto => "AUTO",
        }
    }
}

/// ListShards' filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardFilterKind {
    /// Shards after the given id.
    AfterShardId,
    /// Shards open at the trim horizon.
    AtTrimHorizon,
    /// All shards within retention (the default).
    FromTrimHorizon,
    /// Shards open now.
    AtLatest,
    /// Shards open at a time.
    AtTimestamp,
    /// Shards open at or created after a time.
    FromTimestamp,
}

impl ShardFilterKind {
    /// The AWS spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ShardFilterKind::AfterShardId => "AFTER_SHARD_ID",
            ShardFilterKind::AtTrimHorizon => "AT_TRIM_HORIZON",
            ShardFilterKind::FromTrimHorizon => "FROM_TRIM_HORIZON",
            ShardFilterKind::AtLatest => "AT_LATEST",
            ShardFilterKind::AtTimestamp => "AT_TIMESTAMP",
            ShardFilterKind::FromTimestamp => "FROM_TIMESTAMP",
        }
    }
}
