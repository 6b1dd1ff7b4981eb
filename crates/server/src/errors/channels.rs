//! The AWS error types and texts of the channel operations. AWS has published no
//! recorded answers for these operations yet, so the texts follow the Kinesis ones
//! ("... under account A not found.") and say what was wrong and what would be right.

use rheo_firehose::channel::{ChannelError, InvalidChannel};
use rheo_protocol::{ErrorType, WireError};
use rheo_storage::StorageError;

use super::wire_error;

/// The one mapping from channel errors to AWS error types and texts.
pub fn channel_wire_error(error: &ChannelError) -> WireError {
    let (error_type, message) = match error {
        ChannelError::NotFound { arn, account } => {
            (ErrorType::ResourceNotFound, format!("Channel {arn} under account {account} not found."))
        }
        ChannelError::Exists { name, account } => {
            (ErrorType::ResourceInUse, format!("Channel {name} under account {account} already exists."))
        }
        ChannelError::NotActive { name, status } => {
            (ErrorType::ResourceInUse, format!("Channel {name} is not ACTIVE, instead in state {status}."))
        }
        // A capacity mode that does not support the operation is a ValidationException
        // (reference §1.6); CreateChannel "is only supported for data streams with the
        // on-demand capacity mode" (API reference).
        ChannelError::StreamNotOnDemand { stream, account } => (
            ErrorType::Validation,
            format!(
                "Channels can only read streams in ON_DEMAND capacity mode; stream {stream} under account {account} is PROVISIONED."
            ),
        ),
        ChannelError::StreamHasChannel { stream, account, channel } => (
            ErrorType::LimitExceeded,
            format!(
                "Stream {stream} under account {account} already has a channel delivering to a general purpose Amazon S3 bucket ({channel}); a stream can have one."
            ),
        ),
        ChannelError::AccountLimit { account, limit } => (
            ErrorType::LimitExceeded,
            format!("Account {account} already has {limit} channels, the most it can have."),
        ),
        ChannelError::Invalid(rule) => (ErrorType::InvalidArgument, invalid_message(rule)),
        ChannelError::Engine(error) => return wire_error(error),
        ChannelError::Storage(StorageError::Closed) => return ErrorType::ServiceUnavailable.without_message(),
        ChannelError::Storage(_) | ChannelError::Internal(_) => return ErrorType::InternalFailure.without_message(),
    };
    error_type.with_message(message)
}

fn invalid_message(rule: &InvalidChannel) -> String {
    match rule {
        InvalidChannel::NoDestination | InvalidChannel::BothDestinations => {
            "Exactly one of S3DestinationConfiguration and S3TablesDestinationConfiguration must be specified.".into()
        }
        InvalidChannel::S3TablesNotSupported => "S3TablesDestinationConfiguration (Amazon S3 Tables, Apache Iceberg) is not supported by Rheo yet; use S3DestinationConfiguration.".into(),
        InvalidChannel::StreamCount { given } => {
            format!("StreamConfigurationList must contain exactly one stream; {given} were given.")
        }
        InvalidChannel::RecordFormat { .. } => "RecordFormatType GSR_JSON is supported only for S3 Tables destinations; use JSON, STRING or BYTE_ARRAY with S3DestinationConfiguration.".into(),
        InvalidChannel::SchemaWithS3 => "GSRSchemaARN is supported only for S3 Tables destinations.".into(),
        InvalidChannel::Freshness { given, min, max } => {
            format!("DataFreshnessInSeconds must be between {min} and {max} seconds; {given} was given.")
        }
        InvalidChannel::Template { template, rule } => format!("Invalid OutputKeyTemplate {template}: {rule}."),
        InvalidChannel::WrongDestinationUpdate => {
            "S3TablesDestinationConfiguration cannot be updated on a channel that delivers to Amazon S3.".into()
        }
        InvalidChannel::NothingToUpdate => {
            "At least one of S3DestinationConfiguration and LoggingConfiguration must be specified.".into()
        }
        InvalidChannel::NextToken => "Invalid NextToken.".into(),
        // Firehose's text for the same rule (`rheo-firehose`'s `config`).
        InvalidChannel::BucketName { bucket } => format!(
            "Bucket name {bucket} is not valid: a bucket name must begin and end with a letter or a number."
        ),
        InvalidChannel::ErrorOutputPrefix { reason } => format!("{reason}."),
    }
}

#[cfg(test)]
mod tests {
    use rheo_engine::EngineError;
    use rheo_firehose::channel::template::TemplateError;

    use super::*;

    fn answer(error: ChannelError) -> (String, u16, Option<String>) {
        let wire = channel_wire_error(&error);
        (wire.error_type, wire.http_status, wire.message)
    }

    #[test]
    fn each_channel_fact_has_its_aws_type_and_text() {
        let account = "123456789012".to_owned();
        let arn = "arn:aws:kinesis:us-east-1:123456789012:channel/c".to_owned();
        let cases = [
            (
                ChannelError::NotFound { arn: arn.clone(), account: account.clone() },
                "ResourceNotFoundException",
                format!("Channel {arn} under account 123456789012 not found."),
            ),
            (
                ChannelError::Exists { name: "c".into(), account: account.clone() },
                "ResourceInUseException",
                "Channel c under account 123456789012 already exists.".into(),
            ),
            (
                ChannelError::NotActive { name: "c".into(), status: "UPDATING" },
                "ResourceInUseException",
                "Channel c is not ACTIVE, instead in state UPDATING.".into(),
            ),
            (
                ChannelError::StreamNotOnDemand { stream: "s".into(), account: account.clone() },
                "ValidationException",
                "Channels can only read streams in ON_DEMAND capacity mode; stream s under account 123456789012 is PROVISIONED.".into(),
            ),
            (
                InvalidChannel::S3TablesNotSupported.into(),
                "InvalidArgumentException",
                "S3TablesDestinationConfiguration (Amazon S3 Tables, Apache Iceberg) is not supported by Rheo yet; use S3DestinationConfiguration.".into(),
            ),
            (
                InvalidChannel::Freshness { given: 60, min: 300, max: 900 }.into(),
                "InvalidArgumentException",
                "DataFreshnessInSeconds must be between 300 and 900 seconds; 60 was given.".into(),
            ),
            (
                InvalidChannel::Template { template: "a/".into(), rule: TemplateError::TrailingSlash }.into(),
                "InvalidArgumentException",
                "Invalid OutputKeyTemplate a/: it must not end with '/'.".into(),
            ),
            (
                EngineError::StreamNotFound { stream: "s".into(), account: account.clone() }.into(),
                "ResourceNotFoundException",
                "Stream s under account 123456789012 not found.".into(),
            ),
        ];
        for (error, error_type, message) in cases {
            assert_eq!(answer(error), (error_type.to_owned(), 400, Some(message)));
        }
        assert_eq!(answer(ChannelError::Internal("bug".into())), ("InternalFailure".to_owned(), 500, None));
    }
}
