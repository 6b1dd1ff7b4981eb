//! The engine's domain types: what operations take and return. The server converts them
//! to and from the wire model; nothing here knows about JSON or CBOR encodings.

use std::collections::BTreeMap;

use bytes::Bytes;
use rheo_storage::SequenceNumber;

use crate::error::EngineError;
use crate::ids::{ConsumerArn, ShardId, StreamArn};
pub use crate::status::{ConsumerStatus, RecordDistribution, ShardFilterKind, StreamMode, StreamStatus};

/// How a request names a stream: `StreamName`, `StreamARN`, or both (which must agree).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamRef {
    /// `StreamName`.
    pub name: Option<String>,
    /// `StreamARN`.
    pub arn: Option<String>,
}

impl StreamRef {
    /// A reference by name.
    pub fn name(name: impl Into<String>) -> Self {
        StreamRef { name: Some(name.into()), arn: None }
    }

    /// A reference by ARN.
    pub fn arn(arn: impl Into<String>) -> Self {
        StreamRef { name: None, arn: Some(arn.into()) }
    }
}

/// An inclusive hash-key range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashRange {
    /// First hash key.
    pub start: u128,
    /// Last hash key.
    pub end: u128,
}

/// A shard as DescribeStream and ListShards show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardInfo {
    /// Its id.
    pub shard_id: ShardId,
    /// The shard it was split from, or the first of two merged into it.
    pub parent_shard_id: Option<ShardId>,
    /// The second shard of a merge.
    pub adjacent_parent_shard_id: Option<ShardId>,
    /// Its hash keys.
    pub hash_range: HashRange,
    /// Sequence number at its creation.
    pub starting_sequence_number: SequenceNumber,
    /// Sequence number at its closing, once closed.
    pub ending_sequence_number: Option<SequenceNumber>,
}

/// A child of a closed shard, reported by GetRecords at the parent's end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildShard {
    /// The child's id.
    pub shard_id: ShardId,
    /// Its parents (two after a merge).
    pub parent_shards: Vec<ShardId>,
    /// Its hash keys.
    pub hash_range: HashRange,
}

/// Warm throughput of an on-demand stream, MiB/s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WarmThroughput {
    /// Requested.
    pub target_mibps: u32,
    /// In effect.
    pub current_mibps: u32,
}

/// A stream's description without its shard list.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamSummary {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: StreamArn,
    /// State.
    pub status: StreamStatus,
    /// Capacity mode.
    pub mode: StreamMode,
    /// Retention, hours.
    pub retention_hours: u32,
    /// Creation time, epoch ms.
    pub created_ms: u64,
    /// Enabled shard-level metrics.
    pub shard_level_metrics: Vec<String>,
    /// KMS key, when encrypted.
    pub encryption_key_id: Option<String>,
    /// Open shards.
    pub open_shard_count: u32,
    /// Registered consumers.
    pub consumer_count: u32,
    /// Largest record, KiB.
    pub max_record_size_kib: u32,
    /// Warm throughput, for on-demand streams that set one.
    pub warm_throughput: Option<WarmThroughput>,
    /// Record distribution strategy, for on-demand streams (the only ones it applies to).
    pub record_distribution: Option<RecordDistribution>,
}

/// DescribeStream's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamDescription {
    /// Everything but shards.
    pub summary: StreamSummary,
    /// One page of shards.
    pub shards: Vec<ShardInfo>,
    /// Whether more shards follow.
    pub has_more_shards: bool,
}

/// One ListStreams item.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamListing {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: StreamArn,
    /// State.
    pub status: StreamStatus,
    /// Capacity mode.
    pub mode: StreamMode,
    /// Creation time, epoch ms.
    pub created_ms: u64,
}

/// ListStreams' answer.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamList {
    /// The page.
    pub streams: Vec<StreamListing>,
    /// Whether more follow.
    pub has_more: bool,
    /// Token for the next page.
    pub next_token: Option<String>,
}

/// CreateStream's parameters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateStream {
    /// Name.
    pub name: String,
    /// Shards, for provisioned streams.
    pub shard_count: Option<u32>,
    /// Capacity mode; absent means on-demand without a shard count, provisioned with one.
    pub mode: Option<StreamMode>,
    /// Initial tags.
    pub tags: BTreeMap<String, String>,
    /// Largest record, KiB.
    pub max_record_size_kib: Option<u32>,
    /// Warm throughput, MiB/s (on-demand).
    pub warm_throughput_mibps: Option<u32>,
    /// How records are placed on shards (absent: USER_PARTITION_KEY; AUTO needs on-demand).
    pub record_distribution: Option<RecordDistribution>,
}

