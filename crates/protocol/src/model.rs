//! Typed inputs and outputs of the Kinesis operations, and the structures and enumerations
//! they are built from: the 39 core operations here, queues and their dead-letter side in
//! `model/queues.rs`, channels in `model/channels.rs` (both re-exported here).
//!
//! Member lists, wire names and constraints follow the botocore model
//! (`kinesis/2013-12-02`, botocore 1.44.8). Members are declared in the order AWS lists
//! their validation errors where AWS-recorded messages show it (PutRecord, PutRecords,
//! GetShardIterator, CreateStream, AddTagsToStream) and in model order elsewhere.
//! Optional members are `Option`s; `None` members are omitted on the wire.
//!
//! Enumerations print their values in "Member must satisfy enum value set: [...]" in
//! AWS's order, declared once per enumeration (`message_order` in `wire_enum!`; without it,
//! model order). Which orders are confirmed by recordings of AWS's answers:
//!
//! | enumeration | message order | source |
//! | --- | --- | --- |
//! | `ShardIteratorType` | AFTER_SEQUENCE_NUMBER, LATEST, AT_TIMESTAMP, AT_SEQUENCE_NUMBER, TRIM_HORIZON | confirmed: issue 14 (AWS, 2025) and kinesalite `test/getShardIterator.js` (the four older values) |
//! | `ScalingType` | UNIFORM_SCALING | confirmed: kinesalite `test/updateShardCount.js` (one value) |
//! | `PartitionTransform`, `ChannelEncryptionType` | their one value | certain: one value |
//! | `EncryptionType`, `StreamMode`, `ShardFilterType`, `MetricsName`, `RecordDistributionStrategy`, `MinimumThroughputBillingCommitmentInputStatus`, `QueueStartingPositionType`, `TargetType`, `RecordFormatType`, `S3StorageClass`, `S3CompressionType`, `S3TablesCompressionType` | model order | unconfirmed: no recording found |
//! | `StreamStatus`, `ConsumerStatus`, `MinimumThroughputBillingCommitmentOutputStatus`, `QueueStatus`, `ChannelStatus`, `ChannelDestinationType` | model order | output only: never in a request message |
//!
//! The two recorded orders match iteration over a hash table of 16 buckets indexed by
//! `String.hashCode() & 15`, but DynamoDB's recorded orders (dynalite) do not follow that
//! rule, so it is not used to guess the unconfirmed ones.

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::check::Checked;
use crate::shape::scalars::*;
use crate::shape::{enumeration, list_of, LengthRange, Shape, StructShape, UNBOUNDED};
use crate::types::{HashKey, SequenceNumber, Timestamp};
use crate::wire::{wire_enum, wire_struct, Sink, WireStruct, WireType};

/// Tags as a map from key to value, as `AddTagsToStream`, `CreateStream`,
/// `RegisterStreamConsumer` and `TagResource` take them.
pub type TagMap = BTreeMap<String, String>;

wire_enum! {
    /// Server-side encryption of a stream or record.
    pub enum EncryptionType {
        None = "NONE",
        Kms = "KMS",
    }
}

wire_enum! {
    /// Lifecycle state of a stream.
    pub enum StreamStatus {
        Creating = "CREATING",
        Deleting = "DELETING",
        Active = "ACTIVE",
        Updating = "UPDATING",
    }
}

wire_enum! {
    /// Capacity mode of a stream.
    pub enum StreamMode {
        Provisioned = "PROVISIONED",
        OnDemand = "ON_DEMAND",
    }
}

wire_enum! {
    /// Where a shard iterator or subscription starts reading.
    pub enum ShardIteratorType {
        AtSequenceNumber = "AT_SEQUENCE_NUMBER",
        AfterSequenceNumber = "AFTER_SEQUENCE_NUMBER",
        TrimHorizon = "TRIM_HORIZON",
        Latest = "LATEST",
        AtTimestamp = "AT_TIMESTAMP",
    }
    // Recorded from AWS (issue 14, item 5); kinesalite's older recording of the four values
    // before AT_TIMESTAMP agrees: [AFTER_SEQUENCE_NUMBER, LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON].
    message_order = [AfterSequenceNumber, Latest, AtTimestamp, AtSequenceNumber, TrimHorizon];
}

wire_enum! {
    /// Which shards `ListShards` returns.
    pub enum ShardFilterType {
        AfterShardId = "AFTER_SHARD_ID",
        AtTrimHorizon = "AT_TRIM_HORIZON",
        FromTrimHorizon = "FROM_TRIM_HORIZON",
        AtLatest = "AT_LATEST",
        AtTimestamp = "AT_TIMESTAMP",
        FromTimestamp = "FROM_TIMESTAMP",
    }
}

wire_enum! {
    /// Lifecycle state of an enhanced fan-out consumer.
    pub enum ConsumerStatus {
        Creating = "CREATING",
        Deleting = "DELETING",
        Active = "ACTIVE",
    }
}

wire_enum! {
    /// How `UpdateShardCount` reshards.
    pub enum ScalingType {
        UniformScaling = "UNIFORM_SCALING",
    }
}

wire_enum! {
    /// A shard-level CloudWatch metric for enhanced monitoring.
    pub enum MetricsName {
        IncomingBytes = "IncomingBytes",
        IncomingRecords = "IncomingRecords",
        OutgoingBytes = "OutgoingBytes",
        OutgoingRecords = "OutgoingRecords",
        WriteProvisionedThroughputExceeded = "WriteProvisionedThroughputExceeded",
        ReadProvisionedThroughputExceeded = "ReadProvisionedThroughputExceeded",
        IteratorAgeMilliseconds = "IteratorAgeMilliseconds",
        All = "ALL",
    }
}

