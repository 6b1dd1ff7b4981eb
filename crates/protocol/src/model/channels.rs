//! Channels: the wire shapes of `CreateChannel`, `DescribeChannel`, `ListChannels`,
//! `UpdateChannel` and `DeleteChannel`, which deliver a stream's records to S3 or to
//! S3 Tables.
//!
//! Transcribed from botocore 1.44.8 (`kinesis/2013-12-02/service-2.json`) with members in
//! model order: no AWS recording of these operations' validation messages exists yet.
//! Structures that can appear inside a list keep their model names (AWS prints them as
//! `com.amazonaws.kinesis.v20131202.<Name>@<hash>`); shapes the model repeats member for
//! member elsewhere are one Rust type, and the model's other names are aliases of it.
//! Patterns are displayed as the model writes them and matched with Java's semantics
//! (`shape::java_regex`).

use super::TagMap;
use crate::shape::scalars::*;
use crate::shape::{enumeration, integer, java_regex, length, string, ModelRegex, Pattern, Shape, UNBOUNDED};
use crate::types::Timestamp;
use crate::wire::{wire_enum, wire_struct};

static CHANNEL_ARN_PATTERN: ModelRegex = ModelRegex::new("arn:aws.*:kinesis:.*:\\d{12}:channel/\\S+", || {
    java_regex("arn:aws{DOT}*:kinesis:{DOT}*:[0-9]{12}:channel/{NONSPACE}+")
});
static ROLE_ARN_PATTERN: ModelRegex =
    ModelRegex::new("arn:aws[-a-z0-9]*:iam::\\d{12}:role/[a-zA-Z_0-9+=,.@\\-_/]+", || {
        java_regex("arn:aws[-a-z0-9]*:iam::[0-9]{12}:role/[a-zA-Z_0-9+=,.@\\-_/]+")
    });
static GSR_SCHEMA_ARN_PATTERN: ModelRegex =
    ModelRegex::new("arn:aws[-a-z0-9]*:glue:[-a-z0-9]+:\\d{12}:schema/[-a-zA-Z0-9_$#.]+/[-a-zA-Z0-9_$#.]+", || {
        java_regex("arn:aws[-a-z0-9]*:glue:[-a-z0-9]+:[0-9]{12}:schema/[-a-zA-Z0-9_$#.]+/[-a-zA-Z0-9_$#.]+")
    });
static BUCKET_ARN_PATTERN: ModelRegex = ModelRegex::new("arn:aws[-a-z0-9]*:s3:::[a-z0-9._-]{3,63}", || {
    java_regex("arn:aws[-a-z0-9]*:s3:::[a-z0-9._-]{3,63}")
});
static ACCOUNT_ID_PATTERN: ModelRegex = ModelRegex::new("\\d{12}", || java_regex("[0-9]{12}"));
static S3_ERROR_OUTPUT_PREFIX_PATTERN: ModelRegex =
    ModelRegex::new("[0-9A-Za-z!\\-_'.*()\\/]+", || java_regex("[0-9A-Za-z!\\-_'.*()/]+"));
static S3_OUTPUT_KEY_TEMPLATE_PATTERN: ModelRegex =
    ModelRegex::new("[0-9A-Za-z!\\-_'.*()\\/=:{}]+", || java_regex("[0-9A-Za-z!\\-_'.*()/=:{}]+"));
static TABLE_BUCKET_ARN_PATTERN: ModelRegex =
    ModelRegex::new("arn:aws[-a-z0-9]*:s3tables:[-a-z0-9]+:\\d{12}:bucket/[a-z0-9_-]{3,63}", || {
        java_regex("arn:aws[-a-z0-9]*:s3tables:[-a-z0-9]+:[0-9]{12}:bucket/[a-z0-9_-]{3,63}")
    });
/// `S3TablesNamespace` and `S3TablesTableName`.
static S3_TABLES_NAME_PATTERN: ModelRegex = ModelRegex::new("[0-9a-z_]+", || java_regex("[0-9a-z_]+"));
static PARTITION_SOURCE_NAME_PATTERN: ModelRegex =
    ModelRegex::new("[a-zA-Z0-9\\.\\_]+", || java_regex("[a-zA-Z0-9._]+"));
