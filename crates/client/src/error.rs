//! What a call can fail with, and which failures are worth retrying.

use std::time::Duration;

/// Why a call, or the producer or consumer built on calls, failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The service answered with an error (`__type` and `message` of its body).
    #[error("{service} {operation} failed: {error_type}: {message}")]
    Api {
        /// `Kinesis`, `Firehose` or `DynamoDB`.
        service: &'static str,
        /// The operation's name.
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// The error type without its namespace (`ResourceNotFoundException`).
        error_type: String,
        /// The service's message.
        message: String,
    },
    /// The request did not get an answer: connection refused or reset, TLS, HTTP.
    #[error("{service} {operation}: {detail}")]
    Transport {
        /// `Kinesis`, `Firehose` or `DynamoDB`.
        service: &'static str,
        /// The operation's name.
        operation: &'static str,
        /// What went wrong.
        detail: String,
    },
    /// No answer within the timeout.
    #[error("{service} {operation} got no answer within {after:?}")]
    Timeout {
        /// `Kinesis`, `Firehose` or `DynamoDB`.
        service: &'static str,
        /// The operation's name.
        operation: &'static str,
        /// The timeout.
        after: Duration,
    },
    /// An answer that does not decode as the operation's output.
    #[error("{service} {operation} answered something that does not decode: {detail}")]
    Decode {
        /// `Kinesis`, `Firehose` or `DynamoDB`.
        service: &'static str,
        /// The operation's name.
        operation: &'static str,
        /// What was wrong with it.
        detail: String,
    },
    /// The configuration cannot work (a bad endpoint URL, a missing region).
    #[error("configuration: {0}")]
    Config(String),
    /// No credentials were found, or the credentials file does not parse.
    #[error("credentials: {0}")]
    Credentials(String),
}

/// Error types AWS answers when a caller goes too fast; worth retrying after a pause.
const THROTTLING_ERRORS: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "LimitExceededException",
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottledException",
    "KMSThrottlingException",
];

/// Error types that mean "the service had a problem; the same call may work now".
const TRANSIENT_ERRORS: &[&str] = &[
    "InternalFailure",
    "InternalFailureException",
    "InternalServerError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
];

impl ClientError {
    /// The service's error type, for API errors.
    pub fn error_type(&self) -> Option<&str> {
        match self {
            ClientError::Api { error_type, .. } => Some(error_type),
            _ => None,
        }
    }

    /// True when the service asked the caller to slow down.
    pub fn is_throttling(&self) -> bool {
        self.error_type().is_some_and(|t| THROTTLING_ERRORS.contains(&t))
    }

    /// True when the same call may succeed if made again: throttling, 5xx answers, lost
    /// connections and timeouts. Validation and not-found errors are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Api { status, error_type, .. } => {
                *status >= 500 || self.is_throttling() || TRANSIENT_ERRORS.contains(&error_type.as_str())
            }
            ClientError::Transport { .. } | ClientError::Timeout { .. } => true,
            ClientError::Decode { .. } | ClientError::Config(_) | ClientError::Credentials(_) => false,
        }
    }
}

/// Results of this crate.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, error_type: &str) -> ClientError {
        ClientError::Api {
            service: "Kinesis",
            operation: "PutRecords",
            status,
            error_type: error_type.into(),
            message: String::new(),
        }
    }

    #[test]
    fn throttling_and_server_errors_are_retried_validation_is_not() {
        assert!(api(400, "ProvisionedThroughputExceededException").is_throttling());
        assert!(api(400, "LimitExceededException").is_retryable());
        assert!(api(500, "InternalFailure").is_retryable());
        assert!(api(503, "ServiceUnavailable").is_retryable());
        assert!(!api(400, "ValidationException").is_retryable());
        assert!(!api(400, "ResourceNotFoundException").is_retryable());
        assert!(
            ClientError::Timeout { service: "Kinesis", operation: "X", after: Duration::from_secs(1) }.is_retryable()
        );
        assert!(!ClientError::Config("x".into()).is_retryable());
    }
}