wire_enum! {
    /// How records of an on-demand stream are spread over shards.
    pub enum RecordDistributionStrategy {
        Auto = "AUTO",
        UserPartitionKey = "USER_PARTITION_KEY",
    }
}

wire_enum! {
    /// Requested state of the account's minimum throughput billing commitment.
    pub enum MinimumThroughputBillingCommitmentInputStatus {
        Enabled = "ENABLED",
        Disabled = "DISABLED",
    }
}

wire_enum! {
    /// State of the account's minimum throughput billing commitment.
    pub enum MinimumThroughputBillingCommitmentOutputStatus {
        Enabled = "ENABLED",
        Disabled = "DISABLED",
        EnabledUntilEarliestAllowedEnd = "ENABLED_UNTIL_EARLIEST_ALLOWED_END",
    }
}

const ENCRYPTION_TYPE: Shape = enumeration(EncryptionType::MESSAGE_ORDER);
const STREAM_STATUS: Shape = enumeration(StreamStatus::MESSAGE_ORDER);
const STREAM_MODE: Shape = enumeration(StreamMode::MESSAGE_ORDER);
const SHARD_ITERATOR_TYPE: Shape = enumeration(ShardIteratorType::MESSAGE_ORDER);
const SHARD_FILTER_TYPE: Shape = enumeration(ShardFilterType::MESSAGE_ORDER);
const CONSUMER_STATUS: Shape = enumeration(ConsumerStatus::MESSAGE_ORDER);
const SCALING_TYPE: Shape = enumeration(ScalingType::MESSAGE_ORDER);
const METRICS_NAME: Shape = enumeration(MetricsName::MESSAGE_ORDER);
const METRICS_NAME_LIST: Shape = list_of(&METRICS_NAME, LengthRange { min: Some(1), max: Some(7) });
const RECORD_DISTRIBUTION_STRATEGY: Shape = enumeration(RecordDistributionStrategy::MESSAGE_ORDER);
const COMMITMENT_INPUT_STATUS: Shape = enumeration(MinimumThroughputBillingCommitmentInputStatus::MESSAGE_ORDER);
const COMMITMENT_OUTPUT_STATUS: Shape = enumeration(MinimumThroughputBillingCommitmentOutputStatus::MESSAGE_ORDER);

/// The shape of a member whose type is the structure `$name`, and of a list of them.
macro_rules! structure_shapes {
    ($($single:ident / $list:ident ($length:expr) = $name:ident;)*) => {
        $(
            #[allow(dead_code)]
            pub(crate) const $single: $crate::shape::Shape =
                $crate::shape::Shape::Structure(<$name as $crate::wire::WireStruct>::SHAPE);
            #[allow(dead_code)]
            pub(crate) const $list: $crate::shape::Shape = $crate::shape::list_of(&$single, $length);
        )*
    };
}

structure_shapes! {
    HASH_KEY_RANGE / HASH_KEY_RANGE_LIST (UNBOUNDED) = HashKeyRange;
    SEQUENCE_NUMBER_RANGE / SEQUENCE_NUMBER_RANGE_LIST (UNBOUNDED) = SequenceNumberRange;
    SHARD / SHARD_LIST (UNBOUNDED) = Shard;
    CHILD_SHARD / CHILD_SHARD_LIST (UNBOUNDED) = ChildShard;
    RECORD / RECORD_LIST (UNBOUNDED) = Record;
    ENHANCED_METRICS / ENHANCED_MONITORING_LIST (UNBOUNDED) = EnhancedMetrics;
    STREAM_MODE_DETAILS / STREAM_MODE_DETAILS_LIST (UNBOUNDED) = StreamModeDetails;
    STARTING_POSITION / STARTING_POSITION_LIST (UNBOUNDED) = StartingPosition;
    SHARD_FILTER / SHARD_FILTER_LIST (UNBOUNDED) = ShardFilter;
    CONSUMER / CONSUMER_LIST (UNBOUNDED) = Consumer;
    CONSUMER_DESCRIPTION / CONSUMER_DESCRIPTION_LIST (UNBOUNDED) = ConsumerDescription;
    STREAM_SUMMARY / STREAM_SUMMARY_LIST (UNBOUNDED) = StreamSummary;
    TAG / TAG_LIST (LengthRange { min: Some(0), max: Some(200) }) = Tag;
    WARM_THROUGHPUT / WARM_THROUGHPUT_LIST (UNBOUNDED) = WarmThroughputObject;
    STREAM_DESCRIPTION / STREAM_DESCRIPTION_LIST (UNBOUNDED) = StreamDescription;
    STREAM_DESCRIPTION_SUMMARY / STREAM_DESCRIPTION_SUMMARY_LIST (UNBOUNDED) = StreamDescriptionSummary;
    PUT_RECORDS_REQUEST_ENTRY / PUT_RECORDS_REQUEST_ENTRY_LIST (LengthRange { min: Some(1), max: Some(500) }) = PutRecordsRequestEntry;
    PUT_RECORDS_RESULT_ENTRY / PUT_RECORDS_RESULT_ENTRY_LIST (LengthRange { min: Some(1), max: Some(500) }) = PutRecordsResultEntry;
    COMMITMENT_INPUT / COMMITMENT_INPUT_LIST (UNBOUNDED) = MinimumThroughputBillingCommitmentInput;
    COMMITMENT_OUTPUT / COMMITMENT_OUTPUT_LIST (UNBOUNDED) = MinimumThroughputBillingCommitmentOutput;
}

// Declared after `structure_shapes!` so that they can use it.
mod channels;
mod queues;
#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;

pub use channels::*;
pub use queues::*;

// ---------------------------------------------------------------------------------------
// Structures shared by several operations
// ---------------------------------------------------------------------------------------