static LOG_GROUP_NAME_PATTERN: ModelRegex =
    ModelRegex::new("[\\.\\-_/#A-Za-z0-9]+", || java_regex("[.\\-_/#A-Za-z0-9]+"));
static LOG_STREAM_NAME_PATTERN: ModelRegex = ModelRegex::new("[^:*]*", || java_regex("[^:*]*"));

/// Every pattern of this module, so one test checks that each compiles.
#[cfg(test)]
pub(crate) static CHANNEL_REGEXES: &[&ModelRegex] = &[
    &CHANNEL_ARN_PATTERN,
    &ROLE_ARN_PATTERN,
    &GSR_SCHEMA_ARN_PATTERN,
    &BUCKET_ARN_PATTERN,
    &ACCOUNT_ID_PATTERN,
    &S3_ERROR_OUTPUT_PREFIX_PATTERN,
    &S3_OUTPUT_KEY_TEMPLATE_PATTERN,
    &TABLE_BUCKET_ARN_PATTERN,
    &S3_TABLES_NAME_PATTERN,
    &PARTITION_SOURCE_NAME_PATTERN,
    &LOG_GROUP_NAME_PATTERN,
    &LOG_STREAM_NAME_PATTERN,
];

const CHANNEL_NAME: Shape = string(1, 128, Some(Pattern::NameCharacters));
const CHANNEL_ARN: Shape = string(1, 2048, Some(Pattern::Regex(&CHANNEL_ARN_PATTERN)));
const CHANNEL_ID: Shape = string(1, 64, None);
const CHANNEL_STATUS_REASON: Shape = string(1, 2048, None);
const ROLE_ARN: Shape = string(1, 512, Some(Pattern::Regex(&ROLE_ARN_PATTERN)));
const GSR_SCHEMA_ARN: Shape = string(1, 512, Some(Pattern::Regex(&GSR_SCHEMA_ARN_PATTERN)));
const BUCKET_ARN: Shape = string(1, 2048, Some(Pattern::Regex(&BUCKET_ARN_PATTERN)));
const EXPECTED_BUCKET_OWNER: Shape = string(12, 12, Some(Pattern::Regex(&ACCOUNT_ID_PATTERN)));
const S3_ERROR_OUTPUT_PREFIX: Shape = string(1, 512, Some(Pattern::Regex(&S3_ERROR_OUTPUT_PREFIX_PATTERN)));
const S3_OUTPUT_KEY_TEMPLATE: Shape = string(1, 1024, Some(Pattern::Regex(&S3_OUTPUT_KEY_TEMPLATE_PATTERN)));
const TABLE_BUCKET_ARN: Shape = string(1, 2048, Some(Pattern::Regex(&TABLE_BUCKET_ARN_PATTERN)));
const S3_TABLES_NAMESPACE: Shape = string(1, 255, Some(Pattern::Regex(&S3_TABLES_NAME_PATTERN)));
const S3_TABLES_TABLE_NAME: Shape = string(1, 255, Some(Pattern::Regex(&S3_TABLES_NAME_PATTERN)));
const PARTITION_SOURCE_NAME: Shape = string(1, 255, Some(Pattern::Regex(&PARTITION_SOURCE_NAME_PATTERN)));
const CLOUD_WATCH_LOG_GROUP_NAME: Shape = string(1, 512, Some(Pattern::Regex(&LOG_GROUP_NAME_PATTERN)));
const CLOUD_WATCH_LOG_STREAM_NAME: Shape = string(1, 512, Some(Pattern::Regex(&LOG_STREAM_NAME_PATTERN)));
/// `DataFreshnessInSeconds`: the model gives no range.
const DATA_FRESHNESS_IN_SECONDS: Shape = integer(None, None);
/// `ChannelStreamConfigurationList`, `ChannelStreamDescriptionList`,
/// `ChannelStreamIdentifierList`, `StreamFilterList`, `S3TablesConfigurationList`.
const UP_TO_10000: crate::shape::LengthRange = length(1, 10_000);

wire_enum! {
    /// Lifecycle state of a channel.
    pub enum ChannelStatus {
        Creating = "CREATING",
        Active = "ACTIVE",
        Updating = "UPDATING",
        Deleting = "DELETING",
        Failed = "FAILED",
    }
}

