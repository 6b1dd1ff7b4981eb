//! Channel errors: facts, never AWS texts. The server writes AWS's message for each
//! variant once (`rheo-server`'s `errors` module).

use rheo_engine::EngineError;
use rheo_storage::StorageError;

use super::model::RecordFormat;
use super::template::TemplateError;

/// Result of a channel operation.
pub type ChannelResult<T> = std::result::Result<T, ChannelError>;

/// Everything a channel operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// No channel has this ARN (ResourceNotFoundException).
    #[error("channel {arn} not found in account {account}")]
    NotFound { arn: String, account: String },
    /// A channel of this name exists (ResourceInUseException).
    #[error("channel {name} already exists in account {account}")]
    Exists { name: String, account: String },
    /// The channel is not ACTIVE (ResourceInUseException).
    #[error("channel {name} is {status}, not ACTIVE")]
    NotActive { name: String, status: &'static str },
    /// The source stream is provisioned; channels read on-demand streams only
    /// (ValidationException, as for other operations not supported in a capacity mode).
    #[error("stream {stream} is not in on-demand mode")]
    StreamNotOnDemand { stream: String, account: String },
    /// The stream already has its one S3 channel (LimitExceededException).
    #[error("stream {stream} already has channel {channel}")]
    StreamHasChannel { stream: String, account: String, channel: String },
    /// The account's channel quota is used up (LimitExceededException).
    #[error("account {account} has {limit} channels")]
    AccountLimit { account: String, limit: u32 },
    /// A parameter breaks one of AWS's rules (InvalidArgumentException).
    #[error("{0}")]
    Invalid(#[from] InvalidChannel),
    /// An error whose rule and text are the Kinesis engine's (a stream not found, tag
    /// rules, resource policies).
    #[error(transparent)]
    Engine(Box<EngineError>),
    /// The channels' log refused the change.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// An invariant broke; the detail goes to the server log.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The rules behind InvalidArgumentException.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidChannel {
    #[error("neither S3DestinationConfiguration nor S3TablesDestinationConfiguration")]
    NoDestination,
    #[error("both S3DestinationConfiguration and S3TablesDestinationConfiguration")]
    BothDestinations,
    /// S3 Tables (Iceberg) destinations are not implemented by Rheo yet.
    #[error("S3 Tables destinations are not supported")]
    S3TablesNotSupported,
    /// A channel reads exactly one stream (delivery quotas: "Streams per delivery 1").
    #[error("{given} streams given; a channel reads exactly one")]
    StreamCount { given: usize },
    /// `GSR_JSON` records are for S3 Tables destinations (developer guide, input formats).
    #[error("record format {format:?} with an S3 destination")]
    RecordFormat { format: RecordFormat },
    #[error("GSRSchemaARN with an S3 destination")]
    SchemaWithS3,
    #[error("DataFreshnessInSeconds {given} outside {min}..={max}")]
    Freshness { given: i64, min: u32, max: u32 },
    #[error("OutputKeyTemplate {template:?}: {rule}")]
    Template { template: String, rule: TemplateError },
    /// An S3Tables update for an S3 channel.
    #[error("S3TablesDestinationConfiguration update for an S3 channel")]
    WrongDestinationUpdate,
    #[error("no change given")]
    NothingToUpdate,
    #[error("NextToken does not come from ListChannels")]
    NextToken,
    /// A bucket name that no store can hold (S3: it begins and ends with a letter or digit).
    #[error("bucket name {bucket}")]
    BucketName { bucket: String },
    /// An `ErrorOutputPrefix` whose keys no store can hold (`..`, `.` or empty segments);
    /// `reason` is Firehose's text for the same rule.
    #[error("{reason}")]
    ErrorOutputPrefix { reason: String },
}

impl From<EngineError> for ChannelError {
    fn from(error: EngineError) -> Self {
        ChannelError::Engine(Box::new(error))
    }
}