wire_struct! {
    /// An inclusive range of 128-bit hash keys.
    pub struct HashKeyRange {
        starting_hash_key: HashKey => "StartingHashKey", req, HASH_KEY;
        ending_hash_key: HashKey => "EndingHashKey", req, HASH_KEY;
    }
}

wire_struct! {
    /// The sequence numbers a shard spans; `ending_sequence_number` is set once the shard is closed.
    pub struct SequenceNumberRange {
        starting_sequence_number: SequenceNumber => "StartingSequenceNumber", req, SEQUENCE_NUMBER;
        ending_sequence_number: Option<SequenceNumber> => "EndingSequenceNumber", opt, SEQUENCE_NUMBER;
    }
}

wire_struct! {
    /// A shard with its lineage and ranges.
    pub struct Shard {
        shard_id: String => "ShardId", req, SHARD_ID;
        parent_shard_id: Option<String> => "ParentShardId", opt, SHARD_ID;
        adjacent_parent_shard_id: Option<String> => "AdjacentParentShardId", opt, SHARD_ID;
        hash_key_range: HashKeyRange => "HashKeyRange", req, HASH_KEY_RANGE;
        sequence_number_range: SequenceNumberRange => "SequenceNumberRange", req, SEQUENCE_NUMBER_RANGE;
    }
}

wire_struct! {
    /// A child of a closed shard, reported at the end of the parent.
    pub struct ChildShard {
        shard_id: String => "ShardId", req, SHARD_ID;
        parent_shards: Vec<String> => "ParentShards", req, SHARD_ID_LIST;
        hash_key_range: HashKeyRange => "HashKeyRange", req, HASH_KEY_RANGE;
    }
}

wire_struct! {
    /// A data record as returned by `GetRecords` and `SubscribeToShard`.
    pub struct Record {
        sequence_number: SequenceNumber => "SequenceNumber", req, SEQUENCE_NUMBER;
        approximate_arrival_timestamp: Option<Timestamp> => "ApproximateArrivalTimestamp", opt, TIMESTAMP;
        data: Bytes => "Data", req, DATA;
        partition_key: Option<String> => "PartitionKey", opt, PARTITION_KEY;
        encryption_type: Option<EncryptionType> => "EncryptionType", opt, ENCRYPTION_TYPE;
    }
}

wire_struct! {
    /// The enhanced monitoring metrics enabled for a stream.
    pub struct EnhancedMetrics {
        shard_level_metrics: Option<Vec<MetricsName>> => "ShardLevelMetrics", opt, METRICS_NAME_LIST;
    }
}

wire_struct! {
    /// The capacity mode of a stream.
    pub struct StreamModeDetails {
        stream_mode: StreamMode => "StreamMode", req, STREAM_MODE;
    }
}

wire_struct! {
    /// Where a `SubscribeToShard` subscription starts.
    pub struct StartingPosition {
        r#type: ShardIteratorType => "Type", req, SHARD_ITERATOR_TYPE;
        sequence_number: Option<SequenceNumber> => "SequenceNumber", opt, SEQUENCE_NUMBER;
        timestamp: Option<Timestamp> => "Timestamp", opt, TIMESTAMP;
    }
}

wire_struct! {
    /// The `ListShards` filter.
    pub struct ShardFilter {
        r#type: ShardFilterType => "Type", req, SHARD_FILTER_TYPE;
        shard_id: Option<String> => "ShardId", opt, SHARD_ID;
        timestamp: Option<Timestamp> => "Timestamp", opt, TIMESTAMP;
    }
}

wire_struct! {
    /// An enhanced fan-out consumer.
    pub struct Consumer {
        consumer_name: String => "ConsumerName", req, CONSUMER_NAME;
        consumer_arn: String => "ConsumerARN", req, CONSUMER_ARN;
        consumer_status: ConsumerStatus => "ConsumerStatus", req, CONSUMER_STATUS;
        consumer_creation_timestamp: Timestamp => "ConsumerCreationTimestamp", req, TIMESTAMP;
    }
}

wire_struct! {
    /// An enhanced fan-out consumer together with its stream.
    pub struct ConsumerDescription {
        consumer_name: String => "ConsumerName", req, CONSUMER_NAME;
        consumer_arn: String => "ConsumerARN", req, CONSUMER_ARN;
        consumer_status: ConsumerStatus => "ConsumerStatus", req, CONSUMER_STATUS;
        consumer_creation_timestamp: Timestamp => "ConsumerCreationTimestamp", req, TIMESTAMP;
        stream_arn: String => "StreamARN", req, STREAM_ARN;
    }
}

wire_struct! {
    /// One stream in a `ListStreams` answer.
    pub struct StreamSummary {
        stream_name: String => "StreamName", req, STREAM_NAME;
        stream_arn: String => "StreamARN", req, STREAM_ARN;
        stream_status: StreamStatus => "StreamStatus", req, STREAM_STATUS;
        stream_mode_details: Option<StreamModeDetails> => "StreamModeDetails", opt, STREAM_MODE_DETAILS;
        stream_creation_timestamp: Option<Timestamp> => "StreamCreationTimestamp", opt, TIMESTAMP;
    }
}

wire_struct! {
    /// A tag of a stream, consumer or queue.
    pub struct Tag {
        key: String => "Key", req, TAG_KEY;
        value: Option<String> => "Value", opt, TAG_VALUE;
    }
}

wire_struct! {
    /// Warm throughput of an on-demand stream, in MiB/s.
    pub struct WarmThroughputObject {
        target_mibps: Option<i32> => "TargetMiBps", opt, NATURAL_INTEGER;
        current_mibps: Option<i32> => "CurrentMiBps", opt, NATURAL_INTEGER;
    }
}