wire_enum! {
    /// The kind of destination a channel delivers to.
    pub enum ChannelDestinationType {
        S3 = "S3",
        S3Tables = "S3_TABLES",
    }
}

wire_enum! {
    /// How a channel reads the data of a stream's records.
    pub enum RecordFormatType {
        GsrJson = "GSR_JSON",
        Json = "JSON",
        String = "STRING",
        ByteArray = "BYTE_ARRAY",
    }
}

wire_enum! {
    /// The S3 storage class of the objects a channel writes.
    pub enum S3StorageClass {
        Standard = "STANDARD",
        IntelligentTiering = "INTELLIGENT_TIERING",
        GlacierIr = "GLACIER_IR",
    }
}

wire_enum! {
    /// The compression of the objects a channel writes to S3.
    pub enum S3CompressionType {
        None = "NONE",
        Gzip = "GZIP",
        Zstd = "ZSTD",
    }
}

wire_enum! {
    /// The compression of the files a channel writes to S3 Tables.
    pub enum S3TablesCompressionType {
        None = "NONE",
        Zstd = "ZSTD",
        Snappy = "SNAPPY",
    }
}

wire_enum! {
    /// How an S3 Tables partition field is derived from its source.
    pub enum PartitionTransform {
        TimeHour = "TIME_HOUR",
    }
}

wire_enum! {
    /// Server-side encryption of a channel.
    pub enum ChannelEncryptionType {
        Kms = "KMS",
    }
}

const CHANNEL_STATUS: Shape = enumeration(ChannelStatus::MESSAGE_ORDER);
const CHANNEL_DESTINATION_TYPE: Shape = enumeration(ChannelDestinationType::MESSAGE_ORDER);
const RECORD_FORMAT_TYPE: Shape = enumeration(RecordFormatType::MESSAGE_ORDER);
const S3_STORAGE_CLASS: Shape = enumeration(S3StorageClass::MESSAGE_ORDER);
const S3_COMPRESSION_TYPE: Shape = enumeration(S3CompressionType::MESSAGE_ORDER);
const S3_TABLES_COMPRESSION_TYPE: Shape = enumeration(S3TablesCompressionType::MESSAGE_ORDER);
const PARTITION_TRANSFORM: Shape = enumeration(PartitionTransform::MESSAGE_ORDER);
const CHANNEL_ENCRYPTION_TYPE: Shape = enumeration(ChannelEncryptionType::MESSAGE_ORDER);

structure_shapes! {
    RECORD_CONFIGURATION / RECORD_CONFIGURATION_LIST (UNBOUNDED) = RecordConfiguration;
    CHANNEL_STREAM_CONFIGURATION / CHANNEL_STREAM_CONFIGURATION_LIST (UP_TO_10000) = ChannelStreamConfiguration;
    CHANNEL_STREAM_DESCRIPTION / CHANNEL_STREAM_DESCRIPTION_LIST (UP_TO_10000) = ChannelStreamDescription;
    CHANNEL_STREAM_IDENTIFIER / CHANNEL_STREAM_IDENTIFIER_LIST (UP_TO_10000) = ChannelStreamIdentifier;
    STREAM_FILTER / STREAM_FILTER_LIST (UP_TO_10000) = StreamFilter;
    DEAD_LETTER_QUEUE_S3_CONFIGURATION / DEAD_LETTER_QUEUE_S3_CONFIGURATION_LIST (UNBOUNDED) = DeadLetterQueueS3Configuration;
    S3_STORAGE_CONFIGURATION / S3_STORAGE_CONFIGURATION_LIST (UNBOUNDED) = S3StorageConfiguration;
    S3_DESTINATION_CONFIGURATION / S3_DESTINATION_CONFIGURATION_LIST (UNBOUNDED) = S3DestinationConfiguration;
    S3_DESTINATION_DESCRIPTION / S3_DESTINATION_DESCRIPTION_LIST (UNBOUNDED) = S3DestinationDescription;
    S3_DESTINATION_UPDATE_INPUT / S3_DESTINATION_UPDATE_INPUT_LIST (UNBOUNDED) = S3DestinationUpdateInput;
    PARTITION_FIELD / PARTITION_FIELD_LIST (length(1, 10)) = PartitionField;
    PARTITION_SPEC / PARTITION_SPEC_LIST (UNBOUNDED) = PartitionSpec;
    S3_TABLES_CONFIGURATION / S3_TABLES_CONFIGURATION_LIST (UP_TO_10000) = S3TablesConfiguration;
    S3_TABLES_DESTINATION_CONFIGURATION / S3_TABLES_DESTINATION_CONFIGURATION_LIST (UNBOUNDED) = S3TablesDestinationConfiguration;
    S3_TABLES_DESTINATION_DESCRIPTION / S3_TABLES_DESTINATION_DESCRIPTION_LIST (UNBOUNDED) = S3TablesDestinationDescription;
    CHANNEL_ENCRYPTION_CONFIGURATION / CHANNEL_ENCRYPTION_CONFIGURATION_LIST (UNBOUNDED) = ChannelEncryptionConfiguration;
    CLOUD_WATCH_LOGS / CLOUD_WATCH_LOGS_LIST (UNBOUNDED) = CloudWatchLogs;
    CHANNEL_LOGGING_CONFIGURATION / CHANNEL_LOGGING_CONFIGURATION_LIST (UNBOUNDED) = ChannelLoggingConfiguration;
    CHANNEL_DESCRIPTION / CHANNEL_DESCRIPTION_LIST (UNBOUNDED) = ChannelDescription;
    CHANNEL_SUMMARY / CHANNEL_SUMMARY_LIST (UNBOUNDED) = ChannelSummary;
}

