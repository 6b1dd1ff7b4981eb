//! What the engine reports. Each variant's `Display` is the message AWS sends for it; the
//! server maps variants to AWS error types in one exhaustive match.

use rheo_storage::StorageError;

use crate::model::StreamStatus;

/// Every failure of an engine operation. Deliberately exhaustive: the server maps each
/// variant to an AWS error type, and a new variant must not compile until it is mapped.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The stream does not exist (or is being created or deleted, for data operations).
    #[error("Stream {stream} under account {account} not found.")]
    StreamNotFound {
        /// The stream name as given.
        stream: String,
        /// The account id.
        account: String,
    },
    /// CreateStream with a name in use.
    #[error("Stream {stream} under account {account} already exists.")]
    StreamExists {
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
    },
    /// The operation needs an ACTIVE stream.
    #[error("Stream {stream} under account {account} not ACTIVE, instead in state {status}")]
    StreamNotActive {
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
        /// Its current state.
        status: StreamStatus,
    },
    /// A data-plane reference to a shard that does not exist.
    #[error("Shard {shard} in stream {stream} under account {account} does not exist")]
    ShardNotFound {
        /// The normalised shard id.
        shard: String,
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
    },
    /// A control-plane reference to a shard that does not exist (or an unparseable id).
    #[error("Could not find shard {shard} in stream {stream} under account {account}.")]
    ShardUnknown {
        /// The shard id as given.
        shard: String,
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
    },
    /// The shard iterator is not one this server issued, or was altered.
    #[error("Invalid ShardIterator.")]
    InvalidShardIterator,
    /// The shard iterator is older than [`crate::limits::ITERATOR_LIFETIME_MS`].
    #[error(
        "Iterator expired. The iterator was created at time {} while right now it is {} which is further in the future than the tolerated delay of {} milliseconds.",
        crate::ids::java_utc_date(*issued_ms),
        crate::ids::java_utc_date(*now_ms),
        crate::limits::ITERATOR_LIFETIME_MS
    )]
    ExpiredIterator {
        /// When it was issued, epoch ms.
        issued_ms: u64,
        /// Now, epoch ms.
        now_ms: u64,
    },
    /// A pagination token older than [`crate::limits::NEXT_TOKEN_LIFETIME_MS`].
    #[error("The timestamp of the NextToken has expired. Please request a new NextToken.")]
    ExpiredNextToken,
    /// The account's shard quota would be exceeded.
    #[error(
        "This request would exceed the shard limit for the account {account} in {region}. Current shard count for the account: {current}. Limit: {limit}. Number of additional shards that would have resulted from this request: {additional}. Refer to the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits."
    )]
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
    #[error("Rate exceeded for shard {shard} in stream {stream} under account {account}.")]
    ThroughputExceeded {
        /// The shard id.
        shard: String,
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
    },
    /// The consumer does not exist.
    #[error("Consumer {consumer} under stream {stream} under account {account} not found.")]
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
    /// A request-validation failure in AWS's `N validation errors detected: …` form, for rules
    /// the wire model cannot express (`ValidationException`).
    #[error("{0}")]
    Validation(String),
    /// A quota other than the shard quota (`LimitExceededException`).
    #[error("{0}")]
    LimitExceeded(String),
    /// The resource is in a state that forbids the operation (`ResourceInUseException`).
    #[error("{0}")]
    ResourceInUse(String),
    /// A resource other than a stream, shard or consumer is missing (`ResourceNotFoundException`).
    #[error("{0}")]
    ResourceNotFound(String),
    /// The operation is not available in this server yet.
    #[error("{operation} is not supported by this server yet.")]
    Unsupported {
        /// The operation's name.
        operation: &'static str,
    },
    /// Records on disk failed their checksum. Answered as `InternalFailure` with this
    /// message (unlike other internal failures), so the reader learns which range is lost
    /// to it and how to go on past it.
    #[error(
        "Records from sequence number {first} to {last} of shard {shard} in stream {stream} under account \
         {account} are damaged on disk and cannot be read until an operator cuts them (rheo serve \
         --recover-truncate). Records after them can be read with an AFTER_SEQUENCE_NUMBER iterator at {last}."
    )]
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

/// Result alias for engine operations.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;