wire_struct! {
    /// The `DescribeStream` description of a stream.
    pub struct StreamDescription {
        stream_name: String => "StreamName", req, STREAM_NAME;
        stream_arn: String => "StreamARN", req, STREAM_ARN;
        stream_status: StreamStatus => "StreamStatus", req, STREAM_STATUS;
        stream_mode_details: Option<StreamModeDetails> => "StreamModeDetails", opt, STREAM_MODE_DETAILS;
        shards: Vec<Shard> => "Shards", req, SHARD_LIST;
        has_more_shards: bool => "HasMoreShards", req, BOOLEAN;
        retention_period_hours: i32 => "RetentionPeriodHours", req, RETENTION_PERIOD_HOURS;
        stream_creation_timestamp: Timestamp => "StreamCreationTimestamp", req, TIMESTAMP;
        enhanced_monitoring: Vec<EnhancedMetrics> => "EnhancedMonitoring", req, ENHANCED_MONITORING_LIST;
        encryption_type: Option<EncryptionType> => "EncryptionType", opt, ENCRYPTION_TYPE;
        key_id: Option<String> => "KeyId", opt, KEY_ID;
    }
}

wire_struct! {
    /// The `DescribeStreamSummary` description of a stream.
    pub struct StreamDescriptionSummary {
        stream_name: String => "StreamName", req, STREAM_NAME;
        stream_arn: String => "StreamARN", req, STREAM_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
        stream_status: StreamStatus => "StreamStatus", req, STREAM_STATUS;
        stream_mode_details: Option<StreamModeDetails> => "StreamModeDetails", opt, STREAM_MODE_DETAILS;
        retention_period_hours: i32 => "RetentionPeriodHours", req, RETENTION_PERIOD_HOURS;
        stream_creation_timestamp: Timestamp => "StreamCreationTimestamp", req, TIMESTAMP;
        enhanced_monitoring: Vec<EnhancedMetrics> => "EnhancedMonitoring", req, ENHANCED_MONITORING_LIST;
        encryption_type: Option<EncryptionType> => "EncryptionType", opt, ENCRYPTION_TYPE;
        key_id: Option<String> => "KeyId", opt, KEY_ID;
        open_shard_count: i32 => "OpenShardCount", req, COUNT_OBJECT;
        consumer_count: Option<i32> => "ConsumerCount", opt, COUNT_OBJECT;
        warm_throughput: Option<WarmThroughputObject> => "WarmThroughput", opt, WARM_THROUGHPUT;
        max_record_size_in_kib: Option<i32> => "MaxRecordSizeInKiB", opt, MAX_RECORD_SIZE_IN_KIB;
        channel_count: Option<i32> => "ChannelCount", opt, COUNT_OBJECT;
        record_distribution_strategy: Option<RecordDistributionStrategy> => "RecordDistributionStrategy", opt, RECORD_DISTRIBUTION_STRATEGY;
        queue_count: Option<i32> => "QueueCount", opt, COUNT_OBJECT;
    }
}

wire_struct! {
    /// One record of a `PutRecords` request.
    pub struct PutRecordsRequestEntry {
        partition_key: Option<String> => "PartitionKey", opt, PARTITION_KEY;
        explicit_hash_key: Option<HashKey> => "ExplicitHashKey", opt, HASH_KEY;
        data: Bytes => "Data", req, DATA;
    }
}

wire_struct! {
    /// The outcome of one record of a `PutRecords` request: either the shard and sequence
    /// number, or an error code and message.
    pub struct PutRecordsResultEntry {
        sequence_number: Option<SequenceNumber> => "SequenceNumber", opt, SEQUENCE_NUMBER;
        shard_id: Option<String> => "ShardId", opt, SHARD_ID;
        error_code: Option<String> => "ErrorCode", opt, PLAIN_STRING;
        error_message: Option<String> => "ErrorMessage", opt, PLAIN_STRING;
    }
}

wire_struct! {
    /// Requested account billing commitment.
    pub struct MinimumThroughputBillingCommitmentInput {
        status: MinimumThroughputBillingCommitmentInputStatus => "Status", req, COMMITMENT_INPUT_STATUS;
    }
}

wire_struct! {
    /// Current account billing commitment.
    pub struct MinimumThroughputBillingCommitmentOutput {
        status: MinimumThroughputBillingCommitmentOutputStatus => "Status", req, COMMITMENT_OUTPUT_STATUS;
        started_at: Option<Timestamp> => "StartedAt", opt, TIMESTAMP;
        ended_at: Option<Timestamp> => "EndedAt", opt, TIMESTAMP;
        earliest_allowed_end_at: Option<Timestamp> => "EarliestAllowedEndAt", opt, TIMESTAMP;
    }
}

wire_struct! {
    /// The payload of one `SubscribeToShardEvent` event-stream message.
    ///
    /// `ContinuationSequenceNumber` is optional here although botocore lists it as
    /// required: the service leaves it out of the last event of a closed shard (the one
    /// carrying `ChildShards`), and the KCL reads its absence as the shard's end. Every
    /// other event carries it.
    pub struct SubscribeToShardEvent {
        records: Vec<Record> => "Records", req, RECORD_LIST;
        continuation_sequence_number: Option<SequenceNumber> => "ContinuationSequenceNumber", opt, SEQUENCE_NUMBER;
        millis_behind_latest: i64 => "MillisBehindLatest", req, MILLIS_BEHIND_LATEST;
        child_shards: Option<Vec<ChildShard>> => "ChildShards", opt, CHILD_SHARD_LIST;
    }
}

// ---------------------------------------------------------------------------------------
// Operation inputs
// ---------------------------------------------------------------------------------------