// ---------------------------------------------------------------------------------------
// Structures
// ---------------------------------------------------------------------------------------

wire_struct! {
    /// How a channel reads one stream's records.
    pub struct RecordConfiguration {
        record_format_type: RecordFormatType => "RecordFormatType", req, RECORD_FORMAT_TYPE;
        gsr_schema_arn: Option<String> => "GSRSchemaARN", opt, GSR_SCHEMA_ARN;
    }
}

wire_struct! {
    /// A stream a channel reads, as `CreateChannel` takes it.
    pub struct ChannelStreamConfiguration {
        stream_arn: String => "StreamARN", req, STREAM_ARN;
        record_configuration: RecordConfiguration => "RecordConfiguration", req, RECORD_CONFIGURATION;
    }
}

wire_struct! {
    /// A stream a channel reads, as `DescribeChannel` answers it.
    pub struct ChannelStreamDescription {
        stream_arn: String => "StreamARN", req, STREAM_ARN;
        stream_creation_timestamp: Timestamp => "StreamCreationTimestamp", req, TIMESTAMP;
        record_configuration: RecordConfiguration => "RecordConfiguration", req, RECORD_CONFIGURATION;
    }
}

wire_struct! {
    /// A stream a channel reads, as `ListChannels` names it.
    pub struct ChannelStreamIdentifier {
        stream_arn: String => "StreamARN", req, STREAM_ARN;
        stream_creation_timestamp: Timestamp => "StreamCreationTimestamp", req, TIMESTAMP;
    }
}

wire_struct! {
    /// A stream whose channels `ListChannels` returns.
    pub struct StreamFilter {
        stream_arn: String => "StreamARN", req, STREAM_ARN;
        stream_creation_timestamp: Option<Timestamp> => "StreamCreationTimestamp", opt, TIMESTAMP;
    }
}

wire_struct! {
    /// Where a channel writes the records it cannot deliver.
    pub struct DeadLetterQueueS3Configuration {
        bucket_arn: String => "BucketARN", req, BUCKET_ARN;
        expected_bucket_owner: String => "ExpectedBucketOwner", req, EXPECTED_BUCKET_OWNER;
        error_output_prefix: Option<String> => "ErrorOutputPrefix", opt, S3_ERROR_OUTPUT_PREFIX;
    }
}