/// One record to put.
#[derive(Debug, Clone, PartialEq)]
pub struct PutEntry {
    /// Partition key (required for the default distribution strategy).
    pub partition_key: Option<String>,
    /// Decimal hash key that overrides the partition key's hash.
    pub explicit_hash_key: Option<String>,
    /// Payload.
    pub data: Bytes,
}

/// Where a put record landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutPlacement {
    /// Its shard.
    pub shard_id: ShardId,
    /// Its sequence number.
    pub sequence_number: SequenceNumber,
}

/// The outcome of one PutRecords entry.
#[derive(Debug)]
pub enum PutOutcome {
    /// Stored.
    Stored(PutPlacement),
    /// Not stored: [`EngineError::ThroughputExceeded`] when the shard's write budget is
    /// spent (limits enforced), [`EngineError::Internal`] otherwise (the detail was
    /// logged). The server turns it into the entry's error code and message.
    Failed(EngineError),
}

/// PutRecords' answer.
#[derive(Debug)]
pub struct PutRecordsResult {
    /// One outcome per entry, in request order.
    pub records: Vec<PutOutcome>,
    /// Entries that failed.
    pub failed_count: u32,
    /// Whether the stream is KMS-encrypted.
    pub encrypted: bool,
}

/// PutRecord's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutRecordResult {
    /// Where it landed.
    pub placement: PutPlacement,
    /// Whether the stream is KMS-encrypted.
    pub encrypted: bool,
}

/// Where a shard iterator starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IteratorStart {
    /// At the record with this sequence number.
    AtSequenceNumber(Option<String>),
    /// Just after it.
    AfterSequenceNumber(Option<String>),
    /// The oldest record retained.
    TrimHorizon,
    /// Just after the newest record.
    Latest,
    /// The first record that arrived at or after this time (epoch ms).
    AtTimestamp(Option<i64>),
}

/// GetShardIterator's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetShardIterator {
    /// The stream.
    pub stream: StreamRef,
    /// The shard id as given.
    pub shard_id: String,
    /// Where to start.
    pub start: IteratorStart,
    /// A `StartingSequenceNumber` sent with TRIM_HORIZON or LATEST, which AWS rejects.
    pub stray_sequence_number: bool,
}

/// A record read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordOut {
    /// Sequence number.
    pub sequence_number: SequenceNumber,
    /// Arrival, epoch ms.
    pub arrival_ms: u64,
    /// Payload.
    pub data: Bytes,
    /// Partition key; absent for a record put without one on an AUTO stream, which AWS's
    /// GetRecords and SubscribeToShard show without the member.
    pub partition_key: Option<String>,
}

/// GetRecords' answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetRecordsResult {
    /// Records in sequence order.
    pub records: Vec<RecordOut>,
    /// Where to continue; absent once a closed shard is fully read.
    pub next_shard_iterator: Option<String>,
    /// Milliseconds between the last record returned and the tip of the shard.
    pub millis_behind_latest: u64,
    /// The children, at the end of a closed shard.
    pub child_shards: Option<Vec<ChildShard>>,
    /// Whether the stream is KMS-encrypted.
    pub encrypted: bool,
}

/// A ListShards filter with its argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardFilter {
    /// The kind.
    pub kind: ShardFilterKind,
    /// For AFTER_SHARD_ID.
    pub shard_id: Option<String>,
    /// For the timestamp kinds, epoch ms.
    pub timestamp_ms: Option<i64>,
}

/// ListShards' parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListShards {
    /// The stream (absent when paging with a token).
    pub stream: StreamRef,
    /// Continuation token.
    pub next_token: Option<String>,
    /// List shards after this one.
    pub exclusive_start_shard_id: Option<String>,
    /// Page size.
    pub max_results: Option<u32>,
    /// Distinguishes a re-created stream.
    pub stream_creation_ms: Option<i64>,
    /// Which shards.
    pub filter: Option<ShardFilter>,
}

/// ListShards' answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardList {
    /// The page.
    pub shards: Vec<ShardInfo>,
    /// Token for the next page.
    pub next_token: Option<String>,
}

