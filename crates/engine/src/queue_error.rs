//! The rules queue operations answer with an error of the whole request. Facts only;
//! the server writes AWS's texts.

/// A queue operation's failure; each variant is one rule.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The ARN names no queue of this account (or one already deleted).
    #[error("queue {queue} not found (account {account})")]
    NotFound {
        /// The queue ARN as given.
        queue: String,
        /// The account id.
        account: String,
    },
    /// CreateQueue with a name a queue of the account has.
    #[error("queue {queue} already exists (account {account})")]
    Exists {
        /// The name.
        queue: String,
        /// The account id.
        account: String,
    },
    /// CreateQueue with other than one stream configuration (AWS: exactly one).
    #[error("a queue reads exactly one stream, {count} given")]
    StreamCount {
        /// Entries given.
        count: usize,
    },
    /// CreateQueue on a stream not in on-demand mode.
    #[error("stream {stream} is not on-demand; queues need an on-demand stream (account {account})")]
    StreamNotOnDemand {
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
    },
    /// AT_TIMESTAMP without a timestamp.
    #[error("StartingPosition AT_TIMESTAMP needs a Timestamp")]
    TimestampMissing,
    /// A timestamp with TRIM_HORIZON or LATEST.
    #[error("StartingPosition Timestamp is only for AT_TIMESTAMP")]
    TimestampNotAllowed,
    /// DeadLetterConfiguration BUILT_IN without MaxReceiveCount.
    #[error("DeadLetterConfiguration BUILT_IN needs MaxReceiveCount")]
    MaxReceiveCountMissing,
    /// More queues CREATING or DELETING in the account than AWS allows at once.
    #[error("{limit} queues are already being created or deleted (account {account})")]
    TooManyChanging {
        /// The account id.
        account: String,
        /// The quota.
        limit: usize,
    },
    /// UpdateQueue or DeleteQueue on a queue not ACTIVE (DeleteQueue: already DELETING).
    #[error("queue {queue} is {status}, not ACTIVE (account {account})")]
    NotActive {
        /// The queue name.
        queue: String,
        /// The account id.
        account: String,
        /// Its state (AWS's spelling).
        status: &'static str,
    },
    /// DeleteStream, or UpdateStreamMode to PROVISIONED, of a stream that has queues.
    #[error("stream {stream} has {count} queues (account {account})")]
    StreamHasQueues {
        /// The stream name.
        stream: String,
        /// The account id.
        account: String,
        /// How many.
        count: usize,
    },
}