wire_struct! {
    /// The bucket and object settings of an S3 destination.
    pub struct S3StorageConfiguration {
        bucket_arn: String => "BucketARN", req, BUCKET_ARN;
        expected_bucket_owner: String => "ExpectedBucketOwner", req, EXPECTED_BUCKET_OWNER;
        output_key_template: Option<String> => "OutputKeyTemplate", opt, S3_OUTPUT_KEY_TEMPLATE;
        storage_class: Option<S3StorageClass> => "StorageClass", opt, S3_STORAGE_CLASS;
        compression_type: S3CompressionType => "CompressionType", req, S3_COMPRESSION_TYPE;
    }
}

wire_struct! {
    /// An S3 destination, as `CreateChannel` takes it.
    pub struct S3DestinationConfiguration {
        data_freshness_in_seconds: Option<i32> => "DataFreshnessInSeconds", opt, DATA_FRESHNESS_IN_SECONDS;
        dead_letter_queue_s3_configuration: Option<DeadLetterQueueS3Configuration> => "DeadLetterQueueS3Configuration", opt, DEAD_LETTER_QUEUE_S3_CONFIGURATION;
        storage_configuration: S3StorageConfiguration => "StorageConfiguration", req, S3_STORAGE_CONFIGURATION;
    }
}

wire_struct! {
    /// An S3 destination, as `DescribeChannel` answers it.
    pub struct S3DestinationDescription {
        data_freshness_in_seconds: i32 => "DataFreshnessInSeconds", req, DATA_FRESHNESS_IN_SECONDS;
        dead_letter_queue_s3_configuration: DeadLetterQueueS3Configuration => "DeadLetterQueueS3Configuration", req, DEAD_LETTER_QUEUE_S3_CONFIGURATION;
        storage_configuration: S3StorageConfiguration => "StorageConfiguration", req, S3_STORAGE_CONFIGURATION;
    }
}

wire_struct! {
    /// The changes `UpdateChannel` makes to an S3 or an S3 Tables destination
    /// (`S3DestinationUpdateInput` and `S3TablesDestinationUpdateInput`, alike in the model).
    pub struct S3DestinationUpdateInput {
        data_freshness_in_seconds: i32 => "DataFreshnessInSeconds", req, DATA_FRESHNESS_IN_SECONDS;
    }
}

/// The changes `UpdateChannel` makes to an S3 Tables destination.
pub type S3TablesDestinationUpdateInput = S3DestinationUpdateInput;

wire_struct! {
    /// One partition field of an S3 Tables table.
    pub struct PartitionField {
        transform: PartitionTransform => "Transform", req, PARTITION_TRANSFORM;
        source_name: String => "SourceName", req, PARTITION_SOURCE_NAME;
    }
}

wire_struct! {
    /// The partitioning of an S3 Tables table.
    pub struct PartitionSpec {
        partition_fields: Vec<PartitionField> => "PartitionFields", req, PARTITION_FIELD_LIST;
    }
}

wire_struct! {
    /// One S3 Tables table a channel writes.
    pub struct S3TablesConfiguration {
        table_bucket_arn: String => "TableBucketARN", req, TABLE_BUCKET_ARN;
        namespace: String => "Namespace", req, S3_TABLES_NAMESPACE;
        table_name: String => "TableName", req, S3_TABLES_TABLE_NAME;
        compression_type: S3TablesCompressionType => "CompressionType", req, S3_TABLES_COMPRESSION_TYPE;
        partition_spec: Option<PartitionSpec> => "PartitionSpec", opt, PARTITION_SPEC;
    }
}

wire_struct! {
    /// An S3 Tables destination, as `CreateChannel` takes it.
    pub struct S3TablesDestinationConfiguration {
        data_freshness_in_seconds: Option<i32> => "DataFreshnessInSeconds", opt, DATA_FRESHNESS_IN_SECONDS;
        dead_letter_queue_s3_configuration: DeadLetterQueueS3Configuration => "DeadLetterQueueS3Configuration", req, DEAD_LETTER_QUEUE_S3_CONFIGURATION;
        s3_tables_configuration_list: Vec<S3TablesConfiguration> => "S3TablesConfigurationList", req, S3_TABLES_CONFIGURATION_LIST;
    }
}