wire_struct! {
    /// Input of `AddTagsToStream`.
    pub struct AddTagsToStreamInput {
        tags: TagMap => "Tags", req, TAG_MAP;
        stream_name: Option<String> => "StreamName", opt, STREAM_NAME;
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
    }
}

wire_struct! {
    /// Input of `CreateStream`.
    pub struct CreateStreamInput {
        shard_count: Option<i32> => "ShardCount", opt, POSITIVE_INTEGER;
        stream_name: String => "StreamName", req, STREAM_NAME;
        stream_mode_details: Option<StreamModeDetails> => "StreamModeDetails", opt, STREAM_MODE_DETAILS;
        tags: Option<TagMap> => "Tags", opt, TAG_MAP;
        warm_throughput_mibps: Option<i32> => "WarmThroughputMiBps", opt, NATURAL_INTEGER;
        max_record_size_in_kib: Option<i32> => "MaxRecordSizeInKiB", opt, MAX_RECORD_SIZE_IN_KIB;
        record_distribution_strategy: Option<RecordDistributionStrategy> => "RecordDistributionStrategy", opt, RECORD_DISTRIBUTION_STRATEGY;
    }
}

wire_struct! {
    /// Input of `DecreaseStreamRetentionPeriod`.
    pub struct DecreaseStreamRetentionPeriodInput {
        stream_name: Option<String> => "StreamName", opt, STREAM_NAME;
        retention_period_hours: i32 => "RetentionPeriodHours", req, RETENTION_PERIOD_HOURS;
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
    }
}

wire_struct! {
    /// Input of `DeleteResourcePolicy`.
    pub struct DeleteResourcePolicyInput {
        resource_arn: String => "ResourceARN", req, RESOURCE_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
    }
}

wire_struct! {
    /// Input of `DeleteStream`.
    pub struct DeleteStreamInput {
        stream_name: Option<String> => "StreamName", opt, STREAM_NAME;
        enforce_consumer_deletion: Option<bool> => "EnforceConsumerDeletion", opt, BOOLEAN;
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
    }
}

wire_struct! {
    /// Input of `DeregisterStreamConsumer`.
    pub struct DeregisterStreamConsumerInput {
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
        consumer_name: Option<String> => "ConsumerName", opt, CONSUMER_NAME;
        consumer_arn: Option<String> => "ConsumerARN", opt, CONSUMER_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
    }
}

wire_struct! {
    /// Input of `DescribeAccountSettings` (no members).
    pub struct DescribeAccountSettingsInput {}
}

wire_struct! {
    /// Input of `DescribeLimits` (no members).
    pub struct DescribeLimitsInput {}
}

wire_struct! {
    /// Input of `DescribeStream`.
    pub struct DescribeStreamInput {
        stream_name: Option<String> => "StreamName", opt, STREAM_NAME;
        limit: Option<i32> => "Limit", opt, LIMIT_10000;
        exclusive_start_shard_id: Option<String> => "ExclusiveStartShardId", opt, SHARD_ID;
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
    }
}

wire_struct! {
    /// Input of `DescribeStreamConsumer`.
    pub struct DescribeStreamConsumerInput {
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
        consumer_name: Option<String> => "ConsumerName", opt, CONSUMER_NAME;
        consumer_arn: Option<String> => "ConsumerARN", opt, CONSUMER_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
    }
}

wire_struct! {
    /// Input of `DescribeStreamSummary`.
    pub struct DescribeStreamSummaryInput {
        stream_name: Option<String> => "StreamName", opt, STREAM_NAME;
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
    }
}

wire_struct! {
    /// Input of `DisableEnhancedMonitoring`.
    pub struct DisableEnhancedMonitoringInput {
        stream_name: Option<String> => "StreamName", opt, STREAM_NAME;
        shard_level_metrics: Vec<MetricsName> => "ShardLevelMetrics", req, METRICS_NAME_LIST;
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
    }
}

wire_struct! {
    /// Input of `EnableEnhancedMonitoring`.
    pub struct EnableEnhancedMonitoringInput {
        stream_name: Option<String> => "StreamName", opt, STREAM_NAME;
        shard_level_metrics: Vec<MetricsName> => "ShardLevelMetrics", req, METRICS_NAME_LIST;
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
    }
}

wire_struct! {
    /// Input of `GetRecords`.
    pub struct GetRecordsInput {
        shard_iterator: String => "ShardIterator", req, SHARD_ITERATOR;
        limit: Option<i32> => "Limit", opt, LIMIT_10000;
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
        dry_run: Option<bool> => "DryRun", opt, BOOLEAN;
    }
}

wire_struct! {
    /// Input of `GetResourcePolicy`.
    pub struct GetResourcePolicyInput {
        resource_arn: String => "ResourceARN", req, RESOURCE_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
    }
}

wire_struct! {
    /// Input of `GetShardIterator`.
    pub struct GetShardIteratorInput {
        shard_id: String => "ShardId", req, SHARD_ID;
        shard_iterator_type: ShardIteratorType => "ShardIteratorType", req, SHARD_ITERATOR_TYPE;
        starting_sequence_number: Option<SequenceNumber> => "StartingSequenceNumber", opt, SEQUENCE_NUMBER;
        stream_name: Option<String> => "StreamName", opt, STREAM_NAME;
        timestamp: Option<Timestamp> => "Timestamp", opt, TIMESTAMP;
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
        dry_run: Option<bool> => "DryRun", opt, BOOLEAN;
    }
}

wire_struct! {
    /// Input of `IncreaseStreamRetentionPeriod`.
    pub struct IncreaseStreamRetentionPeriodInput {
        stream_name: Option<String> => "StreamName", opt, STREAM_NAME;
        retention_period_hours: i32 => "RetentionPeriodHours", req, RETENTION_PERIOD_HOURS;
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
    }
}