/// A registered consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerInfo {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: ConsumerArn,
    /// State.
    pub status: ConsumerStatus,
    /// Registration time, epoch ms.
    pub created_ms: u64,
    /// Its stream's ARN.
    pub stream_arn: StreamArn,
}

/// How a request names a consumer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsumerRef {
    /// `StreamARN`.
    pub stream_arn: Option<String>,
    /// `ConsumerName`.
    pub consumer_name: Option<String>,
    /// `ConsumerARN`.
    pub consumer_arn: Option<String>,
}

/// ListStreamConsumers' answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerList {
    /// The page.
    pub consumers: Vec<ConsumerInfo>,
    /// Token for the next page.
    pub next_token: Option<String>,
}

/// Enable/DisableEnhancedMonitoring's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitoringChange {
    /// Stream name.
    pub stream_name: String,
    /// Stream ARN.
    pub stream_arn: StreamArn,
    /// Metrics before.
    pub current: Vec<String>,
    /// Metrics after.
    pub desired: Vec<String>,
}

/// UpdateShardCount's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardCountChange {
    /// Stream name.
    pub stream_name: String,
    /// Stream ARN.
    pub stream_arn: StreamArn,
    /// Open shards before.
    pub current: u32,
    /// Open shards after.
    pub target: u32,
}

/// DescribeLimits' answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Account shard quota.
    pub shard_limit: u32,
    /// Open shards in the account.
    pub open_shard_count: u32,
    /// On-demand streams in the account.
    pub on_demand_stream_count: u32,
    /// On-demand stream quota.
    pub on_demand_stream_count_limit: u32,
}

/// State of the account's minimum throughput billing commitment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BillingCommitment {
    /// ENABLED (true) or DISABLED.
    pub enabled: bool,
    /// When it was enabled, epoch ms.
    pub started_ms: Option<u64>,
    /// When it was disabled, epoch ms.
    pub ended_ms: Option<u64>,
    /// Earliest time it may be disabled, epoch ms.
    pub earliest_allowed_end_ms: Option<u64>,
}

/// SubscribeToShard's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeToShard {
    /// The consumer's ARN.
    pub consumer_arn: String,
    /// The shard id as given.
    pub shard_id: String,
    /// Where to start (`StartingPosition`).
    pub start: IteratorStart,
    /// A `SequenceNumber` sent with TRIM_HORIZON or LATEST, which AWS rejects.
    pub stray_sequence_number: bool,
}

/// DeleteStream's parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteStream {
    /// The stream.
    pub stream: StreamRef,
    /// Deregister the stream's consumers too (otherwise they make the call fail).
    pub enforce_consumer_deletion: bool,
}

/// DescribeStream's parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeStream {
    /// The stream.
    pub stream: StreamRef,
    /// Page size (at most 100).
    pub limit: Option<u32>,
    /// List shards after this one (as given).
    pub exclusive_start_shard_id: Option<String>,
}

/// ListStreams' parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListStreams {
    /// Page size (at most 100).
    pub limit: Option<u32>,
    /// List streams after this name.
    pub exclusive_start_stream_name: Option<String>,
    /// Continuation token (takes precedence over the start name).
    pub next_token: Option<String>,
}

/// Increase/DecreaseStreamRetentionPeriod's parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionPeriod {
    /// The stream.
    pub stream: StreamRef,
    /// The new retention, hours.
    pub hours: i64,
}

/// A tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
}

/// AddTagsToStream's parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddTagsToStream {
    /// The stream.
    pub stream: StreamRef,
    /// Tags to add or overwrite.
    pub tags: BTreeMap<String, String>,
}

/// RemoveTagsFromStream's parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoveTagsFromStream {
    /// The stream.
    pub stream: StreamRef,
    /// Keys to remove; unknown ones are ignored.
    pub tag_keys: Vec<String>,
}

/// ListTagsForStream's parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListTagsForStream {
    /// The stream.
    pub stream: StreamRef,
    /// List tags after this key.
    pub exclusive_start_tag_key: Option<String>,
    /// Page size.
    pub limit: Option<u32>,
}

/// ListTagsForStream's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagList {
    /// The page, by key.
    pub tags: Vec<Tag>,
    /// Whether more follow.
    pub has_more: bool,
}

/// TagResource's parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagResource {
    /// A stream or consumer ARN.
    pub resource_arn: String,
    /// Tags to add or overwrite.
    pub tags: BTreeMap<String, String>,
}