wire_struct! {
    /// An S3 Tables destination, as `DescribeChannel` answers it.
    pub struct S3TablesDestinationDescription {
        data_freshness_in_seconds: i32 => "DataFreshnessInSeconds", req, DATA_FRESHNESS_IN_SECONDS;
        dead_letter_queue_s3_configuration: DeadLetterQueueS3Configuration => "DeadLetterQueueS3Configuration", req, DEAD_LETTER_QUEUE_S3_CONFIGURATION;
        s3_tables_configuration_list: Vec<S3TablesConfiguration> => "S3TablesConfigurationList", req, S3_TABLES_CONFIGURATION_LIST;
    }
}

wire_struct! {
    /// The server-side encryption of a channel.
    pub struct ChannelEncryptionConfiguration {
        encryption_type: ChannelEncryptionType => "EncryptionType", req, CHANNEL_ENCRYPTION_TYPE;
        key_id: String => "KeyId", req, KEY_ID;
    }
}

wire_struct! {
    /// A channel's CloudWatch Logs settings, as channels describe them and `UpdateChannel`
    /// changes them (`CloudWatchLogs` and `CloudWatchLogsUpdateInput`, alike in the model).
    pub struct CloudWatchLogs {
        enabled: bool => "Enabled", req, BOOLEAN;
        log_group_name: Option<String> => "LogGroupName", opt, CLOUD_WATCH_LOG_GROUP_NAME;
        log_stream_name: Option<String> => "LogStreamName", opt, CLOUD_WATCH_LOG_STREAM_NAME;
    }
}

/// The changes `UpdateChannel` makes to a channel's CloudWatch Logs settings.
pub type CloudWatchLogsUpdateInput = CloudWatchLogs;

wire_struct! {
    /// A channel's logging settings, as channels describe them and `UpdateChannel` changes
    /// them (`ChannelLoggingConfiguration` and `ChannelLoggingUpdateInput`, alike in the model).
    pub struct ChannelLoggingConfiguration {
        cloud_watch_logs: CloudWatchLogs => "CloudWatchLogs", req, CLOUD_WATCH_LOGS;
    }
}

/// The changes `UpdateChannel` makes to a channel's logging settings.
pub type ChannelLoggingUpdateInput = ChannelLoggingConfiguration;

wire_struct! {
    /// A channel with its streams, destination and settings.
    pub struct ChannelDescription {
        channel_name: String => "ChannelName", req, CHANNEL_NAME;
        channel_arn: String => "ChannelARN", req, CHANNEL_ARN;
        channel_id: String => "ChannelId", req, CHANNEL_ID;
        channel_status: ChannelStatus => "ChannelStatus", req, CHANNEL_STATUS;
        channel_status_reason: Option<String> => "ChannelStatusReason", opt, CHANNEL_STATUS_REASON;
        channel_creation_timestamp: Timestamp => "ChannelCreationTimestamp", req, TIMESTAMP;
        service_execution_role_arn: String => "ServiceExecutionRoleARN", req, ROLE_ARN;
        stream_configuration_list: Vec<ChannelStreamDescription> => "StreamConfigurationList", req, CHANNEL_STREAM_DESCRIPTION_LIST;
        s3_destination_configuration: Option<S3DestinationDescription> => "S3DestinationConfiguration", opt, S3_DESTINATION_DESCRIPTION;
        s3_tables_destination_configuration: Option<S3TablesDestinationDescription> => "S3TablesDestinationConfiguration", opt, S3_TABLES_DESTINATION_DESCRIPTION;
        encryption_configuration: Option<ChannelEncryptionConfiguration> => "EncryptionConfiguration", opt, CHANNEL_ENCRYPTION_CONFIGURATION;
        logging_configuration: ChannelLoggingConfiguration => "LoggingConfiguration", req, CHANNEL_LOGGING_CONFIGURATION;
    }
}

wire_struct! {
    /// One channel in a `ListChannels` answer.
    pub struct ChannelSummary {
        channel_name: String => "ChannelName", req, CHANNEL_NAME;
        channel_arn: String => "ChannelARN", req, CHANNEL_ARN;
        channel_id: String => "ChannelId", req, CHANNEL_ID;
        channel_status: ChannelStatus => "ChannelStatus", req, CHANNEL_STATUS;
        channel_status_reason: Option<String> => "ChannelStatusReason", opt, CHANNEL_STATUS_REASON;
        channel_creation_timestamp: Timestamp => "ChannelCreationTimestamp", req, TIMESTAMP;
        channel_destination_type: ChannelDestinationType => "ChannelDestinationType", req, CHANNEL_DESTINATION_TYPE;
        streams: Vec<ChannelStreamIdentifier> => "Streams", req, CHANNEL_STREAM_IDENTIFIER_LIST;
    }
}

