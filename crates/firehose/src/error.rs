//! Firehose errors. The server maps each variant to an AWS error type in one place
//! (`rheo-server`'s `errors` module).

use rheo_storage::StorageError;

/// Result of a Firehose operation.
pub type Result<T, E = FirehoseError> = std::result::Result<T, E>;

/// Everything a Firehose operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum FirehoseError {
    /// The delivery stream does not exist.
    #[error("Firehose {name} under account {account} not found.")]
    NotFound { name: String, account: String },
    /// A delivery stream of that name already exists.
    #[error("Firehose {name} under accountId {account} already exists")]
    Exists { name: String, account: String },
    /// A parameter is wrong or inconsistent (InvalidArgumentException).
    #[error("{0}")]
    InvalidArgument(String),
    /// A parameter breaks a constraint of the service model (ValidationException): a
    /// merged destination configuration, or a member Rheo's destination needs. Requests
    /// are validated by `rheo_protocol::firehose` before they reach the service.
    #[error("{0}")]
    Validation(String),
    /// The stream is not in a state that allows the operation.
    #[error("{0}")]
    ResourceInUse(String),
    /// A quota is exhausted.
    #[error("{0}")]
    LimitExceeded(String),
    /// `CurrentDeliveryStreamVersionId` is stale.
    #[error("Another modification has already happened. Fetch VersionId again and use it to update the destination.")]
    ConcurrentModification,
    /// The server-side encryption key is unknown (InvalidKMSResourceException), or the
    /// key store failed.
    #[error(transparent)]
    Kms(#[from] rheo_keys::KeyError),
    /// The log refused the write (full disk, stopped writer).
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// An invariant broke; the detail goes to the server log, not to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl FirehoseError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        FirehoseError::InvalidArgument(message.into())
    }
}
