//! Analytics errors: facts, never AWS texts. The server writes each AWS error type and
//! message once, from these variants (`rheo-server`'s `errors/analytics.rs`).

use rheo_storage::StorageError;

/// Result of an Analytics operation.
pub type Result<T, E = AnalyticsError> = std::result::Result<T, E>;

/// Why application code was refused (CodeValidationException).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?} {construct} at line {line}, column {column}")]
pub struct CodeError {
    pub kind: CodeErrorKind,
    /// The construct or name concerned, as written in the code.
    pub construct: String,
    /// 1-based; 0 when the error concerns the code as a whole.
    pub line: u32,
    pub column: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeErrorKind {
    /// The parser's own message.
    Syntax(String),
    /// A construct of the dialect Rheo does not run (yet).
    Unsupported,
    UnknownStream,
    UnknownColumn,
    /// A type mismatch, with what was expected.
    Type(String),
    /// A streaming GROUP BY without a key that moves with time.
    NoProgressKey,
    AggregateWithoutGroupBy,
    DuplicateName,
    /// An INSERT whose column count or types do not match its SELECT.
    InsertMismatch,
}

/// Everything an Analytics operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    /// ResourceNotFoundException: no such application.
    #[error("application {application} not found")]
    NotFound { application: String },
    /// ResourceNotFoundException: no such input, output, reference source or logging option.
    #[error("{what} {id} not found in application {application}")]
    ElementNotFound { application: String, what: &'static str, id: String },
    /// ResourceInUseException: an application of that name exists.
    #[error("application {application} already exists")]
    Exists { application: String },
    /// ConcurrentModificationException: `CurrentApplicationVersionId` is stale.
    #[error("application {application} is at version {current}, not {given}")]
    StaleVersion { application: String, given: u64, current: u64 },
    /// ResourceInUseException: the status does not allow the operation.
    #[error("application {application} is {status}; {operation} is not allowed")]
    InUse { application: String, status: &'static str, operation: &'static str },
    /// CodeValidationException.
    #[error("code: {0}")]
    CodeValidation(CodeError),
    /// CodeValidationException: an output names a stream the code does not create.
    #[error("output {output} is not a stream of the code")]
    OutputNotCreated { output: String },
    /// InvalidArgumentException, with Rheo's text.
    #[error("{0}")]
    InvalidArgument(String),
    /// LimitExceededException, with Rheo's text.
    #[error("{0}")]
    LimitExceeded(String),
    /// The role an input or output acts as was denied (AccessDeniedException's text).
    #[error("{0}")]
    AccessDenied(String),
    /// TooManyTagsException.
    #[error("{count} tags, at most {max}")]
    TooManyTags { count: usize, max: usize },
    /// InvalidApplicationConfigurationException, with Rheo's text.
    #[error("{0}")]
    InvalidConfiguration(String),
    /// ConcurrentModificationException: DeleteApplication's CreateTimestamp is not the
    /// application's.
    #[error("CreateTimestamp does not match application {application}")]
    CreateTimestampMismatch { application: String },
    /// InvalidArgumentException: Rheo runs no Lambda functions.
    #[error("{member}: Lambda is not supported")]
    LambdaUnsupported { member: &'static str },
    /// UnableToDetectSchemaException, with the records sampled.
    #[error("unable to detect a schema")]
    UnableToDetectSchema { raw: Vec<String>, processed: Vec<String> },
    /// The log refused the write (full disk, stopped writer).
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// An invariant broke; the detail goes to the server log, not to the client.
    #[error("internal error: {0}")]
    Internal(String),
}