wire_struct! {
    /// Input of `ListShards`.
    pub struct ListShardsInput {
        stream_name: Option<String> => "StreamName", opt, STREAM_NAME;
        next_token: Option<String> => "NextToken", opt, NEXT_TOKEN;
        exclusive_start_shard_id: Option<String> => "ExclusiveStartShardId", opt, SHARD_ID;
        max_results: Option<i32> => "MaxResults", opt, LIMIT_10000;
        stream_creation_timestamp: Option<Timestamp> => "StreamCreationTimestamp", opt, TIMESTAMP;
        shard_filter: Option<ShardFilter> => "ShardFilter", opt, SHARD_FILTER;
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
    }
}

wire_struct! {
    /// Input of `ListStreamConsumers`.
    pub struct ListStreamConsumersInput {
        stream_arn: String => "StreamARN", req, STREAM_ARN;
        next_token: Option<String> => "NextToken", opt, NEXT_TOKEN;
        max_results: Option<i32> => "MaxResults", opt, LIMIT_10000;
        stream_creation_timestamp: Option<Timestamp> => "StreamCreationTimestamp", opt, TIMESTAMP;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
    }
}

wire_struct! {
    /// Input of `ListStreams`.
    pub struct ListStreamsInput {
        limit: Option<i32> => "Limit", opt, LIMIT_10000;
        exclusive_start_stream_name: Option<String> => "ExclusiveStartStreamName", opt, STREAM_NAME;
        next_token: Option<String> => "NextToken", opt, NEXT_TOKEN;
    }
}

wire_struct! {
    /// Input of `ListTagsForResource`.
    pub struct ListTagsForResourceInput {
        resource_arn: String => "ResourceARN", req, RESOURCE_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
    }
}

wire_struct! {
    /// Input of `ListTagsForStream`.
    pub struct ListTagsForStreamInput {
        stream_name: Option<String> => "StreamName", opt, STREAM_NAME;
        exclusive_start_tag_key: Option<String> => "ExclusiveStartTagKey", opt, TAG_KEY;
        limit: Option<i32> => "Limit", opt, LIST_TAGS_FOR_STREAM_LIMIT;
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
    }
}

wire_struct! {
    /// Input of `MergeShards`.
    pub struct MergeShardsInput {
        stream_name: Option<String> => "StreamName", opt, STREAM_NAME;
        shard_to_merge: String => "ShardToMerge", req, SHARD_ID;
        adjacent_shard_to_merge: String => "AdjacentShardToMerge", req, SHARD_ID;
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
    }
}

wire_struct! {
    /// Input of `PutRecord`.
    pub struct PutRecordInput {
        sequence_number_for_ordering: Option<SequenceNumber> => "SequenceNumberForOrdering", opt, SEQUENCE_NUMBER;
        partition_key: Option<String> => "PartitionKey", opt, PARTITION_KEY;
        explicit_hash_key: Option<HashKey> => "ExplicitHashKey", opt, HASH_KEY;
        data: Bytes => "Data", req, DATA;
        stream_name: Option<String> => "StreamName", opt, STREAM_NAME;
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
        dry_run: Option<bool> => "DryRun", opt, BOOLEAN;
    }
}

wire_struct! {
    /// Input of `PutRecords`.
    pub struct PutRecordsInput {
        records: Vec<PutRecordsRequestEntry> => "Records", req, PUT_RECORDS_REQUEST_ENTRY_LIST;
        stream_name: Option<String> => "StreamName", opt, STREAM_NAME;
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
        dry_run: Option<bool> => "DryRun", opt, BOOLEAN;
    }
}

wire_struct! {
    /// Input of `PutResourcePolicy`.
    pub struct PutResourcePolicyInput {
        resource_arn: String => "ResourceARN", req, RESOURCE_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
        policy: String => "Policy", req, PLAIN_STRING;
    }
}

wire_struct! {
    /// Input of `RegisterStreamConsumer`.
    pub struct RegisterStreamConsumerInput {
        stream_arn: String => "StreamARN", req, STREAM_ARN;
        consumer_name: String => "ConsumerName", req, CONSUMER_NAME;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
        tags: Option<TagMap> => "Tags", opt, TAG_MAP;
    }
}

wire_struct! {
    /// Input of `RemoveTagsFromStream`.
    pub struct RemoveTagsFromStreamInput {
        stream_name: Option<String> => "StreamName", opt, STREAM_NAME;
        tag_keys: Vec<String> => "TagKeys", req, TAG_KEY_LIST;
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
    }
}

wire_struct! {
    /// Input of `SplitShard`.
    pub struct SplitShardInput {
        stream_name: Option<String> => "StreamName", opt, STREAM_NAME;
        shard_to_split: String => "ShardToSplit", req, SHARD_ID;
        new_starting_hash_key: HashKey => "NewStartingHashKey", req, HASH_KEY;
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
    }
}

wire_struct! {
    /// Input of `StartStreamEncryption`.
    pub struct StartStreamEncryptionInput {
        stream_name: Option<String> => "StreamName", opt, STREAM_NAME;
        encryption_type: EncryptionType => "EncryptionType", req, ENCRYPTION_TYPE;
        key_id: String => "KeyId", req, KEY_ID;
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
    }
}

wire_struct! {
    /// Input of `StopStreamEncryption`.
    pub struct StopStreamEncryptionInput {
        stream_name: Option<String> => "StreamName", opt, STREAM_NAME;
        encryption_type: EncryptionType => "EncryptionType", req, ENCRYPTION_TYPE;
        key_id: String => "KeyId", req, KEY_ID;
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
    }
}