/// UntagResource's parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UntagResource {
    /// A stream or consumer ARN.
    pub resource_arn: String,
    /// Keys to remove.
    pub tag_keys: Vec<String>,
}

/// PutResourcePolicy's parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutResourcePolicy {
    /// A stream or consumer ARN.
    pub resource_arn: String,
    /// The policy document (a JSON object; stored, not evaluated).
    pub policy: String,
}

/// Enable/DisableEnhancedMonitoring's parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnhancedMonitoring {
    /// The stream.
    pub stream: StreamRef,
    /// Shard-level metric names; `ALL` stands for all of them.
    pub shard_level_metrics: Vec<String>,
}

/// Start/StopStreamEncryption's parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamEncryption {
    /// The stream.
    pub stream: StreamRef,
    /// Must be `KMS`.
    pub encryption_type: String,
    /// The KMS key.
    pub key_id: String,
}

/// UpdateStreamMode's parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateStreamMode {
    /// The stream's ARN.
    pub stream_arn: String,
    /// The new mode.
    pub mode: StreamMode,
    /// Warm throughput, MiB/s (kept for on-demand streams only).
    pub warm_throughput_mibps: Option<u32>,
}

/// UpdateStreamWarmThroughput's parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateWarmThroughput {
    /// The stream.
    pub stream: StreamRef,
    /// Warm throughput, MiB/s.
    pub warm_throughput_mibps: u32,
}

/// UpdateStreamWarmThroughput's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarmThroughputChange {
    /// Stream name.
    pub stream_name: String,
    /// Stream ARN.
    pub stream_arn: StreamArn,
    /// The new warm throughput.
    pub warm_throughput: WarmThroughput,
}

/// UpdateMaxRecordSize's parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateMaxRecordSize {
    /// The stream.
    pub stream: StreamRef,
    /// Largest record, KiB (the wire model bounds it to 1024..=10240).
    pub max_record_size_kib: u32,
}

/// UpdateStreamRecordDistributionStrategy's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateRecordDistribution {
    /// The stream's ARN (the operation takes no name).
    pub stream_arn: String,
    /// The strategy to apply.
    pub strategy: RecordDistribution,
}

/// UpdateAccountSettings' parameters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpdateAccountSettings {
    /// Enable (true) or disable the minimum throughput billing commitment.
    pub commitment_enabled: bool,
}

/// PutRecords' parameters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PutRecords {
    /// The stream.
    pub stream: StreamRef,
    /// The records, in order.
    pub records: Vec<PutEntry>,
}

/// PutRecord's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct PutRecord {
    /// The stream.
    pub stream: StreamRef,
    /// The record.
    pub record: PutEntry,
    /// A sequence number this server issued, as given (AWS rejects others, and ones from
    /// the future).
    pub sequence_number_for_ordering: Option<String>,
}

/// GetRecords' parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetRecords {
    /// The iterator as the client sent it.
    pub shard_iterator: String,
    /// Most records to return (at most 10,000).
    pub limit: Option<u32>,
}

/// A shard of a stream, as a request names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShardRef {
    /// The stream.
    pub stream: StreamRef,
    /// The shard id as given.
    pub shard_id: String,
}

/// SplitShard's parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SplitShard {
    /// The stream.
    pub stream: StreamRef,
    /// The shard to split, as given.
    pub shard_to_split: String,
    /// The first hash key of the upper child, as given (decimal).
    pub new_starting_hash_key: String,
}

/// MergeShards' parameters; the two shards may be given in either order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeShards {
    /// The stream.
    pub stream: StreamRef,
    /// One shard, as given.
    pub shard_to_merge: String,
    /// The other, as given.
    pub adjacent_shard_to_merge: String,
}

/// UpdateShardCount's parameters (UNIFORM_SCALING).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateShardCount {
    /// The stream.
    pub stream: StreamRef,
    /// Open shards wanted.
    pub target_shard_count: u32,
}

/// RegisterStreamConsumer's parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegisterConsumer {
    /// The stream's ARN.
    pub stream_arn: String,
    /// The consumer's name.
    pub consumer_name: String,
    /// Initial tags.
    pub tags: BTreeMap<String, String>,
}

/// ListStreamConsumers' parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListConsumers {
    /// The stream's ARN.
    pub stream_arn: String,
    /// Continuation token.
    pub next_token: Option<String>,
    /// Page size.
    pub max_results: Option<u32>,
    /// Distinguishes a re-created stream.
    pub stream_creation_ms: Option<i64>,
}
