//! What the consumer can fail with.

use crate::error::ClientError;

/// Why a worker or a checkpoint failed.
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    /// A call to Kinesis or DynamoDB failed (after the retries worth making).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The lease of the shard is no longer this worker's (another worker took it, or the
    /// worker is shutting down): the KCL's `ShutdownException`. The processor should stop
    /// checkpointing; whoever holds the lease now goes on from the last checkpoint.
    #[error("the lease of {shard_id} is no longer held by this worker")]
    LeaseLost {
        /// The shard.
        shard_id: String,
    },
    /// A checkpoint that cannot be right: before the last one, or beyond what was
    /// delivered, or a sentinel a processor may not write.
    #[error("invalid checkpoint for {shard_id}: {detail}")]
    InvalidCheckpoint {
        /// The shard.
        shard_id: String,
        /// What is wrong with it.
        detail: String,
    },
    /// A lease table item that is not a lease in the KCL's schema.
    #[error("lease table {table}: {detail}")]
    LeaseTable {
        /// The table.
        table: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The configuration cannot work.
    #[error("consumer configuration: {0}")]
    Config(String),
}
