//! What the engine reports. Variants carry the facts (stream, shard, account, times);
//! AWS's message texts for them are written where the wire is, in the server's one
//! exhaustive mapping (`rheo-server`'s `errors.rs`). `Display` here is for logs.
//!
//! The message-carrying variants (`InvalidArgument`, `Validation`, `LimitExceeded`,
//! `ResourceInUse`, `ResourceNotFound`) still hold texts the engine formats; they are
//! the ones left to turn into facts.

use rheo_storage::StorageError;

use crate::ids::{ConsumerArn, ShardId};
use crate::status::{ConsumerStatus, StreamStatus};

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
    #[error("{0}")]
    InvalidArgument(String),
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
    /// The storage layer failed; nothing of the request was acknowledged.
    #[error(transparent)]
    Storage(#[from] StorageError),
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
    /// CreateStream with more shards than a stream may have.
    #[error("a stream has at most {max} shards")]
    StreamShards {
        /// Shards allowed per stream.
        max: u32,
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