// ---------------------------------------------------------------------------------------
// Channel operations
// ---------------------------------------------------------------------------------------

wire_struct! {
    /// Input of `CreateChannel`.
    pub struct CreateChannelInput {
        channel_name: String => "ChannelName", req, CHANNEL_NAME;
        service_execution_role_arn: String => "ServiceExecutionRoleARN", req, ROLE_ARN;
        stream_configuration_list: Vec<ChannelStreamConfiguration> => "StreamConfigurationList", req, CHANNEL_STREAM_CONFIGURATION_LIST;
        s3_destination_configuration: Option<S3DestinationConfiguration> => "S3DestinationConfiguration", opt, S3_DESTINATION_CONFIGURATION;
        s3_tables_destination_configuration: Option<S3TablesDestinationConfiguration> => "S3TablesDestinationConfiguration", opt, S3_TABLES_DESTINATION_CONFIGURATION;
        encryption_configuration: Option<ChannelEncryptionConfiguration> => "EncryptionConfiguration", opt, CHANNEL_ENCRYPTION_CONFIGURATION;
        tags: Option<TagMap> => "Tags", opt, TAG_MAP;
        logging_configuration: Option<ChannelLoggingConfiguration> => "LoggingConfiguration", opt, CHANNEL_LOGGING_CONFIGURATION;
    }
}

wire_struct! {
    /// Input of `DescribeChannel`.
    pub struct DescribeChannelInput {
        channel_arn: String => "ChannelARN", req, CHANNEL_ARN;
    }
}

wire_struct! {
    /// Input of `ListChannels`.
    pub struct ListChannelsInput {
        stream_filter: Option<Vec<StreamFilter>> => "StreamFilter", opt, STREAM_FILTER_LIST;
        max_results: Option<i32> => "MaxResults", opt, LIMIT_10000;
        next_token: Option<String> => "NextToken", opt, NEXT_TOKEN;
    }
}

wire_struct! {
    /// Input of `UpdateChannel`.
    pub struct UpdateChannelInput {
        channel_arn: String => "ChannelARN", req, CHANNEL_ARN;
        s3_destination_configuration: Option<S3DestinationUpdateInput> => "S3DestinationConfiguration", opt, S3_DESTINATION_UPDATE_INPUT;
        s3_tables_destination_configuration: Option<S3TablesDestinationUpdateInput> => "S3TablesDestinationConfiguration", opt, S3_DESTINATION_UPDATE_INPUT;
        logging_configuration: Option<ChannelLoggingUpdateInput> => "LoggingConfiguration", opt, CHANNEL_LOGGING_CONFIGURATION;
    }
}

wire_struct! {
    /// Input of `DeleteChannel`.
    pub struct DeleteChannelInput {
        channel_arn: String => "ChannelARN", req, CHANNEL_ARN;
    }
}

wire_struct! {
    /// Output of `CreateChannel`, `DescribeChannel` and `UpdateChannel`.
    pub struct ChannelDescriptionOutput {
        channel_description: ChannelDescription => "ChannelDescription", req, CHANNEL_DESCRIPTION;
    }
}

/// Output of `CreateChannel`.
pub type CreateChannelOutput = ChannelDescriptionOutput;
/// Output of `DescribeChannel`.
pub type DescribeChannelOutput = ChannelDescriptionOutput;
/// Output of `UpdateChannel`.
pub type UpdateChannelOutput = ChannelDescriptionOutput;

wire_struct! {
    /// Output of `ListChannels`.
    pub struct ListChannelsOutput {
        channel_summaries: Vec<ChannelSummary> => "ChannelSummaries", req, CHANNEL_SUMMARY_LIST;
        next_token: Option<String> => "NextToken", opt, NEXT_TOKEN;
    }
}

#[cfg(test)]
mod tests;
