//! The one place engine errors become AWS error responses.

use rheo_engine::EngineError;
use rheo_protocol::{ErrorType, WireError};
use rheo_storage::StorageError;

/// The AWS error response for an engine error. The match is exhaustive over
/// [`EngineError`], so a new variant does not compile until it is mapped here.
pub fn wire_error(error: &EngineError) -> WireError {
    let error_type = match error {
        EngineError::StreamNotFound { .. }
        | EngineError::ShardNotFound { .. }
        | EngineError::ShardUnknown { .. }
        | EngineError::ConsumerNotFound { .. }
        | EngineError::ResourceNotFound(_) => ErrorType::ResourceNotFound,
        EngineError::StreamExists { .. } | EngineError::StreamNotActive { .. } | EngineError::ResourceInUse(_) => {
            ErrorType::ResourceInUse
        }
        EngineError::InvalidShardIterator | EngineError::InvalidArgument(_) | EngineError::Unsupported { .. } => {
            ErrorType::InvalidArgument
        }
        EngineError::ExpiredIterator { .. } => ErrorType::ExpiredIterator,
        EngineError::ExpiredNextToken => ErrorType::ExpiredNextToken,
        EngineError::ShardLimit { .. } | EngineError::LimitExceeded(_) => ErrorType::LimitExceeded,
        EngineError::ThroughputExceeded { .. } => ErrorType::ProvisionedThroughputExceeded,
        EngineError::Validation(_) => ErrorType::Validation,
        // The one server fault with a message: the reader must learn which range is lost.
        EngineError::DamagedRecords { .. } => ErrorType::InternalFailure,
        // AWS sends unmodelled server faults without a message; the detail goes to the log.
        EngineError::Internal(_) => return ErrorType::InternalFailure.without_message(),
        EngineError::Storage(storage) => {
            return match storage {
                StorageError::Closed => ErrorType::ServiceUnavailable.without_message(),
                _ => ErrorType::InternalFailure.without_message(),
            }
        }
    };
    error_type.with_message(error.to_string())
}

/// The AWS error response for a Firehose error; exhaustive over [`FirehoseError`].
pub fn firehose_wire_error(error: &rheo_firehose::FirehoseError) -> WireError {
    use rheo_firehose::FirehoseError as E;
    let (error_type, status) = match error {
        E::NotFound { .. } => ("ResourceNotFoundException", 400),
        E::Exists { .. } | E::ResourceInUse(_) => ("ResourceInUseException", 400),
        E::InvalidArgument(_) => ("InvalidArgumentException", 400),
        E::Validation(_) => ("ValidationException", 400),
        E::Serialization(_) => ("SerializationException", 400),
        E::LimitExceeded(_) => ("LimitExceededException", 400),
        E::ConcurrentModification => ("ConcurrentModificationException", 400),
        E::Storage(StorageError::DiskFull { .. }) | E::Storage(StorageError::Closed) => {
            ("ServiceUnavailableException", 503)
        }
        // Unmodelled faults carry no message; the detail goes to the server log.
        E::Storage(_) | E::Internal(_) => {
            return WireError {
                error_type: "InternalFailure".into(),
                message: None,
                capital_message_key: false,
                http_status: 500,
            }
        }
    };
    WireError {
        error_type: error_type.into(),
        message: Some(error.to_string()),
        capital_message_key: false,
        http_status: status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_aws_types_and_messages() {
        let not_found = wire_error(&EngineError::StreamNotFound { stream: "s".into(), account: "000000000000".into() });
        assert_eq!(not_found.error_type, "ResourceNotFoundException");
        assert_eq!(not_found.message.as_deref(), Some("Stream s under account 000000000000 not found."));
        let storage = wire_error(&EngineError::Storage(StorageError::Closed));
        assert_eq!(storage.http_status, 503);
        assert_eq!(storage.message, None);
        assert_eq!(wire_error(&EngineError::InvalidShardIterator).error_type, "InvalidArgumentException");
        let throttled = wire_error(&EngineError::ThroughputExceeded {
            shard: "shardId-000000000000".into(),
            stream: "s".into(),
            account: "000000000000".into(),
        });
        assert_eq!(throttled.error_type, "ProvisionedThroughputExceededException");
        assert_eq!(
            throttled.message.as_deref(),
            Some("Rate exceeded for shard shardId-000000000000 in stream s under account 000000000000.")
        );
        let internal = wire_error(&EngineError::Internal("the record could not be stored".into()));
        assert_eq!(internal.error_type, "InternalFailure");
        assert_eq!(internal.message, None);
    }
}
