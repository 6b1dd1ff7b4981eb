//! How a put can fail.

use std::time::Duration;

/// Why a user record was not acknowledged, or why the producer could not start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProducerError {
    /// The record breaks one of Kinesis's rules (partition key length, data size, explicit
    /// hash key); it was never sent.
    #[error("invalid record: {0}")]
    InvalidRecord(String),
    /// The producer's configuration cannot work.
    #[error("producer configuration: {0}")]
    Config(String),
    /// Kinesis refused the record with a record-level error that is not retried, or the
    /// whole call failed with an error that is not retried.
    #[error("record failed after {attempts} attempt(s): {error_code}: {message}")]
    Failed {
        /// The error code (`ErrorCode` of the record's result, or the call's error type).
        error_code: String,
        /// Its message.
        message: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The record was not acknowledged within the record TTL.
    #[error("record not acknowledged within its TTL of {ttl:?} after {attempts} attempt(s); last error: {last_error}")]
    Expired {
        /// The configured TTL.
        ttl: Duration,
        /// Attempts made.
        attempts: u32,
        /// The last failure seen (`none` if it was never sent).
        last_error: String,
    },
    /// The producer is shut down (or its task ended) before the record was acknowledged.
    #[error("the producer is shut down")]
    Shutdown,
    /// The producer could not be built (the shard map could not be read).
    #[error("producer: {0}")]
    Client(String),
}
