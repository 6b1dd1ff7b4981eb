//! What the engine reports. Variants carry the facts (stream, shard, account, times,
//! limits); AWS's message texts for them are written where the wire is, in the server's one
//! exhaustive mapping (`rheo-server`'s `errors.rs`). `Display` here is a short text for
//! logs, not AWS's.
//!
//! AWS error types answered for many business rules have one enum each, a variant per
//! rule: [`InvalidArgument`], [`Validation`], [`LimitExceeded`], [`ResourceInUse`] and
//! [`ResourceNotFound`].

use rheo_storage::StorageError;

use crate::ids::{ConsumerArn, EncodedShardId, ShardId};
pub use crate::queue_error::QueueError;
use crate::status::{ConsumerStatus, ShardFilterKind, StreamMode, StreamStatus};

/// Every failure of an engine operation. Deliberately exhaustive: the server maps each
/// variant to an AWS error type, and a new variant must not compile until it is mapped.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The stream does not exist (or is being created or deleted, for data operations).
    #[error("stream {stream} not found (account {account})")]
    StreamNotFound {
        /// The stream name as given.
        stream: String,
        /// The account id.
        account: String,
    },
    /// CreateStream with a name in use.
    #[error("stream {stream} already exists (account {account})")]
    StreamExists {
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
    },
    /// The operation needs an ACTIVE stream.
    #[error("stream {stream} is {status}, not ACTIVE (account {account})")]
    StreamNotActive {
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
        /// Its current state.
        status: StreamStatus,
    },
    /// A data-plane reference to a shard that does not exist.
    #[error("shard {shard} of stream {stream} does not exist (account {account})")]
    ShardNotFound {
        /// The normalised shard id.
        shard: String,
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
    },
    /// A control-plane reference to a shard that does not exist (or an unparseable id).
    #[error("shard {shard} of stream {stream} not found (account {account})")]
    ShardUnknown {
        /// The shard id as given.
        shard: String,
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
    },
    /// The shard iterator is not one this server issued, or was altered.
    #[error("invalid shard iterator")]
    InvalidShardIterator,
    /// The shard iterator is older than [`crate::limits::ITERATOR_LIFETIME_MS`].
    #[error("shard iterator issued at {issued_ms} expired at {now_ms} (epoch ms)")]
    ExpiredIterator {
        /// When it was issued, epoch ms.
        issued_ms: u64,
        /// Now, epoch ms.
        now_ms: u64,
    },
    /// A pagination token older than [`crate::limits::NEXT_TOKEN_LIFETIME_MS`].
    #[error("pagination token expired")]
    ExpiredNextToken,
    /// The account's shard quota would be exceeded.
    #[error("shard limit {limit} of account {account} in {region} exceeded: {current} open, {additional} more asked")]
    ShardLimit {
        /// The account id.
        account: String,
        /// The region.
        region: String,
        /// Open shards in the account now.
        current: u64,
        /// The quota.
        limit: u32,
        /// Shards the request would have added.
        additional: u64,
    },
    /// A shard's read or write budget is spent (only with limits enforced).
    #[error("throughput of shard {shard} of stream {stream} exceeded (account {account})")]
    ThroughputExceeded {
        /// The shard id.
        shard: String,
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
    },
    /// The consumer does not exist.
    #[error("consumer {consumer} of stream {stream} not found (account {account})")]
    ConsumerNotFound {
        /// The consumer name or ARN as given.
        consumer: String,
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
    },
    /// A parameter is out of bounds, inconsistent or unsupported (`InvalidArgumentException`).
    #[error(transparent)]
    InvalidArgument(#[from] InvalidArgument),
    /// A request-validation failure for rules the wire model cannot express
    /// (`ValidationException`).
    #[error(transparent)]
    Validation(#[from] Validation),
    /// A quota other than the account's shard quota (`LimitExceededException`).
    #[error(transparent)]
    LimitExceeded(#[from] LimitExceeded),
    /// The resource is in a state that forbids the operation (`ResourceInUseException`).
    #[error(transparent)]
    ResourceInUse(#[from] ResourceInUse),
    /// A resource other than a stream, shard or consumer is missing (`ResourceNotFoundException`).
    #[error(transparent)]
    ResourceNotFound(#[from] ResourceNotFound),
    /// The operation is not available in this server yet.
    #[error("{operation} is not supported")]
    Unsupported {
        /// The operation's name.
        operation: &'static str,
    },
    /// Records on disk failed their checksum. Answered as `InternalFailure` with this
    /// message (unlike other internal failures), so the reader learns which range is lost
    /// to it and how to go on past it.
    #[error("records {first} to {last} of shard {shard} of stream {stream} are damaged on disk (account {account})")]
    DamagedRecords {
        /// The shard id.
        shard: String,
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
        /// First damaged sequence number.
        first: String,
        /// Last damaged sequence number.
        last: String,
    },
    /// An unexpected internal failure (AWS answers these with a bare `InternalFailure`).
    #[error("internal failure: {0}")]
    Internal(String),
    /// A queue rule (see [`QueueError`]).
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// The storage layer failed; nothing of the request was acknowledged.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The key store refused: a `KeyId` that names no key (KMSNotFoundException), or the
    /// key store itself failed.
    #[error(transparent)]
    Key(#[from] rheo_keys::KeyError),
}

/// The rules answered with `InvalidArgumentException` besides a bad shard iterator and an
/// unsupported operation. Texts the client sent (ARNs, names, keys, sequence numbers) are
/// kept as sent, since AWS quotes them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidArgument {
    /// Neither StreamName nor StreamARN was given.
    #[error("no stream named")]
    StreamRefMissing,
    /// StreamName and StreamARN name different streams.
    #[error("stream ARN {arn} and name {name} disagree")]
    StreamArnNameMismatch {
        /// The StreamARN as given.
        arn: String,
        /// The StreamName as given.
        name: String,
    },
    /// Neither ConsumerARN nor both StreamARN and ConsumerName were given.
    #[error("no consumer named")]
    ConsumerRefMissing,
    /// ConsumerARN is of another stream than StreamARN.
    #[error("consumer {consumer_arn} is not of stream {stream_arn}")]
    ConsumerArnStreamMismatch {
        /// The ConsumerARN as given.
        consumer_arn: String,
        /// The StreamARN as given.
        stream_arn: String,
    },
    /// ConsumerARN names another consumer than ConsumerName.
    #[error("consumer {consumer_arn} is not named {consumer_name}")]
    ConsumerArnNameMismatch {
        /// The ConsumerARN as given.
        consumer_arn: String,
        /// The ConsumerName as given.
        consumer_name: String,
    },
    /// A pagination token this server did not issue, or one for another listing.
    #[error("invalid pagination token")]
    NextToken,
    /// ListShards with neither NextToken nor a stream.
    #[error("ListShards without NextToken or stream")]
    ListShardsStreamMissing,
    /// ListShards with both NextToken and a stream.
    #[error("ListShards with both NextToken and stream")]
    ListShardsTokenWithStream,
    /// ListShards with NextToken and ExclusiveStartShardId or StreamCreationTimestamp.
    #[error("ListShards with NextToken and a start")]
    ListShardsTokenWithStart,
    /// ListShards' AFTER_SHARD_ID filter without a ShardId.
    #[error("ShardFilter without its ShardId")]
    ShardFilterShardIdMissing,
    /// ListShards' AT_TIMESTAMP or FROM_TIMESTAMP filter without a Timestamp.
    #[error("ShardFilter {filter:?} without its Timestamp")]
    ShardFilterTimestampMissing {
        /// The filter type.
        filter: ShardFilterKind,
    },
    /// CreateStream of a PROVISIONED stream without ShardCount.
    #[error("provisioned stream without a shard count")]
    ShardCountMissing,
    /// A retention period below the minimum.
    #[error("retention of {hours} hours below the minimum of {min}")]
    RetentionTooShort {
        /// The period asked for.
        hours: i64,
        /// The shortest period allowed.
        min: i64,
    },
    /// A retention period above the maximum.
    #[error("retention of {hours} hours above the maximum of {max}")]
    RetentionTooLong {
        /// The period asked for.
        hours: i64,
        /// The longest period allowed.
        max: i64,
    },
    /// IncreaseStreamRetentionPeriod to less than the current period.
    #[error("retention of stream {stream} cannot increase from {current} to {hours} hours")]
    RetentionIncreaseBelowCurrent {
        /// The stream name.
        stream: String,
        /// The period asked for.
        hours: i64,
        /// The current period.
        current: i64,
    },
    /// DecreaseStreamRetentionPeriod to more than the current period.
    #[error("retention of stream {stream} cannot decrease from {current} to {hours} hours")]
    RetentionDecreaseAboveCurrent {
        /// The stream name.
        stream: String,
        /// The period asked for.
        hours: i64,
        /// The current period.
        current: i64,
    },
    /// Tag keys or values with characters AWS does not allow.
    #[error("tags with invalid characters")]
    TagCharacters,
    /// Tag keys or values containing `%`, which AWS refuses when adding tags.
    #[error("tags of {resource} contain '%' (account {account})")]
    TagPercent {
        /// The stream or consumer name.
        resource: String,
        /// The account id.
        account: String,
    },
    /// Tag keys containing `%` given to RemoveTagsFromStream, which AWS refuses with a
    /// text of its own (issue 14, item 4).
    #[error("tag keys to remove from {stream} contain '%' (account {account})")]
    TagRemovePercent {
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
    },
    /// More tags than a resource may have.
    #[error("{resource} would have more than {limit} tags (account {account})")]
    TagCount {
        /// The stream or consumer name.
        resource: String,
        /// The account id.
        account: String,
        /// Tags allowed per resource.
        limit: usize,
    },
    /// PutResourcePolicy with a document that is not a JSON object.
    #[error("policy is not a JSON object")]
    PolicyNotObject,
    /// PutResourcePolicy with a JSON object that is not a valid policy document.
    #[error("invalid policy: {reason}")]
    PolicyInvalid {
        /// What is wrong with it.
        reason: String,
    },
    /// Start/StopStreamEncryption with an encryption type other than KMS.
    #[error("encryption type {encryption_type} is not KMS")]
    EncryptionType {
        /// The type as given.
        encryption_type: String,
    },
    /// StopStreamEncryption on a stream that is not encrypted.
    #[error("stream {stream} is not encrypted (account {account})")]
    StreamNotEncrypted {
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
    },
    /// UpdateStreamMode to the mode the stream has.
    #[error("stream {stream} is already {} (account {account})", mode.as_str())]
    StreamModeUnchanged {
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
        /// Its mode.
        mode: StreamMode,
    },
    /// AUTO record distribution asked for a provisioned stream (CreateStream or
    /// UpdateStreamRecordDistributionStrategy; API_UpdateStreamRecordDistributionStrategy).
    #[error("AUTO record distribution on provisioned stream {stream} (account {account})")]
    AutoDistributionProvisioned {
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
    },
    /// UpdateStreamMode to PROVISIONED of a stream with AUTO record distribution, which
    /// provisioned streams do not support (AWS's documents are silent on this call; it is
    /// refused rather than changing the strategy behind the user's back).
    #[error("stream {stream} with AUTO record distribution cannot become provisioned (account {account})")]
    ProvisionedWithAutoDistribution {
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
    },
    /// PutRecord with SequenceNumberForOrdering on a stream with AUTO record distribution
    /// (service-managed-pk-producing-behavior: such requests are rejected).
    #[error("SequenceNumberForOrdering on stream {stream} with AUTO record distribution (account {account})")]
    OrderingWithAutoDistribution {
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
    },
    /// SplitShard or MergeShards on a shard that was already split or merged.
    #[error("shard {shard} of stream {stream} was already resharded (account {account})")]
    ShardResharded {
        /// The shard.
        shard: ShardId,
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
    },
    /// SplitShard with a NewStartingHashKey outside the shard's range (exclusive of its
    /// start plus one and its end).
    #[error("hash key {hash_key} does not split shard {shard} of stream {stream} (account {account})")]
    SplitHashKey {
        /// The NewStartingHashKey as given.
        hash_key: String,
        /// The shard.
        shard: ShardId,
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
        /// The shard's starting hash key.
        shard_start: u128,
        /// The shard's ending hash key.
        shard_end: u128,
    },
    /// MergeShards on shards whose hash key ranges do not touch.
    #[error("shards {first} and {second} of stream {stream} are not adjacent (account {account})")]
    ShardsNotAdjacent {
        /// The first shard.
        first: ShardId,
        /// The second shard.
        second: ShardId,
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
    },
    /// An ExplicitHashKey that is not a number in [0, 2^128-1].
    #[error("explicit hash key {hash_key} out of range")]
    ExplicitHashKey {
        /// The key as given.
        hash_key: String,
    },
    /// PutRecords whose records together exceed the request size limit.
    #[error("records exceed {max_bytes} bytes")]
    RecordsTooLarge {
        /// The most bytes of data and partition keys a PutRecords may carry.
        max_bytes: usize,
    },
    /// PutRecord's SequenceNumberForOrdering is not a sequence number this server issued.
    #[error("SequenceNumberForOrdering {sequence_number} invalid for stream {stream} (account {account})")]
    SequenceNumberForOrdering {
        /// The sequence number as given.
        sequence_number: String,
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
    },
    /// A sequence-number iterator type without StartingSequenceNumber, or TRIM_HORIZON or
    /// LATEST with one.
    #[error("iterator type {iterator_type} with{} a sequence number", if *has_sequence_number { "" } else { "out" })]
    StartingPosition {
        /// The iterator type, in AWS's spelling.
        iterator_type: &'static str,
        /// Whether a StartingSequenceNumber was given.
        has_sequence_number: bool,
    },
    /// An AT_TIMESTAMP iterator without a timestamp.
    #[error("AT_TIMESTAMP without a timestamp")]
    TimestampMissing,
    /// An AT_TIMESTAMP iterator with a timestamp in the future.
    #[error("timestamp {timestamp_ms} is after now, {now_ms} (epoch ms)")]
    TimestampInFuture {
        /// The timestamp as given, epoch ms.
        timestamp_ms: i64,
        /// Now, epoch ms.
        now_ms: u64,
    },
    /// A StartingSequenceNumber that is not a sequence number.
    #[error("starting sequence number {sequence_number} is invalid ({operation} on shard {shard} of stream {stream}, account {account})")]
    StartingSequenceNumber {
        /// The sequence number as given.
        sequence_number: String,
        /// The operation, GetShardIterator or SubscribeToShard.
        operation: &'static str,
        /// The shard.
        shard: ShardId,
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
    },
    /// A StartingSequenceNumber of the right shard index that this stream's shard did not
    /// issue (another stream, or an earlier stream of the same name).
    #[error("starting sequence number {sequence_number} is not of this stream ({operation} on shard {shard} of stream {stream}, account {account})")]
    StartingSequenceNumberForeign {
        /// The sequence number as given.
        sequence_number: String,
        /// The operation, GetShardIterator or SubscribeToShard.
        operation: &'static str,
        /// The shard.
        shard: ShardId,
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
    },
    /// A StartingSequenceNumber of another shard.
    #[error("starting sequence number of {encoded} used on {shard}")]
    StartingSequenceNumberShard {
        /// The shard index the sequence number encodes, possibly negative (issue 14, item 6).
        encoded: EncodedShardId,
        /// The shard it was used on.
        shard: ShardId,
    },
}

/// The rules answered with `ValidationException` that the wire model cannot check.
#[derive(Debug, thiserror::Error)]
pub enum Validation {
    /// PutRecord and PutRecords: records without a partition key or larger than the
    /// stream's record size; AWS lists at most ten such violations, in request order.
    #[error("{} records break the constraints of PutRecord(s)", .0.len())]
    Records(Vec<RecordViolation>),
    /// SplitShard, MergeShards and UpdateShardCount on an ON_DEMAND stream.
    #[error("{operation} refused: stream {stream} is ON_DEMAND (account {account})")]
    OnDemandResharding {
        /// The operation's name.
        operation: &'static str,
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
    },
    /// UpdateStreamWarmThroughput on a PROVISIONED stream.
    #[error("warm throughput refused: stream {stream} is PROVISIONED (account {account})")]
    WarmThroughputProvisioned {
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
    },
}

/// One record of a PutRecord or PutRecords request that breaks a constraint. `member` is the
/// record's 1-based position in PutRecords' `Records`, `None` for PutRecord.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordViolation {
    /// The record's data and partition key together exceed the stream's record size.
    DataTooLong {
        /// The record's position in PutRecords, `None` for PutRecord.
        member: Option<usize>,
        /// The data's length in bytes.
        data_bytes: usize,
        /// The most data bytes the record could have had with its partition key.
        max_data_bytes: usize,
    },
    /// The record has no partition key.
    PartitionKeyMissing {
        /// The record's position in PutRecords, `None` for PutRecord.
        member: Option<usize>,
    },
}

/// The quotas answered with `LimitExceededException` besides the account's shard quota.
#[derive(Debug, thiserror::Error)]
pub enum LimitExceeded {
    /// RegisterStreamConsumer on a stream with as many live consumers as allowed.
    #[error("stream {stream} has the most consumers allowed, {limit} (account {account})")]
    Consumers {
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
        /// Registered consumers allowed per stream.
        limit: u32,
    },
    /// RegisterStreamConsumer while as many consumers as allowed are CREATING.
    #[error("stream {stream} has {limit} consumers CREATING already (account {account})")]
    ConsumersCreating {
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
        /// Consumers allowed in the CREATING state at once.
        limit: usize,
    },
    /// CreateStream of an on-demand stream beyond the account's on-demand stream quota.
    #[error("on-demand stream limit {limit} of account {account} in {region} reached")]
    OnDemandStreams {
        /// The account id.
        account: String,
        /// The region.
        region: String,
        /// On-demand streams allowed.
        limit: u32,
    },
    /// UpdateShardCount to more than double the open shards.
    #[error("UpdateShardCount of stream {stream} beyond double {current} shards (account {account})")]
    ScaleAboveDouble {
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
        /// Open shards now.
        current: u32,
    },
    /// UpdateShardCount to fewer than half the open shards.
    #[error("UpdateShardCount of stream {stream} below half of {current} shards (account {account})")]
    ScaleBelowHalf {
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
        /// Open shards now.
        current: u32,
    },
    /// UpdateShardCount to more shards than a stream may have.
    #[error("UpdateShardCount of stream {stream} beyond {max} shards (account {account})")]
    ScaleBeyondMax {
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
        /// Shards allowed per stream.
        max: u32,
    },
    /// A control-plane operation called faster than its documented rate (only with
    /// limits enforced).
    #[error("rate of {operation:?} exceeded for stream {stream:?} (account {account})")]
    Rate {
        /// The operation.
        operation: crate::control_rates::ControlOperation,
        /// The stream the call named, when it named one.
        stream: Option<String>,
        /// The account id.
        account: String,
    },
    /// CreateStream or DeleteStream while as many streams as allowed are CREATING or
    /// DELETING (only with limits enforced).
    #[error("{limit} streams of account {account} are CREATING or DELETING already")]
    StreamsChanging {
        /// The account id.
        account: String,
        /// Streams allowed in those states at once.
        limit: usize,
    },
    /// StartStreamEncryption or StopStreamEncryption beyond the changes allowed in 24
    /// hours (only with limits enforced).
    #[error("encryption of stream {stream} changed {limit} times in 24 hours (account {account})")]
    EncryptionChangesPerDay {
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
        /// Changes allowed per 24 hours.
        limit: usize,
    },
    /// UpdateShardCount called more often than allowed in 24 hours.
    #[error("UpdateShardCount of stream {stream} ran {limit} times in 24 hours (account {account})")]
    ScalingsPerDay {
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
        /// Scalings allowed per 24 hours.
        limit: usize,
    },
}

/// The rules answered with `ResourceInUseException` besides CreateStream's name in use and
/// a stream that is not ACTIVE.
#[derive(Debug, thiserror::Error)]
pub enum ResourceInUse {
    /// RegisterStreamConsumer with a name a live consumer of the stream has.
    #[error("consumer {consumer} of stream {stream} already exists (account {account})")]
    ConsumerExists {
        /// The consumer name.
        consumer: String,
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
    },
    /// DeleteStream of a stream with registered consumers, without EnforceConsumerDeletion.
    #[error("stream {stream} has registered consumers (account {account})")]
    StreamHasConsumers {
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
    },
    /// AddTagsToStream while the stream is still being created.
    #[error("stream {stream} is not ACTIVE, its tags cannot change yet (account {account})")]
    TagsWhileCreating {
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
    },
    /// SubscribeToShard with a consumer that is not ACTIVE.
    #[error("consumer {consumer} of stream {stream} is {}, not ACTIVE (account {account})", status.as_str())]
    ConsumerNotActive {
        /// The consumer's ARN.
        consumer: ConsumerArn,
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
        /// Its current state.
        status: ConsumerStatus,
    },
    /// SubscribeToShard while another subscription of the consumer to the shard is younger
    /// than the takeover delay.
    #[error("consumer {consumer} already subscribed to shard {shard} of stream {stream} for {age_ms} ms (account {account})")]
    SubscriptionActive {
        /// The consumer's ARN.
        consumer: ConsumerArn,
        /// The shard.
        shard: ShardId,
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
        /// How long ago the other subscription started.
        age_ms: u64,
        /// How long after its start a subscription may be taken over.
        takeover_ms: u64,
    },
    /// An open subscription ends because a newer SubscribeToShard call took it over.
    #[error("subscription of consumer {consumer} to shard {shard} of stream {stream} taken over (account {account})")]
    SubscriptionTakenOver {
        /// The consumer's ARN.
        consumer: ConsumerArn,
        /// The shard.
        shard: ShardId,
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
    },
}

/// The rules answered with `ResourceNotFoundException` besides a missing stream, shard or
/// consumer.
#[derive(Debug, thiserror::Error)]
pub enum ResourceNotFound {
    /// ListShards: the stream a NextToken was issued for no longer exists.
    #[error("the stream of a ListShards NextToken is gone (account {account})")]
    NextTokenStream {
        /// The account id.
        account: String,
    },
    /// TagResource, UntagResource, ListTagsForResource and the resource-policy calls: the
    /// ARN names no stream or consumer of this account.
    #[error("resource {arn} not found (account {account})")]
    Resource {
        /// The ARN as given.
        arn: String,
        /// The account id.
        account: String,
    },
    /// DeleteResourcePolicy on a resource without a policy.
    #[error("no resource policy on {arn}")]
    ResourcePolicy {
        /// The resource ARN as given.
        arn: String,
    },
}

/// Result alias for engine operations.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;