wire_struct! {
    /// Input of `SubscribeToShard`.
    pub struct SubscribeToShardInput {
        consumer_arn: String => "ConsumerARN", req, CONSUMER_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
        shard_id: String => "ShardId", req, SHARD_ID;
        starting_position: StartingPosition => "StartingPosition", req, STARTING_POSITION;
        dry_run: Option<bool> => "DryRun", opt, BOOLEAN;
    }
}

wire_struct! {
    /// Input of `TagResource`.
    pub struct TagResourceInput {
        tags: TagMap => "Tags", req, TAG_MAP;
        resource_arn: String => "ResourceARN", req, RESOURCE_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
    }
}

wire_struct! {
    /// Input of `UntagResource`.
    pub struct UntagResourceInput {
        tag_keys: Vec<String> => "TagKeys", req, TAG_KEY_LIST;
        resource_arn: String => "ResourceARN", req, RESOURCE_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
    }
}

wire_struct! {
    /// Input of `UpdateAccountSettings`.
    pub struct UpdateAccountSettingsInput {
        minimum_throughput_billing_commitment: MinimumThroughputBillingCommitmentInput => "MinimumThroughputBillingCommitment", req, COMMITMENT_INPUT;
    }
}

wire_struct! {
    /// Input of `UpdateMaxRecordSize`.
    pub struct UpdateMaxRecordSizeInput {
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
        max_record_size_in_kib: i32 => "MaxRecordSizeInKiB", req, MAX_RECORD_SIZE_IN_KIB;
    }
}

wire_struct! {
    /// Input of `UpdateShardCount`.
    pub struct UpdateShardCountInput {
        stream_name: Option<String> => "StreamName", opt, STREAM_NAME;
        target_shard_count: i32 => "TargetShardCount", req, POSITIVE_INTEGER;
        scaling_type: ScalingType => "ScalingType", req, SCALING_TYPE;
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
    }
}

wire_struct! {
    /// Input of `UpdateStreamMode`.
    pub struct UpdateStreamModeInput {
        stream_arn: String => "StreamARN", req, STREAM_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
        stream_mode_details: StreamModeDetails => "StreamModeDetails", req, STREAM_MODE_DETAILS;
        warm_throughput_mibps: Option<i32> => "WarmThroughputMiBps", opt, NATURAL_INTEGER;
    }
}

wire_struct! {
    /// Input of `UpdateStreamRecordDistributionStrategy`.
    pub struct UpdateStreamRecordDistributionStrategyInput {
        stream_arn: String => "StreamARN", req, STREAM_ARN;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
        record_distribution_strategy: RecordDistributionStrategy => "RecordDistributionStrategy", req, RECORD_DISTRIBUTION_STRATEGY;
    }
}

wire_struct! {
    /// Input of `UpdateStreamWarmThroughput`.
    pub struct UpdateStreamWarmThroughputInput {
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
        stream_name: Option<String> => "StreamName", opt, STREAM_NAME;
        stream_id: Option<String> => "StreamId", opt, STREAM_ID;
        warm_throughput_mibps: i32 => "WarmThroughputMiBps", req, NATURAL_INTEGER;
    }
}

// ---------------------------------------------------------------------------------------
// Operation outputs
// ---------------------------------------------------------------------------------------

/// The output of operations whose model has no output shape. It encodes as an empty body
/// (HTTP 200, `Content-Length: 0`), as AWS answers them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EmptyOutput;

impl WireStruct for EmptyOutput {
    const SHAPE: &'static StructShape = &StructShape { name: "EmptyOutput", members: &[] };
    const EMPTY_BODY: bool = true;

    fn from_fields(_fields: Vec<Option<Checked>>) -> Option<Self> {
        Some(EmptyOutput)
    }

    fn write_fields<S: Sink>(&self, sink: &mut S) {
        sink.begin_map(0);
        sink.end_map();
    }

    fn fields_size_hint(&self) -> usize {
        0
    }
}

impl WireType for EmptyOutput {
    fn from_checked(_value: Checked) -> Option<Self> {
        Some(EmptyOutput)
    }

    fn write<S: Sink>(&self, sink: &mut S) {
        self.write_fields(sink)
    }

    fn size_hint(&self) -> usize {
        2
    }
}

wire_struct! {
    /// Output of `DescribeAccountSettings`.
    pub struct DescribeAccountSettingsOutput {
        minimum_throughput_billing_commitment: Option<MinimumThroughputBillingCommitmentOutput> => "MinimumThroughputBillingCommitment", opt, COMMITMENT_OUTPUT;
    }
}

wire_struct! {
    /// Output of `DescribeLimits`.
    pub struct DescribeLimitsOutput {
        shard_limit: i32 => "ShardLimit", req, COUNT_OBJECT;
        open_shard_count: i32 => "OpenShardCount", req, COUNT_OBJECT;
        on_demand_stream_count: i32 => "OnDemandStreamCount", req, COUNT_OBJECT;
        on_demand_stream_count_limit: i32 => "OnDemandStreamCountLimit", req, COUNT_OBJECT;
        channel_count: Option<i32> => "ChannelCount", opt, COUNT_OBJECT;
        channel_count_limit: Option<i32> => "ChannelCountLimit", opt, COUNT_OBJECT;
    }
}

wire_struct! {
    /// Output of `DescribeStream`.
    pub struct DescribeStreamOutput {
        stream_description: StreamDescription => "StreamDescription", req, STREAM_DESCRIPTION;
    }
}

wire_struct! {
    /// Output of `DescribeStreamConsumer`.
    pub struct DescribeStreamConsumerOutput {
        consumer_description: ConsumerDescription => "ConsumerDescription", req, CONSUMER_DESCRIPTION;
    }
}

