//! How a put can fail.

use std::sync::Arc;
use std::time::Duration;

use crate::error::ClientError;

/// Why a user record was not acknowledged, or why the producer could not start.
/// Cloned for every waiter of one failed shard map load, hence the `Arc`s.
#[derive(Clone, Debug, thiserror::Error)]
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
    /// The Kinesis client could not be built.
    #[error("building the Kinesis client")]
    Client(#[source] Arc<ClientError>),
    /// The stream's shard map could not be read (after retries, if the error was
    /// retryable): the stream is missing, or the call is refused.
    #[error("reading the shard map of stream {stream}")]
    ShardMap {
        /// The stream.
        stream: String,
        /// The last error of `ListShards`.
        #[source]
        source: Arc<ClientError>,
    },
}

impl ProducerError {
    /// The client error behind it, to ask `is_retryable()` or `error_type()`.
    pub fn client_error(&self) -> Option<&ClientError> {
        match self {
            ProducerError::Client(source) | ProducerError::ShardMap { source, .. } => Some(source),
            _ => None,
        }
    }
}