wire_struct! {
    /// Output of `DescribeStreamSummary`.
    pub struct DescribeStreamSummaryOutput {
        stream_description_summary: StreamDescriptionSummary => "StreamDescriptionSummary", req, STREAM_DESCRIPTION_SUMMARY;
    }
}

wire_struct! {
    /// Output of `EnableEnhancedMonitoring` and `DisableEnhancedMonitoring`.
    pub struct EnhancedMonitoringOutput {
        stream_name: Option<String> => "StreamName", opt, STREAM_NAME;
        current_shard_level_metrics: Option<Vec<MetricsName>> => "CurrentShardLevelMetrics", opt, METRICS_NAME_LIST;
        desired_shard_level_metrics: Option<Vec<MetricsName>> => "DesiredShardLevelMetrics", opt, METRICS_NAME_LIST;
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
    }
}

wire_struct! {
    /// Output of `GetRecords`.
    pub struct GetRecordsOutput {
        records: Vec<Record> => "Records", req, RECORD_LIST;
        next_shard_iterator: Option<String> => "NextShardIterator", opt, SHARD_ITERATOR;
        millis_behind_latest: Option<i64> => "MillisBehindLatest", opt, MILLIS_BEHIND_LATEST;
        child_shards: Option<Vec<ChildShard>> => "ChildShards", opt, CHILD_SHARD_LIST;
    }
}

wire_struct! {
    /// Output of `GetResourcePolicy`.
    pub struct GetResourcePolicyOutput {
        policy: String => "Policy", req, PLAIN_STRING;
    }
}

wire_struct! {
    /// Output of `GetShardIterator`.
    pub struct GetShardIteratorOutput {
        shard_iterator: Option<String> => "ShardIterator", opt, SHARD_ITERATOR;
    }
}

wire_struct! {
    /// Output of `ListShards`.
    pub struct ListShardsOutput {
        shards: Option<Vec<Shard>> => "Shards", opt, SHARD_LIST;
        next_token: Option<String> => "NextToken", opt, NEXT_TOKEN;
    }
}

wire_struct! {
    /// Output of `ListStreamConsumers`.
    pub struct ListStreamConsumersOutput {
        consumers: Option<Vec<Consumer>> => "Consumers", opt, CONSUMER_LIST;
        next_token: Option<String> => "NextToken", opt, NEXT_TOKEN;
    }
}

wire_struct! {
    /// Output of `ListStreams`.
    pub struct ListStreamsOutput {
        stream_names: Vec<String> => "StreamNames", req, STREAM_NAME_LIST;
        has_more_streams: bool => "HasMoreStreams", req, BOOLEAN;
        next_token: Option<String> => "NextToken", opt, NEXT_TOKEN;
        stream_summaries: Option<Vec<StreamSummary>> => "StreamSummaries", opt, STREAM_SUMMARY_LIST;
    }
}

wire_struct! {
    /// Output of `ListTagsForResource`.
    pub struct ListTagsForResourceOutput {
        tags: Option<Vec<Tag>> => "Tags", opt, TAG_LIST;
    }
}

wire_struct! {
    /// Output of `ListTagsForStream`.
    pub struct ListTagsForStreamOutput {
        tags: Vec<Tag> => "Tags", req, TAG_LIST;
        has_more_tags: bool => "HasMoreTags", req, BOOLEAN;
    }
}

wire_struct! {
    /// Output of `PutRecord`.
    pub struct PutRecordOutput {
        shard_id: String => "ShardId", req, SHARD_ID;
        sequence_number: SequenceNumber => "SequenceNumber", req, SEQUENCE_NUMBER;
        encryption_type: Option<EncryptionType> => "EncryptionType", opt, ENCRYPTION_TYPE;
    }
}

wire_struct! {
    /// Output of `PutRecords`.
    pub struct PutRecordsOutput {
        failed_record_count: Option<i32> => "FailedRecordCount", opt, POSITIVE_INTEGER;
        records: Vec<PutRecordsResultEntry> => "Records", req, PUT_RECORDS_RESULT_ENTRY_LIST;
        encryption_type: Option<EncryptionType> => "EncryptionType", opt, ENCRYPTION_TYPE;
    }
}

wire_struct! {
    /// Output of `RegisterStreamConsumer`.
    pub struct RegisterStreamConsumerOutput {
        consumer: Consumer => "Consumer", req, CONSUMER;
    }
}

wire_struct! {
    /// The `initial-response` of `SubscribeToShard`: the non-stream output members, of
    /// which there are none, so it encodes as `{}`. The events themselves are
    /// [`SubscribeToShardEvent`]s framed by the server.
    pub struct SubscribeToShardOutput {}
}

wire_struct! {
    /// Output of `UpdateAccountSettings`.
    pub struct UpdateAccountSettingsOutput {
        minimum_throughput_billing_commitment: Option<MinimumThroughputBillingCommitmentOutput> => "MinimumThroughputBillingCommitment", opt, COMMITMENT_OUTPUT;
    }
}

wire_struct! {
    /// Output of `UpdateShardCount`.
    pub struct UpdateShardCountOutput {
        stream_name: Option<String> => "StreamName", opt, STREAM_NAME;
        current_shard_count: Option<i32> => "CurrentShardCount", opt, POSITIVE_INTEGER;
        target_shard_count: Option<i32> => "TargetShardCount", opt, POSITIVE_INTEGER;
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
    }
}

wire_struct! {
    /// Output of `UpdateStreamWarmThroughput`.
    pub struct UpdateStreamWarmThroughputOutput {
        stream_arn: Option<String> => "StreamARN", opt, STREAM_ARN;
        stream_name: Option<String> => "StreamName", opt, STREAM_NAME;
        warm_throughput: Option<WarmThroughputObject> => "WarmThroughput", opt, WARM_THROUGHPUT;
    }
}
